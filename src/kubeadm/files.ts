/**
 * What every renderer produces — files for one host, by absolute path on that host — and what owns
 * each: the component it configures (apply pushes it in that component's phase) and kubeadm's init
 * phase that writes it. Renderers tag their files; operations select by the tags, never by path.
 */
import { PATHS } from './constants.js';

/** The parts of a host kbuild configures, in the control plane's startup order. */
export const COMPONENTS = ['etcd', 'kubelet', 'apiserver', 'controller-manager', 'scheduler', 'load-balancer', 'pod-network', 'addons'] as const;
export type Component = (typeof COMPONENTS)[number];

/** kubeadm's control-plane static pods, in startup order. */
export const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type StaticPod = (typeof STATIC_PODS)[number];
/** The load balancer's static pods (placement control-plane). */
export const LOAD_BALANCER_PODS = ['haproxy', 'keepalived'] as const;

/** The static pod that runs a component, where one does: the one component→pod table. */
export const STATIC_POD_OF: Readonly<Partial<Record<Component, StaticPod>>> = {
  etcd: 'etcd',
  apiserver: 'kube-apiserver',
  'controller-manager': 'kube-controller-manager',
  scheduler: 'kube-scheduler',
};

export const manifestPath = (pod: StaticPod | (typeof LOAD_BALANCER_PODS)[number]): string => `${PATHS.manifests}/${pod}.yaml`;

/** The init phase that writes each control-plane static pod's manifest. */
export const MANIFEST_PHASE: Readonly<Record<StaticPod, InitPhase>> = {
  etcd: 'etcd/local',
  'kube-apiserver': 'control-plane/apiserver',
  'kube-controller-manager': 'control-plane/controller-manager',
  'kube-scheduler': 'control-plane/scheduler',
};

/** A static pod's manifest among a host's files. */
export const manifestOf = <F extends FileOwner>(files: readonly F[], pod: StaticPod): F | undefined => files.find((f) => f.phase === MANIFEST_PHASE[pod]);

/** kubeadm's init phases that write files, as `kbuild init phase <path>` names them. */
export type InitPhase =
  | `certs/${string}`
  | `kubeconfig/${string}`
  | 'etcd/local'
  | 'control-plane/apiserver'
  | 'control-plane/controller-manager'
  | 'control-plane/scheduler'
  | 'load-balancer'
  | 'kubelet-start'
  | 'bootstrap-token'
  | 'upload-config/kubelet'
  | 'addon/kube-proxy'
  | 'addon/coredns'
  | 'pod-network'
  | 'addon/pod-network';

/** Who owns a rendered file. */
export interface FileOwner {
  /** What the file configures; apply pushes it with this component. */
  component: Component;
  /** The init phase that writes it. */
  phase: InitPhase;
}

export interface RenderedFile extends FileOwner {
  /** Absolute path on the host, e.g. /etc/kubernetes/manifests/etcd.yaml. */
  path: string;
  /** Unix permission bits, e.g. 0o600. */
  mode: number;
  content: string | Buffer;
  /** "user:group"; defaults to root:root. */
  owner?: string;
  /** Holds key material or a secret: never printed, diffed or logged. */
  secret?: boolean;
}

export const byPath = (a: RenderedFile, b: RenderedFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

type ManifestPod = { metadata?: { name?: unknown }; spec?: { containers?: Array<{ name?: unknown; command?: unknown }> } } | undefined;
/**
 * The component's own container in a static pod manifest: the one named as the pod (as kubeadm
 * names them), not simply the first, which a patch adding a sidecar puts ahead of it.
 */
export const componentContainer = (pod: ManifestPod): { name?: unknown; command?: unknown } | undefined =>
  pod?.spec?.containers?.find((c) => c.name === pod.metadata?.name) ?? pod?.spec?.containers?.[0];
