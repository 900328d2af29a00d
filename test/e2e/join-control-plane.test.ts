/**
 * A control-plane join end to end: `kbuild init --upload-certs` on cp1 starts a single-member etcd,
 * then cp2 runs the printed `--control-plane` join: it downloads and decrypts kubeadm-certs, issues
 * its own certificates, joins etcd as a learner, is promoted, and brings its control plane up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, type ClusterLab } from './cluster-lab.js';
import { endpointAtCp1, initForControlPlaneJoin, kbuildOnHost, registerNode } from './init-helpers.js';

interface Member {
  name?: string;
  isLearner?: boolean;
  peerURLs?: string[];
}

describe('kbuild join --control-plane on test hosts', () => {
  let cl: ClusterLab;
  let controlPlaneJoin: string[];
  beforeAll(async () => {
    cl = await createClusterLab('e2e-cpjoin', [
      { name: 'cp1', roles: ['control-plane'] },
      { name: 'cp2', roles: ['control-plane'] },
      { name: 'cp3', roles: ['control-plane'] },
    ]);
    endpointAtCp1(cl);
    controlPlaneJoin = await initForControlPlaneJoin(cl);
  }, 420_000);
  afterAll(async () => {
    await cl?.lab.teardown();
  });

  const members = async (): Promise<Member[]> => {
    const pki = '/etc/kubernetes/pki/etcd';
    const out = await cl.lab.exec(
      'cp1',
      `ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:2379 --cacert ${pki}/ca.crt --cert ${pki}/healthcheck-client.crt --key ${pki}/healthcheck-client.key member list -w json`,
    );
    return (JSON.parse(out.stdout) as { members: Member[] }).members;
  };

  it('init started etcd with cp1 alone', async () => {
    expect((await members()).map((m) => m.name)).toEqual(['cp1']);
    expect((await cl.lab.exec('cp1', 'grep -- --initial-cluster= /etc/kubernetes/manifests/etcd.yaml')).stdout).toContain(`--initial-cluster=cp1=https://${cl.address('cp1')}:2380'`);
  });

  // Exactly the printed command: cp2 is found in the cluster file init published (kube-system/kbuild-config) by its address.
  it('cp2 joins as a control plane: its own certificates, a promoted etcd member, a ready apiserver', async () => {
    const [run] = await Promise.all([kbuildOnHost(cl.lab, 'cp2', [...controlPlaneJoin, '--ignore-preflight-errors', 'all']), registerNode(cl.lab, 'cp1', 'cp2')]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

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
  });
});
