/** What the `kbuild join` phases share: this host, what discovery proved, one transport, the API. */
import type { Cluster, Host } from '../../config/model.js';
import type { ApiClient } from '../../kube/client.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import type { Reporter } from '../../report/reporter.js';
import type { Transport } from '../../transport/transport.js';
import type { Templates } from '../../templates/index.js';
import type { RetryOptions } from '../../kube/retry.js';
import type { DiscoveredCluster } from '../../kube/cluster-info.js';
import type { GatheredFacts } from '../../preflight/run.js';

export interface JoinContext {
  cluster: Cluster;
  /** The joining host (from the cluster file, or built from kube-system/kubeadm-config). */
  host: Host;
  /** `--control-plane`: this host becomes a control plane. */
  controlPlane: boolean;
  /** The verified cluster-info: API server URL and cluster CA. */
  discovered: DiscoveredCluster;
  /** `<id>.<secret>`: discovery and TLS bootstrap token. */
  token: string;
  /** Hex, with --control-plane. */
  certificateKey?: string;
  /** This machine (LocalTransport), or the dry-run pair writing under DIR. */
  transport: Transport;
  /** This machine's facts, gathered before any phase: preflight checks them, the kubelet and control-plane files follow them. */
  facts: GatheredFacts;
  reporter: Reporter;
  templates: Templates;
  ignorePreflightErrors: readonly string[];
  /** The API as the bootstrap token (reads: kubelet-config, kubeadm-certs, nodes); recording writes in a dry-run. */
  bootstrapApi(): ApiClient;
  /** The API as this host's admin.conf (control planes, after control-plane-prepare); recording in a dry-run. */
  adminApi(): Promise<ApiClient>;
  now: () => Date;
  apiRetry?: RetryOptions;
  /** Filled by control-plane-prepare/download-certs: the shared CA files by pki-relative name. */
  sharedCerts?: Map<string, Buffer>;
  /** Filled by control-plane-prepare/certs: this host's PKI files and kubeconfigs (no super-admin.conf). */
  pkiFiles?: RenderedFile[];
  /** Etcd members after etcd-join, `name=peerURL`, for the report. */
  etcdInitialCluster?: string;
}
