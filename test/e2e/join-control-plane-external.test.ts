/**
 * A control-plane join with external etcd, end to end: `kbuild apply phase etcd` brings up the etcd
 * host from the workstation, `kbuild init --upload-certs` runs on cp1, then cp2 runs exactly the
 * printed `--control-plane` join. cp2 gets the shared CAs and the apiserver's etcd client certificate
 * from kubeadm-certs, adds no etcd member, and its apiserver is ready against the external etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';
import { endpointAtCp1, initForControlPlaneJoin, kbuildOnHost } from './init-helpers.js';

describe('kbuild join --control-plane with external etcd on test hosts', () => {
  let cl: ClusterLab;
  let controlPlaneJoin: string[];
  beforeAll(async () => {
    cl = await createClusterLab(
      'e2e-cpjoin-ext',
      [
        { name: 'etcd1', roles: ['etcd'] },
        { name: 'cp1', roles: ['control-plane'] },
        { name: 'cp2', roles: ['control-plane'] },
      ],
      { etcd: { topology: 'external' } },
    );
    endpointAtCp1(cl);
    const etcd = await kbuild(['apply', 'phase', 'etcd', '-i', cl.clusterFile, '--state-dir', cl.stateDir], 10 * 60_000);
    if (etcd.code !== 0) throw new Error(`apply phase etcd failed:\n${etcd.stdout}\n${etcd.stderr}`);
    controlPlaneJoin = await initForControlPlaneJoin(cl);
  }, 20 * 60_000);
  afterAll(async () => {
    await cl?.lab.teardown();
  }, 120_000);

  it('cp2 joins with the printed command: shared etcd client certificate, no etcd member or CA key, a ready apiserver', async () => {
    const run = await kbuildOnHost(cl.lab, 'cp2', controlPlaneJoin, 10 * 60_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('This node (cp2) has joined the cluster');

    const sum = async (host: string, path: string) => (await cl.lab.exec(host, `sha256sum ${path}`)).stdout.split(' ')[0];
    expect(await sum('cp2', '/etc/kubernetes/pki/apiserver-etcd-client.key')).toBe(await sum('cp1', '/etc/kubernetes/pki/apiserver-etcd-client.key'));
    expect(await sum('cp2', '/etc/kubernetes/pki/etcd/ca.crt')).toBe(await sum('etcd1', '/etc/kubernetes/pki/etcd/ca.crt'));
    expect((await cl.lab.exec('cp2', 'ls /etc/kubernetes/pki/etcd /etc/kubernetes/manifests')).stdout.split('\n').filter(Boolean).sort()).toEqual(
      ['/etc/kubernetes/manifests:', '/etc/kubernetes/pki/etcd:', 'ca.crt', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'].sort(),
    );
    expect((await cl.lab.exec('cp2', 'grep -o -- "--etcd-servers=[^\']*" /etc/kubernetes/manifests/kube-apiserver.yaml')).stdout.trim()).toBe(`--etcd-servers=https://${cl.address('etcd1')}:2379`);

    // Still one etcd member; cp2's apiserver is ready, its etcd check passing against etcd1.
    const pki = '/etc/kubernetes/pki';
    const members = await cl.lab.exec('cp2', `curl -sS --fail-with-body --max-time 5 --cacert ${pki}/etcd/ca.crt --cert ${pki}/apiserver-etcd-client.crt --key ${pki}/apiserver-etcd-client.key -X POST -d '{}' https://${cl.address('etcd1')}:2382/v3/cluster/member/list`);
    expect((JSON.parse(members.stdout) as { members: unknown[] }).members).toHaveLength(1);
    const ready = await cl.lab.exec('cp2', `curl -sS --max-time 5 --cacert ${pki}/ca.crt https://${cl.address('cp2')}:6443/readyz?verbose`);
    expect(ready.stdout).toContain('[+]etcd ok');
    expect(ready.stdout.trim().split('\n').at(-1)).toBe('readyz check passed');
  }, 10 * 60_000);
});
