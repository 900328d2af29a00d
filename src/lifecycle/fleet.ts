/** Connections to the hosts a lifecycle command works on, every one reached before anything is read or written. */
import type { Host } from '../config/model.js';
import { Connections } from '../apply/context.js';
import { MultiHostError } from '../errors/index.js';
import { connectResilient } from '../ssh/connect.js';
import { settleWithLimit } from '../util/pool.js';
import type { Transport } from '../ssh/transport.js';
import type { PassphrasePrompt } from '../ssh/private-key.js';
import { gatherHostCertificates, type CertificateProblem, type FleetCertificate } from './gather.js';

export async function openFleet(hosts: readonly Host[], options: { acceptNewHostKeys: boolean; passphrase?: PassphrasePrompt; concurrency?: number; connectHost?: (host: Host) => Promise<Transport> }): Promise<Connections> {
  const connections = new Connections(options.connectHost ?? ((host) => connectResilient(host, { acceptNewHostKeys: options.acceptNewHostKeys, keySources: { prompt: options.passphrase } })));
  const reached = await settleWithLimit(hosts, options.concurrency ?? 20, (h) => connections.get(h));
  const failures = reached.flatMap((r, i) => (r.status === 'rejected' ? [{ host: hosts[i]!.name, error: r.reason as unknown }] : []));
  if (failures.length > 0) {
    await connections.closeAll();
    throw new MultiHostError('connect', failures);
  }
  return connections;
}

export interface FleetReport {
  certificates: FleetCertificate[];
  problems: CertificateProblem[];
}

/** Every certificate of every host, hosts in cluster-file order. */
export async function gatherFleet(hosts: readonly Host[], transport: (host: Host) => Promise<Transport>, now: Date, concurrency = 20): Promise<FleetReport> {
  const results = await settleWithLimit(hosts, concurrency, async (h) => gatherHostCertificates(h, await transport(h), now));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ host: hosts[i]!.name, error: r.reason as unknown }] : []));
  if (failures.length > 0) throw new MultiHostError('check-expiration', failures);
  const ok = results.map((r) => (r as PromiseFulfilledResult<{ certificates: FleetCertificate[]; problems: CertificateProblem[] }>).value);
  return { certificates: ok.flatMap((r) => r.certificates), problems: ok.flatMap((r) => r.problems) };
}
