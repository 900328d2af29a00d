/**
 * This machine, as `kbuild init` and `kbuild join` need to know it: its addresses, hostname and
 * routes (read through its Transport, read-only), and which host of a cluster file it is.
 */
import type { Cluster, Host } from '../config/model.js';
import { ConfigError, RemoteCommandError, StateError } from '../errors/index.js';
import { isIpAddress } from '../net/cidr.js';
import { canonicalIp } from '../pki/sans.js';
import type { Transport } from '../transport/transport.js';

/** Addresses on this machine's interfaces (`ip -j addr`). */
export async function localAddresses(transport: Transport): Promise<string[]> {
  const result = await transport.run('ip -j addr show', { readOnly: true, timeoutMs: 10_000 });
  if (result.code !== 0) throw new RemoteCommandError(transport.name, 'ip -j addr show', result.code, result.stderr);
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
export async function defaultRouteAddress(transport: Transport): Promise<string> {
  const src = await routeSource(transport, '1.0.0.1');
  if (!src) throw new StateError('no default route on this machine, so there is no address to advertise; pass a cluster file with --config naming this host and its address');
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
  if (!local) throw new StateError(`${path}: no host's address is on this machine (${mine.join(', ') || 'no addresses'}); pass --node-name NAME`);
  return local;
}

/** The cluster's host whose address is one of `addresses` (this machine's), if any. */
export function hostWithAddressIn(cluster: Cluster, addresses: readonly string[]): Host | undefined {
  const mine = new Set(addresses.map(canonicalIp));
  return cluster.hosts.find((h) => mine.has(canonicalIp(h.address)));
}

/** This machine's hostname as a node name, which a joining node needs. */
export async function requiredHostname(transport: Transport): Promise<string> {
  const name = await machineHostname(transport);
  if (!name) throw new StateError('cannot read this machine\'s hostname; pass --node-name NAME');
  return name;
}

/** The endpoint as an address: an IP as is, a DNS name resolved on this machine (`getent ahosts`). */
async function endpointAddress(transport: Transport, endpointHost: string): Promise<string | undefined> {
  if (isIpAddress(endpointHost)) return endpointHost;
  if (!/^[a-zA-Z0-9.-]+$/.test(endpointHost)) return undefined;
  const result = await transport.run(`getent ahosts ${endpointHost}`, { readOnly: true, timeoutMs: 10_000 });
  const first = result.code === 0 ? result.stdout.split('\n')[0]?.split(/\s+/)[0] : undefined;
  return first && isIpAddress(first) ? first : undefined;
}

/** The source address this machine uses towards the endpoint (`ip -j route get`, which sends nothing). */
export async function addressTowards(transport: Transport, endpointHost: string): Promise<string> {
  const target = await endpointAddress(transport, endpointHost);
  const src = target ? await routeSource(transport, target) : undefined;
  if (src) return src;
  const mine = (await localAddresses(transport)).filter((a) => !a.startsWith('127.') && a !== '::1' && !/^fe[89ab]/i.test(a));
  if (mine.length === 0) throw new StateError(`no address on this machine routes to ${endpointHost}; pass a cluster file with --config naming this host and its address`);
  return mine[0]!;
}
