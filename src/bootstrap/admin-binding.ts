/**
 * kubeadm's EnsureAdminClusterRoleBinding, done on the first API use as kubeadm's init does: admin.conf's
 * group kubeadm:cluster-admins has no rights until ClusterRoleBinding kubeadm:cluster-admins grants it
 * cluster-admin, so when admin.conf is Forbidden, super-admin.conf (system:masters) creates the binding.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ApiClient } from '../kube/client.js';
import { ApiCallError, withApiRetry, type RetryOptions } from './api-retry.js';

const RBAC = 'rbac.authorization.k8s.io';
export const CLUSTER_ADMINS_BINDING: KubernetesObject & Record<string, unknown> = {
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRoleBinding',
  metadata: { name: 'kubeadm:cluster-admins' },
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: RBAC, kind: 'Group', name: 'kubeadm:cluster-admins' }],
};

/** Returns which identity created (or confirmed) the binding. */
export async function ensureClusterAdminsBinding(admin: ApiClient, superAdmin: () => ApiClient, retry?: RetryOptions): Promise<'admin.conf' | 'super-admin.conf'> {
  try {
    await withApiRetry('ClusterRoleBinding kubeadm:cluster-admins (admin.conf)', () => admin.apply([CLUSTER_ADMINS_BINDING]), retry);
    return 'admin.conf';
  } catch (error) {
    if (!(error instanceof ApiCallError) || error.status !== 403) throw error;
    await withApiRetry('ClusterRoleBinding kubeadm:cluster-admins (super-admin.conf)', () => superAdmin().apply([CLUSTER_ADMINS_BINDING]), retry);
    return 'super-admin.conf';
  }
}
