/**
 * Which cluster and which host `kbuild init` works on: the cluster file's host named by --node-name
 * or owning one of this machine's addresses; without a cluster file, a one-node cluster with
 * kubeadm's defaults on the address of the default route.
 */
import yaml from 'js-yaml';
import { loadClusterFile, parseClusterFile } from '../../config/load.js';
import { buildCluster, firstControlPlane, type Cluster, type Host } from '../../config/model.js';
import type { ClusterFile } from '../../config/schema.js';
import { StateError } from '../../errors/index.js';
import type { Transport } from '../../transport/transport.js';
import { defaultRouteAddress, machineHostname, thisHost } from '../machine.js';

export interface InitTarget {
  /** The cluster file, or undefined for the built-in single-node cluster. */
  path?: string;
  /** The file as written (init publishes it for `kbuild join`). */
  file: ClusterFile;
  cluster: Cluster;
  host: Host;
}

/** kubeadm's defaults for one control plane (tainted, as `kubeadm init`), as a cluster file. */
export function singleNodeClusterFile(name: string, address: string): string {
  return yaml.dump({ apiVersion: 'kbuild.io/v1alpha1', kind: 'Cluster', metadata: { name: 'kubernetes' }, spec: { hosts: [{ name, address, roles: ['control-plane'] }] } });
}

export async function resolveInitTarget(transport: Transport, options: { config?: string; nodeName?: string }): Promise<InitTarget> {
  if (!options.config) {
    const name = options.nodeName ?? ((await machineHostname(transport)) || 'node');
    const file = parseClusterFile(singleNodeClusterFile(name, await defaultRouteAddress(transport)), '(built-in single-node cluster)');
    const cluster = buildCluster(file);
    return { file, cluster, host: cluster.hosts[0]! };
  }
  const { path, file, cluster } = await loadClusterFile(options.config);
  const host = await thisHost(transport, path, cluster, options.nodeName);
  const first = firstControlPlane(cluster);
  if (host.name !== first.name) {
    throw new StateError(`${host.name} is not the first control plane of ${path} (${first.name} is): run \`kbuild init\` there, and on ${host.name} \`kbuild join\` with the command init prints`);
  }
  return { path, file, cluster, host };
}
