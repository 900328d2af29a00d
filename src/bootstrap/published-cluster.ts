/**
 * The cluster file as init publishes it in kube-system/kbuild-config, so `kbuild join` (as printed by
 * init, with no --config) renders a joining control plane exactly as `kbuild render` would: kubeadm's
 * ClusterConfiguration alone lacks the hosts, the etcd topology and the load balancer. SSH settings
 * are left out: they describe the workstation's access, and are no business of the nodes.
 */
import type { KubernetesObject, V1ConfigMap, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { parseClusterFile } from '../config/load.js';
import type { ClusterFile } from '../config/schema.js';
import { BOOTSTRAP_GROUP } from '../kubeadm/constants.js';
import type { ApiClient } from '../kube/client.js';
import { httpCode, withApiRetry, type RetryOptions } from './api-retry.js';

export const KBUILD_CONFIG = 'kbuild-config';
export const KBUILD_CONFIG_KEY = 'cluster.yaml';
/** How messages name the published file (it has no path on the joining machine). */
export const PUBLISHED_SOURCE = `kube-system/${KBUILD_CONFIG}`;

/** The cluster file without its SSH settings, as YAML. */
export function publishableClusterFile(file: ClusterFile): string {
  const { ssh: _clusterSsh, ...spec } = file.spec;
  const hosts = spec.hosts.map(({ ssh: _hostSsh, ...host }) => host);
  const header = '# Published by kbuild init (upload-config/kubeadm) for `kbuild join`; SSH settings omitted.\n';
  return header + yaml.dump({ ...file, spec: { ...spec, hosts } }, { noRefs: true, lineWidth: -1 });
}

/** The ConfigMap and the RBAC that lets joining nodes (bootstrap token) and nodes read it, as kubeadm does for kubeadm-config. */
export function kbuildConfigObjects(file: ClusterFile): KubernetesObject[] {
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: KBUILD_CONFIG, namespace: 'kube-system' },
    data: { [KBUILD_CONFIG_KEY]: publishableClusterFile(file) },
  };
  return [configMap, ...nodesMayGetConfigMap(KBUILD_CONFIG, `kbuild:nodes-${KBUILD_CONFIG}`)];
}

/** A Role letting joining nodes (the bootstrap token's group) and nodes get one kube-system ConfigMap, and its binding. */
export function nodesMayGetConfigMap(configMap: string, name: string): [V1Role, V1RoleBinding] {
  const rbac = 'rbac.authorization.k8s.io';
  const role: V1Role = { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name, namespace: 'kube-system' }, rules: [{ apiGroups: [''], resourceNames: [configMap], resources: ['configmaps'], verbs: ['get'] }] };
  const binding: V1RoleBinding = {
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace: 'kube-system' },
    roleRef: { apiGroup: rbac, kind: 'Role', name },
    subjects: [
      { apiGroup: rbac, kind: 'Group', name: BOOTSTRAP_GROUP },
      { apiGroup: rbac, kind: 'Group', name: 'system:nodes' },
    ],
  };
  return [role, binding];
}

/** The published cluster file, validated as any cluster file; undefined when the cluster has none (init by an older kbuild, or upload-config skipped). */
export async function readPublishedClusterFile(api: ApiClient, retry?: RetryOptions): Promise<ClusterFile | undefined> {
  let configMap: V1ConfigMap | undefined;
  try {
    configMap = await withApiRetry(`get ConfigMap ${PUBLISHED_SOURCE}`, () => api.read('v1', 'ConfigMap', 'kube-system', KBUILD_CONFIG) as Promise<V1ConfigMap | undefined>, retry);
  } catch (error) {
    // A cluster initialised without it also lacks the Role that would let the token read it.
    if (httpCode((error as Error).cause) === 403) return undefined;
    throw error;
  }
  const text = configMap?.data?.[KBUILD_CONFIG_KEY];
  return text === undefined ? undefined : parseClusterFile(text, PUBLISHED_SOURCE);
}
