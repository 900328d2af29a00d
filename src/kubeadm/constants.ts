/**
 * kubeadm's paths, ports and names (kubeadm-spec §11; cmd/kubeadm/app/constants), in one place that
 * imports nothing of kbuild: every layer reads them from here.
 */

export const PATHS = {
  kubernetesDir: '/etc/kubernetes',
  manifests: '/etc/kubernetes/manifests',
  pki: '/etc/kubernetes/pki',
  etcdPki: '/etc/kubernetes/pki/etcd',
  addons: '/etc/kubernetes/addons',
  /** kubeadm's own backups go here; so do kbuild's. */
  backups: '/etc/kubernetes/tmp',
  adminKubeconfig: '/etc/kubernetes/admin.conf',
  superAdminKubeconfig: '/etc/kubernetes/super-admin.conf',
  etcdData: '/var/lib/etcd',
  kubeletDir: '/var/lib/kubelet',
  kubeletPki: '/var/lib/kubelet/pki',
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  kubeletFlags: '/var/lib/kubelet/kubeadm-flags.env',
  /** The client certificate the kubelet rotates (kubelet-finalize points kubelet.conf at it). */
  kubeletClientPem: '/var/lib/kubelet/pki/kubelet-client-current.pem',
  kubeletServingCert: '/var/lib/kubelet/pki/kubelet.crt',
  // systemd reads a unit's drop-ins in name order across /etc and /usr/lib, the last setting winning:
  // 20- comes after the 10-kubeadm.conf that kubeadm's package installs, so kbuild's ExecStart runs.
  kubeletDropIn: '/etc/systemd/system/kubelet.service.d/20-kbuild.conf',
  bootstrapKubeconfig: '/etc/kubernetes/bootstrap-kubelet.conf',
  kubeletKubeconfig: '/etc/kubernetes/kubelet.conf',
  haproxyCfg: '/etc/haproxy/haproxy.cfg',
  haproxyCa: '/etc/haproxy/kbuild-ca.crt',
  /** HAProxy's stats page in admin mode, root only: how a roll-out takes an apiserver out of rotation and back. */
  haproxyAdminSocket: '/run/kbuild-haproxy.sock',
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  keepalivedCheck: '/etc/keepalived/check_apiserver.sh',
  cniConflist: '/etc/cni/net.d/10-kbuild.conflist',
  podNetworkScript: '/etc/kubernetes/kbuild-pod-network.sh',
} as const;

export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  /** etcd's HTTP services (JSON gateway, /health) apart from gRPC on etcdClient; kbuild's own, not kubeadm's (src/render/README.md). */
  etcdClientHttp: 2382,
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
/** A bootstrap token, `<id>.<secret>`. */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** A Node taint as kubeadm's nodeRegistration.taints (Kubernetes' v1.Taint without timeAdded). */
export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** kubeadm's mark-control-plane: the labels every control-plane Node gets, and its default taint. */
export const CONTROL_PLANE_LABELS = { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } as const;
export const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/**
 * The labels a kubelet may give its own Node under kubernetes.io and k8s.io (k8s.io/kubelet's
 * IsKubeletLabel): these names, and any in the kubelet.kubernetes.io and node.kubernetes.io namespaces.
 * The kubelet refuses to start with other --node-labels there (NodeRestriction would refuse them too).
 */
export const KUBELET_LABELS = [
  'kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
] as const;
export const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'] as const;
