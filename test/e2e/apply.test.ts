/**
 * kbuild apply end to end: real sshd on network-namespace hosts, real etcd, real HAProxy, real TLS;
 * the kubelet stand-in plays the kubelet and the apiserver. Gate passes must follow the startup order.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, jsonEvents, kbuild, type ClusterLab } from './cluster-lab.js';

const gateOrder = (stdout: string) =>
  jsonEvents(stdout)
    .filter((e) => e.type === 'gate-pass')
    .map((e) => `${e.gate}@${e.host}`);

/** Collapses consecutive passes of one gate: the order of gates, not of hosts within a gate. */
const gatesInOrder = (passes: string[]) => passes.map((p) => p.split('@')[0]).filter((g, i, all) => g !== all[i - 1]);

describe.each([
  {
    topology: 'stacked',
    hosts: [
      { name: 'lb1', roles: ['load-balancer'] },
      { name: 'cp1', roles: ['control-plane'] },
      { name: 'cp2', roles: ['control-plane'] },
      { name: 'cp3', roles: ['control-plane'] },
      { name: 'w1', roles: ['worker'] },
      { name: 'w2', roles: ['worker'] },
    ],
    etcd: ['cp1', 'cp2', 'cp3'],
  },
  {
    topology: 'external',
    hosts: [
      { name: 'etcd1', roles: ['etcd'] },
      { name: 'etcd2', roles: ['etcd'] },
      { name: 'etcd3', roles: ['etcd'] },
      { name: 'lb1', roles: ['load-balancer'] },
      { name: 'cp1', roles: ['control-plane'] },
      { name: 'cp2', roles: ['control-plane'] },
      { name: 'cp3', roles: ['control-plane'] },
      { name: 'w1', roles: ['worker'] },
      { name: 'w2', roles: ['worker'] },
    ],
    etcd: ['etcd1', 'etcd2', 'etcd3'],
  },
])('kbuild apply, $topology etcd', ({ topology, hosts, etcd }) => {
  let cl: ClusterLab;
  beforeAll(async () => {
    cl = await createClusterLab(`e2e-${topology}`, hosts, { etcd: { topology }, loadBalancer: { type: 'haproxy' } });
    // The endpoint is the load balancer's address: every API call and gate goes through HAProxy.
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(cl.clusterFile, readFileSync(cl.clusterFile, 'utf8').replace('spec:\n', `spec:\n  controlPlaneEndpoint: ${cl.address('lb1')}:6443\n`));
  });
  afterAll(async () => {
    await cl?.lab.teardown();
  });

  it('brings every host up in startup order, gated on real health', async () => {
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json']);
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-3000)}`).toBe(0);
    const passes = gateOrder(result.stdout);
    expect(gatesInOrder(passes)).toEqual([
      'etcd /health',
      'etcd quorum (member list)',
      'kube-apiserver /readyz',
      'kube-controller-manager /healthz',
      'kube-scheduler /healthz',
      'load balancer frontend',
      'kube-apiserver via the endpoint',
      'kube-public/cluster-info readable',
      'kubelet /healthz',
      'DaemonSet kube-system/kube-proxy ready',
      'Deployment kube-system/coredns ready',
    ]);
    expect(passes.filter((p) => p.startsWith('etcd /health@')).map((p) => p.split('@')[1]).sort()).toEqual(etcd);
    const kubelets = hosts.filter((h) => !h.roles.includes('load-balancer')).map((h) => h.name).sort();
    expect(passes.filter((p) => p.startsWith('kubelet /healthz@')).map((p) => p.split('@')[1]).sort()).toEqual(kubelets);
  });

  it('left every rendered file on its host with the rendered content and mode', async () => {
    const out = `${cl.dir}/rendered`;
    const render = await kbuild(['render', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '-o', out]);
    expect(render.code, render.stderr).toBe(0);
    for (const host of hosts) {
      const listing = execFileSync('sh', ['-c', `cd ${out}/${host.name} && find . -type f -printf '%m %p\\n' | sort`], { encoding: 'utf8' });
      for (const line of listing.trim().split('\n')) {
        const [mode, rel] = line.split(' ');
        const path = rel!.slice(1);
        const expected = execFileSync('sha256sum', [`${out}/${host.name}${path}`], { encoding: 'utf8' }).split(' ')[0];
        const onHost = await cl.lab.exec(host.name, `stat -c %a ${path} && sha256sum ${path}`);
        const [hostMode, hostSum] = onHost.stdout.trim().split('\n');
        expect(`${host.name}:${path} ${hostMode}`).toBe(`${host.name}:${path} ${mode}`);
        expect(hostSum!.split(' ')[0], `${host.name}:${path}`).toBe(expected);
      }
    }
  });

  it('a second apply changes nothing and says so for every host', async () => {
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir]);
    expect(result.code, result.stderr).toBe(0);
    for (const host of hosts) expect(result.stdout).toMatch(new RegExp(`^${host.name}: no changes$`, 'm'));
    expect(result.stdout).not.toMatch(/API objects applied/);
  });
});
