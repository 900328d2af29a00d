/**
 * Proves the kubelet stand-in with real pieces and no kbuild render: openssl certificates, a
 * hand-written etcd.yaml and kube-apiserver.yaml, `systemctl restart kubelet` over real ssh, and
 * curl on the host against a real etcd, the apiserver stand-in and a real haproxy.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installStandin, readApiObjects, readApiRequests, readStandinStatus, standinLog, type Standin } from '../support/standin/index.js';
import { makeCa, makeLeaf, type CertPair } from '../support/standin/openssl-pki.js';
import { createTestHosts, run, type TestLab } from '../support/testhosts.js';

const HOST = 'cp1';
const PKI = '/etc/kubernetes/pki';
const MANIFESTS = '/etc/kubernetes/manifests';
const LB_PORT = 16443;
let lab: TestLab;
let standin: Standin;
let address: string;
let certs: { admin: CertPair; stranger: CertPair; wrongEtcdClient: CertPair; apiserverEtcdClient: CertPair };
let etcdArgv: string[];

const staticPod = (name: string, command: string[]) => yaml.dump({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system' }, spec: { hostNetwork: true, containers: [{ name, image: `registry.k8s.io/${name}:test`, command }] } });

async function writeInHost(path: string, content: string, mode = '0600'): Promise<void> {
  await lab.exec(HOST, `mkdir -p "$(dirname ${path})" && cat > ${path}.tmp && chmod ${mode} ${path}.tmp && mv ${path}.tmp ${path}`, { input: content });
}

async function copyInHost(from: string, to: string): Promise<void> {
  await lab.exec(HOST, ['install', '-D', '-m', '0600', from, to]);
}

interface HttpAnswer {
  status: number;
  body: string;
}

/** curl on the host; status 0 when no HTTP answer came (TLS or connection failure). */
async function curlOnHost(args: readonly string[]): Promise<HttpAnswer> {
  const result = await lab.exec(HOST, ['curl', '-sS', '--max-time', '5', '-w', '\n%{http_code}', ...args], { allowFailure: true, timeoutMs: 15_000 });
  const lines = result.stdout.split('\n');
  const status = Number(lines.pop());
  return { status: Number.isFinite(status) ? status : 0, body: lines.join('\n') };
}

const etcdClient = ['--cacert', `${PKI}/etcd/ca.crt`, '--cert', `${PKI}/etcd/healthcheck-client.crt`, '--key', `${PKI}/etcd/healthcheck-client.key`];
const etcdHealth = () => curlOnHost([...etcdClient, 'https://127.0.0.1:2379/health']);
const readyz = () => curlOnHost(['--cacert', `${PKI}/ca.crt`, `https://${address}:6443/readyz`]);

/** Polls until `check` returns a value (bounded); the error shows what was last seen. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 0; Date.now() < deadline && attempt < 1_000; attempt++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms; last error: ${String(last)}\nstand-in log:\n${standinLog(lab, HOST).slice(-3000)}`);
}

const etcdStatus = () => readStandinStatus(lab, HOST)?.components.etcd;
/** Running in the host (a zombie the host's PID 1 has not reaped does not count). */
const hostPidAlive = async (pid: number) => (await lab.exec(HOST, ['ps', '-o', 'stat=', '-p', String(pid)], { allowFailure: true })).stdout.trim().replace(/^Z.*/, '') !== '';
const ssh = (command: string) => run(lab.sshArgv(HOST, [command]), { timeoutMs: 30_000, allowFailure: true });

beforeAll(async () => {
  lab = await createTestHosts({ names: [HOST] });
  address = lab.host(HOST).address;
  standin = await installStandin(lab, HOST, { kubernetesVersion: 'v1.32.4' });
  const dir = join(lab.dir, 'standin-test-pki');
  mkdirSync(dir, { mode: 0o700 });
  const etcdCa = await makeCa(dir, 'etcd-ca', 'etcd-ca');
  const ca = await makeCa(dir, 'ca', 'kubernetes');
  const otherCa = await makeCa(dir, 'other-ca', 'not-the-cluster-ca');
  const etcdSans = [`IP:${address}`, 'IP:127.0.0.1', `DNS:${HOST}`, 'DNS:localhost'];
  const etcdServer = await makeLeaf(dir, 'etcd-server', etcdCa, { cn: HOST, sans: etcdSans, usage: 'both' });
  const etcdPeer = await makeLeaf(dir, 'etcd-peer', etcdCa, { cn: HOST, sans: etcdSans, usage: 'both' });
  const healthcheck = await makeLeaf(dir, 'healthcheck-client', etcdCa, { cn: 'kube-etcd-healthcheck-client', usage: 'client' });
  const apiserverEtcdClient = await makeLeaf(dir, 'apiserver-etcd-client', etcdCa, { cn: 'kube-apiserver-etcd-client', usage: 'client' });
  const wrongEtcdClient = await makeLeaf(dir, 'wrong-etcd-client', otherCa, { cn: 'kube-apiserver-etcd-client', usage: 'client' });
  const apiserver = await makeLeaf(dir, 'apiserver', ca, { cn: 'kube-apiserver', sans: [`IP:${address}`, 'IP:127.0.0.1', 'DNS:kubernetes'], usage: 'server' });
  const admin = await makeLeaf(dir, 'admin', ca, { cn: 'kubernetes-admin', o: 'system:masters', usage: 'client' });
  const stranger = await makeLeaf(dir, 'stranger', otherCa, { cn: 'kubernetes-admin', o: 'system:masters', usage: 'client' });
  certs = { admin, stranger, wrongEtcdClient, apiserverEtcdClient };
  for (const [pair, base] of [[etcdServer, 'etcd/server'], [etcdPeer, 'etcd/peer'], [healthcheck, 'etcd/healthcheck-client'], [apiserverEtcdClient, 'apiserver-etcd-client'], [apiserver, 'apiserver']] as const) {
    await copyInHost(pair.cert, `${PKI}/${base}.crt`);
    await copyInHost(pair.key, `${PKI}/${base}.key`);
  }
  await copyInHost(etcdCa.cert, `${PKI}/etcd/ca.crt`);
  await copyInHost(ca.cert, `${PKI}/ca.crt`);

  const peerUrl = `https://${address}:2380`;
  etcdArgv = [
    'etcd', `--name=${HOST}`, '--data-dir=/var/lib/etcd', `--listen-client-urls=https://127.0.0.1:2379,https://${address}:2379`, `--advertise-client-urls=https://${address}:2379`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=${HOST}=${peerUrl}`, '--client-cert-auth=true', '--peer-client-cert-auth=true',
    `--cert-file=${PKI}/etcd/server.crt`, `--key-file=${PKI}/etcd/server.key`, `--trusted-ca-file=${PKI}/etcd/ca.crt`,
    `--peer-cert-file=${PKI}/etcd/peer.crt`, `--peer-key-file=${PKI}/etcd/peer.key`, `--peer-trusted-ca-file=${PKI}/etcd/ca.crt`,
    '--listen-metrics-urls=http://127.0.0.1:2381', '--snapshot-count=10000',
  ];
  await writeInHost(`${MANIFESTS}/etcd.yaml`, staticPod('etcd', etcdArgv));
  await writeInHost(`${MANIFESTS}/kube-apiserver.yaml`, staticPod('kube-apiserver', [
    'kube-apiserver', `--advertise-address=${address}`, '--secure-port=6443', `--client-ca-file=${PKI}/ca.crt`,
    `--tls-cert-file=${PKI}/apiserver.crt`, `--tls-private-key-file=${PKI}/apiserver.key`, '--etcd-servers=https://127.0.0.1:2379',
    `--etcd-cafile=${PKI}/etcd/ca.crt`, `--etcd-certfile=${PKI}/apiserver-etcd-client.crt`, `--etcd-keyfile=${PKI}/apiserver-etcd-client.key`,
  ]));
  const restarted = await ssh('systemctl daemon-reload && systemctl enable kubelet && systemctl restart kubelet');
  expect(restarted.stderr).toBe('');
  expect(restarted.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await lab?.teardown();
});

describe('kubelet stand-in', () => {
  it('passes the binaries and socket checks preflight makes, and answers kubelet --version', async () => {
    const result = await ssh('for b in kubelet conntrack ip iptables mount nsenter curl; do command -v $b >/dev/null || echo missing $b; done; test -S /var/run/containerd/containerd.sock || echo no-cri; cat /proc/sys/net/ipv4/ip_forward; kubelet --version');
    expect(result.stdout.trim().split('\n')).toEqual(['1', 'Kubernetes v1.32.4']);
  });

  it('starts a real etcd from etcd.yaml: /health is true with the healthcheck client certificate', async () => {
    const health = await until('etcd /health true', 30_000, async () => {
      const answer = await etcdHealth();
      return /"health":"true"/.test(answer.body) ? answer : undefined;
    });
    expect(health.status).toBe(200);
    const members = await curlOnHost([...etcdClient, '-X', 'POST', '-d', '{}', 'https://127.0.0.1:2379/v3/cluster/member/list']);
    expect((JSON.parse(members.body) as { members: Array<{ name: string }> }).members.map((m) => m.name)).toEqual([HOST]);
    expect(etcdStatus()?.argv).toEqual(['/usr/bin/etcd', ...etcdArgv.slice(1)]);
    // Without a client certificate etcd refuses the TLS handshake: it really is etcd's client-cert-auth.
    expect((await curlOnHost(['--cacert', `${PKI}/etcd/ca.crt`, 'https://127.0.0.1:2379/health'])).status).toBe(0);
  });

  it('serves the apiserver certificate: /readyz is ok when verified against the cluster CA', async () => {
    const answer = await until('apiserver /readyz ok', 30_000, async () => {
      const seen = await readyz();
      return seen.status === 200 ? seen : undefined;
    });
    expect(answer.body).toBe('ok');
    // The SAN check is real: a name the certificate does not carry fails verification.
    const wrongName = await curlOnHost(['--cacert', `${PKI}/ca.crt`, '--connect-to', `elsewhere.example:6443:${address}:6443`, 'https://elsewhere.example:6443/readyz']);
    expect(wrongName.status).toBe(0);
  });

  it('requires a client certificate chained to the client CA for the API, and records who asked', async () => {
    const path = `https://${address}:6443/api/v1/namespaces/kube-system/configmaps`;
    const anonymous = await curlOnHost(['--cacert', `${PKI}/ca.crt`, path]);
    expect(anonymous.status).toBe(403);
    const stranger = await curlOnHost(['--cacert', `${PKI}/ca.crt`, '--cert', certs.stranger.cert, '--key', certs.stranger.key, path]);
    expect(stranger.status).toBe(401);
    const admin = ['--cacert', `${PKI}/ca.crt`, '--cert', certs.admin.cert, '--key', certs.admin.key];
    const listed = await curlOnHost([...admin, path]);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toMatchObject({ kind: 'ConfigMapList', items: [] });
    const created = await curlOnHost([...admin, '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe' }, data: { a: 'b' } }), path]);
    expect(created.status).toBe(201);
    const again = await curlOnHost([...admin, '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ metadata: { name: 'probe' } }), path]);
    expect(again.status).toBe(409);
    const stored = readApiObjects(lab, HOST, 'ConfigMap');
    expect(stored.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['kube-system/probe']);
    const requests = readApiRequests(lab, HOST).filter((r) => r.path === '/api/v1/namespaces/kube-system/configmaps');
    expect(requests.map((r) => [r.method, r.user, r.status])).toEqual([
      ['GET', 'system:anonymous', 403],
      ['GET', undefined, 401],
      ['GET', 'kubernetes-admin', 200],
      ['POST', 'kubernetes-admin', 201],
      ['POST', 'kubernetes-admin', 409],
    ]);
    expect(requests[2]!.groups).toContain('system:masters');
  });

  it('serves @kubernetes/client-node: typed calls, server-side apply through discovery, workload status, RBAC', async () => {
    const kc = new k8s.KubeConfig();
    const b64 = (file: string) => readFileSync(file).toString('base64');
    kc.loadFromOptions({
      clusters: [{ name: 'standin', server: `https://${address}:6443`, caData: b64(join(lab.dir, 'standin-test-pki', 'ca.crt')) }],
      users: [{ name: 'admin', certData: b64(certs.admin.cert), keyData: b64(certs.admin.key) }],
      contexts: [{ name: 'admin@standin', cluster: 'standin', user: 'admin' }],
      currentContext: 'admin@standin',
    });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace: 'kube-system', body: { metadata: { name: 'bootstrap-token-abcdef' }, type: 'bootstrap.kubernetes.io/token', stringData: { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' } } });
    const secret = await core.readNamespacedSecret({ namespace: 'kube-system', name: 'bootstrap-token-abcdef' });
    expect(Buffer.from(secret.data!['token-secret']!, 'base64').toString()).toBe('0123456789abcdef');

    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const daemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { selector: { matchLabels: { k8s: 'kube-proxy' } }, template: { metadata: { labels: { k8s: 'kube-proxy' } }, spec: { containers: [{ name: 'kube-proxy', image: 'kube-proxy:test' }] } } } };
    await objects.patch(daemonSet, undefined, undefined, 'kbuild', true, k8s.PatchStrategy.ServerSideApply);
    await objects.patch(daemonSet, undefined, undefined, 'kbuild', true, k8s.PatchStrategy.ServerSideApply);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const stored = await apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'kube-proxy' });
    expect(stored.status?.numberReady).toBeGreaterThan(0);
    expect(stored.status?.numberReady).toBe(stored.status?.desiredNumberScheduled);

    // A bootstrap token user is authenticated, and RBAC decides: nothing is bound to it yet.
    const asToken = ['--cacert', `${PKI}/ca.crt`, '-H', 'Authorization: Bearer abcdef.0123456789abcdef', `https://${address}:6443/api/v1/namespaces/kube-system/configmaps`];
    expect((await curlOnHost(asToken)).status).toBe(403);
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'read-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'bootstrappers-read' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'read-configmaps' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers' }] } });
    expect((await curlOnHost(asToken)).status).toBe(200);
    expect(readApiRequests(lab, HOST).at(-1)).toMatchObject({ user: 'system:bootstrap:abcdef', authenticatedBy: 'bootstrap-token', status: 200 });
    expect(readApiObjects(lab, HOST, 'DaemonSet').map((o) => o.metadata.name)).toEqual(['kube-proxy']);
  });

  it('fails /readyz while the apiserver cannot authenticate to etcd, and recovers when the certificate is fixed', async () => {
    await copyInHost(certs.wrongEtcdClient.cert, `${PKI}/apiserver-etcd-client.crt`);
    await copyInHost(certs.wrongEtcdClient.key, `${PKI}/apiserver-etcd-client.key`);
    const broken = await readyz();
    expect(broken.status).toBe(500);
    expect(broken.body).toContain('[-]etcd failed');
    await copyInHost(certs.apiserverEtcdClient.cert, `${PKI}/apiserver-etcd-client.crt`);
    await copyInHost(certs.apiserverEtcdClient.key, `${PKI}/apiserver-etcd-client.key`);
    expect(await readyz()).toEqual({ status: 200, body: 'ok' });
  });

  it('serves controller-manager, scheduler and kubelet /healthz only while their config files exist', async () => {
    const kubeconfig = yaml.dump({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'k', cluster: { server: `https://${address}:6443` } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], 'current-context': 'c' });
    await writeInHost('/etc/kubernetes/controller-manager.conf', kubeconfig);
    await writeInHost(`${MANIFESTS}/kube-controller-manager.yaml`, staticPod('kube-controller-manager', ['kube-controller-manager', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/controller-manager.conf']));
    await writeInHost(`${MANIFESTS}/kube-scheduler.yaml`, staticPod('kube-scheduler', ['kube-scheduler', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/scheduler.conf']));
    await writeInHost('/var/lib/kubelet/config.yaml', yaml.dump({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', staticPodPath: MANIFESTS }), '0644');
    const healthz = (url: string, ...args: string[]) => curlOnHost([...args, url]);
    await until('controller-manager /healthz ok', 15_000, async () => ((await healthz('https://127.0.0.1:10257/healthz', '-k')).body === 'ok' ? true : undefined));
    await until('kubelet /healthz ok', 15_000, async () => ((await healthz('http://127.0.0.1:10248/healthz')).body === 'ok' ? true : undefined));
    // The scheduler's kubeconfig is missing: it listens, but is not healthy.
    expect((await healthz('https://127.0.0.1:10259/healthz', '-k')).status).toBe(500);
    await writeInHost('/etc/kubernetes/scheduler.conf', kubeconfig);
    expect(await healthz('https://127.0.0.1:10259/healthz', '-k')).toEqual({ status: 200, body: 'ok' });
  });

  it('restarts etcd when etcd.yaml changes and stops it when the manifest is removed', async () => {
    const before = etcdStatus()?.pid;
    expect(before).toBeGreaterThan(0);
    await writeInHost(`${MANIFESTS}/etcd.yaml`, staticPod('etcd', [...etcdArgv.filter((a) => !a.startsWith('--snapshot-count')), '--snapshot-count=20000']));
    const after = await until('a new etcd pid', 20_000, async () => {
      const status = etcdStatus();
      return status?.state === 'running' && status.pid !== before ? status.pid : undefined;
    });
    expect(await hostPidAlive(before!)).toBe(false);
    expect(etcdStatus()?.argv).toContain('--snapshot-count=20000');
    await until('etcd /health true after the restart', 30_000, async () => (/"health":"true"/.test((await etcdHealth()).body) ? true : undefined));

    await lab.exec(HOST, ['rm', `${MANIFESTS}/etcd.yaml`]);
    await until('etcd stopped', 20_000, async () => (etcdStatus()?.state === 'stopped' ? true : undefined));
    expect(await hostPidAlive(after)).toBe(false);
    expect((await etcdHealth()).status).toBe(0);
    expect((await readyz()).status).toBe(500);
  });

  it('refuses, by name, an etcd flag the installed etcd does not know', async () => {
    await writeInHost(`${MANIFESTS}/etcd.yaml`, staticPod('etcd', [...etcdArgv, '--no-such-etcd-flag=1']));
    const failed = await until('etcd marked failed', 15_000, async () => (etcdStatus()?.state === 'failed' ? etcdStatus() : undefined));
    expect(failed.error).toContain('--no-such-etcd-flag');
    expect(standinLog(lab, HOST)).toMatch(/FATAL: .*--no-such-etcd-flag/);
    await lab.exec(HOST, ['rm', `${MANIFESTS}/etcd.yaml`]);
  });

  it('starts and gracefully reloads a real haproxy through systemctl reload-or-restart', async () => {
    const config = [
      'global', '  maxconn 100', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s',
      'frontend apiserver', `  bind 127.0.0.1:${LB_PORT}`, '  default_backend apiservers',
      'backend apiservers', `  server ${HOST} ${address}:6443 check`, '',
    ].join('\n');
    await writeInHost('/etc/haproxy/haproxy.cfg', config, '0644');
    const started = await ssh('systemctl enable haproxy && systemctl reload-or-restart haproxy && systemctl is-active haproxy');
    expect(started.stdout.trim()).toBe('active');
    const pid = Number((await lab.exec(HOST, ['cat', standin.files.haproxyPid])).stdout.trim());
    expect((await lab.exec(HOST, ['cat', `/proc/${pid}/comm`])).stdout.trim()).toBe('haproxy');
    // Through haproxy to the apiserver stand-in: TLS is end to end, so the apiserver's SAN is checked.
    const viaLb = await curlOnHost(['--cacert', `${PKI}/ca.crt`, '--cert', certs.admin.cert, '--key', certs.admin.key, '--connect-to', `kubernetes:6443:127.0.0.1:${LB_PORT}`, 'https://kubernetes:6443/version']);
    expect(viaLb.status).toBe(200);
    expect(JSON.parse(viaLb.body)).toMatchObject({ gitVersion: 'v1.32.4' });

    expect((await ssh('systemctl reload-or-restart haproxy')).code).toBe(0);
    const reloaded = Number((await lab.exec(HOST, ['cat', standin.files.haproxyPid])).stdout.trim());
    expect(reloaded).not.toBe(pid);
    await until('the old haproxy gone after the graceful reload', 10_000, async () => ((await hostPidAlive(pid)) ? undefined : true));
    const unknown = await ssh('systemctl restart containerd');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('knows only kubelet and haproxy');
  });

  it('leaves nothing running once kubelet and haproxy are stopped', async () => {
    expect((await ssh('systemctl stop kubelet && systemctl stop haproxy')).code).toBe(0);
    // Zombies (state Z) are ended processes the host's PID 1 has not reaped: not running.
    const processes = (await lab.exec(HOST, ['ps', '-eo', 'stat=,comm='])).stdout.split('\n').map((line) => line.trim().split(/\s+/));
    expect(processes.filter(([stat, name]) => !stat?.startsWith('Z') && ['etcd', 'haproxy', 'node', 'setpriv'].includes(name ?? ''))).toEqual([]);
    expect((await curlOnHost(['-k', 'https://127.0.0.1:10257/healthz'])).status).toBe(0);
    expect((await curlOnHost(['http://127.0.0.1:10248/healthz'])).status).toBe(0);
  });
});
