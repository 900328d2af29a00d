/**
 * Cluster-wide facts the renderers ask about once per host (is it an etcd member, a load balancer,
 * the first control plane...), computed once per resolved Cluster. Scanning every host for each
 * host is quadratic: seconds of a 5,000-worker render (bench/). The answers are the model's own
 * functions, only cached; a Cluster whose host list was replaced or resized is computed afresh.
 */
import { etcdMembers, type Cluster, type Host } from '../config/model.js';

interface Entry {
  hosts: readonly Host[];
  count: number;
  values: Map<string, unknown>;
}

const cache = new WeakMap<Cluster, Entry>();

/** `compute()` once per cluster and key. A throw is not cached: the next call throws the same way. */
export function perCluster<T>(cluster: Cluster, key: string, compute: () => T): T {
  let entry = cache.get(cluster);
  if (entry === undefined || entry.hosts !== cluster.hosts || entry.count !== cluster.hosts.length) {
    entry = { hosts: cluster.hosts, count: cluster.hosts.length, values: new Map() };
    cache.set(cluster, entry);
  }
  if (entry.values.has(key)) return entry.values.get(key) as T;
  const value = compute();
  entry.values.set(key, value);
  return value;
}

export const isEtcdMember = (cluster: Cluster, host: Host): boolean =>
  perCluster(cluster, 'etcd-member-names', () => new Set(etcdMembers(cluster).map((m) => m.name))).has(host.name);
