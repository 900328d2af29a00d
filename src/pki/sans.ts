/** Subject alternative names per host, as kubeadm computes them (GetAPIServerAltNames, getAltNames). */
import { kubernetesServiceIps, type Cluster, type Host } from '../config/model.js';
import { parseAddress } from '../net/cidr.js';
import type { SanRule } from './table.js';

export interface AltNames {
  dns: string[];
  ips: string[];
}

/** One spelling per address (IPv6 compressed, lower case), so comparisons are exact. */
export const canonicalIp = (ip: string): string => parseAddress(ip)?.canonical ?? ip;

/** kubeadm's RemoveDuplicateAltNames: DNS de-duplicated and sorted, IPs de-duplicated in first-seen order. */
export function normalizeAltNames(dns: readonly string[], ips: readonly string[]): AltNames {
  return { dns: [...new Set(dns)].sort(), ips: [...new Set(ips.map(canonicalIp))] };
}

export function altNamesFor(rule: SanRule, cluster: Cluster, host: Host): AltNames {
  switch (rule) {
    case 'none':
      return { dns: [], ips: [] };
    case 'etcd-server':
      return etcdAltNames(host, cluster.etcd.serverCertSANs);
    case 'etcd-peer':
      return etcdAltNames(host, cluster.etcd.peerCertSANs);
    case 'apiserver':
      return apiserverAltNames(cluster, host);
  }
}

/** kubeadm's getAltNames for etcd/server and etcd/peer: the member's name and address, loopback, then the extra SANs. */
function etcdAltNames(host: Host, extra: readonly string[]): AltNames {
  const dns = [host.name, 'localhost'];
  const ips = [host.address, '127.0.0.1', '::1'];
  return withExtraNames(dns, ips, extra);
}

/** User-given SANs sorted into IPs and DNS names, after the defaults. */
function withExtraNames(dns: string[], ips: string[], extra: readonly string[]): AltNames {
  for (const name of extra) (parseAddress(name) ? ips : dns).push(name);
  return normalizeAltNames(dns, ips);
}

function apiserverAltNames(cluster: Cluster, host: Host): AltNames {
  const domain = cluster.networking.dnsDomain;
  const dns = [host.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`];
  const ips = [...kubernetesServiceIps(cluster), host.address];
  return withExtraNames(dns, ips, [cluster.endpoint.host, ...(cluster.loadBalancer.vip ? [cluster.loadBalancer.vip] : []), ...cluster.apiServer.certSANs]);
}
