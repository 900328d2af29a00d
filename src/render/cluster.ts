/** Renders every host of the cluster (or only `hosts`): host name → files (hosts in cluster-file order, files by path). */
import type { Host } from '../config/model.js';
import type { RenderContext } from './context.js';
import { hostRenderer } from './host.js';
import type { RenderedFile } from '../kubeadm/files.js';

export interface RenderedCluster {
  hosts: Map<string, RenderedFile[]>;
}

export function renderCluster(ctx: RenderContext, only: readonly Host[] = ctx.cluster.hosts): RenderedCluster {
  const hosts = new Map<string, RenderedFile[]>();
  const render = hostRenderer(ctx);
  for (const host of only) hosts.set(host.name, render(host));
  return { hosts };
}
