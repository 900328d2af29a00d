/** kubeconfig server URLs as kubeadm: the cluster endpoint, or the host itself for controller-manager/scheduler. */
import { endpointUrl, hostPort, type Cluster, type Host } from '../config/model.js';
import type { KubeconfigRow } from './table.js';

export function kubeconfigServer(cluster: Cluster, host: Host, row: KubeconfigRow): string {
  return row.server === 'endpoint' ? endpointUrl(cluster) : `https://${hostPort(host.address, cluster.apiServer.bindPort)}`;
}
