/** kubeadm's common static pod (staticpod/utils.go): labels, priority, seccomp, probes, volumes. */
import type { V1Container, V1HTTPGetAction, V1Pod, V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { EnvVar, ExtraVolume } from '../config/model.js';

/** controlPlaneComponentHealthCheck (4m) / period 10s → startup failureThreshold 24. */
const STARTUP_FAILURE_THRESHOLD = Math.ceil((4 * 60) / 10);

type HttpGet = Required<Pick<V1HTTPGetAction, 'host' | 'path' | 'port' | 'scheme'>>;

/** Liveness (10,15,8,10), as kubeadm's LivenessProbe. */
export const livenessProbe = (get: HttpGet): V1Probe => ({ failureThreshold: 8, httpGet: get, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 });
/** Readiness (0,15,3,1); a zero initial delay is omitted as Go's omitempty does. */
export const readinessProbe = (get: HttpGet): V1Probe => ({ failureThreshold: 3, httpGet: get, periodSeconds: 1, timeoutSeconds: 15 });
export const startupProbe = (get: HttpGet): V1Probe => ({
  failureThreshold: STARTUP_FAILURE_THRESHOLD,
  httpGet: get,
  initialDelaySeconds: 10,
  periodSeconds: 10,
  timeoutSeconds: 15,
});

export interface HostPathVolume {
  name: string;
  path: string;
  /** Kubernetes' HostPathType; '' is no check (a user's extra volume without pathType, written as kubeadm writes it). */
  type: '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';
  readOnly: boolean;
  /** Where the container sees it; the host path unless set. */
  mountPath?: string;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const volumesOf = (list: readonly HostPathVolume[]): V1Volume[] =>
  [...list].sort(byName).map((v) => ({ hostPath: { path: v.path, type: v.type }, name: v.name }));

export const mountsOf = (list: readonly HostPathVolume[]): V1VolumeMount[] =>
  list.map((v) => ({ mountPath: v.mountPath ?? v.path, name: v.name, ...(v.readOnly ? { readOnly: true } : {}) }));

/** kubeadm's extraVolumes: each replaces a default of the same name, or adds to them. */
export function withExtraVolumes(defaults: readonly HostPathVolume[], extra: readonly ExtraVolume[]): HostPathVolume[] {
  const added: HostPathVolume[] = extra.map((v) => ({ name: v.name, path: v.hostPath, mountPath: v.mountPath, readOnly: v.readOnly, type: v.pathType ?? '' }));
  const names = new Set(added.map((v) => v.name));
  return [...defaults.filter((v) => !names.has(v.name)), ...added];
}

/** kubeadm's extraEnvs as the container's env (none: no env field). */
export const envOf = (extra: readonly EnvVar[]): Pick<V1Container, 'env'> => (extra.length > 0 ? { env: extra.map(({ name, value }) => ({ name, value })) } : {});

export interface StaticPodSpec {
  name: string;
  container: V1Container;
  volumes: readonly HostPathVolume[];
  /** Mount order; kubeadm sorts by name except etcd (etcd-data, etcd-certs). */
  mountOrder?: 'by-name' | 'as-given';
  annotations?: Record<string, string>;
  /** kubeadm's control-plane labels (component, tier); the HA guide's LB pods have none. */
  controlPlaneLabels?: boolean;
  /** The control-plane pods run at system-node-critical priority with RuntimeDefault seccomp. */
  critical?: boolean;
}

export function staticPod(spec: StaticPodSpec): V1Pod {
  const mounts = spec.mountOrder === 'as-given' ? spec.volumes : [...spec.volumes].sort(byName);
  const container: V1Container = { ...spec.container, volumeMounts: mountsOf(mounts) };
  const critical = spec.critical ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      ...((spec.controlPlaneLabels ?? true) ? { labels: { component: spec.name, tier: 'control-plane' } } : {}),
      name: spec.name,
      namespace: 'kube-system',
    },
    spec: {
      containers: [container],
      hostNetwork: true,
      ...(critical
        ? { priority: 2000001000, priorityClassName: 'system-node-critical', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }
        : {}),
      volumes: volumesOf(spec.volumes),
    },
    status: {},
  };
}
