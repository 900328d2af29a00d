/**
 * Preflight as a pure function of gathered facts, with kubeadm's check names
 * (IsPrivilegedUser, Port-6443, FileExisting-conntrack, Swap, ...) so --ignore-preflight-errors
 * reads the same. Plus HostNetworkOverlap: pod/service ranges against every attached network and route.
 */
import { hasRole, isEtcdMember, runsKubelet, runsLoadBalancer, type Cluster, type Host } from '../config/model.js';
import { overlaps, parseCidr, type Cidr } from '../net/cidr.js';
import { POD_NETWORK } from '../kubeadm/constants.js';
import { PROBE_BINARY, REQUIRED_BINARIES, type HostFacts } from './facts.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';

export interface Finding {
  host: string;
  name: string;
  level: 'error' | 'warning';
  message: string;
}

/** Interfaces and routing daemons the cluster's own networking creates: on a re-run they are ours. */
const CLUSTER_INTERFACE = new RegExp(`^(${POD_NETWORK.bridge}|cni\\d*|flannel\\.\\d+|cali[0-9a-f]+|cilium_\\w+|lxc\\w*|kube-ipvs0|kube-bridge|tunl0|vxlan\\.calico|weave|genev_sys_\\d+|nodelocaldns)$`);
const CLUSTER_ROUTE_PROTOCOLS = new Set<string>(['bird', POD_NETWORK.routeProtocol]);
const MAX_CLOCK_SKEW_SECONDS = 30;


/** A port kbuild needs on a host, and the file that shows the listener is kbuild's own (a re-run). */
interface PortNeed {
  port: number;
  component: string;
  ownedBy: string;
}

export function portsNeeded(cluster: Cluster, host: Host): PortNeed[] {
  const needs: PortNeed[] = [];
  if (hasRole(host, 'control-plane')) {
    needs.push(
      { port: cluster.apiServer.bindPort, component: 'kube-apiserver', ownedBy: `${PATHS.manifests}/kube-apiserver.yaml` },
      { port: PORTS.controllerManager, component: 'kube-controller-manager', ownedBy: `${PATHS.manifests}/kube-controller-manager.yaml` },
      { port: PORTS.scheduler, component: 'kube-scheduler', ownedBy: `${PATHS.manifests}/kube-scheduler.yaml` },
    );
  }
  if (isEtcdMember(cluster, host)) {
    needs.push({ port: PORTS.etcdClient, component: 'etcd', ownedBy: `${PATHS.manifests}/etcd.yaml` }, { port: PORTS.etcdClientHttp, component: 'etcd', ownedBy: `${PATHS.manifests}/etcd.yaml` }, { port: PORTS.etcdPeer, component: 'etcd', ownedBy: `${PATHS.manifests}/etcd.yaml` });
  }
  if (runsKubelet(host)) needs.push({ port: PORTS.kubelet, component: 'kubelet', ownedBy: PATHS.kubeletConfig });
  if (runsLoadBalancer(cluster, host)) {
    const owner = cluster.loadBalancer.placement === 'hosts' ? PATHS.haproxyCfg : `${PATHS.manifests}/haproxy.yaml`;
    needs.push({ port: cluster.loadBalancer.port, component: 'HAProxy', ownedBy: owner });
  }
  return needs;
}

/** Paths whose existence preflight needs to know on this host. */
export function pathsToTest(cluster: Cluster, host: Host): string[] {
  const paths = new Set(portsNeeded(cluster, host).map((p) => p.ownedBy));
  if (runsKubelet(host)) paths.add(criSocketPath(cluster));
  if (needsLoadBalancerBinaries(cluster, host)) {
    paths.add('/usr/sbin/haproxy');
    if (cluster.loadBalancer.vip) paths.add('/usr/sbin/keepalived');
  }
  return [...paths].sort();
}

const criSocketPath = (cluster: Cluster) => cluster.kubelet.criSocket.replace(/^unix:\/\//, '');
const needsLoadBalancerBinaries = (cluster: Cluster, host: Host) => cluster.loadBalancer.placement === 'hosts' && hasRole(host, 'load-balancer');

export function checkHost(cluster: Cluster, host: Host, facts: HostFacts, localEpochSeconds: number): Finding[] {
  const out: Finding[] = [];
  const error = (name: string, message: string) => out.push({ host: host.name, name, level: 'error', message });
  const warning = (name: string, message: string) => out.push({ host: host.name, name, level: 'warning', message });

  if (facts.uid !== 0) {
    error('IsPrivilegedUser', `commands run as uid ${facts.uid ?? 'unknown'}, not root; connect as root or set ssh.sudo: true for a user with passwordless sudo`);
  }
  if (runsKubelet(host)) {
    for (const binary of REQUIRED_BINARIES) {
      if (!facts.binaries[binary]) error(`FileExisting-${binary}`, `${binary} not found in PATH; install it (package ${packageOf(binary)})`);
    }
    const socket = criSocketPath(cluster);
    if (!facts.existing.has(socket)) error('CRI', `container runtime socket ${socket} not found; install and start the runtime, or set spec.kubelet.criSocket`);
    if (facts.swapActive) error('Swap', 'swap is on and the kubelet refuses to start with it (failSwapOn); run swapoff -a and remove swap from /etc/fstab');
    const families = new Set([...cluster.networking.podSubnets, ...cluster.networking.serviceSubnets].map((c) => c.family));
    if ((families.size === 0 || families.has(4)) && facts.ipv4Forwarding !== '1') {
      error('FileContent--proc-sys-net-ipv4-ip_forward', `/proc/sys/net/ipv4/ip_forward is "${facts.ipv4Forwarding || 'unreadable'}", not 1; set net.ipv4.ip_forward = 1 in /etc/sysctl.d`);
    }
    if (families.has(6) && facts.ipv6Forwarding !== '1') {
      error('FileContent--proc-sys-net-ipv6-conf-default-forwarding', `/proc/sys/net/ipv6/conf/default/forwarding is "${facts.ipv6Forwarding || 'unreadable'}", not 1; set net.ipv6.conf.all.forwarding = 1`);
    }
  }
  if (!facts.binaries[PROBE_BINARY]) error(`FileExisting-${PROBE_BINARY}`, 'curl not found in PATH; kbuild\'s health gates probe from the host with it: install curl');
  if (needsLoadBalancerBinaries(cluster, host)) {
    if (!facts.existing.has('/usr/sbin/haproxy')) error('FileExisting-haproxy', 'haproxy not installed; install the haproxy package');
    if (cluster.loadBalancer.vip && !facts.existing.has('/usr/sbin/keepalived')) error('FileExisting-keepalived', 'keepalived not installed; install the keepalived package');
  }
  for (const need of portsNeeded(cluster, host)) {
    if (facts.listeningPorts.has(need.port) && !facts.existing.has(need.ownedBy)) {
      error(`Port-${need.port}`, `port ${need.port} (${need.component}) is in use by another program; stop it (ss -tlnp 'sport = :${need.port}' shows which)`);
    }
  }
  if (facts.hostname && facts.hostname !== host.name) {
    warning('Hostname', `hostname is "${facts.hostname}" but the node is named "${host.name}"; the kubelet registers as "${host.name}"`);
  }
  if (facts.epochSeconds === undefined) {
    error('ClockSkew', 'could not read the host clock (date +%s)');
  } else if (Math.abs(facts.epochSeconds - localEpochSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    error('ClockSkew', `clock differs from this machine by ${facts.epochSeconds - localEpochSeconds} s (more than ${MAX_CLOCK_SKEW_SECONDS}); fix NTP (timedatectl set-ntp true): certificates and etcd depend on it`);
  }
  if (isEtcdMember(cluster, host) && facts.etcdDataDir !== undefined && facts.etcdDataDir !== cluster.etcd.dataDir) {
    // A member restarted on an empty directory would start a new cluster of its own (or, all at once, an empty one).
    error(
      'EtcdDataDir',
      `etcd runs with --data-dir=${facts.etcdDataDir} (${PATHS.manifests}/etcd.yaml) but spec.etcd.dataDir is ${cluster.etcd.dataDir}; kbuild does not move etcd's data: set spec.etcd.dataDir back to ${facts.etcdDataDir}, or move each member's data yourself, one member at a time`,
    );
  }
  out.push(...networkOverlaps(cluster, host, facts));
  return out;
}

function networkOverlaps(cluster: Cluster, host: Host, facts: HostFacts): Finding[] {
  const ranges: Array<{ field: string; cidr: Cidr }> = [
    ...cluster.networking.podSubnets.map((cidr) => ({ field: 'spec.networking.podSubnet', cidr })),
    ...cluster.networking.serviceSubnets.map((cidr) => ({ field: 'spec.networking.serviceSubnet', cidr })),
  ];
  const out: Finding[] = [];
  const seen = new Set<string>();
  const report = (what: string, network: Cidr) => {
    for (const range of ranges) {
      if (!overlaps(network, range.cidr)) continue;
      const key = `${what}\u0000${range.cidr.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        host: host.name,
        name: 'HostNetworkOverlap',
        level: 'error',
        message: `${what} overlaps ${range.field} ${range.cidr.text}; pick a range the host is not attached to or routing to`,
      });
    }
  };
  for (const a of facts.addresses) {
    if (a.ifname === 'lo' || CLUSTER_INTERFACE.test(a.ifname) || a.local.toLowerCase().startsWith('fe80:')) continue;
    const network = parseCidr(`${a.local}/${a.prefixlen}`);
    if (network) report(`interface ${a.ifname} address ${a.local}/${a.prefixlen}`, network);
  }
  for (const r of facts.routes) {
    if (r.dst === 'default' || (r.dev && CLUSTER_INTERFACE.test(r.dev)) || (r.protocol && CLUSTER_ROUTE_PROTOCOLS.has(r.protocol))) continue;
    if (r.dst.toLowerCase().startsWith('fe80:') || r.dst.startsWith('ff00:') || r.dst.startsWith('multicast')) continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
    const network = parseCidr(dst);
    if (network) report(`route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`, network);
  }
  return out;
}

/** Host names must differ: etcd member names and node registration rely on it. */
export function checkHostnamesUnique(factsByHost: ReadonlyMap<string, HostFacts>): Finding[] {
  const byHostname = new Map<string, string[]>();
  for (const [host, facts] of factsByHost) {
    if (!facts.hostname) continue;
    byHostname.set(facts.hostname, [...(byHostname.get(facts.hostname) ?? []), host]);
  }
  return [...byHostname.entries()]
    .filter(([, hosts]) => hosts.length > 1)
    .flatMap(([hostname, hosts]) =>
      hosts.map((host) => ({ host, name: 'Hostname', level: 'error' as const, message: `hostname "${hostname}" is also the hostname of ${hosts.filter((h) => h !== host).join(', ')}; give every machine its own hostname` })),
    );
}

/** Errors named in --ignore-preflight-errors (case-insensitive, "all") become warnings. */
export function applyIgnores(findings: Finding[], ignore: readonly string[]): Finding[] {
  const names = new Set(ignore.flatMap((i) => i.split(',')).map((i) => i.trim().toLowerCase()).filter(Boolean));
  return findings.map((f) => (f.level === 'error' && (names.has('all') || names.has(f.name.toLowerCase())) ? { ...f, level: 'warning' } : f));
}

function packageOf(binary: string): string {
  const packages: Record<string, string> = { curl: 'curl', kubelet: 'kubelet', conntrack: 'conntrack', ip: 'iproute2', iptables: 'iptables', mount: 'mount', nsenter: 'util-linux' };
  return packages[binary] ?? binary;
}
