/**
 * Which cluster model and host `kbuild join` works with:
 * - with --config, the cluster file (the one init used) and its host named by --node-name or owning
 *   a local address;
 * - else (the command init prints) the cluster file init published in kube-system/kbuild-config,
 *   the same way; a machine it does not list joins under its name (--node-name, else the hostname)
 *   with the address it reaches the endpoint from, and the result is validated like any cluster file;
 * - for a worker of a cluster without kbuild-config, kubeadm's way: the ClusterConfiguration in
 *   kube-system/kubeadm-config, the endpoint joined, this machine's name.
 */
import yaml from 'js-yaml';
import { buildCluster, hasRole, splitHostPort, type Cluster, type Host } from '../../config/model.js';
import { loadClusterFile, parseClusterFile } from '../../config/load.js';
import type { ClusterFile } from '../../config/schema.js';
import { StateError } from '../../errors/index.js';
import type { ApiClient } from '../../kube/client.js';
import type { Transport } from '../../transport/transport.js';
import { addressTowards, hostWithAddressIn, localAddresses, requiredHostname, thisHost } from '../machine.js';
import { PUBLISHED_SOURCE, readClusterConfiguration, readPublishedClusterFile } from '../../kube/published-cluster.js';

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

/** kubeadm's rules: a control plane joins with --control-plane, a worker without. */
function checkRole(source: string, host: Host, controlPlane: boolean): void {
  if (controlPlane && !hasRole(host, 'control-plane')) throw new StateError(`${source}: ${host.name} has no control-plane role, but --control-plane was given; join it as a worker, or add the role`);
  if (!controlPlane && hasRole(host, 'control-plane')) throw new StateError(`${source}: ${host.name} is a control plane; join it with --control-plane --certificate-key KEY`);
}

/** This machine in the published cluster file, added to it when the file does not list it. */
async function hostInPublishedFile(transport: Transport, file: ClusterFile, options: TargetOptions): Promise<JoinTarget> {
  const cluster = buildCluster(file);
  const listed = options.nodeName ? cluster.hosts.find((h) => h.name === options.nodeName) : hostWithAddressIn(cluster, await localAddresses(transport));
  if (listed) {
    checkRole(PUBLISHED_SOURCE, listed, options.controlPlane);
    return { cluster, host: listed };
  }
  const name = options.nodeName ?? (await requiredHostname(transport));
  const namesake = cluster.hosts.find((h) => h.name === name);
  if (namesake) {
    throw new StateError(`${PUBLISHED_SOURCE} lists ${name} at ${namesake.address}, which is not an address of this machine; pass --node-name with this machine's name in the cluster file, or a new name`);
  }
  const role = options.controlPlane ? 'control-plane' : 'worker';
  const address = await addressTowards(transport, splitHostPort(options.endpoint).host);
  const extended = { ...file, spec: { ...file.spec, hosts: [...file.spec.hosts, { name, address, roles: [role] }] } };
  // Validated as any cluster file: the address must fit the node subnets, stacked etcd stay odd, and so on.
  const validated = parseClusterFile(yaml.dump(extended, { noRefs: true, lineWidth: -1 }), `${PUBLISHED_SOURCE} with this machine added as ${name} (${address}, ${role})`);
  const grown = buildCluster(validated);
  return { cluster: grown, host: grown.hosts.find((h) => h.name === name)! };
}

export async function resolveJoinTarget(transport: Transport, api: ApiClient, options: TargetOptions): Promise<JoinTarget> {
  if (options.config) {
    const { path, cluster } = await loadClusterFile(options.config);
    const host = await thisHost(transport, path, cluster, options.nodeName);
    checkRole(path, host, options.controlPlane);
    return { path, cluster, host };
  }
  const publishedFile = await readPublishedClusterFile(api);
  if (publishedFile) return hostInPublishedFile(transport, publishedFile, options);
  if (options.controlPlane) {
    throw new StateError(
      `the cluster has no ${PUBLISHED_SOURCE} (it was not set up by \`kbuild init\`, or its upload-config phase was skipped): run \`kbuild init phase upload-config/kubeadm --config FILE\` on the first control plane, or pass the cluster file here with --config FILE`,
    );
  }
  const published = await readClusterConfiguration(api);
  const name = options.nodeName ?? (await requiredHostname(transport));
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
  // Validated as a cluster file (versions, networks, this machine's name and address), but for the
  // topology rules: a worker's view of a kubeadm cluster names no control plane.
  const text = yaml.dump(JSON.parse(JSON.stringify(file)), { noRefs: true, lineWidth: -1 });
  const cluster = buildCluster(parseClusterFile(text, `kube-system/kubeadm-config with this machine added as ${name}`, { skipRules: ['topology'] }));
  return { cluster, host: cluster.hosts[0]! };
}
