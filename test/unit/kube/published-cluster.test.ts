import { describe, expect, test } from 'vitest';
import type { Cluster } from '../../../src/config/model.js';
import { kubeadmClusterConfiguration } from '../../../src/kube/published-cluster.js';
import { fixtureContext } from '../render/fixture.js';

/** The example's cluster at another release, with extraArgs on every component and the addons off. */
async function clusterAt(kubernetesVersion: string, change: (c: Cluster) => Partial<Cluster> = () => ({})): Promise<Cluster> {
  const { cluster } = await fixtureContext('single-node');
  const c: Cluster = {
    ...structuredClone(cluster),
    kubernetesVersion,
    apiServer: { ...cluster.apiServer, extraArgs: { 'audit-log-maxage': '7', 'audit-log-maxsize': '100' } },
    scheduler: { ...cluster.scheduler, extraArgs: { v: '2' } },
    etcd: { ...cluster.etcd, extraArgs: { 'snapshot-count': '5000' } },
    dns: { disabled: true },
    kubeProxy: { ...cluster.kubeProxy, disabled: true },
  };
  return { ...c, ...change(c) };
}

describe("kubeadm-config's ClusterConfiguration in the API of the cluster's kubeadm", () => {
  test('v1.30: v1beta3 (its kubeadm refuses v1beta4): extraArgs as maps, no v1beta4-only field', async () => {
    const config = kubeadmClusterConfiguration(await clusterAt('v1.30.14'));
    expect(config).toMatchObject({
      apiVersion: 'kubeadm.k8s.io/v1beta3',
      kind: 'ClusterConfiguration',
      kubernetesVersion: 'v1.30.14',
      apiServer: { extraArgs: { 'audit-log-maxage': '7', 'audit-log-maxsize': '100' } },
      scheduler: { extraArgs: { v: '2' } },
      etcd: { local: { dataDir: '/var/lib/etcd', extraArgs: { 'snapshot-count': '5000' } } },
    });
    for (const field of ['encryptionAlgorithm', 'dns', 'proxy', 'featureGates']) expect(config).not.toHaveProperty(field);
  });

  test("v1.30: ECDSA-P256 is v1beta3's PublicKeysECDSA gate", async () => {
    const ecdsa = await clusterAt('v1.30.14', (c) => ({ certificates: { ...c.certificates, encryptionAlgorithm: 'ECDSA-P256' } }));
    expect(kubeadmClusterConfiguration(ecdsa).featureGates).toEqual({ PublicKeysECDSA: true });
  });

  test.each(['v1.31.9', 'v1.32.4', 'v1.33.13'])('%s: v1beta4, extraArgs as sorted name/value lists, the addons off', async (version) => {
    const config = kubeadmClusterConfiguration(await clusterAt(version));
    expect(config).toMatchObject({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      apiServer: { extraArgs: [{ name: 'audit-log-maxage', value: '7' }, { name: 'audit-log-maxsize', value: '100' }] },
      etcd: { local: { extraArgs: [{ name: 'snapshot-count', value: '5000' }] } },
      encryptionAlgorithm: 'RSA-2048',
      dns: { disabled: true },
      proxy: { disabled: true },
    });
  });
});
