/** The API objects init builds beyond render's addon files: signed cluster-info, kubeadm-config, the control-plane mark. */
import type { KubernetesObject, V1ConfigMap, V1Node, V1Taint } from '@kubernetes/client-node';
import { endpointUrl, hostPort, type Cluster } from '../../config/model.js';
import { CLUSTER_NAME, PATHS } from '../../kubeadm/constants.js';
import { toYaml } from '../../render/yaml.js';
import { computeDetachedSignature, jwsKey } from '../jws.js';
import { nodesMayGetConfigMap } from '../published-cluster.js';

/** cluster-info as the bootstrap signer leaves it: the kubeconfig plus a signature for the token. */
export function signedClusterInfo(clusterInfo: V1ConfigMap, tokenId: string, tokenSecret: string): V1ConfigMap {
  const kubeconfig = clusterInfo.data?.kubeconfig ?? '';
  return { ...clusterInfo, data: { ...clusterInfo.data, [jwsKey(tokenId)]: computeDetachedSignature(kubeconfig, tokenId, tokenSecret) } };
}

/** kube-system/kubeadm-config (key ClusterConfiguration), so kubeadm-aware tools read the cluster as kubeadm wrote it. */
export function kubeadmConfigObjects(cluster: Cluster): KubernetesObject[] {
  const clusterConfiguration = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    apiServer: { certSANs: cluster.apiServer.certSANs.length > 0 ? cluster.apiServer.certSANs : undefined },
    certificatesDir: PATHS.pki,
    clusterName: CLUSTER_NAME,
    controlPlaneEndpoint: hostPort(cluster.endpoint.host, cluster.endpoint.port),
    etcd: cluster.etcd.topology === 'stacked' ? { local: { dataDir: PATHS.etcdData } } : { external: { endpoints: [] } },
    imageRepository: cluster.imageRepository,
    kubernetesVersion: cluster.kubernetesVersion,
    networking: { dnsDomain: cluster.networking.dnsDomain, serviceSubnet: cluster.networking.serviceSubnet, ...(cluster.networking.podSubnet ? { podSubnet: cluster.networking.podSubnet } : {}) },
  };
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
    data: { ClusterConfiguration: toYaml(JSON.parse(JSON.stringify(clusterConfiguration)) as object) },
  };
  return [configMap, ...nodesMayGetConfigMap('kubeadm-config', 'kubeadm:nodes-kubeadm-config')];
}

export const CONTROL_PLANE_LABELS = { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } as const;
export const CONTROL_PLANE_TAINT: V1Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** The merge patch that marks a control-plane Node (labels + taint), keeping its other taints; undefined if already marked. */
export function markControlPlanePatch(node: V1Node | undefined, taint = true): { metadata: { labels: Record<string, string> }; spec?: { taints: V1Taint[] } } | undefined {
  const labels = node?.metadata?.labels ?? {};
  const taints = node?.spec?.taints ?? [];
  const missingLabels = Object.entries(CONTROL_PLANE_LABELS).some(([k, v]) => labels[k] !== v);
  const missingTaint = taint && !taints.some((t) => t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect);
  if (node && !missingLabels && !missingTaint) return undefined;
  return { metadata: { labels: { ...CONTROL_PLANE_LABELS } }, ...(missingTaint ? { spec: { taints: [...taints, CONTROL_PLANE_TAINT] } } : {}) };
}

export const joinEndpoint = (cluster: Cluster): string => endpointUrl(cluster).replace(/^https:\/\//, '');
