/**
 * Which `kbuild init` phase writes which rendered file, by kubeadm's phase paths. Every file
 * `kbuild render` gives the init host belongs to exactly one phase (a test checks every example),
 * so init writes exactly render's files.
 */
import { KUBECONFIG_ROWS, CA_ROWS, LEAF_ROWS, SA_ROW } from '../../pki/table.js';
import { PATHS } from '../../render/constants.js';
import type { RenderedFile } from '../../render/types.js';

const PKI = PATHS.pki;

/** certs/<name> sub-phases in kubeadm's order, with the pki files each writes. */
export const CERT_PHASES: ReadonlyArray<{ name: string; files: string[] }> = [
  ...[CA_ROWS[0]!, LEAF_ROWS[0]!, LEAF_ROWS[1]!, CA_ROWS[1]!, LEAF_ROWS[2]!, CA_ROWS[2]!, ...LEAF_ROWS.slice(3)].map((row) => ({
    name: row.phase,
    files: [`${PKI}/${row.base}.crt`, `${PKI}/${row.base}.key`],
  })),
  { name: SA_ROW.name, files: [`${PKI}/sa.key`, `${PKI}/sa.pub`] },
];

/** kubeconfig/<name>: admin, super-admin, kubelet, controller-manager, scheduler. */
export const KUBECONFIG_PHASES = ['admin', 'super-admin', 'kubelet', 'controller-manager', 'scheduler'].map((name) => {
  const row = KUBECONFIG_ROWS.find((r) => r.name === `${name}.conf`)!;
  return { name, file: `${PATHS.kubernetesDir}/${row.name}` };
});

export const ADDON_FILE_PHASES: Record<string, string> = {
  '00-bootstrap-rbac.yaml': 'bootstrap-token',
  '01-bootstrap-token.yaml': 'bootstrap-token',
  '02-cluster-info.yaml': 'bootstrap-token',
  '03-kubelet-config.yaml': 'upload-config/kubelet',
  '10-kube-proxy.yaml': 'addon/kube-proxy',
  '20-coredns.yaml': 'addon/coredns',
  '30-pod-network.yaml': 'addon/pod-network',
};

const MANIFEST_PHASES: Record<string, string> = {
  'etcd.yaml': 'etcd/local',
  'kube-apiserver.yaml': 'control-plane/apiserver',
  'kube-controller-manager.yaml': 'control-plane/controller-manager',
  'kube-scheduler.yaml': 'control-plane/scheduler',
  'haproxy.yaml': 'load-balancer',
  'keepalived.yaml': 'load-balancer',
};

/** The init phase path that writes this file, or undefined if none does. */
export function initPhaseOf(path: string): string | undefined {
  const cert = CERT_PHASES.find((c) => c.files.includes(path));
  if (cert) return `certs/${cert.name}`;
  const kubeconfig = KUBECONFIG_PHASES.find((k) => k.file === path);
  if (kubeconfig) return `kubeconfig/${kubeconfig.name}`;
  if (path.startsWith(`${PATHS.manifests}/`)) return MANIFEST_PHASES[path.slice(PATHS.manifests.length + 1)];
  if (path.startsWith(`${PATHS.addons}/`)) return ADDON_FILE_PHASES[path.slice(PATHS.addons.length + 1)];
  if (path === PATHS.kubeletConfig || path === PATHS.kubeletFlags || path === PATHS.kubeletDropIn || path === PATHS.bootstrapKubeconfig) return 'kubelet-start';
  if (/^\/etc\/(haproxy|keepalived)\//.test(path)) return 'load-balancer';
  if (path === PATHS.cniConflist || path === PATHS.podNetworkScript) return 'pod-network';
  return undefined;
}

export const filesOfPhase = (files: readonly RenderedFile[], phase: string): RenderedFile[] => files.filter((f) => initPhaseOf(f.path) === phase);
