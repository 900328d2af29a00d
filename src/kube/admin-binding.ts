/**
 * admin.conf's user is in group kubeadm:cluster-admins, which has no rights until a
 * ClusterRoleBinding grants it cluster-admin. As kubeadm (EnsureAdminClusterRoleBinding): try with
 * admin.conf; when that is Forbidden, create the binding with super-admin.conf (system:masters).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { isForbidden, type ApiClient } from './client.js';

export const CLUSTER_ADMINS_GROUP = 'kubeadm:cluster-admins';

export const clusterAdminsBinding = (): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: CLUSTER_ADMINS_GROUP },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CLUSTER_ADMINS_GROUP }],
});

/** Returns true when the binding had to be created (with either identity). */
export async function ensureAdminBinding(admin: ApiClient, superAdmin: () => ApiClient | undefined): Promise<boolean> {
  const binding = clusterAdminsBinding();
  try {
    if (await admin.read('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, CLUSTER_ADMINS_GROUP)) return false;
    await admin.apply([binding]);
    return true;
  } catch (error) {
    const fallback = isForbidden(error) ? superAdmin() : undefined;
    if (!fallback) throw error;
    await fallback.apply([binding]);
    return true;
  }
}
