/**
 * The static pods a certificate roll-out restarts, in the control plane's startup order, with how
 * to tell each is down (its port refuses connections) and the health gate it must pass.
 */
import { hostPort, type Cluster, type Host } from '../config/model.js';
import { apiserverReady, componentHealthz, etcdHealth, etcdMembers as etcdMemberList, type Probe } from '../health/probes.js';
import { PORTS } from '../kubeadm/constants.js';
import { loopbackFor } from '../render/etcd.js';
import type { StaticPod } from '../kubeadm/files.js';

const loopback = (host: Host) => loopbackFor(host.address);

/** Where the component listens: refused connections there mean it is down. */
/** This host's etcd member's HTTP API (JSON gateway), as reached from the host itself. */
export const localEtcdApi = (host: Host): string => `https://${hostPort(loopback(host), PORTS.etcdClientHttp)}`;

export function listenAddress(cluster: Cluster, host: Host, pod: StaticPod): string {
  switch (pod) {
    case 'etcd':
      return hostPort(loopback(host), PORTS.etcdClient);
    case 'kube-apiserver':
      return hostPort(host.address, cluster.apiServer.bindPort);
    case 'kube-controller-manager':
      return hostPort('127.0.0.1', PORTS.controllerManager);
    case 'kube-scheduler':
      return hostPort('127.0.0.1', PORTS.scheduler);
  }
}

/** This host runs a kube-apiserver whose first etcd server is its own stacked member. */
export const hasStackedApiserver = (cluster: Cluster, host: Host): boolean => cluster.etcd.topology === 'stacked' && cluster.controlPlanes.some((h) => h.name === host.name);

/** The probes that must all pass before the next host is touched. */
export function gateProbes(cluster: Cluster, host: Host, pod: StaticPod): Array<{ name: string; probe: Probe }> {
  switch (pod) {
    case 'etcd': {
      const members = cluster.etcdMembers.map((m) => m.name);
      const probes = [
        { name: 'etcd /health', probe: etcdHealth(host) },
        { name: 'etcd quorum (member list)', probe: etcdMemberList(host, members) },
      ];
      // The apiserver beside a stacked member (its first etcd server) is ready again before the next member stops.
      return hasStackedApiserver(cluster, host) ? [...probes, { name: 'kube-apiserver /readyz', probe: apiserverReady(cluster, host) }] : probes;
    }
    case 'kube-apiserver':
      return [{ name: 'kube-apiserver /readyz', probe: apiserverReady(cluster, host) }];
    case 'kube-controller-manager':
      return [{ name: 'kube-controller-manager /healthz', probe: componentHealthz(PORTS.controllerManager) }];
    case 'kube-scheduler':
      return [{ name: 'kube-scheduler /healthz', probe: componentHealthz(PORTS.scheduler) }];
  }
}

/** True when `path` appears in the manifest as a whole path (a flag value or a mount), so the pod reads it. */
export function manifestReads(manifest: string, path: string): boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w./-])${escaped}($|[^\\w./-])`, 'm').test(manifest);
}
