/**
 * A phase is plain data: a name, a description, optional children, the hosts it acts on,
 * a step per host and a health gate. The ordered tree in a command's phase list is at once the
 * execution order, the source of --skip-phases and `phase <path>`, and the list in --help.
 */
import type { Host } from '../config/model.js';
import type { GateCheck } from '../health/probes.js';

export interface StepOutcome {
  /** What changed on the host, e.g. file paths written; empty means "no changes". */
  changed: string[];
}

export interface HealthGate<C> {
  /** Shown in messages: "etcd /health", "kube-apiserver /readyz". */
  name: string;
  timeoutMs: number;
  intervalMs: number;
  /** One probe of one host; `seen` says what was observed when it is not healthy yet. Run-once phases use only afterAll. */
  check?(ctx: C, host: Host): Promise<GateCheck>;
  /** A cluster-wide probe after every host passed, e.g. the apiserver through the load balancer. */
  afterAll?: { name: string; check(ctx: C): Promise<GateCheck> };
}

export interface Phase<C> {
  name: string;
  description: string;
  children?: readonly Phase<C>[];
  /** Hosts the phase acts on; an empty list skips it with `skipReason`. Omitted: runs once, with no host. */
  targets?(ctx: C): readonly Host[];
  /** Why an empty target list skips the phase, e.g. "no load-balancer hosts". */
  skipReason?: string;
  /** One host at a time, each gated before the next (etcd members, so quorum holds). */
  serial?: boolean;
  run?(ctx: C, host: Host): Promise<StepOutcome>;
  /** For phases without targets. */
  runOnce?(ctx: C): Promise<StepOutcome>;
  /** Why this run skips the phase whatever its targets, e.g. an addon the cluster file turns off; undefined: it runs. */
  skip?(ctx: C): string | undefined;
  gate?: HealthGate<C>;
}

/** A phase with its slash path in the tree, e.g. control-plane/apiserver. */
export interface LeafPhase<C> {
  path: string;
  phase: Phase<C>;
}
