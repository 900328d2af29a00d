/**
 * kbuild reset end to end: a 3-control-plane stacked cluster applied on test hosts (real sshd, real
 * etcd, real HAProxy, the kubelet stand-in), then one control plane reset (it leaves etcd, the rest
 * stays healthy), then the whole fleet, then the state directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, kbuild, repoRoot, type ClusterLab } from './cluster-lab.js';

const HOSTS = [
  { name: 'lb1', roles: ['load-balancer'] },
  { name: 'cp1', roles: ['control-plane'] },
  { name: 'cp2', roles: ['control-plane'] },
  { name: 'cp3', roles: ['control-plane'] },
  { name: 'w1', roles: ['worker'] },
];
const ETCD_CLIENT = '--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key';

describe('kbuild reset', () => {
  let cl: ClusterLab;
  /** Every path kbuild rendered, per host. */
  const rendered = new Map<string, string[]>();
  const base = () => ['reset', '-i', cl.clusterFile, '--state-dir', cl.stateDir];

  beforeAll(async () => {
    cl = await createClusterLab('e2e-reset', HOSTS, { etcd: { topology: 'stacked' }, loadBalancer: { type: 'haproxy' } });
    writeFileSync(cl.clusterFile, readFileSync(cl.clusterFile, 'utf8').replace('spec:\n', `spec:\n  controlPlaneEndpoint: ${cl.address('lb1')}:6443\n`));
    const applied = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir]);
    expect(applied.code, `${applied.stderr}\n${applied.stdout.slice(-2000)}`).toBe(0);
    const out = `${cl.dir}/rendered`;
    const render = await kbuild(['render', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '-o', out]);
    expect(render.code, render.stderr).toBe(0);
    for (const { name } of HOSTS) {
      const listing = execFileSync('sh', ['-c', `cd ${out}/${name} && find . -type f | sed 's|^\\.||' | sort`], { encoding: 'utf8' });
      rendered.set(name, listing.trim().split('\n'));
    }
  });
  afterAll(async () => {
    await cl?.lab.teardown();
    if (cl) execFileSync('rm', ['-rf', cl.dir]);
  });

  const present = async (host: string, paths: readonly string[]) => {
    const found = await cl.lab.exec(host, `for p in ${paths.join(' ')}; do [ -e "$p" ] && echo "$p"; done; true`);
    return found.stdout.trim().split('\n').filter(Boolean);
  };
  const etcdEntries = async (host: string) => (await cl.lab.exec(host, 'ls -A /var/lib/etcd')).stdout.trim().split('\n').filter(Boolean);
  const active = async (host: string, unit: string) => (await cl.lab.exec(host, `systemctl is-active ${unit}`, { allowFailure: true })).code === 0;
  const memberNames = async (host: string) => {
    const list = await cl.lab.exec(host, `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list`);
    return ((JSON.parse(list.stdout) as { members: Array<{ name: string }> }).members.map((m) => m.name)).sort();
  };

  it('resets one control plane: it leaves etcd first, its files go, the others stay healthy', async () => {
    expect(await memberNames('cp1')).toEqual(['cp1', 'cp2', 'cp3']);
    const result = await kbuild([...base(), '--hosts', 'cp3', '--force']);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stdout).toMatch(/^\s+removed etcd member cp3 \(\d+\) via https:\/\/[\d.]+:2379$/m);
    expect(await present('cp3', rendered.get('cp3')!)).toEqual([]);
    expect(await etcdEntries('cp3')).toEqual([]);
    expect(await active('cp3', 'kubelet')).toBe(false);
    expect(await memberNames('cp1')).toEqual(['cp1', 'cp2']);
    expect(await memberNames('cp2')).toEqual(['cp1', 'cp2']);
    const health = await cl.lab.exec('cp1', `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} https://127.0.0.1:2379/health`);
    expect(health.stdout).toMatch(/"health"\s*:\s*"true"/);
    // Nothing else was touched.
    for (const name of ['lb1', 'cp1', 'cp2', 'w1']) expect(await present(name, rendered.get(name)!), name).toEqual(rendered.get(name));
  });

  it('resetting the same host again changes nothing and says so', async () => {
    const result = await kbuild([...base(), '--hosts', 'cp3', '--force']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cp3: already clean, nothing to remove$/m);
  });

  it('kbuild reset on the host itself (no cluster file) cleans that host', async () => {
    const result = await cl.lab.exec('w1', [process.execPath, `${repoRoot}/bin/kbuild.js`, 'reset'], { allowFailure: true });
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stdout).toMatch(/^w1: reset\n\s+stopped kubelet$/m);
    expect(await present('w1', rendered.get('w1')!)).toEqual([]);
    expect(await active('w1', 'kubelet')).toBe(false);
  });

  it('a dry run of the fleet lists what it would remove and changes nothing', async () => {
    const out = `${cl.dir}/dry-run`;
    const result = await kbuild([...base(), '--dry-run', '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cp1:\n(\s+would .*\n)*\s+would remove \/etc\/kubernetes\/pki$/m);
    expect(result.stdout).toMatch(/^cp3: nothing would change \(already clean\)$/m);
    expect(await present('cp1', rendered.get('cp1')!)).toEqual(rendered.get('cp1'));
    expect(await memberNames('cp1')).toEqual(['cp1', 'cp2']);
  });

  it('resets the fleet without a terminal or --force: members leave one by one, etcd data is kept and the run says so', async () => {
    const result = await kbuild(base());
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stdout).toMatch(/cp1: removed etcd member cp1/);
    expect(result.stdout).toMatch(/"cp2" is the last etcd member: not removed; it stops with the kubelet/);
    expect(result.stdout).toMatch(/cp2: etcd data in \/var\/lib\/etcd kept: no terminal to confirm on; pass --force to remove it/);
    for (const { name } of HOSTS) expect(await present(name, rendered.get(name)!), name).toEqual([]);
    for (const name of ['cp1', 'cp2']) expect(await etcdEntries(name), name).not.toEqual([]);
    expect(await active('lb1', 'haproxy')).toBe(false);
    for (const name of ['cp1', 'cp2', 'w1']) expect(await active(name, 'kubelet'), name).toBe(false);
    expect(existsSync(cl.stateDir)).toBe(true);
  });

  it('with --force the etcd data goes too; the state directory stays', async () => {
    const result = await kbuild([...base(), '--force']);
    expect(result.code, result.stderr).toBe(0);
    for (const name of ['cp1', 'cp2']) expect(await etcdEntries(name), name).toEqual([]);
    for (const name of ['lb1', 'cp3', 'w1']) expect(result.stdout).toMatch(new RegExp(`^${name}: already clean, nothing to remove$`, 'm'));
    expect(existsSync(`${cl.stateDir}/pki/ca.key`)).toBe(true);
  });

  it('--purge-state removes the state directory', async () => {
    const result = await kbuild([...base(), '--purge-state']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`removed state directory ${cl.stateDir}`);
    expect(existsSync(cl.stateDir)).toBe(false);
  });
});
