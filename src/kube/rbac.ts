/** The RBAC objects kbuild creates, built one way (kubeadm's shapes; js-yaml sorts the keys on output). */
import type { RbacV1Subject, V1ClusterRoleBinding, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { BOOTSTRAP_GROUP } from '../kubeadm/constants.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export const group = (name: string): RbacV1Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });

export const clusterRoleBinding = (name: string, role: string, subjects: RbacV1Subject[]): V1ClusterRoleBinding => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
  subjects,
});

/** A Role that may get one ConfigMap, and its binding to `subjects`. */
export function configMapReaders(namespace: string, name: string, configMap: string, subjects: RbacV1Subject[]): [V1Role, V1RoleBinding] {
  return [
    { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: { name, namespace }, rules: [{ apiGroups: [''], resourceNames: [configMap], resources: ['configmaps'], verbs: ['get'] }] },
    { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name }, subjects },
  ];
}

/** kube-system ConfigMap readers for joining nodes (the bootstrap token's group) and nodes, as kubeadm does for kubeadm-config and kubelet-config. */
export const nodesMayGetConfigMap = (configMap: string, name: string): [V1Role, V1RoleBinding] => configMapReaders('kube-system', name, configMap, [group(BOOTSTRAP_GROUP), group('system:nodes')]);
