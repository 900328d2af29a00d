/** kubeadm's paths, ports and component versions (kubeadm-spec §11), in one place for every renderer. */
import { ConfigError } from '../errors/index.js';

export const PATHS = {
  kubernetesDir: '/etc/kubernetes',
  manifests: '/etc/kubernetes/manifests',
  pki: '/etc/kubernetes/pki',
  addons: '/etc/kubernetes/addons',
  etcdData: '/var/lib/etcd',
  kubeletDir: '/var/lib/kubelet',
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  kubeletFlags: '/var/lib/kubelet/kubeadm-flags.env',
  kubeletDropIn: '/etc/systemd/system/kubelet.service.d/10-kbuild.conf',
  bootstrapKubeconfig: '/etc/kubernetes/bootstrap-kubelet.conf',
  kubeletKubeconfig: '/etc/kubernetes/kubelet.conf',
  haproxyCfg: '/etc/haproxy/haproxy.cfg',
  haproxyCa: '/etc/haproxy/kbuild-ca.crt',
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  keepalivedCheck: '/etc/keepalived/check_apiserver.sh',
  cniConflist: '/etc/cni/net.d/10-kbuild.conflist',
  podNetworkScript: '/etc/kubernetes/kbuild-pod-network.sh',
} as const;

export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  kubelet: 10250,
  kubeletHealthz: 10248,
  kubeProxyHealthz: 10256,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

/** kbuild's builtin pod network (render/pod-network.ts): its bridge, and the route protocol number that marks its routes to other nodes. */
export const POD_NETWORK = { bridge: 'kbuild0', routeProtocol: '212' } as const;

/** kubeadm's cluster name, used by --cluster-name and in kubeconfigs. */
export const CLUSTER_NAME = 'kubernetes';
export const BOOTSTRAP_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

export interface ComponentVersions {
  etcd: string;
  pause: string;
  coredns: string;
}

/** kubeadm's SupportedEtcdVersion / pause / CoreDNS tags per Kubernetes minor (at .0). */
const VERSIONS: Record<number, ComponentVersions> = {
  30: { etcd: '3.5.12-0', pause: '3.9', coredns: 'v1.11.1' },
  31: { etcd: '3.5.15-0', pause: '3.10', coredns: 'v1.11.3' },
  32: { etcd: '3.5.16-0', pause: '3.10', coredns: 'v1.11.3' },
  33: { etcd: '3.5.21-0', pause: '3.10', coredns: 'v1.12.0' },
};

export function kubernetesMinor(version: string): number {
  return Number(/^v?1\.(\d+)\./.exec(version)?.[1] ?? Number.NaN);
}

export function componentVersions(kubernetesVersion: string): ComponentVersions {
  const versions = VERSIONS[kubernetesMinor(kubernetesVersion)];
  if (!versions) {
    throw new ConfigError('cluster file', [
      { path: 'spec.kubernetesVersion', message: `${kubernetesVersion} is not supported; kbuild renders v1.30.x to v1.33.x` },
    ]);
  }
  return versions;
}
