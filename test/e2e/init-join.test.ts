/**
 * `kbuild init --upload-certs` on cp1 and `kbuild join` on w1 and cp2, run inside the test hosts
 * through their own shell, on real components: init's dry run changes nothing, init brings the
 * control plane up and passes its gate, the API holds what init creates, the printed join command's
 * hash equals openssl's; join refuses a wrong hash or a tampered token with nothing written, then
 * joins w1 with exactly the printed command — its CSR approved and signed by the real
 * controller-manager, the node Ready — and cp2 as a control plane: kubeadm-certs decrypted, its own
 * certificates, an etcd learner promoted, its control plane up. (The cluster file lists cp3 too, so
 * the stacked etcd the file describes has an odd member count; cp3 never joins.)
 */
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1CertificateSigningRequest, V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1Node, V1Role, V1RoleBinding, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClusterFile, parseClusterFile } from '../../src/config/load.js';
import { renderClusterInfoKubeconfig } from '../../src/kubeconfig/kubeconfig.js';
import { adminKubectl, eventually, type Kubectl } from './cluster-checks.js';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';
import { endpointAtCp1, kbuildOnHost, type HostRun } from './init-helpers.js';

const opensslHash = (caPem: string) => {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: caPem });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return `sha256:${execFileSync('sha256sum', { input: der }).toString().split(/\s+/)[0]!}`;
};

const BOOTSTRAPPERS = 'system:bootstrappers:kubeadm:default-node-token';
const group = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });
const tokenOf = (args: readonly string[]) => {
  const [id = '', secret = ''] = (args[args.indexOf('--token') + 1] ?? '').split('.');
  return { id, secret };
};

const HOST_DIRS = '/etc/kubernetes /var/lib/kubelet /etc/systemd/system/kubelet.service.d';
const INIT_TIMEOUT_MS = 10 * 60_000;

let cl: ClusterLab;
let kubectl: Kubectl;
let init: HostRun;
let dryRun: HostRun;
let hostUnchangedByDryRun = false;
let joinArgs: string[];
let controlPlaneJoin: string[];

beforeAll(async () => {
  cl = await createClusterLab('init-join', [
    { name: 'cp1', roles: ['control-plane'] },
    // Both register with their labels; w1 with its taint too (a control plane's come from mark-control-plane).
    { name: 'cp2', roles: ['control-plane'], labels: { 'topology.kubernetes.io/zone': 'zone-b' } },
    { name: 'cp3', roles: ['control-plane'] },
    { name: 'w1', roles: ['worker'], labels: { 'node.kubernetes.io/pool': 'general', disktype: 'ssd' }, taints: [{ key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' }] },
  ]);
  endpointAtCp1(cl);
  // First a dry run on the same host: it must leave the machine as it was.
  const listing = async () => (await cl.lab.exec('cp1', `find ${HOST_DIRS} -type f 2>/dev/null | sort; true`)).stdout;
  const before = await listing();
  dryRun = await kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--dry-run', '-o', join(cl.dir, 'init-dry-run')]);
  hostUnchangedByDryRun = (await listing()) === before;
  init = await kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--upload-certs'], INIT_TIMEOUT_MS);
  if (init.code === 0) kubectl = await adminKubectl(cl);
  const printed = /kbuild join (\S+ --token \S+ --discovery-token-ca-cert-hash \S+)[ \t]*$/m.exec(init.stdout);
  joinArgs = printed ? ['join', ...printed[1]!.split(' ')] : [];
  const printedControlPlane = /kbuild join (\S+ --token \S+ --discovery-token-ca-cert-hash \S+ --control-plane --certificate-key \S+)/.exec(init.stdout);
  controlPlaneJoin = printedControlPlane ? ['join', ...printedControlPlane[1]!.split(' ')] : [];
}, INIT_TIMEOUT_MS + 120_000);
afterAll(async () => {
  await cl?.lab.teardown();
}, 120_000);

describe('kbuild init on cp1', () => {
  it("--dry-run -o DIR on the host writes exactly render's files for cp1, lists the API requests, and changes nothing there", async () => {
    expect(dryRun.code, `${dryRun.stdout}\n${dryRun.stderr}`).toBe(0);
    expect(hostUnchangedByDryRun).toBe(true);
    expect(dryRun.stdout).toContain('API requests that would be sent');
    expect(dryRun.stdout).toMatch(/^ {2}APPLY v1 ConfigMap kube-system\/kubeadm-config$/m);
    expect(dryRun.stdout).toMatch(/^ {2}APPLY v1 Secret kube-system\/bootstrap-token-[a-z0-9]{6}$/m);
    const rendered = join(cl.dir, 'render');
    const r = await kbuild(['render', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '-o', rendered]);
    expect(r.code, r.stderr).toBe(0);
    const files = (root: string) => execFileSync('find', ['.', '-type', 'f'], { cwd: root, encoding: 'utf8' }).trim().split('\n').sort();
    const renderedFiles = files(join(rendered, 'cp1'));
    expect(renderedFiles).toEqual(expect.arrayContaining(['./etc/kubernetes/manifests/kube-apiserver.yaml', './etc/kubernetes/pki/ca.key', './var/lib/kubelet/config.yaml']));
    expect(files(join(cl.dir, 'init-dry-run'))).toEqual(renderedFiles);
    // init starts the first stacked member alone (the others join later, as with kubeadm): etcd.yaml differs from
    // render's in --initial-cluster only; every other file is render's, byte for byte.
    const etcd = './etc/kubernetes/manifests/etcd.yaml';
    for (const f of renderedFiles.filter((name) => name !== etcd)) expect(readFileSync(join(cl.dir, 'init-dry-run', f)), f).toEqual(readFileSync(join(rendered, 'cp1', f)));
    const initialCluster = (text: string) => /--initial-cluster=([^'\n]*)/.exec(text)?.[1];
    const [ours, render] = [readFileSync(join(cl.dir, 'init-dry-run', etcd), 'utf8'), readFileSync(join(rendered, 'cp1', etcd), 'utf8')];
    expect(initialCluster(ours)).toBe(`cp1=https://${cl.address('cp1')}:2380`);
    expect(ours.replace(/--initial-cluster=[^'\n]*/, '')).toBe(render.replace(/--initial-cluster=[^'\n]*/, ''));
  });

  it('succeeds, passing the control-plane gate, on the real kubelet and control plane', () => {
    expect(init.code, `${init.stdout}\n${init.stderr}`).toBe(0);
    expect(init.stderr).not.toMatch(/Error/);
    expect(init.stdout).toContain('has initialized successfully');
  });

  it('stores the bootstrap token, its RBAC, the signed cluster-info, kubelet-config and kubeadm-config', async () => {
    // The token of the printed join command (--upload-certs adds a second one, for kubeadm-certs only).
    const id = joinArgs[joinArgs.indexOf('--token') + 1]!.split('.')[0]!;
    const token = await kubectl.json<V1Secret>(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`]);
    expect(token.type).toBe('bootstrap.kubernetes.io/token');
    const bindings = (await kubectl(['get', 'clusterrolebindings', '-o', 'name'])).stdout.split('\n');
    for (const name of ['kubeadm:kubelet-bootstrap', 'kubeadm:get-nodes', 'kubeadm:node-autoapprove-bootstrap', 'kubeadm:node-autoapprove-certificate-rotation', 'kubeadm:cluster-admins']) {
      expect(bindings, name).toContain(`clusterrolebinding.rbac.authorization.k8s.io/${name}`);
    }
    const clusterInfo = await kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-public', 'cluster-info']);
    expect(clusterInfo.data?.kubeconfig).toContain(`server: https://${cl.address('cp1')}:6443`);
    // The JWS signature is the real bootstrap signer's (controller-manager), over the kubeconfig.
    expect(clusterInfo.data?.[`jws-kubeconfig-${id}`]).toMatch(/^[\w-]+\.\.[\w-]+$/);
    for (const name of ['kubelet-config', 'kubeadm-config']) expect((await kubectl(['get', 'configmap', '-n', 'kube-system', name, '-o', 'name'])).stdout.trim()).toBe(`configmap/${name}`);
  });

  it("creates kubeadm's RBAC: bindings, roles and their subjects", async () => {
    const get = <T>(kind: string, name: string, namespace?: string) => kubectl.json<T>(['get', kind, name, ...(namespace ? ['-n', namespace] : [])]);
    const crb = (name: string) => get<V1ClusterRoleBinding>('clusterrolebinding', name);
    expect(await crb('kubeadm:kubelet-bootstrap')).toMatchObject({ roleRef: { name: 'system:node-bootstrapper' }, subjects: [group(BOOTSTRAPPERS)] });
    expect(await crb('kubeadm:get-nodes')).toMatchObject({ roleRef: { name: 'kubeadm:get-nodes' }, subjects: [group(BOOTSTRAPPERS)] });
    expect(await get<V1ClusterRole>('clusterrole', 'kubeadm:get-nodes')).toMatchObject({ rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] });
    expect(await crb('kubeadm:node-autoapprove-bootstrap')).toMatchObject({ roleRef: { name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient' }, subjects: [group(BOOTSTRAPPERS)] });
    expect(await crb('kubeadm:node-autoapprove-certificate-rotation')).toMatchObject({ roleRef: { name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' }, subjects: [group('system:nodes')] });
    expect(await crb('kubeadm:cluster-admins')).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [group('kubeadm:cluster-admins')] });
    expect(await get<V1RoleBinding>('rolebinding', 'kubeadm:bootstrap-signer-clusterinfo', 'kube-public')).toMatchObject({ roleRef: { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' }, subjects: [{ kind: 'User', name: 'system:anonymous' }] });
    expect(await get<V1Role>('role', 'kubeadm:bootstrap-signer-clusterinfo', 'kube-public')).toMatchObject({ rules: [{ resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }] });
    expect(await get<V1RoleBinding>('rolebinding', 'kubeadm:kubelet-config', 'kube-system')).toMatchObject({ subjects: [group(BOOTSTRAPPERS), group('system:nodes')] });
    expect(await get<V1RoleBinding>('rolebinding', 'kubeadm:kubeadm-certs', 'kube-system')).toMatchObject({ roleRef: { name: 'kubeadm:kubeadm-certs' }, subjects: [{ kind: 'Group', name: BOOTSTRAPPERS }] });
  });

  it('publishes kbuild-config: the cluster file without SSH settings, which the real RBAC lets joining nodes and nodes read, and no one else', async () => {
    const published = await kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-system', 'kbuild-config']);
    const text = published.data?.['cluster.yaml'] ?? '';
    expect(text).not.toMatch(/\bssh:|identityFile|knownHostsFile|sudo/);
    const { file } = await loadClusterFile(cl.clusterFile);
    const withoutSsh = JSON.parse(JSON.stringify({ ...file, spec: { ...file.spec, ssh: undefined, hosts: file.spec.hosts.map((h) => ({ ...h, ssh: undefined })) } })) as unknown;
    expect(parseClusterFile(text, 'kube-system/kbuild-config')).toEqual(withoutSsh);
    const canRead = async (...as: string[]) =>
      (await kubectl(['auth', 'can-i', 'get', 'configmap/kbuild-config', '-n', 'kube-system', ...as], { allowFailure: true })).stdout.trim();
    expect(await canRead('--as', `system:bootstrap:${tokenOf(joinArgs).id}`, '--as-group', BOOTSTRAPPERS)).toBe('yes');
    expect(await canRead('--as', 'system:node:w9', '--as-group', 'system:nodes')).toBe('yes');
    expect(await canRead('--as', 'system:serviceaccount:default:default', '--as-group', 'system:serviceaccounts')).toBe('no');
    expect(await canRead('--as', 'someone', '--as-group', 'system:authenticated')).toBe('no');
  });

  it("publishes cluster-info: one cluster named \"\" with the endpoint and the CA, signed for the join command's token by the real bootstrap signer", async () => {
    const { id, secret } = tokenOf(joinArgs);
    const info = await kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-public', 'cluster-info']);
    const kubeconfig = renderClusterInfoKubeconfig(`https://${cl.address('cp1')}:6443`, readFileSync(join(cl.stateDir, 'pki/ca.crt'), 'utf8'));
    expect(info.data?.kubeconfig).toBe(kubeconfig);
    // A detached JWS (RFC 7515 appendix F): header..signature, HS256 keyed with the token's secret
    // zero-padded to 32 bytes (go-jose's minimum for HS256), computed here independently of src/kube/jws.ts.
    const [header = '', , signature] = (info.data?.[`jws-kubeconfig-${id}`] ?? '').split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', kid: id });
    const key = Buffer.alloc(32);
    Buffer.from(secret).copy(key);
    expect(signature).toBe(createHmac('sha256', key).update(`${header}.${Buffer.from(kubeconfig).toString('base64url')}`).digest('base64url'));
  });

  it('uploads kubeadm-certs: every shared CA file, decryptable with the printed certificate key, owned by a 2-hour token with no usages', async () => {
    const key = controlPlaneJoin[controlPlaneJoin.indexOf('--certificate-key') + 1] ?? '';
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const certs = await kubectl.json<V1Secret>(['get', 'secret', '-n', 'kube-system', 'kubeadm-certs']);
    const files: Record<string, string> = { 'ca.crt': 'pki/ca.crt', 'ca.key': 'pki/ca.key', 'front-proxy-ca.crt': 'pki/front-proxy-ca.crt', 'front-proxy-ca.key': 'pki/front-proxy-ca.key', 'sa.pub': 'pki/sa.pub', 'sa.key': 'pki/sa.key', 'etcd-ca.crt': 'pki/etcd/ca.crt', 'etcd-ca.key': 'pki/etcd/ca.key' };
    expect(Object.keys(certs.data ?? {}).sort()).toEqual(Object.keys(files).sort());
    for (const [name, statePath] of Object.entries(files)) {
      // kubeadm's sealing: AES-256-GCM, the 12-byte nonce first, the tag last.
      const sealed = Buffer.from(certs.data![name]!, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key, 'hex'), sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      expect(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString(), name).toBe(readFileSync(join(cl.stateDir, statePath), 'utf8'));
    }
    const [owner] = certs.metadata?.ownerReferences ?? [];
    const ownerSecret = await kubectl.json<V1Secret>(['get', 'secret', '-n', 'kube-system', owner!.name]);
    expect(owner).toEqual({ apiVersion: 'v1', kind: 'Secret', name: ownerSecret.metadata?.name, uid: ownerSecret.metadata?.uid, controller: true, blockOwnerDeletion: true });
    const data = Object.fromEntries(Object.entries(ownerSecret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(Object.keys(data).sort()).toEqual(['description', 'expiration', 'token-id', 'token-secret']);
    expect(data.description).toBe('Proxy for managing TTL for the kubeadm-certs secret');
    const ttl = Date.parse(data.expiration!) - Date.parse(certs.metadata!.creationTimestamp as unknown as string);
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 120_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000 + 1000);
  });

  it('marks cp1 as a control plane: labels and taint', async () => {
    const node = await kubectl.json<V1Node>(['get', 'node', 'cp1']);
    expect(node.metadata?.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    expect(node.spec?.taints).toContainEqual(expect.objectContaining({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }));
  });

  it('prints a join command whose hash is the openssl hash of the CA on cp1', async () => {
    const ca = (await cl.lab.exec('cp1', 'cat /etc/kubernetes/pki/ca.crt')).stdout;
    expect(ca).toBe(readFileSync(`${cl.stateDir}/pki/ca.crt`, 'utf8'));
    const command = /kbuild join (\S+) --token (\S+) --discovery-token-ca-cert-hash (\S+)/.exec(init.stdout);
    expect(command?.[1]).toBe(`${cl.address('cp1')}:6443`);
    expect(command?.[3]).toBe(opensslHash(ca));
    // The control-plane command is the worker's plus the certificate key.
    expect(controlPlaneJoin.join(' ')).toMatch(new RegExp(`^${joinArgs.join(' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --control-plane --certificate-key [0-9a-f]{64}$`));
  });
});

describe('kbuild join on w1, with the command init printed', () => {
  const w1Empty = async () => (await cl.lab.exec('w1', `find ${HOST_DIRS} -mindepth 1`)).stdout.trim();
  const withFlag = (flag: string, value: (v: string) => string) => joinArgs.map((a, i) => (joinArgs[i - 1] === flag ? value(a) : a));

  it('refuses a wrong CA hash, saying so, with nothing written on w1', async () => {
    expect(joinArgs.length, 'init printed no join command').toBeGreaterThan(0);
    const run = await kbuildOnHost(cl.lab, 'w1', withFlag('--discovery-token-ca-cert-hash', () => `sha256:${'0'.repeat(64)}`), 60_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/matches no --discovery-token-ca-cert-hash/);
    expect(await w1Empty()).toBe('');
  });

  it('refuses a tampered token (signature does not verify), with nothing written on w1', async () => {
    const run = await kbuildOnHost(cl.lab, 'w1', withFlag('--token', (t) => `${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}`), 60_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/JWS signature .* does not verify/);
    expect(await w1Empty()).toBe('');
  });

  it('--dry-run -o DIR writes the join files under DIR, lists the API requests, and leaves w1 as it was', async () => {
    const dir = join(cl.dir, 'join-dry-run');
    const run = await kbuildOnHost(cl.lab, 'w1', [...joinArgs, '--dry-run', '-o', dir], 120_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(await w1Empty()).toBe('');
    expect(run.stdout).not.toContain(tokenOf(joinArgs).secret);
    expect(run.stdout).toMatch(/^ {2}GET v1 ConfigMap kube-system\/kubelet-config$/m);
    expect(run.stdout).toContain('would write /etc/kubernetes/bootstrap-kubelet.conf (0600)');
    expect(run.stdout).toMatch(/would run: systemctl daemon-reload && systemctl enable kubelet && systemctl restart kubelet/);
    const published = await kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-system', 'kubelet-config']);
    expect(readFileSync(join(dir, 'var/lib/kubelet/config.yaml'), 'utf8')).toBe(published.data?.kubelet);
    expect(readFileSync(join(dir, 'etc/kubernetes/pki/ca.crt'), 'utf8')).toBe(readFileSync(join(cl.stateDir, 'pki/ca.crt'), 'utf8'));
    // The bootstrap credential is written for the TLS bootstrap and removed after it, in the dry run too.
    expect(run.stdout).toContain('would remove /etc/kubernetes/bootstrap-kubelet.conf');
  });

  it('joins: the real controller-manager approves and signs its CSR, the node is Ready, the bootstrap token is gone from disk', async () => {
    const run = await kbuildOnHost(cl.lab, 'w1', joinArgs, INIT_TIMEOUT_MS);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('This node (w1) has joined the cluster');
    const token = joinArgs[joinArgs.indexOf('--token') + 1]!;
    const csrs = (await kubectl.json<{ items: V1CertificateSigningRequest[] }>(['get', 'csr'])).items.filter((c) => c.spec.username === `system:bootstrap:${token.split('.')[0]}`);
    expect(csrs).toHaveLength(1);
    expect(csrs[0]!.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(csrs[0]!.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toContain('Approved=True');
    expect(csrs[0]!.status?.certificate).toBeTruthy();
    // The kubelet's client certificate is the one the controller-manager signed, with the node's identity.
    const subject = (await cl.lab.exec('w1', 'openssl x509 -in /var/lib/kubelet/pki/kubelet-client-current.pem -noout -subject -issuer')).stdout;
    expect(subject).toMatch(/subject=O ?= ?system:nodes, CN ?= ?system:node:w1/);
    expect(subject).toMatch(/issuer=CN ?= ?kubernetes/);
    await eventually('w1 Ready', 180_000, async () => {
      const node = await kubectl.json<V1Node>(['get', 'node', 'w1']);
      return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? undefined : JSON.stringify(node.status?.conditions?.find((c) => c.type === 'Ready'));
    });
    // Once the kubelet has its own credential the token is not left on disk (as kubeadm).
    expect((await cl.lab.exec('w1', 'test -e /etc/kubernetes/bootstrap-kubelet.conf', { allowFailure: true })).code).toBe(1);
    expect((await cl.lab.exec('w1', 'cat /etc/kubernetes/pki/ca.crt')).stdout).toBe((await cl.lab.exec('cp1', 'cat /etc/kubernetes/pki/ca.crt')).stdout);
    const published = await kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-system', 'kubelet-config']);
    expect((await cl.lab.exec('w1', 'cat /var/lib/kubelet/config.yaml')).stdout).toBe(published.data?.kubelet);
    expect((await cl.lab.exec('w1', 'cat /var/lib/kubelet/kubeadm-flags.env')).stdout).toContain('--hostname-override=w1');
    // Registered with the cluster file's labels and taint (the kubelet's own flags: a worker has no admin credential).
    const node = await kubectl.json<V1Node>(['get', 'node', 'w1']);
    expect(node.metadata?.labels).toMatchObject({ 'node.kubernetes.io/pool': 'general', disktype: 'ssd' });
    expect(node.spec?.taints).toEqual([{ key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' }]);
    expect((await cl.lab.exec('w1', 'systemctl is-active kubelet')).stdout.trim()).toBe('active');
  }, INIT_TIMEOUT_MS);
});

describe('kbuild join --control-plane on cp2, with the command init printed', () => {
  const ETCD_CLIENT = '--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key';
  const members = async () => {
    const list = await cl.lab.exec('cp1', `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} -X POST -d '{}' https://127.0.0.1:2382/v3/cluster/member/list`);
    return (JSON.parse(list.stdout) as { members: Array<{ name?: string; isLearner?: boolean }> }).members;
  };

  it('init started etcd with cp1 alone', async () => {
    expect(controlPlaneJoin.length, 'init printed no control-plane join command').toBeGreaterThan(0);
    expect((await members()).map((m) => m.name)).toEqual(['cp1']);
    expect((await cl.lab.exec('cp1', 'grep -- --initial-cluster= /etc/kubernetes/manifests/etcd.yaml')).stdout).toContain(`--initial-cluster=cp1=https://${cl.address('cp1')}:2380'`);
  });

  // Exactly the printed command: cp2 is found in the cluster file init published (kube-system/kbuild-config) by its address.
  it('cp2 joins: its own certificates, a promoted etcd member, its control plane up, marked as a control plane', async () => {
    const run = await kbuildOnHost(cl.lab, 'cp2', controlPlaneJoin, INIT_TIMEOUT_MS);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('This node (cp2) has joined the cluster');

    const list = await members();
    expect(list.map((m) => m.name).sort()).toEqual(['cp1', 'cp2']);
    expect(list.every((m) => !m.isLearner), JSON.stringify(list)).toBe(true);
    expect((await cl.lab.exec('cp2', 'grep -- --initial-cluster-state= /etc/kubernetes/manifests/etcd.yaml')).stdout).toContain('--initial-cluster-state=existing');

    // Shared CAs came from kubeadm-certs; cp2's own apiserver certificate names cp2 and is served.
    const cmp = (path: string) => Promise.all(['cp1', 'cp2'].map(async (h) => (await cl.lab.exec(h, `sha256sum ${path}`)).stdout.split(' ')[0]));
    const [ca1, ca2] = await cmp('/etc/kubernetes/pki/ca.key');
    expect(ca2).toBe(ca1);
    const [api1, api2] = await cmp('/etc/kubernetes/pki/apiserver.crt');
    expect(api2).not.toBe(api1);
    const ready = await cl.lab.exec('cp2', `curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://${cl.address('cp2')}:6443/readyz`);
    expect(ready.stdout.trim()).toBe('ok');
    expect((await cl.lab.exec('cp2', 'ls /etc/kubernetes')).stdout).not.toContain('super-admin.conf');
    await eventually('cp2 Ready and marked', 180_000, async () => {
      const node = await kubectl.json<V1Node>(['get', 'node', 'cp2']);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const marked =
        Object.hasOwn(node.metadata?.labels ?? {}, 'node-role.kubernetes.io/control-plane') &&
        node.metadata?.labels?.['topology.kubernetes.io/zone'] === 'zone-b' &&
        (node.spec?.taints ?? []).some((t) => t.key === 'node-role.kubernetes.io/control-plane');
      return ready && marked ? undefined : `Ready ${ready}, marked ${marked}`;
    });
    const pods = (await kubectl(['get', 'pods', '-n', 'kube-system', '-o', 'name'])).stdout;
    for (const name of ['etcd-cp2', 'kube-apiserver-cp2', 'kube-controller-manager-cp2', 'kube-scheduler-cp2']) expect(pods).toContain(`pod/${name}`);
  }, INIT_TIMEOUT_MS);
});
