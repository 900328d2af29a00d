/** Runs preflight on every host in parallel before anything is written; reports all findings together. */
import type { Cluster, Host } from '../config/model.js';
import { PreflightError, describe } from '../errors/index.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../transport/transport.js';
import { settleWithLimit } from '../util/pool.js';
import { applyIgnores, checkHost, checkHostnamesUnique, pathsToTest, type Finding } from './checks.js';
import { gatherFacts, type HostFacts } from './facts.js';

/** One host's facts, and this machine's clock (seconds) when the host read its own. */
export interface GatheredFacts {
  facts: HostFacts;
  localEpochSeconds: number;
}

const systemClock = () => Date.now() / 1000;

/**
 * Runs the facts command on one host. This machine's clock is taken at the midpoint of that host's
 * command, so a slow host elsewhere in the run cannot make this one look skewed.
 */
export async function gatherHostFacts(cluster: Cluster, host: Host, transport: Transport, clock: () => number = systemClock): Promise<GatheredFacts> {
  const before = clock();
  const facts = await gatherFacts(transport, pathsToTest(cluster, host));
  return { facts, localEpochSeconds: Math.round((before + clock()) / 2) };
}

export interface PreflightOptions {
  hosts: readonly Host[];
  connect(host: Host): Promise<Transport>;
  concurrency: number;
  ignore: readonly string[];
  reporter: Reporter;
  nowSeconds?: () => number;
  /** Facts the operation already gathered (to render with them): not asked again. */
  gathered?: ReadonlyMap<string, GatheredFacts>;
}

export async function runPreflight(cluster: Cluster, options: PreflightOptions): Promise<Finding[]> {
  const facts = new Map<string, HostFacts>();
  const localClock = new Map<string, number>();
  const unreachable: Finding[] = [];
  const results = await settleWithLimit(options.hosts, options.concurrency, async (host) => {
    const gathered = options.gathered?.get(host.name) ?? (await gatherHostFacts(cluster, host, await options.connect(host), options.nowSeconds));
    facts.set(host.name, gathered.facts);
    localClock.set(host.name, gathered.localEpochSeconds);
  });
  results.forEach((r, i) => {
    if (r.status === 'rejected') unreachable.push({ host: options.hosts[i]!.name, name: 'Connect', level: 'error', message: describe(r.reason) });
  });
  const findings = applyIgnores(
    [...unreachable, ...options.hosts.flatMap((h) => (facts.has(h.name) ? checkHost(cluster, h, facts.get(h.name)!, localClock.get(h.name)!) : [])), ...checkHostnamesUnique(facts)],
    options.ignore,
  );
  for (const f of findings.filter((f) => f.level === 'warning')) options.reporter.event({ type: 'warn', host: f.host, message: `[WARNING ${f.name}]: ${f.message}` });
  const errors = findings.filter((f) => f.level === 'error');
  if (errors.length > 0) {
    const lines = errors.map((f) => `\t${f.host}: [ERROR ${f.name}]: ${f.message}`);
    const ignorable = [...new Set(errors.filter((f) => f.name !== 'Connect').map((f) => f.name))];
    const hint = ignorable.length > 0 ? `\nTo proceed anyway (not recommended): --ignore-preflight-errors=${ignorable.join(',')}` : '';
    throw new PreflightError(`[preflight] Some fatal errors occurred:\n${lines.join('\n')}${hint}`);
  }
  return findings;
}
