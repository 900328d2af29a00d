/**
 * The resolved cluster: the cluster file with every default applied and the facts derived
 * from it that renderers and phases need, among them the role sets, computed once here (no one
 * scans every host per host: quadratic at 5,000 workers). Built only from a file that passed
 * validation.
 */
import { homedir } from 'node:os';
import type { CgroupDriver, ClusterFile, EncryptionAlgorithm, HOST_PATH_TYPES, HostSpec, Role } from './schema.js';
import { DEFAULTS } from './defaults.js';
import type { PatchFile } from './patches.js';
import { CLUSTER_NAME, CONTROL_PLANE_TAINT, PATHS, type Taint } from '../kubeadm/constants.js';
import { nthAddress, parseCidr, splitList, type Cidr } from '../net/cidr.js';
import { OPTIONAL_CA_DIRS, type HostEnvironment } from '../kubeadm/host-environment.js';

export interface SshSettings {
  /** Address ssh connects to (the host address unless overridden). */
  address: string;
  user: string;
  port: number;
  identityFile?: string;
  knownHostsFile: string;
  sudo: boolean;
  bastion?: { address: string; port: number; user: string; identityFile?: string };
  /** Per connection attempt. */
  connectTimeoutMs: number;
  /** Keepalive interval on an open connection; three unanswered keepalives drop it. */
  serverAliveIntervalMs: number;
}

/** The SSH timing of a host the cluster file does not describe (this machine, tests). */
export const DEFAULT_SSH_TIMING = {
  connectTimeoutMs: 1000 * DEFAULTS.sshConnectTimeoutSeconds,
  serverAliveIntervalMs: 1000 * DEFAULTS.sshServerAliveIntervalSeconds,
} as const;

export interface EnvVar {
  name: string;
  value: string;
}

/** kubeadm's HostPathMount: a host path in a control-plane component (its pathType unset: no check). */
export interface ExtraVolume {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  pathType?: (typeof HOST_PATH_TYPES)[number];
}

/** kubeadm's extraVolumes and extraEnvs of a control-plane component. */
export interface ComponentExtras {
  extraVolumes: ExtraVolume[];
  extraEnvs: EnvVar[];
}

type ComponentSpec = { extraVolumes?: Array<Omit<ExtraVolume, 'readOnly'> & { readOnly?: boolean }>; extraEnvs?: EnvVar[] } | undefined;
const extras = (spec: ComponentSpec): ComponentExtras => ({
  extraVolumes: (spec?.extraVolumes ?? []).map((v) => ({ ...v, readOnly: v.readOnly ?? false })),
  extraEnvs: spec?.extraEnvs ?? [],
});

export interface Host {
  name: string;
  address: string;
  roles: readonly Role[];
  /** spec.hosts[].labels: labels of its Node (none when unset). */
  labels?: Readonly<Record<string, string>>;
  /** spec.hosts[].taints as written; unset means kubeadm's default (nodeTaints). */
  taints?: readonly Taint[];
  ssh: SshSettings;
}

export type LoadBalancerPlacement = 'hosts' | 'control-plane' | 'none';

/** none: as kubeadm, the user installs one; builtin: kbuild's bridge network; manifest: the user's, applied by kbuild. */
export type PodNetwork = { type: 'none' } | { type: 'builtin' } | { type: 'manifest'; manifest: string };

export interface Cluster {
  name: string;
  kubernetesVersion: string;
  imageRepository: string;
  /** kubeadm's clusterName: every kubeconfig's cluster entry and kube-controller-manager's --cluster-name. */
  clusterName: string;
  /** Where every client reaches the API (controlPlaneEndpoint, else the only control plane). */
  endpoint: { host: string; port: number };
  /** spec.featureGates: kubeadm's gates as the cluster file sets them (unset: kubeadm's default for the version). */
  featureGates: { ControlPlaneKubeletLocalMode?: boolean };
  networking: {
    podSubnets: Cidr[];
    serviceSubnets: Cidr[];
    /** As written, comma-joined, for flags such as --service-cluster-ip-range. */
    podSubnet?: string;
    serviceSubnet: string;
    dnsDomain: string;
    nodeSubnets: Cidr[];
    reservedSubnets: Cidr[];
    cni: PodNetwork;
  };
  /** dataDir: kubeadm's etcd.local.dataDir, every member's. */
  etcd: { topology: 'stacked' | 'external'; dataDir: string; extraArgs: Record<string, string>; serverCertSANs: string[]; peerCertSANs: string[]; extraEnvs: EnvVar[] };
  certificates: { encryptionAlgorithm: EncryptionAlgorithm; validityDays: number; caValidityDays: number };
  apiServer: { certSANs: string[]; extraArgs: Record<string, string>; bindPort: number } & ComponentExtras;
  controllerManager: { extraArgs: Record<string, string> } & ComponentExtras;
  scheduler: { extraArgs: Record<string, string> } & ComponentExtras;
  kubelet: { criSocket: string; cgroupDriver: CgroupDriver; extraArgs: Record<string, string>; configuration: Record<string, unknown> };
  /** disabled: kubeadm's proxy.disabled, no kube-proxy addon. */
  kubeProxy: { disabled: boolean; configuration: Record<string, unknown> };
  /** disabled: kubeadm's dns.disabled, no CoreDNS addon (the kubelets still name its address). */
  dns: { disabled: boolean };
  loadBalancer: { type: 'haproxy' | 'none'; placement: LoadBalancerPlacement; vip?: string; port: number; interface: string };
  /** spec.patches.directory's files, read with the cluster file (none without one). */
  patches: readonly PatchFile[];
  /** spec.hostFacts: what a render that asks no host assumes of every host (apply, init and join ask each one). */
  hostFacts: HostEnvironment;
  hosts: Host[];
  /** The control-plane hosts, in cluster-file order (the first is where `init` runs). */
  readonly controlPlanes: readonly Host[];
  /** etcd members: the control planes when stacked, the etcd hosts when external. */
  readonly etcdMembers: readonly Host[];
  /** The hosts that run HAProxy (and keepalived): the load-balancer hosts, or with placement control-plane the control planes; keepalived's MASTER first. */
  readonly loadBalancers: readonly Host[];
}

type RoleSets = Pick<Cluster, 'controlPlanes' | 'etcdMembers' | 'loadBalancers'>;

function roleSets(hosts: readonly Host[], topology: Cluster['etcd']['topology'], placement: LoadBalancerPlacement): RoleSets {
  const controlPlanes = hosts.filter((h) => hasRole(h, 'control-plane'));
  return {
    controlPlanes,
    etcdMembers: topology === 'stacked' ? controlPlanes : hosts.filter((h) => hasRole(h, 'etcd')),
    loadBalancers: placement === 'hosts' ? hosts.filter((h) => hasRole(h, 'load-balancer')) : placement === 'control-plane' ? controlPlanes : [],
  };
}

/** The same cluster with other hosts (e.g. only the one a join issues certificates for), its role sets computed for them. */
export const withHosts = (cluster: Cluster, hosts: Host[]): Cluster => ({ ...cluster, hosts, ...roleSets(hosts, cluster.etcd.topology, cluster.loadBalancer.placement) });

export const hasRole = (host: Host, role: Role): boolean => host.roles.includes(role);
export const hostsWithRole = (cluster: Cluster, role: Role): Host[] => cluster.hosts.filter((h) => hasRole(h, role));
/** The host `init` runs on: the first control plane in file order. */
export const firstControlPlane = (cluster: Cluster): Host => {
  const first = cluster.controlPlanes[0];
  if (!first) throw new Error('cluster has no control-plane host (validation should have caught this)');
  return first;
};
export const isEtcdMember = (cluster: Cluster, host: Host): boolean => cluster.etcdMembers.some((m) => m.name === host.name);
export const runsLoadBalancer = (cluster: Cluster, host: Host): boolean => cluster.loadBalancers.some((h) => h.name === host.name);
/** Control planes, workers and external etcd hosts run a kubelet (the last a standalone one, for its etcd static pod). */
export const runsKubelet = (host: Host): boolean => hasRole(host, 'control-plane') || hasRole(host, 'worker') || hasRole(host, 'etcd');
/** A host whose kubelet registers a Node (control planes and workers; an etcd-only host's kubelet runs standalone). */
export const registersNode = (host: Host): boolean => hasRole(host, 'control-plane') || hasRole(host, 'worker');
/** An etcd-only host runs a standalone kubelet (no API server) just for its etcd static pod. */
export const isStandaloneKubelet = (host: Host): boolean => !registersNode(host);
/**
 * The taints of the host's Node: the cluster file's, else kubeadm's default — a control plane is
 * tainted NoSchedule (kbuild: unless it is also a worker, which is what that role asks), others not.
 */
export const nodeTaints = (host: Host): readonly Taint[] =>
  host.taints ?? (hasRole(host, 'control-plane') && !hasRole(host, 'worker') ? [CONTROL_PLANE_TAINT] : []);
/** kubeadm's Taint.ToString: key=value:effect, or key:effect without a value. */
export const taintText = (taint: { key: string; value?: string; effect: string }): string => `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;

/** The kubernetes Service IP of each family (first address of each service range). */
export const kubernetesServiceIps = (cluster: Cluster): string[] => cluster.networking.serviceSubnets.map((c) => nthAddress(c, 1));
/** The cluster DNS IP (10th address of the first service range), as kubeadm. */
export const dnsServiceIp = (cluster: Cluster): string => nthAddress(cluster.networking.serviceSubnets[0]!, 10);

export const endpointUrl = (cluster: Cluster): string => `https://${hostPort(cluster.endpoint.host, cluster.endpoint.port)}`;
export const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Splits `host[:port]`, `[v6]:port` or a bare IPv6 address. */
export function splitHostPort(text: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':');
    return { host: host!, port: /^\d+$/.test(port!) ? Number(port) : Number.NaN };
  }
  return { host: text };
}

export function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

/** Builds the model; assumes `file` passed schema and semantic validation. */
export function buildCluster(file: ClusterFile, patches: readonly PatchFile[] = []): Cluster {
  const spec = file.spec;
  const net = spec.networking ?? {};
  const cidrs = (list: string[]) => list.map((t) => parseCidr(t)!);
  const serviceSubnet = net.serviceSubnet ?? DEFAULTS.serviceSubnet;
  const bindPort = spec.apiServer?.bindPort ?? DEFAULTS.bindPort;
  const lbHosts = spec.hosts.filter((h) => h.roles.includes('load-balancer'));
  const lbType = spec.loadBalancer?.type ?? (lbHosts.length > 0 ? 'haproxy' : 'none');
  const lbPort = spec.loadBalancer?.port ?? DEFAULTS.loadBalancerPort;
  const placement: LoadBalancerPlacement = lbType === 'none' ? 'none' : lbHosts.length > 0 ? 'hosts' : 'control-plane';
  const firstCp = spec.hosts.find((h) => h.roles.includes('control-plane'));
  const endpoint = spec.controlPlaneEndpoint
    ? splitHostPort(spec.controlPlaneEndpoint)
    : { host: firstCp?.address ?? '127.0.0.1', port: bindPort };
  const clusterSsh = spec.ssh ?? {};
  const hosts = spec.hosts.map((h) => buildHost(h, clusterSsh));
  const topology = spec.etcd?.topology ?? DEFAULTS.etcdTopology;
  return {
    name: file.metadata.name,
    kubernetesVersion: spec.kubernetesVersion ?? DEFAULTS.kubernetesVersion,
    imageRepository: spec.imageRepository ?? DEFAULTS.imageRepository,
    clusterName: spec.clusterName ?? CLUSTER_NAME,
    // Without an explicit port the endpoint is the load balancer's frontend when there is one.
    endpoint: { host: endpoint.host, port: endpoint.port ?? (lbType === 'haproxy' ? lbPort : bindPort) },
    featureGates: { ...spec.featureGates },
    networking: {
      podSubnets: net.podSubnet ? cidrs(splitList(net.podSubnet)) : [],
      serviceSubnets: cidrs(splitList(serviceSubnet)),
      podSubnet: net.podSubnet ? splitList(net.podSubnet).join(',') : undefined,
      serviceSubnet: splitList(serviceSubnet).join(','),
      dnsDomain: net.dnsDomain ?? DEFAULTS.dnsDomain,
      nodeSubnets: cidrs(net.nodeSubnets ?? []),
      reservedSubnets: cidrs(net.reservedSubnets ?? []),
      cni: podNetwork(net.cni ?? DEFAULTS.cni),
    },
    etcd: { topology, dataDir: spec.etcd?.dataDir ?? PATHS.etcdData, extraArgs: spec.etcd?.extraArgs ?? {}, serverCertSANs: spec.etcd?.serverCertSANs ?? [], peerCertSANs: spec.etcd?.peerCertSANs ?? [], extraEnvs: spec.etcd?.extraEnvs ?? [] },
    certificates: {
      encryptionAlgorithm: spec.certificates?.encryptionAlgorithm ?? DEFAULTS.encryptionAlgorithm,
      validityDays: spec.certificates?.validityDays ?? DEFAULTS.validityDays,
      caValidityDays: spec.certificates?.caValidityDays ?? DEFAULTS.caValidityDays,
    },
    apiServer: { certSANs: spec.apiServer?.certSANs ?? [], extraArgs: spec.apiServer?.extraArgs ?? {}, bindPort, ...extras(spec.apiServer) },
    controllerManager: { extraArgs: spec.controllerManager?.extraArgs ?? {}, ...extras(spec.controllerManager) },
    scheduler: { extraArgs: spec.scheduler?.extraArgs ?? {}, ...extras(spec.scheduler) },
    kubelet: {
      criSocket: spec.kubelet?.criSocket ?? DEFAULTS.criSocket,
      cgroupDriver: spec.kubelet?.cgroupDriver ?? DEFAULTS.cgroupDriver,
      extraArgs: spec.kubelet?.extraArgs ?? {},
      configuration: spec.kubelet?.configuration ?? {},
    },
    kubeProxy: { disabled: spec.kubeProxy?.disabled ?? false, configuration: spec.kubeProxy?.configuration ?? {} },
    dns: { disabled: spec.dns?.disabled ?? false },
    loadBalancer: {
      type: lbType,
      placement,
      vip: spec.loadBalancer?.vip,
      port: lbPort,
      interface: spec.loadBalancer?.interface ?? DEFAULTS.loadBalancerInterface,
    },
    patches,
    hostFacts: {
      systemdResolved: spec.hostFacts?.systemdResolved ?? DEFAULTS.systemdResolved,
      // In kubeadm's order, each once, as facts gathered from a host list them.
      caDirs: OPTIONAL_CA_DIRS.filter((d) => (spec.hostFacts?.caDirectories ?? []).includes(d)),
    },
    hosts,
    ...roleSets(hosts, topology, placement),
  };
}

/** The cluster file's `cni` ("none", "builtin" or { manifest }); a manifest path stays as written (relative to the cluster file). */
function podNetwork(cni: NonNullable<NonNullable<ClusterFile['spec']['networking']>['cni']>): PodNetwork {
  return typeof cni === 'string' ? { type: cni } : { type: 'manifest', manifest: cni.manifest };
}

function buildHost(host: HostSpec, defaults: NonNullable<ClusterFile['spec']['ssh']>): Host {
  const own = host.ssh ?? {};
  const user = own.user ?? defaults.user ?? DEFAULTS.sshUser;
  const identityFile = own.identityFile ?? defaults.identityFile;
  const bastion = own.bastion ?? defaults.bastion;
  return {
    name: host.name,
    address: host.address,
    roles: host.roles,
    ...(host.labels === undefined ? {} : { labels: host.labels }),
    ...(host.taints === undefined ? {} : { taints: host.taints }),
    ssh: {
      address: own.address ?? host.address,
      user,
      port: own.port ?? defaults.port ?? DEFAULTS.sshPort,
      identityFile: identityFile === undefined ? undefined : expandHome(identityFile),
      knownHostsFile: expandHome(own.knownHostsFile ?? defaults.knownHostsFile ?? DEFAULTS.knownHostsFile),
      sudo: own.sudo ?? defaults.sudo ?? DEFAULTS.sudo,
      connectTimeoutMs: 1000 * (own.connectTimeout ?? defaults.connectTimeout ?? DEFAULTS.sshConnectTimeoutSeconds),
      serverAliveIntervalMs: 1000 * (own.serverAliveInterval ?? defaults.serverAliveInterval ?? DEFAULTS.sshServerAliveIntervalSeconds),
      bastion: bastion && {
        address: bastion.address,
        port: bastion.port ?? 22,
        user: bastion.user ?? user,
        identityFile: bastion.identityFile ? expandHome(bastion.identityFile) : identityFile && expandHome(identityFile),
      },
    },
  };
}
