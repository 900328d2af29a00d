/**
 * What every renderer produces — files for one host, by absolute path on that host — and the parts
 * of a node they belong to: the components kbuild configures and the static pods that run them.
 */
import { PATHS } from './constants.js';

/** The parts of a host kbuild configures, in the control plane's startup order. */
export const COMPONENTS = ['etcd', 'kubelet', 'apiserver', 'controller-manager', 'scheduler', 'load-balancer', 'addons'] as const;
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

export interface RenderedFile {
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
