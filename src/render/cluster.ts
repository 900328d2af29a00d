/** Renders every host of the cluster (or only `hosts`): host name → files (hosts in cluster-file order, files by path) + PLAN.md. */
import type { Host } from '../config/model.js';
import type { RenderContext } from './context.js';
import { renderHost } from './host.js';
import { renderPlan } from './plan.js';
import type { RenderedFile } from '../kubeadm/files.js';

export interface RenderedCluster {
  hosts: Map<string, RenderedFile[]>;
  plan: string;
}

export function renderCluster(ctx: RenderContext, only: readonly Host[] = ctx.cluster.hosts): RenderedCluster {
  const hosts = new Map<string, RenderedFile[]>();
  for (const host of only) hosts.set(host.name, renderHost(ctx, host));
  return { hosts, plan: renderPlan(ctx.cluster) };
}
