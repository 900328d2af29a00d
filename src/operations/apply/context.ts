/** What the apply phases share (the cluster, the rendered files, one connection per host), and what an apply phase is. */
import type { Cluster, Host } from '../../config/model.js';
import type { ClusterFile } from '../../config/schema.js';
import type { GatheredFacts } from '../../preflight/run.js';
import type { ApiClient } from '../../kube/client.js';
import type { Component, InitPhase, RenderedFile, StaticPod } from '../../kubeadm/files.js';
import type { RenderedCluster } from '../../render/cluster.js';
import type { Reporter } from '../../report/reporter.js';
import type { Transport } from '../../transport/transport.js';
import type { Phase } from '../../workflow/types.js';

export interface ApplyContext {
  cluster: Cluster;
  /** The cluster file as loaded (defaults applied): kube-system/kbuild-config publishes it for `kbuild join`. */
  file: ClusterFile;
  rendered: RenderedCluster;
  /** Each host's facts, gathered before rendering; preflight asks a host missing here itself. */
  facts?: ReadonlyMap<string, GatheredFacts>;
  reporter: Reporter;
  concurrency: number;
  ignorePreflightErrors: readonly string[];
  /** The host's connection, opened on first use and kept for the run. */
  transport(host: Host): Promise<Transport>;
  /** The API as the cluster admin (admin.conf), created on first use; a recording client in a dry-run. */
  api(): Promise<ApiClient>;
  /** This run's roll-out restarts (roll.ts). */
  restarts: Restarts;
}

/** One step of PLAN.md: what a phase does where, and the gate the next step waits for. */
export interface PlanStep {
  title: string;
  hosts: readonly Host[];
  what: string;
  gate: string;
}

/** An apply phase: a workflow phase that also says, from the cluster alone, what it will do (its PLAN.md step). */
export interface ApplyPhase extends Phase<ApplyContext> {
  children?: readonly ApplyPhase[];
  /** What the phase does for this cluster, as PLAN.md says it; nothing when it does nothing here. */
  plan?(cluster: Cluster): PlanStep | readonly PlanStep[];
}

export function renderedFiles(ctx: ApplyContext, host: Host): RenderedFile[] {
  return ctx.rendered.hosts.get(host.name) ?? [];
}

/** A host's rendered files of one component. */
export const filesOf = (ctx: ApplyContext, host: Host, component: Component): RenderedFile[] => renderedFiles(ctx, host).filter((f) => f.component === component);

/** The first control plane's addon files that these init phases write (apply applies them in one phase). */
export const addonFilesOf = (ctx: ApplyContext, host: Host, phases: readonly InitPhase[]): RenderedFile[] => filesOf(ctx, host, 'addons').filter((f) => phases.includes(f.phase));

/** Host names for a plan line. */
export const hostNames = (hosts: readonly Host[]): string => (hosts.length === 0 ? '(none)' : hosts.map((h) => h.name).join(', '));

/** One apply run's restarts: where the hosts keep the replaced files, and one restart at a time per component across the phase's parallel hosts. */
export interface Restarts {
  backupDir: string;
  queues: Map<StaticPod, Promise<unknown>>;
}
