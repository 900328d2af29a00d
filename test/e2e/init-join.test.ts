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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1CertificateSigningRequest, V1ConfigMap, V1Node, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubectl, eventually, type Kubectl } from './cluster-checks.js';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';
import { endpointAtCp1, kbuildOnHost, type HostRun } from './init-helpers.js';

const opensslHash = (caPem: string) => {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: caPem });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return `sha256:${execFileSync('sha256sum', { input: der }).toString().split(/\s+/)[0]!}`;
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
    { name: 'cp2', roles: ['control-plane'] },
    { name: 'cp3', roles: ['control-plane'] },
    { name: 'w1', roles: ['worker'] },
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
    expect((await cl.lab.exec('w1', 'systemctl is-active kubelet')).stdout.trim()).toBe('active');
  }, INIT_TIMEOUT_MS);
});

describe('kbuild join --control-plane on cp2, with the command init printed', () => {
  const ETCD_CLIENT = '--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key';
  const members = async () => {
    const list = await cl.lab.exec('cp1', `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list`);
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
      const marked = Object.hasOwn(node.metadata?.labels ?? {}, 'node-role.kubernetes.io/control-plane') && (node.spec?.taints ?? []).some((t) => t.key === 'node-role.kubernetes.io/control-plane');
      return ready && marked ? undefined : `Ready ${ready}, marked ${marked}`;
    });
    const pods = (await kubectl(['get', 'pods', '-n', 'kube-system', '-o', 'name'])).stdout;
    for (const name of ['etcd-cp2', 'kube-apiserver-cp2', 'kube-controller-manager-cp2', 'kube-scheduler-cp2']) expect(pods).toContain(`pod/${name}`);
  }, INIT_TIMEOUT_MS);
});
