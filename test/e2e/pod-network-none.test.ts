/**
 * spec.networking.cni: none, as kubeadm: apply installs no pod network, does not wait for CoreDNS to
 * become Available (only for its Deployment to exist), ends successfully saying the cluster needs a
 * pod network and how to add one, and the real kubelet reports its Node NotReady for want of one.
 */
import type { V1Deployment, V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_NETWORK_NEEDED } from '../../src/operations/apply/phases.js';
import { adminKubectl } from './cluster-checks.js';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';

describe('apply with cni: none, on a real kubelet', () => {
  let cl: ClusterLab;
  beforeAll(async () => {
    cl = await createClusterLab('e2e-cni-none', [{ name: 'cp1', roles: ['control-plane', 'worker'] }], {
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'none' },
    });
  });
  afterAll(async () => {
    await cl?.lab.teardown();
  });

  it('ends successfully with the pod-network message; the Node stays NotReady and CoreDNS unavailable, as with kubeadm', { timeout: 15 * 60_000 }, async () => {
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir], 10 * 60_000);
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-2000)}`).toBe(0);
    expect(result.stdout + result.stderr).toContain(POD_NETWORK_NEEDED);
    const kubectl = await adminKubectl(cl);
    const node = await kubectl.json<V1Node>(['get', 'node', 'cp1']);
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status, JSON.stringify(ready)).toBe('False');
    expect(ready?.message ?? '').toMatch(/network plugin|NetworkReady=false|cni/i);
    const coredns = await kubectl.json<V1Deployment>(['get', 'deployment', '-n', 'kube-system', 'coredns']);
    expect(coredns.status?.availableReplicas ?? 0).toBe(0);
    // Nothing of a pod network on the host.
    expect((await cl.lab.exec('cp1', 'ls /etc/cni/net.d 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
  });
});
