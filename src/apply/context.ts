/** What the apply phases share: the cluster, the rendered files, and one connection per host. */
import type { Cluster, Host } from '../config/model.js';
import type { RenderedCluster } from '../render/cluster.js';
import type { RenderedFile } from '../kubeadm/files.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../transport/transport.js';
import type { ApiClient } from '../kube/client.js';

export interface ApplyContext {
  cluster: Cluster;
  rendered: RenderedCluster;
  reporter: Reporter;
  concurrency: number;
  ignorePreflightErrors: readonly string[];
  /** The host's connection, opened on first use and kept for the run. */
  transport(host: Host): Promise<Transport>;
  /** The API as the cluster admin (admin.conf), created on first use; a recording client in a dry-run. */
  api(): Promise<ApiClient>;
}

export function renderedFiles(ctx: ApplyContext, host: Host): RenderedFile[] {
  return ctx.rendered.hosts.get(host.name) ?? [];
}
