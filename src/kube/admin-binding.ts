/**
 * kubeadm's EnsureAdminClusterRoleBinding, done on the first API use as kubeadm's init does: admin.conf's
 * group kubeadm:cluster-admins has no rights until ClusterRoleBinding kubeadm:cluster-admins grants it
 * cluster-admin, so when admin.conf is Forbidden, super-admin.conf (system:masters) creates the binding.
 */
import type { V1ClusterRoleBinding } from '@kubernetes/client-node';
import { isForbidden, type ApiClient } from './client.js';
import { clusterRoleBinding, group } from './rbac.js';

export const CLUSTER_ADMINS_GROUP = 'kubeadm:cluster-admins';

export const clusterAdminsBinding = (): V1ClusterRoleBinding => clusterRoleBinding(CLUSTER_ADMINS_GROUP, 'cluster-admin', [group(CLUSTER_ADMINS_GROUP)]);

/** Returns which identity created (or confirmed) the binding; without a super-admin, admin.conf's refusal stands. */
export async function ensureAdminBinding(admin: ApiClient, superAdmin: () => ApiClient | undefined): Promise<'admin.conf' | 'super-admin.conf'> {
  try {
    await admin.apply([clusterAdminsBinding()]);
    return 'admin.conf';
  } catch (error) {
    const fallback = isForbidden(error) ? superAdmin() : undefined;
    if (!fallback) throw error;
    await fallback.apply([clusterAdminsBinding()]);
    return 'super-admin.conf';
  }
}
