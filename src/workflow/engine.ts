/**
 * Runs selected phases in order. Within a phase, hosts run in parallel (bounded) or one at a time
 * (serial phases); every host's failure is gathered and reported together, each with its cause.
 * A phase's health gate must pass on its hosts before the next phase starts.
 */
import type { Host } from '../config/model.js';
import { HealthGateError, describe } from '../errors/index.js';
import { forEachHost } from '../transport/fleet.js';
import type { Reporter } from '../report/reporter.js';
import { sleep } from '../util/pool.js';
import type { GateCheck } from '../health/probes.js';
import type { HealthGate, LeafPhase } from './types.js';

export interface EngineOptions {
  concurrency: number;
  reporter: Reporter;
  /** Dry-run: nothing was started, so gates are reported as "would wait", not polled. */
  skipGates?: boolean;
  /** Injected for tests; wall clock otherwise. */
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
}

export interface PhaseRecord {
  path: string;
  skipped?: string;
  /** Per host (or "" for run-once phases): what changed. */
  changed: Map<string, string[]>;
}

export async function runPhases<C>(phases: readonly LeafPhase<C>[], ctx: C, options: EngineOptions): Promise<PhaseRecord[]> {
  const records: PhaseRecord[] = [];
  for (const leaf of phases) {
    records.push(await options.reporter.phase(leaf.path, `${leaf.path}: ${leaf.phase.description}`, () => runPhase(leaf, ctx, options)));
  }
  return records;
}

async function runPhase<C>({ path, phase }: LeafPhase<C>, ctx: C, options: EngineOptions): Promise<PhaseRecord> {
  const { reporter } = options;
  const record: PhaseRecord = { path, changed: new Map() };
  const skipped = phase.skip?.(ctx);
  if (skipped !== undefined) {
    record.skipped = skipped;
    reporter.event({ type: 'phase-skip', phase: path, reason: skipped });
    return record;
  }
  if (!phase.targets) {
    reporter.event({ type: 'phase-start', phase: path, hosts: [] });
    const outcome = phase.runOnce ? await phase.runOnce(ctx) : { changed: [] };
    record.changed.set('', outcome.changed);
    if (phase.gate?.afterAll) await waitForClusterGate(phase.gate, ctx, path, options);
    reporter.event({ type: 'phase-done', phase: path });
    return record;
  }
  const hosts = phase.targets(ctx);
  if (hosts.length === 0) {
    record.skipped = phase.skipReason ?? 'no target hosts';
    reporter.event({ type: 'phase-skip', phase: path, reason: record.skipped });
    return record;
  }
  reporter.event({ type: 'phase-start', phase: path, hosts: hosts.map((h) => h.name) });
  const step = async (host: Host) => {
    try {
      const outcome = phase.run ? await phase.run(ctx, host) : { changed: [] };
      record.changed.set(host.name, outcome.changed);
      reporter.event({ type: 'host-done', phase: path, host: host.name, changed: outcome.changed });
    } catch (error) {
      reporter.event({ type: 'host-failed', phase: path, host: host.name, error: describe(error) });
      throw error;
    }
  };
  if (phase.serial) {
    // One host at a time, gated before the next: a member that does not come back stops the roll.
    for (const host of hosts) {
      await forEachHost(path, [host], 1, step);
      if (phase.gate?.check) await forEachHost(path, [host], 1, (h) => waitForGate(phase.gate!, ctx, h, path, options));
    }
  } else {
    await forEachHost(path, hosts, options.concurrency, step);
    if (phase.gate?.check) await forEachHost(path, hosts, options.concurrency, (h) => waitForGate(phase.gate!, ctx, h, path, options));
  }
  if (phase.gate?.afterAll) await waitForClusterGate(phase.gate, ctx, path, options);
  reporter.event({ type: 'phase-done', phase: path });
  return record;
}

export async function waitForGate<C>(gate: HealthGate<C>, ctx: C, host: Host, path: string, options: EngineOptions): Promise<void> {
  if (options.skipGates) return options.reporter.event({ type: 'info', host: host.name, message: `would wait for ${gate.name}` });
  const seen = await poll(gate, () => gate.check!(ctx, host), options, (s) =>
    options.reporter.event({ type: 'gate-wait', phase: path, gate: gate.name, host: host.name, seen: s }),
  );
  if (seen !== undefined) throw new HealthGateError(gate.name, host.name, seen);
  options.reporter.event({ type: 'gate-pass', phase: path, gate: gate.name, host: host.name });
}

async function waitForClusterGate<C>(gate: HealthGate<C>, ctx: C, path: string, options: EngineOptions): Promise<void> {
  const afterAll = gate.afterAll!;
  if (options.skipGates) return options.reporter.event({ type: 'info', message: `would wait for ${afterAll.name}` });
  const seen = await poll(gate, () => afterAll.check(ctx), options, (s) =>
    options.reporter.event({ type: 'gate-wait', phase: path, gate: afterAll.name, host: 'cluster', seen: s }),
  );
  if (seen !== undefined) throw new HealthGateError(afterAll.name, 'cluster', seen);
  options.reporter.event({ type: 'gate-pass', phase: path, gate: afterAll.name, host: 'cluster' });
}

/** Probes until healthy or the gate's timeout; returns undefined when healthy, else the last thing seen. */
async function poll<C>(gate: HealthGate<C>, probe: () => Promise<GateCheck>, options: EngineOptions, onWait: (seen: string) => void): Promise<string | undefined> {
  const now = options.now ?? Date.now;
  const delay = options.delay ?? sleep;
  const deadline = now() + gate.timeoutMs;
  let seen = 'no probe completed';
  for (;;) {
    let result: GateCheck;
    try {
      result = await probe();
    } catch (error) {
      result = { ok: false, seen: describe(error) };
    }
    if (result.ok) return undefined;
    seen = result.seen;
    onWait(seen);
    if (now() + gate.intervalMs > deadline) return seen;
    await delay(gate.intervalMs);
  }
}
