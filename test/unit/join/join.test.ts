/**
 * `kbuild join` as a worker against a local HTTPS API server serving a real signed cluster-info and
 * the ConfigMaps the cluster publishes: files, modes and contents up to the kubelet's TLS bootstrap;
 * a bounded wait when the bootstrap never completes; refusals (wrong hash, tampered signature,
 * expired token) that write and run nothing; the dry-run listing (golden, UPDATE_GOLDEN=1 rewrites).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DiscoveryError } from '../../../src/errors/index.js';
import { RESTART_KUBELET } from '../../../src/static-pods/restart.js';
import { runJoin, type JoinOptions } from '../../../src/operations/join/run.js';
import { printJoinResult } from '../../../src/commands/join.js';
import { HealthGateError } from '../../../src/errors/index.js';
import { parseKubeconfig, renderClusterInfoKubeconfig, renderKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { captureOutput } from '../../../src/report/output.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { DirectoryTransport } from '../../../src/transport/directory.js';
import type { CommandResult, RunOptions } from '../../../src/transport/transport.js';
import { startJoinApiServer, type JoinApiServer } from './join-api-server.js';
import { makeTlsFixture, opensslCaHash, type TlsFixture } from './tls-fixture.js';

const GOOD = { id: 'abcdef', secret: '0123456789abcdef' };
const EXPIRED = { id: 'zzzzzz', secret: 'zzzzzzzzzzzzzzzz' };
const KUBELET_CONFIG = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\n';
const CLUSTER_CONFIGURATION = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\nimageRepository: registry.example/k8s\nnetworking:\n  serviceSubnet: 10.96.0.0/16\n  dnsDomain: cluster.local\n';
const GOLDEN = join(import.meta.dirname, '../../golden/join');

let tls: TlsFixture;
let server: JoinApiServer;
let hash: string;
const work = mkdtempSync(join(tmpdir(), 'kbuild-join-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  tls = makeTlsFixture();
  hash = opensslCaHash(tls.caCertPem);
  server = await startJoinApiServer(tls, (url) => renderClusterInfoKubeconfig(url, tls.caCertPem), [
    { ...GOOD, expires: new Date(Date.now() + 3600_000) },
    { ...EXPIRED, expires: new Date(Date.now() - 60_000) },
  ], { 'kubelet-config': { kubelet: KUBELET_CONFIG }, 'kubeadm-config': { ClusterConfiguration: CLUSTER_CONFIGURATION } });
});
afterAll(() => server.close());

/**
 * This machine as a directory: commands are recorded; `hostname` and `ip route get` answer like a
 * host named w1; the kubelet's healthz answers ok; restarting the kubelet completes its TLS bootstrap
 * (writes kubelet.conf) unless `bootstraps` is false.
 */
class WorkerMachine extends DirectoryTransport {
  /** What the kubelet found in bootstrap-kubelet.conf when it was restarted. */
  bootstrapKubeconfigSeen?: string;
  constructor(root: string, private readonly bootstraps = true) {
    super(root, 'w1');
  }
  override async run(command: string, options?: RunOptions): Promise<CommandResult> {
    await super.run(command, options);
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
    if (command === 'hostname') return ok('w1\n');
    if (command.startsWith('ip -j route get')) return ok(JSON.stringify([{ prefsrc: '127.0.0.1' }]));
    if (command.includes('10248/healthz')) return ok('ok');
    if (command.includes('systemctl restart kubelet')) this.bootstrapKubeconfigSeen = (await this.readFile('/etc/kubernetes/bootstrap-kubelet.conf'))?.toString();
    if (command.includes('systemctl restart kubelet') && this.bootstraps) {
      const kubeletConf = renderKubeconfig({ server: 'https://127.0.0.1:6443', caCertPem: tls.caCertPem, user: 'system:node:w1', clientCertPem: tls.serverCertPem, clientKeyPem: tls.serverKeyPem });
      await this.writeFile('/etc/kubernetes/kubelet.conf', kubeletConf, { mode: 0o600 });
    }
    return ok('');
  }
}

const base = (machine: DirectoryTransport, overrides: Partial<JoinOptions> = {}): JoinOptions => ({
  endpoint: server.endpoint,
  token: `${GOOD.id}.${GOOD.secret}`,
  caCertHashes: [hash],
  skipPhases: ['preflight'], // preflight has its own tests; it inspects the real machine
  reporter: recordingReporter(),
  machine,
  discovery: { timeoutMs: 300, intervalMs: 100 },
  apiRetry: { timeoutMs: 1000, intervalMs: 100 },
  ...overrides,
});

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('kbuild join (worker)', () => {
  test('writes bootstrap-kubelet.conf, ca.crt and the kubelet files, restarts the kubelet and waits for kubelet.conf', async () => {
    const root = join(work, 'worker');
    const machine = new WorkerMachine(root);
    const result = await runJoin(base(machine));
    expect(result.host).toBe('w1');
    expect(result.server).toBe(`https://${server.endpoint}`);

    const written = new Map(machine.writtenFiles.map((w) => [w.path, w.mode]));
    expect(written.get('/etc/kubernetes/bootstrap-kubelet.conf')).toBe(0o600);
    expect(written.get('/etc/kubernetes/pki/ca.crt')).toBe(0o644);
    expect(written.get('/var/lib/kubelet/config.yaml')).toBe(0o644);
    expect(written.get('/var/lib/kubelet/kubeadm-flags.env')).toBe(0o644);
    expect(written.get('/etc/systemd/system/kubelet.service.d/10-kbuild.conf')).toBe(0o644);

    // The kubelet bootstrapped with it; afterwards the token is no longer on disk (as kubeadm).
    const bootstrap = parseKubeconfig(machine.bootstrapKubeconfigSeen ?? '');
    expect(existsSync(join(root, '/etc/kubernetes/bootstrap-kubelet.conf'))).toBe(false);
    expect(result.records.find((r) => r.path === 'remove-bootstrap-kubeconfig')?.changed.get('w1')).toEqual(['removed /etc/kubernetes/bootstrap-kubelet.conf']);
    expect(bootstrap.user).toBe('tls-bootstrap-token-user');
    expect(bootstrap.token).toBe(`${GOOD.id}.${GOOD.secret}`);
    expect(bootstrap.server).toBe(`https://${server.endpoint}`);
    expect(bootstrap.caCertPem.trim()).toBe(tls.caCertPem.trim());
    expect(read(root, '/etc/kubernetes/pki/ca.crt').trim()).toBe(tls.caCertPem.trim());
    expect(read(root, '/var/lib/kubelet/config.yaml')).toBe(KUBELET_CONFIG);
    const flags = read(root, '/var/lib/kubelet/kubeadm-flags.env');
    expect(flags).toContain('--hostname-override=w1');
    expect(flags).toContain('--pod-infra-container-image=registry.example/k8s/pause:3.10');
    expect(read(root, '/etc/systemd/system/kubelet.service.d/10-kbuild.conf')).toContain('--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf');
    expect(machine.commands).toContain(RESTART_KUBELET);

    const skipped = Object.fromEntries(result.records.filter((r) => r.skipped).map((r) => [r.path, r.skipped]));
    expect(Object.keys(skipped)).toEqual([
      'control-plane-prepare/download-certs',
      'control-plane-prepare/certs',
      'control-plane-prepare/kubeconfig',
      'control-plane-prepare/control-plane',
      'etcd-join',
      'control-plane-join/mark-control-plane',
      'wait-control-plane',
    ]);
    // Reads as the bootstrap token, after the anonymous cluster-info fetch; nothing written to the API.
    const afterDiscovery = server.requests.filter((r) => r.bearer);
    expect(afterDiscovery.every((r) => r.method === 'GET' && r.bearer === `${GOOD.id}.${GOOD.secret}`)).toBe(true);
    expect(afterDiscovery.map((r) => r.path)).toEqual(expect.arrayContaining(['/api/v1/namespaces/kube-system/configmaps/kubelet-config', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config', '/api/v1/nodes/w1']));
  });

  test('a TLS bootstrap that never completes fails the wait, bounded, naming kubelet.conf', async () => {
    let clock = 0;
    const machine = new WorkerMachine(join(work, 'no-bootstrap'), false);
    const error = await runJoin(base(machine, { gates: { now: () => clock, delay: (ms) => Promise.resolve(void (clock += ms)) } })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HealthGateError);
    expect(String((error as Error).message)).toContain('/etc/kubernetes/kubelet.conf does not exist yet');
    expect(clock).toBeGreaterThanOrEqual(5 * 60_000 - 1000);
    expect(clock).toBeLessThanOrEqual(5 * 60_000);
  });

  const refusals: Array<[string, string, (o: JoinOptions) => JoinOptions]> = [
    ['a wrong hash', 'ca-hash-mismatch', (o) => ({ ...o, caCertHashes: [`sha256:${'1'.repeat(64)}`] })],
    ['an expired token', 'no-signature', (o) => ({ ...o, token: `${EXPIRED.id}.${EXPIRED.secret}` })],
    ['a tampered signature', 'bad-signature', (o) => ({ ...o, token: `${GOOD.id}.${GOOD.secret}` })],
  ];
  test.each(refusals)('%s stops the join before anything is written or run', async (_name, reason, change) => {
    const root = join(work, `refused-${reason}`);
    const machine = new WorkerMachine(root);
    if (reason === 'bad-signature') server.overrideSignature.set(GOOD.id, 'eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..AAAA');
    try {
      const error = await runJoin(change(base(machine))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DiscoveryError);
      expect((error as DiscoveryError).reason).toBe(reason);
    } finally {
      server.overrideSignature.clear();
    }
    expect(machine.actions).toEqual([]);
    expect(() => readdirSync(root)).toThrow(/ENOENT/);
  });

  test('--control-plane without --certificate-key is refused before discovery; on a cluster with no published cluster file, before anything is written', async () => {
    const machine = new WorkerMachine(join(work, 'cp-flags'));
    const before = server.requests.length;
    await expect(runJoin(base(machine, { controlPlane: true }))).rejects.toThrow(/--certificate-key/);
    await expect(runJoin(base(machine, { controlPlane: true, certificateKey: 'ab'.repeat(32) }))).rejects.toThrow(/--config/);
    expect(machine.actions).toEqual([]);
    // The second one ran discovery (the key is well-formed), but wrote nothing.
    expect(server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  test('--dry-run writes under DIR, runs nothing on the machine, lists commands and API requests (golden)', async () => {
    const machineRoot = join(work, 'dry-machine');
    const machine = new WorkerMachine(machineRoot);
    const dir = join(work, 'dry-out');
    const result = await runJoin(base(machine, { dryRunDir: dir }));
    // Only read-only commands reached the machine; no file landed there.
    expect(machine.writtenFiles).toEqual([]);
    expect(machine.commands.every((c) => c === 'hostname' || c.startsWith('ip -j route get'))).toBe(true);
    expect(yaml.load(readFileSync(join(dir, 'var/lib/kubelet/config.yaml'), 'utf8'))).toEqual(yaml.load(KUBELET_CONFIG));
    const out = captureOutput();
    printJoinResult(out, result);
    const text = `${out.stdout.join('\n').replaceAll(dir, '<DIR>')}\n`;
    expect(text).not.toContain(GOOD.secret);
    const golden = join(GOLDEN, 'worker-dry-run.txt');
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(golden, text);
    }
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
