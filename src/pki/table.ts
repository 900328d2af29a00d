/**
 * kubeadm's certificate table (certlist.go + kubeconfig.go), one row per item, CAs before what
 * they sign. Every other part of src/pki (issuing, reuse, files, expiration, renewal) reads it.
 */
import { firstControlPlane, hasRole, type Cluster, type Host } from '../config/model.js';
import type { Component, InitPhase } from '../kubeadm/files.js';
import { kubeletClientHasNoGroup } from '../kubeadm/versions.js';

export type CaName = 'ca' | 'front-proxy-ca' | 'etcd/ca';
export type ExtendedUsage = 'serverAuth' | 'clientAuth';
export type SanRule = 'apiserver' | 'etcd-server' | 'etcd-peer' | 'none';

/** Which hosts hold an item. */
export type HostScope =
  /** Control planes and workers: every Kubernetes node. */
  | 'kubernetes-nodes'
  | 'control-planes'
  | 'first-control-plane'
  /** Stacked: the control planes; external: the etcd hosts. */
  | 'etcd-members'
  /** Control planes and etcd members: everyone who talks to or runs etcd. */
  | 'etcd-clients-and-members'
  /** Where the etcd CA key lives: stacked control planes (they join new members); nobody with external etcd. */
  | 'stacked-control-planes';

export interface CaRow {
  kind: 'ca';
  name: CaName;
  /** kubeadm's phase / check-expiration name. */
  phase: string;
  /** Path under /etc/kubernetes/pki without extension. */
  base: string;
  cn: string;
  certScope: HostScope;
  keyScope: HostScope;
  /** Who needs the certificate and the key in place first (apply pushes them with it). */
  certComponent: Component;
  keyComponent: Component;
}

export interface LeafRow {
  kind: 'leaf';
  name: string;
  phase: string;
  base: string;
  ca: CaName;
  cn: (host: Host) => string;
  /** The subject's O, by the cluster where it depends on the release. */
  o?: string | ((cluster: Cluster) => string | undefined);
  usages: readonly ExtendedUsage[];
  sans: SanRule;
  scope: HostScope;
  /** The component that uses it (apply pushes it with that component). */
  component: Component;
  /** Its component's static pod loads it: renewing it means restarting the pod. */
  loadedByPod: boolean;
}

export interface KubeconfigRow {
  kind: 'kubeconfig';
  /** File name under /etc/kubernetes. */
  name: string;
  phase: string;
  ca: 'ca';
  cn: (host: Host) => string;
  o?: string;
  /**
   * admin/super-admin use the cluster endpoint; controller-manager/scheduler the host itself; a control
   * plane's kubelet the endpoint, or the host itself in kubeadm's ControlPlaneKubeletLocalMode (servers.ts).
   */
  server: 'endpoint' | 'local' | 'local-from-v1.33';
  scope: HostScope;
  /** kubeadm renews it (`certs renew`); kubelet.conf is rotated by the kubelet instead. */
  renewable: boolean;
  component: Component;
  /** Its component's static pod loads it (controller-manager.conf, scheduler.conf): renewing it means restarting the pod. */
  loadedByPod: boolean;
}

export interface KeyPairRow {
  kind: 'keypair';
  name: 'sa';
  /** sa.key and sa.pub. */
  base: 'sa';
  scope: HostScope;
  component: Component;
}

export type PkiRow = CaRow | LeafRow | KubeconfigRow | KeyPairRow;

const fixed = (cn: string) => () => cn;

/** A row's subject O for this cluster. */
export const organizationOf = (row: LeafRow | KubeconfigRow, cluster: Cluster): string | undefined => (typeof row.o === 'function' ? row.o(cluster) : row.o);

export const CA_ROWS: readonly CaRow[] = [
  // Every kubelet verifies clients with the cluster CA; its key signs from the control plane.
  { kind: 'ca', name: 'ca', phase: 'ca', base: 'ca', cn: 'kubernetes', certScope: 'kubernetes-nodes', keyScope: 'control-planes', certComponent: 'kubelet', keyComponent: 'apiserver' },
  { kind: 'ca', name: 'front-proxy-ca', phase: 'front-proxy-ca', base: 'front-proxy-ca', cn: 'front-proxy-ca', certScope: 'control-planes', keyScope: 'control-planes', certComponent: 'apiserver', keyComponent: 'apiserver' },
  { kind: 'ca', name: 'etcd/ca', phase: 'etcd-ca', base: 'etcd/ca', cn: 'etcd-ca', certScope: 'etcd-clients-and-members', keyScope: 'stacked-control-planes', certComponent: 'etcd', keyComponent: 'etcd' },
];

export const LEAF_ROWS: readonly LeafRow[] = [
  { kind: 'leaf', name: 'apiserver', phase: 'apiserver', base: 'apiserver', ca: 'ca', cn: fixed('kube-apiserver'), usages: ['serverAuth'], sans: 'apiserver', scope: 'control-planes', component: 'apiserver', loadedByPod: true },
  {
    kind: 'leaf',
    name: 'apiserver-kubelet-client',
    phase: 'apiserver-kubelet-client',
    base: 'apiserver-kubelet-client',
    ca: 'ca',
    cn: fixed('kube-apiserver-kubelet-client'),
    // kubeadm from v1.33.12: no group; the kubeadm:apiserver-kubelet-client binding authorises it (render/addons/bootstrap.ts).
    o: (cluster) => (kubeletClientHasNoGroup(cluster.kubernetesVersion) ? undefined : 'kubeadm:cluster-admins'),
    usages: ['clientAuth'],
    sans: 'none',
    scope: 'control-planes',
    component: 'apiserver',
    loadedByPod: true,
  },
  { kind: 'leaf', name: 'front-proxy-client', phase: 'front-proxy-client', base: 'front-proxy-client', ca: 'front-proxy-ca', cn: fixed('front-proxy-client'), usages: ['clientAuth'], sans: 'none', scope: 'control-planes', component: 'apiserver', loadedByPod: true },
  { kind: 'leaf', name: 'etcd/server', phase: 'etcd-server', base: 'etcd/server', ca: 'etcd/ca', cn: (h) => h.name, usages: ['serverAuth', 'clientAuth'], sans: 'etcd-server', scope: 'etcd-members', component: 'etcd', loadedByPod: true },
  { kind: 'leaf', name: 'etcd/peer', phase: 'etcd-peer', base: 'etcd/peer', ca: 'etcd/ca', cn: (h) => h.name, usages: ['serverAuth', 'clientAuth'], sans: 'etcd-peer', scope: 'etcd-members', component: 'etcd', loadedByPod: true },
  {
    kind: 'leaf',
    name: 'etcd/healthcheck-client',
    phase: 'etcd-healthcheck-client',
    base: 'etcd/healthcheck-client',
    ca: 'etcd/ca',
    cn: fixed('kube-etcd-healthcheck-client'),
    usages: ['clientAuth'],
    sans: 'none',
    scope: 'etcd-members',
    // kbuild's health probes present it; etcd itself does not read it.
    component: 'etcd',
    loadedByPod: false,
  },
  {
    kind: 'leaf',
    name: 'apiserver-etcd-client',
    phase: 'apiserver-etcd-client',
    base: 'apiserver-etcd-client',
    ca: 'etcd/ca',
    cn: fixed('kube-apiserver-etcd-client'),
    usages: ['clientAuth'],
    sans: 'none',
    scope: 'control-planes',
    component: 'apiserver',
    loadedByPod: true,
  },
];

export const SA_ROW: KeyPairRow = { kind: 'keypair', name: 'sa', base: 'sa', scope: 'control-planes', component: 'apiserver' };

export const KUBECONFIG_ROWS: readonly KubeconfigRow[] = [
  { kind: 'kubeconfig', name: 'admin.conf', phase: 'admin.conf', ca: 'ca', cn: fixed('kubernetes-admin'), o: 'kubeadm:cluster-admins', server: 'endpoint', scope: 'control-planes', renewable: true, component: 'apiserver', loadedByPod: false },
  { kind: 'kubeconfig', name: 'super-admin.conf', phase: 'super-admin.conf', ca: 'ca', cn: fixed('kubernetes-super-admin'), o: 'system:masters', server: 'endpoint', scope: 'first-control-plane', renewable: true, component: 'apiserver', loadedByPod: false },
  { kind: 'kubeconfig', name: 'controller-manager.conf', phase: 'controller-manager.conf', ca: 'ca', cn: fixed('system:kube-controller-manager'), server: 'local', scope: 'control-planes', renewable: true, component: 'controller-manager', loadedByPod: true },
  { kind: 'kubeconfig', name: 'scheduler.conf', phase: 'scheduler.conf', ca: 'ca', cn: fixed('system:kube-scheduler'), server: 'local', scope: 'control-planes', renewable: true, component: 'scheduler', loadedByPod: true },
  { kind: 'kubeconfig', name: 'kubelet.conf', phase: 'kubelet.conf', ca: 'ca', cn: (h) => `system:node:${h.name}`, o: 'system:nodes', server: 'local-from-v1.33', scope: 'control-planes', renewable: false, component: 'kubelet', loadedByPod: false },
];

/** The certificate rows in kubeadm's `init phase certs` order: each CA just before what it signs, then sa. */
export const CERT_ROWS_IN_PHASE_ORDER: ReadonlyArray<CaRow | LeafRow | KeyPairRow> = [CA_ROWS[0]!, LEAF_ROWS[0]!, LEAF_ROWS[1]!, CA_ROWS[1]!, LEAF_ROWS[2]!, CA_ROWS[2]!, ...LEAF_ROWS.slice(3), SA_ROW];

/** kubeadm's init phase that writes a row's files: certs/<name> or kubeconfig/<name>. */
export function initPhaseOf(row: PkiRow): InitPhase {
  if (row.kind === 'kubeconfig') return `kubeconfig/${row.name.replace(/\.conf$/, '')}`;
  return `certs/${row.kind === 'keypair' ? row.name : row.phase}`;
}

export const caRow = (name: CaName): CaRow => CA_ROWS.find((r) => r.name === name)!;

const isKubernetesNode = (h: Host) => hasRole(h, 'control-plane') || hasRole(h, 'worker');

export function hostsInScope(cluster: Cluster, scope: HostScope): readonly Host[] {
  switch (scope) {
    case 'kubernetes-nodes':
      return cluster.hosts.filter(isKubernetesNode);
    case 'control-planes':
      return cluster.controlPlanes;
    case 'first-control-plane':
      return [firstControlPlane(cluster)];
    case 'etcd-members':
      return cluster.etcdMembers;
    case 'etcd-clients-and-members': {
      const members = new Set(cluster.etcdMembers.map((h) => h.name));
      return cluster.hosts.filter((h) => hasRole(h, 'control-plane') || members.has(h.name));
    }
    case 'stacked-control-planes':
      return cluster.etcd.topology === 'stacked' ? cluster.controlPlanes : [];
  }
}
