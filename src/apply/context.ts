/** What the apply phases share: the cluster, the rendered files, and one connection per host. */
import type { Cluster, Host } from '../config/model.js';
import type { RenderedCluster } from '../render/cluster.js';
import type { RenderedFile } from '../kubeadm/files.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../ssh/transport.js';
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

/** Opens each host's connection once; concurrent callers share the pending connection. */
export class Connections {
  private readonly open = new Map<string, Promise<Transport>>();
  constructor(private readonly connectHost: (host: Host) => Promise<Transport>) {}

  get(host: Host): Promise<Transport> {
    let pending = this.open.get(host.name);
    if (!pending) {
      pending = this.connectHost(host);
      // A failed connection is not cached: a later phase (or the retry) may try again.
      pending.catch(() => this.open.delete(host.name));
      this.open.set(host.name, pending);
    }
    return pending;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}
