/**
 * Which cluster and host `kbuild join` renders for, without --config: the cluster file init published
 * in kube-system/kbuild-config (found by local address or --node-name; a machine it does not list is
 * added and validated), and kubeadm's ClusterConfiguration for a worker of a cluster without it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { resolveJoinTarget } from '../../../src/operations/join/target.js';
import { publishableClusterFile } from '../../../src/kube/published-cluster.js';
import { parseClusterFile } from '../../../src/config/load.js';
import { hasRole } from '../../../src/config/model.js';
import type { ApiClient } from '../../../src/kube/client.js';
import { ApiError } from '../../../src/errors/index.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { examplePath } from '../render/fixture.js';

const EXAMPLE = parseClusterFile(readFileSync(examplePath('ha-stacked'), 'utf8'), 'ha-stacked.yaml');
const PUBLISHED = publishableClusterFile(EXAMPLE);
const ENDPOINT = 'api.demo.internal:6443';

/** A bootstrap-token API client that serves only these kube-system ConfigMaps (others: 404 → undefined), or fails every read as the real one does, with an ApiError. */
function api(configMaps: Record<string, Record<string, string>>, status?: number): ApiClient {
  const refuse = () => Promise.reject(new Error('join target resolution only reads'));
  return {
    read: (_v, kind, namespace, name) => {
      if (status) return Promise.reject(new ApiError('https://test', status, `HTTP ${status}`));
      const data = kind === 'ConfigMap' && namespace === 'kube-system' ? configMaps[name] : undefined;
      return Promise.resolve(data ? ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data } as KubernetesObject) : undefined);
    },
    list: refuse,
    apply: refuse,
    delete: refuse,
    mergePatch: refuse,
  };
}

/** This machine: its addresses, hostname and the source address towards the endpoint. */
const machine = (addresses: string[], hostname = 'node-x', routeSource = addresses[0]) =>
  new FakeTransport('this-machine', {
    rules: [
      { match: 'ip -j addr show', result: { stdout: JSON.stringify([{ addr_info: [{ local: '127.0.0.1' }, ...addresses.map((local) => ({ local }))] }]) } },
      { match: 'hostname', result: { stdout: `${hostname}\n` } },
      // The endpoint is a DNS name: resolved on the machine, then routed.
      { match: 'getent ahosts api.demo.internal', result: { stdout: '192.168.10.100   STREAM api.demo.internal\n192.168.10.100   DGRAM\n' } },
      { match: 'ip -j route get 192.168.10.100', result: { stdout: JSON.stringify([{ prefsrc: routeSource }]) } },
    ],
  });

const published = api({ 'kbuild-config': { 'cluster.yaml': PUBLISHED } });

describe('kbuild join without --config', () => {
  test('a control plane the published file lists is found by its local address, with the whole cluster', async () => {
    const target = await resolveJoinTarget(machine(['192.168.10.12']), published, { controlPlane: true, endpoint: ENDPOINT });
    expect(target.host.name).toBe('cp2');
    expect(target.cluster.hosts.map((h) => h.name)).toEqual(EXAMPLE.spec.hosts.map((h) => h.name));
    expect(target.cluster.etcd.topology).toBe('stacked');
    expect(target.cluster.loadBalancer.vip).toBe('192.168.10.100');
    expect(target.cluster.apiServer.certSANs).toEqual(['api.demo.example.com']);
  });

  test('--node-name picks the listed host', async () => {
    const target = await resolveJoinTarget(machine(['10.1.1.1']), published, { controlPlane: true, endpoint: ENDPOINT, nodeName: 'cp3' });
    expect(target.host).toMatchObject({ name: 'cp3', address: '192.168.10.13' });
  });

  test('a worker the file lists joins as that worker; a listed control plane joining without --control-plane is refused', async () => {
    expect((await resolveJoinTarget(machine(['192.168.10.31']), published, { controlPlane: false, endpoint: ENDPOINT })).host.name).toBe('worker1');
    await expect(resolveJoinTarget(machine(['192.168.10.12']), published, { controlPlane: false, endpoint: ENDPOINT })).rejects.toThrow(
      'kube-system/kbuild-config: cp2 is a control plane; join it with --control-plane --certificate-key KEY',
    );
  });

  test('a machine the file does not list is added under its hostname with the address that routes to the endpoint', async () => {
    const target = await resolveJoinTarget(machine(['192.168.10.40'], 'worker9'), published, { controlPlane: false, endpoint: ENDPOINT });
    expect(target.host).toMatchObject({ name: 'worker9', address: '192.168.10.40', roles: ['worker'] });
    expect(target.cluster.hosts).toHaveLength(EXAMPLE.spec.hosts.length + 1);
  });

  test('an added machine is validated like any cluster file: a fourth stacked member is refused with the reason', async () => {
    await expect(resolveJoinTarget(machine(['192.168.10.14'], 'cp4'), published, { controlPlane: true, endpoint: ENDPOINT })).rejects.toThrow(
      /kube-system\/kbuild-config with this machine added as cp4 \(192\.168\.10\.14, control-plane\).*4 control-plane hosts \(stacked etcd\) make an even etcd cluster/s,
    );
    await expect(resolveJoinTarget(machine(['172.16.0.9'], 'worker9'), published, { controlPlane: false, endpoint: ENDPOINT })).rejects.toThrow(/172\.16\.0\.9 is in none of spec\.networking\.nodeSubnets/);
  });

  test('a hostname the file gives to another address is refused, not silently reused', async () => {
    await expect(resolveJoinTarget(machine(['192.168.10.40'], 'worker1'), published, { controlPlane: false, endpoint: ENDPOINT })).rejects.toThrow(
      'kube-system/kbuild-config lists worker1 at 192.168.10.31, which is not an address of this machine',
    );
  });

  test('a cluster without kbuild-config: a control plane is told what to run; a worker falls back to kubeadm-config', async () => {
    const kubeadmOnly = api({ 'kubeadm-config': { ClusterConfiguration: 'kubernetesVersion: v1.31.2\nnetworking:\n  serviceSubnet: 10.96.0.0/16\n' } });
    await expect(resolveJoinTarget(machine(['192.168.10.12']), kubeadmOnly, { controlPlane: true, endpoint: ENDPOINT })).rejects.toThrow(
      /has no kube-system\/kbuild-config .* run `kbuild init phase upload-config\/kubeadm --config FILE` on the first control plane, or pass the cluster file here with --config FILE/,
    );
    const worker = await resolveJoinTarget(machine(['192.168.10.40'], 'w7'), kubeadmOnly, { controlPlane: false, endpoint: ENDPOINT });
    expect(worker.host).toMatchObject({ name: 'w7', address: '192.168.10.40' });
    expect(hasRole(worker.host, 'worker')).toBe(true);
    expect(worker.cluster.kubernetesVersion).toBe('v1.31.2');
  });

  test('a token that may not read kbuild-config (403, a cluster set up before it existed) counts as none', async () => {
    await expect(resolveJoinTarget(machine(['192.168.10.12']), api({}, 403), { controlPlane: true, endpoint: ENDPOINT })).rejects.toThrow(/has no kube-system\/kbuild-config/);
  });
});
