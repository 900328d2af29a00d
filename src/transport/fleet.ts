/**
 * A run over many hosts: one connection per host, every host reached before anything is read or
 * written, and work per host in parallel (bounded) with every host's failure gathered into one
 * MultiHostError that keeps each cause ("failed on 2 hosts: cp2: …; w7: …").
 */
import type { Host } from '../config/model.js';
import { MultiHostError } from '../errors/index.js';
import { settleWithLimit } from '../util/pool.js';
import type { Transport } from './transport.js';

/**
 * Runs `task` for every host, at most `concurrency` at once, and returns the results in host
 * order; if any host failed, throws one MultiHostError for `phase` naming each failed host.
 */
export async function forEachHost<T>(phase: string, hosts: readonly Host[], concurrency: number, task: (host: Host) => Promise<T>): Promise<T[]> {
  const results = await settleWithLimit(hosts, concurrency, task);
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ host: hosts[i]!.name, error: r.reason as unknown }] : []));
  if (failures.length > 0) throw new MultiHostError(phase, failures);
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
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

  /** Reaches every host (host keys verified) or throws MultiHostError('connect') naming each unreachable one. */
  async reachAll(hosts: readonly Host[], concurrency: number): Promise<void> {
    await forEachHost('connect', hosts, concurrency, (h) => this.get(h));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}

/** Connections to `hosts`, every one reached; on a failure the reached ones are closed again. */
export async function connectFleet(hosts: readonly Host[], connectHost: (host: Host) => Promise<Transport>, concurrency = 20): Promise<Connections> {
  const connections = new Connections(connectHost);
  try {
    await connections.reachAll(hosts, concurrency);
  } catch (error) {
    await connections.closeAll();
    throw error;
  }
  return connections;
}
