/**
 * `kbuild apply` with external etcd on real components: three etcd hosts (standalone kubelets running
 * the etcd static pod), two load balancers sharing a VIP, two control planes, two workers. The same
 * checks as the stacked cluster: gates in startup order, a working cluster through the VIP, every
 * rendered file in place, and a second apply that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubectl, expectWorkingCluster, type Kubectl } from './cluster-checks.js';
import { APPLY_GATES_IN_ORDER, createClusterLab, gatesInOrder, jsonEvents, kbuild, type ClusterLab } from './cluster-lab.js';

const HOSTS = [
  { name: 'etcd1', roles: ['etcd'] },
  { name: 'etcd2', roles: ['etcd'] },
  { name: 'etcd3', roles: ['etcd'] },
  { name: 'lb1', roles: ['load-balancer'] },
  { name: 'lb2', roles: ['load-balancer'] },
  { name: 'cp1', roles: ['control-plane'] },
  { name: 'cp2', roles: ['control-plane'] },
  { name: 'w1', roles: ['worker'] },
  { name: 'w2', roles: ['worker'] },
];
const APPLY_TIMEOUT_MS = 15 * 60_000;

let cl: ClusterLab;
let kubectl: Kubectl;
beforeAll(async () => {
  cl = await createClusterLab('ha-external', HOSTS, { etcd: { topology: 'external' } }, { vip: true });
}, 10 * 60_000);
afterAll(async () => {
  await cl?.lab.teardown();
}, 120_000);

describe('kbuild apply: 3 external etcd hosts, 2 load balancers with a VIP, 2 control planes, 2 workers', () => {
  it('brings every host up in startup order, gated on real health', async () => {
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], APPLY_TIMEOUT_MS);
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-4000)}`).toBe(0);
    const passes = jsonEvents(result.stdout).filter((e) => e.type === 'gate-pass');
    expect(gatesInOrder(result.stdout)).toEqual(APPLY_GATES_IN_ORDER);
    expect(passes.filter((e) => e.gate === 'etcd /health').map((e) => e.host).sort()).toEqual(['etcd1', 'etcd2', 'etcd3']);
    // The etcd hosts run a kubelet for their static pod, but register no Node.
    expect(passes.filter((e) => e.gate === 'kubelet /healthz').map((e) => e.host).sort()).toEqual(['cp1', 'cp2', 'etcd1', 'etcd2', 'etcd3', 'w1', 'w2']);
    kubectl = await adminKubectl(cl);
  }, APPLY_TIMEOUT_MS);

  it('is a working cluster through the VIP, its apiservers on the external etcd', async () => {
    expect(kubectl, 'the first apply did not finish').toBeDefined();
    await expectWorkingCluster(cl, kubectl, { controlPlanes: ['cp1', 'cp2'], workers: ['w1', 'w2'], stackedEtcd: false, dnsFrom: 'w2' });
    const readyz = await kubectl(['get', '--raw', '/readyz/etcd']);
    expect(readyz.stdout.trim()).toBe('ok');
    // Each etcd host runs etcd as a static pod of its standalone kubelet, and nothing of the control plane.
    for (const host of ['etcd1', 'etcd2', 'etcd3']) {
      const names = (await cl.lab.exec(host, ['crictl', 'ps', '-o', 'json'])).stdout;
      const running = (JSON.parse(names) as { containers: Array<{ metadata: { name: string } }> }).containers.map((c) => c.metadata.name).sort();
      expect(running, host).toEqual(['etcd']);
    }
  }, 5 * 60_000);

  it('a second apply changes nothing and says so for every host', async () => {
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir], APPLY_TIMEOUT_MS);
    expect(result.code, result.stderr).toBe(0);
    for (const { name } of HOSTS) expect(result.stdout).toMatch(new RegExp(`^${name}: no changes$`, 'm'));
    expect(result.stdout).not.toMatch(/API objects applied/);
  }, APPLY_TIMEOUT_MS);
});
