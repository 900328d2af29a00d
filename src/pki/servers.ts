/** kubeconfig server URLs as kubeadm: the cluster endpoint, or the host itself for controller-manager/scheduler (and the kubelet, from v1.33). */
import { endpointUrl, hostPort, type Cluster, type Host } from '../config/model.js';
import { kubernetesMinor } from '../kubeadm/versions.js';
import type { KubeconfigRow } from './table.js';

/**
 * kubeadm's ControlPlaneKubeletLocalMode (cmd/kubeadm/app/features/features.go: alpha and off in
 * v1.31–v1.32, beta and on by default from v1.33.0): a control plane's kubelet.conf names that host's
 * own apiserver, so its kubelet does not depend on the load balancer. kubeadm writes it so at init
 * (phases/kubeconfig) and join (the bootstrap kubeconfig it rewrites before the kubelet starts).
 * spec.featureGates sets it either way, as kubeadm's featureGates does.
 */
export const controlPlaneKubeletLocalMode = (cluster: Cluster): boolean => cluster.featureGates.ControlPlaneKubeletLocalMode ?? kubernetesMinor(cluster.kubernetesVersion) >= 33;

export function kubeconfigServer(cluster: Cluster, host: Host, row: KubeconfigRow): string {
  const local = row.server === 'local' || (row.server === 'local-from-v1.33' && controlPlaneKubeletLocalMode(cluster));
  return local ? `https://${hostPort(host.address, cluster.apiServer.bindPort)}` : endpointUrl(cluster);
}
