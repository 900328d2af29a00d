/** kube-proxy addon objects, as kubeadm's phases/addons/proxy manifests. */
import type { V1ClusterRoleBinding, V1ConfigMap, V1DaemonSet, V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import { endpointUrl, type Cluster } from '../../config/model.js';
import { mergeConfiguration } from '../../config/component-config.js';
import { signedBy } from '../../kubeadm/config-hash.js';
import { BOOTSTRAP_GROUP } from '../../kubeadm/constants.js';
import { isIpv6 } from '../etcd.js';
import { toYaml } from '../../util/yaml.js';

const NAMESPACE = 'kube-system';
const CONFIG_DIR = '/var/lib/kube-proxy';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function kubeProxyConfiguration(cluster: Cluster): Record<string, unknown> {
  const firstHost = cluster.hosts[0]?.address ?? '';
  const defaults = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: isIpv6(firstHost) ? '::' : '0.0.0.0',
    clientConnection: { kubeconfig: `${CONFIG_DIR}/kubeconfig.conf` },
    ...(cluster.networking.podSubnet !== undefined ? { clusterCIDR: cluster.networking.podSubnet } : {}),
  };
  return mergeConfiguration(defaults, cluster.kubeProxy.configuration);
}

/** kube-proxy reaches the API through the endpoint with its ServiceAccount token. */
export function kubeProxyKubeconfig(cluster: Cluster): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ cluster: { 'certificate-authority': `${SA_DIR}/ca.crt`, server: endpointUrl(cluster) }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', namespace: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: `${SA_DIR}/token` } }],
  };
}

export function kubeProxyObjects(cluster: Cluster): unknown[] {
  const labels = { 'k8s-app': 'kube-proxy' };
  const serviceAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: NAMESPACE } };
  const nodeProxier: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeadm:node-proxier' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
    subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: NAMESPACE }],
  };
  const role: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'kube-proxy', namespace: NAMESPACE },
    rules: [{ apiGroups: [''], resourceNames: ['kube-proxy'], resources: ['configmaps'], verbs: ['get'] }],
  };
  const roleBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'kube-proxy', namespace: NAMESPACE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kube-proxy' },
    subjects: [{ kind: 'Group', name: BOOTSTRAP_GROUP }],
  };
  const data = { 'config.conf': toYaml(kubeProxyConfiguration(cluster)), 'kubeconfig.conf': toYaml(kubeProxyKubeconfig(cluster)) };
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { annotations: signedBy(data), labels: { app: 'kube-proxy' }, name: 'kube-proxy', namespace: NAMESPACE },
    data,
  };
  const daemonSet: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { labels, name: 'kube-proxy', namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              command: ['/usr/local/bin/kube-proxy', `--config=${CONFIG_DIR}/config.conf`, '--hostname-override=$(NODE_NAME)'],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              image: `${cluster.imageRepository}/kube-proxy:${cluster.kubernetesVersion}`,
              imagePullPolicy: 'IfNotPresent',
              name: 'kube-proxy',
              securityContext: { privileged: true },
              volumeMounts: [
                { mountPath: CONFIG_DIR, name: 'kube-proxy' },
                { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
                { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
              ],
            },
          ],
          hostNetwork: true,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          priorityClassName: 'system-node-critical',
          serviceAccountName: 'kube-proxy',
          tolerations: [{ operator: 'Exists' }],
          volumes: [
            { configMap: { name: 'kube-proxy' }, name: 'kube-proxy' },
            { hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' }, name: 'xtables-lock' },
            { hostPath: { path: '/lib/modules' }, name: 'lib-modules' },
          ],
        },
      },
    },
  };
  return [serviceAccount, nodeProxier, role, roleBinding, configMap, daemonSet];
}
