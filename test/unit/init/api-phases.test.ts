/**
 * init's API phases against a local HTTPS server that requires a client certificate chained to the
 * generated cluster CA: the exact objects (token Secret, every RBAC binding, signed cluster-info,
 * Node labels and taint, kubeadm-certs decryptable with the key and owned by a 2h token), and
 * admin.conf first with super-admin.conf only for the binding admin.conf needs.
 */
import 'reflect-metadata';
import { createDecipheriv } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runInit, type InitResult } from '../../../src/operations/init/run.js';
import { loadClusterFile, parseClusterFile } from '../../../src/config/load.js';
import { endpointUrl } from '../../../src/config/model.js';
import { apiClientFromKubeconfig } from '../../../src/kube/client.js';
import { renderClusterInfoKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { DirectoryTransport } from '../../../src/transport/directory.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { jwsByHand } from '../join/cluster-info-server.js';
import { testOptions } from '../../support/pki.js';
import { examplePath } from '../render/fixture.js';
import { startApiServer, type Stored, type TestApiServer } from './api-server.js';

const KEY = '0123456789abcdef'.repeat(4);
const work = mkdtempSync(join(tmpdir(), 'kbuild-init-api-'));
const stateDir = join(work, 'state');
let server: TestApiServer;
let result: InitResult;
let token: { id: string; secret: string };

const decode = (data: unknown) => Object.fromEntries(Object.entries(data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const get = (path: string): Stored => {
  const o = server.objects.get(path);
  if (!o) throw new Error(`not stored: ${path}`);
  return o;
};

beforeAll(async () => {
  const { cluster } = await loadClusterFile(examplePath('ha-stacked'));
  // Fixture keys dated now: the test server checks admin.conf's client certificate at the real time.
  const pki = testOptions(new Date());
  await ensureClusterPki(cluster, await StateDir.open(stateDir), pki);
  const ca = { crt: join(stateDir, 'pki/ca.crt'), key: join(stateDir, 'pki/ca.key') };
  const p = (n: string) => join(work, n);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=kube-apiserver'], { stdio: 'pipe' });
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  execFileSync('openssl', ['x509', '-req', '-in', p('srv.csr'), '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-CAserial', p('ca.srl'), '-out', p('srv.crt'), '-days', '1', '-extfile', p('ext.cnf')], { stdio: 'pipe' });
  server = await startApiServer({ caCertPem: readFileSync(ca.crt, 'utf8'), certPem: readFileSync(p('srv.crt'), 'utf8'), keyPem: readFileSync(p('srv.key'), 'utf8') }, ['cp1']);
  const endpoint = endpointUrl(cluster);
  result = await runInit({
    config: examplePath('ha-stacked'),
    nodeName: 'cp1',
    stateDir,
    skipPhases: ['preflight', 'wait-control-plane'],
    uploadCerts: true,
    certificateKey: KEY,
    reporter: recordingReporter(),
    machine: new DirectoryTransport(join(work, 'machine'), 'cp1'),
    apiFor: (kubeconfig, retry) => apiClientFromKubeconfig(kubeconfig.split(endpoint).join(server.url), retry),
    apiRetry: { intervalMs: 50, timeoutMs: 2000 },
    pki,
  });
  const [id, secret] = readFileSync(join(stateDir, 'bootstrap-token'), 'utf8').trim().split('.');
  token = { id: id!, secret: secret! };
}, 120_000);
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('init API phases', () => {
  test('admin.conf for everything; super-admin.conf only for kubeadm:cluster-admins after a 403', () => {
    const writes = server.calls.filter((c) => c.method !== 'GET');
    expect(writes.length).toBeGreaterThan(20);
    const crb = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins';
    const binding = writes.filter((c) => c.path === crb);
    expect(binding.map((c) => [c.user, c.status])).toEqual([
      ['kubernetes-admin', 403],
      ['kubernetes-super-admin', 201],
      ['kubernetes-admin', 200], // bootstrap-token applies render's 00-bootstrap-rbac.yaml, which holds it too
    ]);
    expect(writes.filter((c) => c.path !== crb).every((c) => c.user === 'kubernetes-admin' && c.status < 300)).toBe(true);
    expect(get(crb)).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'kubeadm:cluster-admins' }] });
  });

  test('bootstrap token Secret', () => {
    const secret = get(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${token.id}`);
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    const data = decode(secret.data);
    expect(Object.keys(data).sort()).toEqual(['auth-extra-groups', 'description', 'expiration', 'token-id', 'token-secret', 'usage-bootstrap-authentication', 'usage-bootstrap-signing']);
    expect(data).toMatchObject({ 'token-id': token.id, 'token-secret': token.secret, 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token', 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true' });
    expect(data.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('each RBAC binding', () => {
    const crb = (name: string) => get(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`);
    const group = (name: string) => [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name }];
    const BOOT = 'system:bootstrappers:kubeadm:default-node-token';
    expect(crb('kubeadm:kubelet-bootstrap')).toMatchObject({ roleRef: { name: 'system:node-bootstrapper' }, subjects: group(BOOT) });
    expect(crb('kubeadm:get-nodes')).toMatchObject({ roleRef: { name: 'kubeadm:get-nodes' }, subjects: group(BOOT) });
    expect(get('/apis/rbac.authorization.k8s.io/v1/clusterroles/kubeadm:get-nodes')).toMatchObject({ rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] });
    expect(crb('kubeadm:node-autoapprove-bootstrap')).toMatchObject({ roleRef: { name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient' }, subjects: group(BOOT) });
    expect(crb('kubeadm:node-autoapprove-certificate-rotation')).toMatchObject({ roleRef: { name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' }, subjects: group('system:nodes') });
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings/kubeadm:bootstrap-signer-clusterinfo')).toMatchObject({
      roleRef: { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
      subjects: [{ kind: 'User', name: 'system:anonymous' }],
    });
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles/kubeadm:bootstrap-signer-clusterinfo')).toMatchObject({ rules: [{ resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }] });
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/kubeadm:kubelet-config')).toMatchObject({ subjects: [...group(BOOT), ...group('system:nodes')] });
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/kubeadm:kubeadm-certs')).toMatchObject({ roleRef: { name: 'kubeadm:kubeadm-certs' }, subjects: [{ kind: 'Group', name: BOOT }] });
  });

  test('kbuild-config: the cluster file without SSH settings, readable by joining nodes and nodes', async () => {
    const published = get('/api/v1/namespaces/kube-system/configmaps/kbuild-config') as Stored & { data: Record<string, string> };
    const text = published.data['cluster.yaml']!;
    expect(text).not.toMatch(/\bssh:|identityFile|knownHostsFile|sudo/);
    const { file } = await loadClusterFile(examplePath('ha-stacked'));
    const withoutSsh = JSON.parse(JSON.stringify({ ...file, spec: { ...file.spec, ssh: undefined, hosts: file.spec.hosts.map((h) => ({ ...h, ssh: undefined })) } })) as unknown;
    expect(parseClusterFile(text, 'kube-system/kbuild-config')).toEqual(withoutSsh);
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/kbuild:nodes-kbuild-config')).toMatchObject({ rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kbuild-config'], verbs: ['get'] }] });
    expect(get('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/kbuild:nodes-kbuild-config')).toMatchObject({
      roleRef: { kind: 'Role', name: 'kbuild:nodes-kbuild-config' },
      subjects: [{ kind: 'Group', name: 'system:bootstrappers:kubeadm:default-node-token' }, { kind: 'Group', name: 'system:nodes' }],
    });
  });

  test('cluster-info: the kubeconfig with one cluster named "" and the JWS for the token', async () => {
    const { cluster } = await loadClusterFile(examplePath('ha-stacked'));
    const info = get('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    const kubeconfig = renderClusterInfoKubeconfig(endpointUrl(cluster), readFileSync(join(stateDir, 'pki/ca.crt'), 'utf8'));
    expect(info.data).toEqual({ kubeconfig, [`jws-kubeconfig-${token.id}`]: jwsByHand(kubeconfig, token.id, token.secret) });
  });

  test('Node cp1: control-plane labels and NoSchedule taint, its own label kept', () => {
    const node = get('/api/v1/nodes/cp1') as Stored & { spec: { taints: unknown[] } };
    expect(node.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'cp1', 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    expect(node.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  });

  test('kubeadm-certs: every CA file decryptable with the key, owned by a 2h token with no usages', () => {
    const certs = get('/api/v1/namespaces/kube-system/secrets/kubeadm-certs') as Stored & { data: Record<string, string> };
    const files: Record<string, string> = { 'ca.crt': 'pki/ca.crt', 'ca.key': 'pki/ca.key', 'front-proxy-ca.crt': 'pki/front-proxy-ca.crt', 'front-proxy-ca.key': 'pki/front-proxy-ca.key', 'sa.pub': 'pki/sa.pub', 'sa.key': 'pki/sa.key', 'etcd-ca.crt': 'pki/etcd/ca.crt', 'etcd-ca.key': 'pki/etcd/ca.key' };
    expect(Object.keys(certs.data).sort()).toEqual(Object.keys(files).sort());
    for (const [name, statePath] of Object.entries(files)) {
      const sealed = Buffer.from(certs.data[name]!, 'base64');
      const d = createDecipheriv('aes-256-gcm', Buffer.from(KEY, 'hex'), sealed.subarray(0, 12));
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      expect(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]).toString(), name).toBe(readFileSync(join(stateDir, statePath), 'utf8'));
    }
    const [owner] = certs.metadata.ownerReferences as Array<{ name: string; uid: string; kind: string; controller: boolean; blockOwnerDeletion: boolean }>;
    const ownerSecret = get(`/api/v1/namespaces/kube-system/secrets/${owner!.name}`);
    expect(owner).toEqual({ apiVersion: 'v1', kind: 'Secret', name: ownerSecret.metadata.name, uid: ownerSecret.metadata.uid, controller: true, blockOwnerDeletion: true });
    const data = decode(ownerSecret.data);
    expect(Object.keys(data).sort()).toEqual(['description', 'expiration', 'token-id', 'token-secret']);
    expect(data.description).toBe('Proxy for managing TTL for the kubeadm-certs secret');
    const ttl = Date.parse(data.expiration!) - Date.now();
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 120_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000);
  });

  test('join commands carry the token, the CA hash and the certificate key', () => {
    expect(result.joinCommands!.worker).toMatch(new RegExp(`^kbuild join api\\.demo\\.internal:6443 --token ${token.id}\\.${token.secret} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$`));
    expect(result.joinCommands!.controlPlane).toBe(`${result.joinCommands!.worker} --control-plane --certificate-key ${KEY}`);
  });
});
