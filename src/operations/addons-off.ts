/** kubeadm's proxy.disabled and dns.disabled, as apply's and init's addon phases skip them. */
import { dnsServiceIp, type Cluster } from '../config/model.js';

/** Why the kube-proxy addon phase skips; undefined: it runs. A kube-proxy installed before stays (kubeadm does not remove one either). */
export const kubeProxyOff = (cluster: Cluster): string | undefined =>
  cluster.kubeProxy.disabled ? 'spec.kubeProxy.disabled: your pod network routes Services (a kube-proxy installed before is left as it is)' : undefined;

/** Why the CoreDNS addon phase skips; undefined: it runs. The kubelets still send pods to its address. */
export const dnsOff = (cluster: Cluster): string | undefined =>
  cluster.dns.disabled ? `spec.dns.disabled: you run the cluster DNS at ${dnsServiceIp(cluster)} (a CoreDNS installed before is left as it is)` : undefined;
