/**
 * `kbuild init` end to end, run inside test host cp1 through its own shell with the kubelet stand-in
 * (real etcd, HTTPS apiserver with RBAC and bootstrap-token auth, objects in etcd): the control plane
 * comes up and passes its gates, the API holds what init creates, and the printed join command's
 * hash equals openssl's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApiObjects } from '../support/standin/index.js';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';
import { kbuildOnHost, registerNode, type HostRun } from './init-helpers.js';

const opensslHash = (caPem: string) => {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: caPem });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return `sha256:${execFileSync('sha256sum', { input: der }).toString().split(/\s+/)[0]!}`;
};

const HOST_DIRS = '/etc/kubernetes /var/lib/kubelet /etc/systemd/system/kubelet.service.d';

describe('kbuild init on a test host', () => {
  let cl: ClusterLab;
  let init: HostRun;
  let dryRun: HostRun;
  let hostUnchangedByDryRun = false;
  beforeAll(async () => {
    cl = await createClusterLab('e2e-init', [
      { name: 'cp1', roles: ['control-plane'] },
      { name: 'w1', roles: ['worker'] },
    ]);
    // First a dry run on the same host: it must leave the machine as it was.
    const listing = async () => (await cl.lab.exec('cp1', `find ${HOST_DIRS} -type f 2>/dev/null | sort; true`)).stdout;
    const before = await listing();
    dryRun = await kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--dry-run', '-o', join(cl.dir, 'init-dry-run'), '--ignore-preflight-errors', 'all']);
    hostUnchangedByDryRun = (await listing()) === before;
    [init] = await Promise.all([
      kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--ignore-preflight-errors', 'all']),
      registerNode(cl.lab, 'cp1', 'cp1'),
    ]);
  }, 420_000);
  afterAll(async () => {
    await cl?.lab.teardown();
  });

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
    for (const f of renderedFiles) expect(readFileSync(join(cl.dir, 'init-dry-run', f)), f).toEqual(readFileSync(join(rendered, 'cp1', f)));
  });

  it('succeeds, passing the control-plane gate', () => {
    expect(init.stderr).not.toMatch(/Error/);
    expect(init.code, `${init.stdout}\n${init.stderr}`).toBe(0);
    expect(init.stdout).toContain('has initialized successfully');
  });

  it('stores the bootstrap token, its RBAC, the signed cluster-info and the kubelet-config', () => {
    const objects = readApiObjects(cl.lab, 'cp1');
    const find = (kind: string, name: string, namespace?: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
    const token = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('bootstrap-token-'));
    expect(token?.type).toBe('bootstrap.kubernetes.io/token');
    const id = token!.metadata.name.slice('bootstrap-token-'.length);
    for (const name of ['kubeadm:kubelet-bootstrap', 'kubeadm:get-nodes', 'kubeadm:node-autoapprove-bootstrap', 'kubeadm:node-autoapprove-certificate-rotation', 'kubeadm:cluster-admins']) {
      expect(find('ClusterRoleBinding', name), name).toBeDefined();
    }
    const clusterInfo = find('ConfigMap', 'cluster-info', 'kube-public') as { data?: Record<string, string> } | undefined;
    expect(clusterInfo?.data?.kubeconfig).toContain(`server: https://${cl.address('cp1')}:6443`);
    expect(clusterInfo?.data?.[`jws-kubeconfig-${id}`]).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(find('ConfigMap', 'kubelet-config', 'kube-system')).toBeDefined();
    expect(find('ConfigMap', 'kubeadm-config', 'kube-system')).toBeDefined();
  });

  it('marks cp1 as a control plane: labels and taint', () => {
    const node = readApiObjects(cl.lab, 'cp1').find((o) => o.kind === 'Node' && o.metadata.name === 'cp1') as
      | { metadata: { labels?: Record<string, string> }; spec?: { taints?: Array<{ key: string; effect: string }> } }
      | undefined;
    expect(node?.metadata.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    expect(node?.spec?.taints).toContainEqual(expect.objectContaining({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }));
  });

  it('prints a join command whose hash is the openssl hash of the CA on cp1', async () => {
    const ca = (await cl.lab.exec('cp1', 'cat /etc/kubernetes/pki/ca.crt')).stdout;
    expect(ca).toBe(readFileSync(`${cl.stateDir}/pki/ca.crt`, 'utf8'));
    const command = /kbuild join (\S+) --token (\S+) --discovery-token-ca-cert-hash (\S+)/.exec(init.stdout);
    expect(command?.[1]).toBe(`${cl.address('cp1')}:6443`);
    expect(command?.[3]).toBe(opensslHash(ca));
  });
});
