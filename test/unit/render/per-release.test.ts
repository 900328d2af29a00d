/** What kubeadm changed between the supported releases, rendered as that release's kubeadm writes it (the e2e kubeadm reference test checks each against the real one). */
import type { V1ClusterRoleBinding } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { firstControlPlane, type Cluster } from '../../../src/config/model.js';
import { corefile } from '../../../src/render/addons/coredns.js';
import { etcdPod } from '../../../src/render/etcd.js';
import { LEAF_ROWS, organizationOf } from '../../../src/pki/table.js';
import { bootstrapRbacObjects } from '../../../src/render/addons/bootstrap.js';
import { fixtureContext } from './fixture.js';

const at = async (kubernetesVersion: string): Promise<Cluster> => ({ ...(await fixtureContext('single-node')).cluster, kubernetesVersion });

describe('per release', () => {
  test("etcd's probes: /livez and /readyz from v1.31, v1.30's /health and no readiness probe", async () => {
    const paths = async (version: string) => {
      const cluster = await at(version);
      const c = etcdPod(cluster, firstControlPlane(cluster)).spec!.containers[0]!;
      return [c.livenessProbe?.httpGet?.path, c.readinessProbe?.httpGet?.path, c.startupProbe?.httpGet?.path, c.resources?.requests];
    };
    expect(await paths('v1.30.14')).toEqual(['/health?exclude=NOSPACE&serializable=true', undefined, '/health?serializable=false', { cpu: '100m', memory: '100Mi' }]);
    expect(await paths('v1.31.9')).toEqual(['/livez', '/readyz', '/readyz', { cpu: '100m', memory: '100Mi' }]);
  });

  test("CoreDNS's cache leaves the cluster's names alone from v1.32", async () => {
    expect(corefile(await at('v1.31.9'))).toContain('    cache 30\n    loop');
    expect(corefile(await at('v1.32.4'))).toContain('    cache 30 {\n       disable success cluster.local\n       disable denial cluster.local\n    }\n    loop');
  });

  test('apiserver-kubelet-client has no group from v1.33.12, and the binding that authorises it is always there', async () => {
    const row = LEAF_ROWS.find((r) => r.name === 'apiserver-kubelet-client')!;
    expect(organizationOf(row, await at('v1.32.13'))).toBe('kubeadm:cluster-admins');
    expect(organizationOf(row, await at('v1.33.11'))).toBe('kubeadm:cluster-admins');
    expect(organizationOf(row, await at('v1.33.12'))).toBeUndefined();
    const binding = bootstrapRbacObjects().find((o) => (o as V1ClusterRoleBinding).metadata?.name === 'kubeadm:apiserver-kubelet-client') as V1ClusterRoleBinding | undefined;
    expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' });
    expect(binding?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }]);
  });
});
