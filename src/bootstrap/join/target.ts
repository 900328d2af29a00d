/**
 * Which cluster model and host `kbuild join` works with. With --config, the cluster file (the same
 * one init used) and its host named by --node-name or owning a local address. Without it (the
 * command init prints), a worker described as kubeadm's join does: the ClusterConfiguration the
 * cluster published in kube-system/kubeadm-config, the endpoint joined, this machine's name.
 */
import yaml from 'js-yaml';
import { buildCluster, hasRole, splitHostPort, type Cluster, type Host } from '../../config/model.js';
import { loadClusterFile } from '../../config/load.js';
import type { ClusterFile } from '../../config/schema.js';
import { UsageError } from '../../errors/index.js';
import type { ApiClient } from '../../kube/client.js';
import type { Transport } from '../../ssh/transport.js';
import { withApiRetry, type RetryOptions } from '../api-retry.js';
import { localAddresses, thisHost } from '../init/target.js';

export interface JoinTarget {
  path?: string;
  cluster: Cluster;
  host: Host;
}

export interface TargetOptions {
  config?: string;
  nodeName?: string;
  controlPlane: boolean;
  /** `kbuild join ENDPOINT`. */
  endpoint: string;
}

async function hostname(transport: Transport): Promise<string> {
  const result = await transport.run('hostname', { readOnly: true, timeoutMs: 10_000 });
  const name = result.stdout.trim().toLowerCase();
  if (!name) throw new UsageError('cannot read this machine\'s hostname; pass --node-name NAME');
  return name;
}

/** The source address this machine uses towards the endpoint (`ip -j route get`, which sends nothing). */
async function addressTowards(transport: Transport, endpointHost: string): Promise<string> {
  const result = await transport.run(`ip -j route get ${endpointHost.replace(/[^0-9a-fA-F.:]/g, '')}`, { readOnly: true, timeoutMs: 10_000 });
  const src = result.code === 0 ? (JSON.parse(result.stdout || '[]') as Array<{ prefsrc?: string }>)[0]?.prefsrc : undefined;
  if (src) return src;
  const mine = (await localAddresses(transport)).filter((a) => !a.startsWith('127.') && a !== '::1');
  if (mine.length === 0) throw new UsageError(`no address on this machine routes to ${endpointHost}; pass a cluster file with --config naming this host and its address`);
  return mine[0]!;
}

interface ClusterConfiguration {
  kubernetesVersion?: string;
  imageRepository?: string;
  networking?: { serviceSubnet?: string; podSubnet?: string; dnsDomain?: string };
}

/** kube-system/kubeadm-config's ClusterConfiguration, readable by the bootstrap token (init's kubeadm:nodes-kubeadm-config). */
async function publishedClusterConfiguration(api: ApiClient, retry?: RetryOptions): Promise<ClusterConfiguration> {
  const configMap = (await withApiRetry('get ConfigMap kube-system/kubeadm-config', () => api.read('v1', 'ConfigMap', 'kube-system', 'kubeadm-config'), retry)) as
    | { data?: Record<string, string> }
    | undefined;
  const text = configMap?.data?.ClusterConfiguration;
  if (!text) throw new UsageError('the cluster has no kube-system/kubeadm-config with a ClusterConfiguration (run `kbuild init phase upload-config/kubeadm` on the first control plane), or pass the cluster file with --config');
  const parsed: unknown = yaml.load(text);
  return parsed !== null && typeof parsed === 'object' ? parsed : {};
}

export async function resolveJoinTarget(transport: Transport, api: ApiClient, options: TargetOptions, retry?: RetryOptions): Promise<JoinTarget> {
  if (options.config) {
    const { path, cluster } = await loadClusterFile(options.config);
    const host = await thisHost(transport, path, cluster, options.nodeName);
    if (options.controlPlane && !hasRole(host, 'control-plane')) throw new UsageError(`${path}: ${host.name} has no control-plane role, but --control-plane was given; join it as a worker, or add the role`);
    if (!options.controlPlane && hasRole(host, 'control-plane')) throw new UsageError(`${path}: ${host.name} is a control plane; join it with --control-plane --certificate-key KEY`);
    return { path, cluster, host };
  }
  if (options.controlPlane) throw new UsageError('--control-plane needs the cluster file (--config FILE, the one `kbuild init` used): the control-plane manifests and certificates are rendered from it');
  const published = await publishedClusterConfiguration(api, retry);
  const name = options.nodeName ?? (await hostname(transport));
  const endpoint = splitHostPort(options.endpoint);
  const file: ClusterFile = {
    apiVersion: 'kbuild.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'kubernetes' },
    spec: {
      kubernetesVersion: published.kubernetesVersion,
      imageRepository: published.imageRepository,
      controlPlaneEndpoint: options.endpoint,
      networking: { serviceSubnet: published.networking?.serviceSubnet, podSubnet: published.networking?.podSubnet, dnsDomain: published.networking?.dnsDomain },
      hosts: [{ name, address: await addressTowards(transport, endpoint.host), roles: ['worker'] }],
    },
  };
  const cluster = buildCluster(JSON.parse(JSON.stringify(file)) as ClusterFile);
  return { cluster, host: cluster.hosts[0]! };
}
