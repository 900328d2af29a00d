/**
 * What kbuild creates on a host, as the list `kbuild reset` removes. Exact files where the directory
 * may hold things kbuild did not write (manifests, /etc/haproxy, /var/lib/kubelet); whole trees where
 * kbuild owns the directory (pki, addons, the on-host backups). A unit test checks that every file
 * `render` produces for every example is covered, so a new rendered file cannot be left behind.
 */
import { HOST_BACKUP_PARENT } from '../lifecycle/backup.js';
import { PATHS } from '../render/constants.js';

const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'haproxy', 'keepalived'];
const KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf', 'controller-manager.conf', 'scheduler.conf'];

export const ETCD_MANIFEST = `${PATHS.manifests}/etcd.yaml`;
export const KUBELET_PKI = `${PATHS.kubeletDir}/pki`;

/** A host service kbuild configures outside the kubelet, with the files that mark it as kbuild's. */
export interface HostService {
  unit: 'haproxy' | 'keepalived';
  configs: readonly string[];
}

export const LOAD_BALANCER_SERVICES: readonly HostService[] = [
  { unit: 'haproxy', configs: [PATHS.haproxyCfg, PATHS.haproxyCa] },
  { unit: 'keepalived', configs: [PATHS.keepalivedConf, PATHS.keepalivedCheck] },
];

/** Removal order: static pods first, then what they read, then the kubelet's and load balancer's files. */
export const KBUILD_PATHS: readonly string[] = [
  ...STATIC_PODS.map((name) => `${PATHS.manifests}/${name}.yaml`),
  ...KUBECONFIGS.map((name) => `${PATHS.kubernetesDir}/${name}`),
  PATHS.pki,
  PATHS.kubeletConfig,
  PATHS.kubeletFlags,
  KUBELET_PKI,
  PATHS.kubeletDropIn,
  ...LOAD_BALANCER_SERVICES.flatMap((s) => s.configs),
  PATHS.addons,
  HOST_BACKUP_PARENT,
];

/** Whether `reset` removes this path (it is listed, or lies under a listed tree). */
export function removedByReset(path: string): boolean {
  return KBUILD_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}
