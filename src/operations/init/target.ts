/**
 * Which cluster and which host `kbuild init` works on: the cluster file's host named by --node-name
 * or owning one of this machine's addresses; without a cluster file, a one-node cluster with
 * kubeadm's defaults on the address of the default route.
 */
import { buildCluster, firstControlPlane, type Cluster, type Host } from '../../config/model.js';
import { loadClusterFile, parseClusterFile } from '../../config/load.js';
import type { ClusterFile } from '../../config/schema.js';
import { ConfigError, UsageError } from '../../errors/index.js';
import { canonicalIp } from '../../pki/sans.js';
import type { Transport } from '../../transport/transport.js';
import yaml from 'js-yaml';

export interface InitTarget {
  /** The cluster file, or undefined for the built-in single-node cluster. */
  path?: string;
  /** The file as written (init publishes it for `kbuild join`). */
  file: ClusterFile;
  cluster: Cluster;
  host: Host;
}

/** Addresses on this machine's interfaces (`ip -j addr`). */
export async function localAddresses(transport: Transport): Promise<string[]> {
  const result = await transport.run('ip -j addr show', { readOnly: true, timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`ip -j addr show failed: ${result.stderr.trim()}`);
  const links = JSON.parse(result.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [canonicalIp(a.local)] : [])));
}

/** The source address this machine would use towards `address` (`ip -j route get`, which sends nothing); undefined without a route. */
export async function routeSource(transport: Transport, address: string): Promise<string | undefined> {
  const result = await transport.run(`ip -j route get ${address}`, { readOnly: true, timeoutMs: 10_000 });
  return result.code === 0 ? (JSON.parse(result.stdout || '[]') as Array<{ prefsrc?: string }>)[0]?.prefsrc : undefined;
}

/** This machine's hostname, lower-cased as a node name; empty when it has none. */
export async function machineHostname(transport: Transport): Promise<string> {
  const result = await transport.run('hostname', { readOnly: true, timeoutMs: 10_000 });
  return result.stdout.trim().toLowerCase();
}

/** The source address of the default route. */
async function defaultRouteAddress(transport: Transport): Promise<string> {
  const src = await routeSource(transport, '1.0.0.1');
  if (!src) throw new UsageError('no default route on this machine, so there is no address to advertise; pass a cluster file with --config naming this host and its address');
  return src;
}

/** Which host of the cluster file this machine is: the one named by --node-name, else the one whose address is local. */
export async function thisHost(transport: Transport, path: string, cluster: Cluster, nodeName: string | undefined): Promise<Host> {
  if (nodeName) {
    const named = cluster.hosts.find((h) => h.name === nodeName);
    if (!named) throw new ConfigError(path, [{ path: 'spec.hosts', message: `no host named "${nodeName}" (--node-name); hosts: ${cluster.hosts.map((h) => h.name).join(', ')}` }]);
    return named;
  }
  const mine = await localAddresses(transport);
  const local = hostWithAddressIn(cluster, mine);
  if (!local) throw new UsageError(`${path}: no host's address is on this machine (${mine.join(', ') || 'no addresses'}); pass --node-name NAME`);
  return local;
}

/** The cluster's host whose address is one of `addresses` (this machine's), if any. */
export function hostWithAddressIn(cluster: Cluster, addresses: readonly string[]): Host | undefined {
  const mine = new Set(addresses.map(canonicalIp));
  return cluster.hosts.find((h) => mine.has(canonicalIp(h.address)));
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
    throw new UsageError(`${host.name} is not the first control plane of ${path} (${first.name} is): run \`kbuild init\` there, and on ${host.name} \`kbuild join\` with the command init prints`);
  }
  return { path, file, cluster, host };
}
