/** Proves the test-host harness: isolation, real sshd with verified host keys, sudo, cleanup, real etcd. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labProgram } from '../support/kube-lab.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singleMemberEtcdArgv, startEtcd, startHaproxy } from '../support/daemons.js';
import { canConnect, createTestHosts, listLinks, listNetns, run, waitForTcp, type TestLab } from '../support/testhosts.js';

const NAMES = ['cp1', 'cp2', 'w1'];
let lab: TestLab;

beforeAll(async () => {
  lab = await createTestHosts({ names: NAMES, nonRootUser: true });
});

afterAll(async () => {
  await lab?.teardown();
});

const ssh = (name: string, command: string[], options: { user?: string; options?: string[]; jumpHost?: string } = {}) => run(lab.sshArgv(name, command, options), { timeoutMs: 20_000, allowFailure: true });

describe('test hosts', () => {
  it('gives each host its own address in the lab subnet, on a bridge the runner can reach', () => {
    expect(lab.hosts.map((host) => host.name)).toEqual(NAMES);
    const addresses = lab.hosts.map((host) => host.address);
    expect(new Set(addresses).size).toBe(3);
    for (const address of addresses) expect(address.startsWith(lab.cidr.replace(/0\/24$/, ''))).toBe(true);
    expect(listLinks()).toContain(lab.bridge);
  });

  it('answers `hostname` over real ssh with strict host-key checking, for every host', async () => {
    for (const name of NAMES) {
      const result = await ssh(name, ['hostname']);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(name);
      expect(result.code).toBe(0);
    }
  });

  it('serves ed25519, ecdsa and rsa host keys whose fingerprints the harness reports', async () => {
    const host = lab.host('cp2');
    const algorithms = { ed25519: 'ssh-ed25519', ecdsa: 'ecdsa-sha2-nistp256', rsa: 'rsa-sha2-256' } as const;
    for (const key of host.hostKeys) {
      const listed = await run(['ssh-keygen', '-l', '-E', 'sha256', '-f', `${key.privateKeyFile}.pub`]);
      expect(listed.stdout.split(' ')[1]).toBe(key.fingerprint);
      const viaType = await ssh('cp2', ['true'], { options: [`HostKeyAlgorithms=${algorithms[key.type]}`] });
      expect(viaType.stderr).toBe('');
      expect(viaType.code).toBe(0);
    }
  });

  it('is refused by ssh when the host key is not in known_hosts', async () => {
    const onlyOthers = join(lab.dir, 'known_hosts_without_cp1');
    writeFileSync(onlyOthers, lab.knownHostsText(['cp2', 'w1']));
    const argv = lab.sshArgv('cp1', ['true']).map((arg) => (arg === `UserKnownHostsFile=${lab.knownHostsFile}` ? `UserKnownHostsFile=${onlyOthers}` : arg));
    const result = await run(argv, { allowFailure: true, timeoutMs: 20_000 });
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Host key verification failed');
  });

  it('keeps /etc/kubernetes and /etc private to each host', async () => {
    const probe = `/etc/kubernetes/probe-${lab.runId}`;
    await lab.exec('cp1', `echo from-cp1 > ${probe} && echo x > /etc/probe-${lab.runId}`);
    expect((await lab.exec('cp1', ['cat', probe])).stdout).toBe('from-cp1\n');
    expect((await lab.exec('cp2', ['test', '-e', probe], { allowFailure: true })).code).toBe(1);
    expect((await lab.exec('cp2', ['test', '-e', `/etc/probe-${lab.runId}`], { allowFailure: true })).code).toBe(1);
    expect(existsSync(probe)).toBe(false);
    expect(existsSync(`/etc/probe-${lab.runId}`)).toBe(false);
    for (const dir of ['/var/lib/etcd', '/var/lib/kubelet', '/etc/haproxy', '/etc/keepalived', '/etc/systemd/system/kubelet.service.d']) {
      expect((await lab.exec('w1', ['find', dir, '-mindepth', '1'])).stdout, dir).toBe('');
    }
  });

  it('lets host A reach host B’s sshd across the bridge, and sees only its own address', async () => {
    const target = lab.host('cp2').address;
    const banner = await lab.exec('cp1', ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${target}/22; head -c 8 <&3`]);
    expect(banner.stdout).toBe('SSH-2.0-');
    const addresses = JSON.parse((await lab.exec('cp1', ['ip', '-j', '-4', 'addr', 'show'])).stdout) as { addr_info: { local: string }[] }[];
    expect(addresses.flatMap((link) => link.addr_info.map((info) => info.local)).sort()).toEqual(['127.0.0.1', lab.host('cp1').address].sort());
  });

  it('has a non-root user with passwordless sudo that exists only inside the hosts', async () => {
    const who = await ssh('w1', ['id', '-un'], { user: 'kbtest' });
    expect(who.stdout.trim()).toBe('kbtest');
    const sudo = await ssh('w1', ['sudo', '-n', 'true'], { user: 'kbtest' });
    expect(sudo.stderr).toBe('');
    expect(sudo.code).toBe(0);
    expect((await ssh('w1', ['sudo', '-n', 'id', '-u'], { user: 'kbtest' })).stdout.trim()).toBe('0');
    expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^kbtest:/m);
  });

  it('takes a host off the network and back', async () => {
    const w1 = lab.host('w1');
    await lab.setLinkDown('w1');
    expect(await canConnect(w1.address, 22, 1_000)).toBe(false);
    await lab.setLinkUp('w1');
    await waitForTcp(w1.address, 22, { timeoutMs: 10_000 });
  });

  it('hides a host from the runner while another host still reaches it (bastion set-up)', async () => {
    await lab.blockRunner('w1');
    try {
      expect(await canConnect(lab.host('w1').address, 22, 1_000)).toBe(false);
      const jump = await ssh('w1', ['hostname'], { jumpHost: 'cp1' });
      expect(jump.stderr).toBe('');
      expect(jump.stdout.trim()).toBe('w1');
    } finally {
      await lab.unblockRunner('w1');
    }
    expect(await canConnect(lab.host('w1').address, 22, 1_000)).toBe(true);
  });

  it('stops and restarts a host’s sshd', async () => {
    await lab.killSshd('w1');
    expect(await canConnect(lab.host('w1').address, 22, 1_000)).toBe(false);
    await lab.startSshd('w1');
    expect((await ssh('w1', ['hostname'])).stdout.trim()).toBe('w1');
  });

  it('runs a real single-member etcd inside a host, reachable with etcdctl from the runner', async () => {
    const cp1 = lab.host('cp1');
    const etcd = await startEtcd(lab, 'cp1', singleMemberEtcdArgv('cp1', cp1.address));
    try {
      const etcdctl = (...args: string[]) => run([labProgram('etcdctl'), `--endpoints=http://${cp1.address}:2379`, '--command-timeout=10s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 30_000 });
      await etcdctl('put', 'kbuild/probe', lab.runId);
      expect((await etcdctl('get', '--print-value-only', 'kbuild/probe')).stdout.trim()).toBe(lab.runId);
      expect((await lab.exec('cp1', ['test', '-d', '/var/lib/etcd/member-data/member'])).code).toBe(0);
      expect(existsSync('/var/lib/etcd/member-data')).toBe(false);
    } finally {
      await etcd.stop();
    }
    expect(await canConnect(cp1.address, 2379, 1_000)).toBe(false);
  });

  it('runs a real haproxy inside a host from a config file in its private /etc/haproxy', async () => {
    const [cp1, cp2] = [lab.host('cp1'), lab.host('cp2')];
    const config = ['defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s', 'frontend api', `  bind ${cp2.address}:6443`, '  default_backend ssh', 'backend ssh', `  server cp1 ${cp1.address}:22`, ''].join('\n');
    await lab.exec('cp2', 'cat > /etc/haproxy/haproxy.cfg', { input: config });
    const haproxy = await startHaproxy(lab, 'cp2', '/etc/haproxy/haproxy.cfg', { address: cp2.address, port: 6443 });
    try {
      const banner = await lab.exec('w1', ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${cp2.address}/6443; head -c 8 <&3`]);
      expect(banner.stdout).toBe('SSH-2.0-');
    } finally {
      await haproxy.stop();
    }
    expect(existsSync('/etc/haproxy/haproxy.cfg') && readFileSync('/etc/haproxy/haproxy.cfg', 'utf8') === config).toBe(false);
  });

  it('reports a host whose setup fails and cleans up the half-built lab', async () => {
    // /proc refuses new directories, so the host's setup script fails.
    const failure = await createTestHosts({ names: ['bad1'], extraEmptyDirs: ['/proc/kbuild-cannot-exist'] }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/^test hosts kbt[0-9a-f]{6} \(bad1\): host bad1: namespace setup failed[\s\S]*kbuild-cannot-exist/);
    const failedRun = /kbt[0-9a-f]{6}/.exec(failure ?? '')![0];
    expect(listNetns().filter((name) => name.startsWith(failedRun))).toEqual([]);
    expect(listLinks().filter((name) => name.startsWith(failedRun))).toEqual([]);
    expect(existsSync(`/tmp/kbuild-testhosts/${failedRun}`)).toBe(false);
  });

  it('leaves no namespace, link, process or file behind after teardown', async () => {
    const pids = lab.pids();
    expect(pids.length).toBeGreaterThan(NAMES.length); // holders, host processes, sshds
    await lab.teardown();
    expect(listNetns().filter((name) => name.startsWith(lab.runId))).toEqual([]);
    expect(listLinks().filter((name) => name.startsWith(lab.runId))).toEqual([]);
    const alive = pids.filter((pid) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')));
    expect(alive).toEqual([]);
    expect(existsSync(lab.dir)).toBe(false);
    const mentioning = (await run(['pgrep', '-f', lab.runId], { allowFailure: true })).stdout.trim();
    expect(mentioning).toBe('');
  });
});
