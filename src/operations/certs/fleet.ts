/** Connections to the hosts a lifecycle command works on, every one reached before anything is read or written. */
import type { Host } from '../../config/model.js';
import { connectFleet, forEachHost, type Connections } from '../../transport/fleet.js';
import { sshConnector } from '../../transport/ssh/connect.js';
import type { Transport } from '../../transport/transport.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import { gatherHostCertificates, type CertificateProblem, type FleetCertificate } from './gather.js';

export async function openFleet(hosts: readonly Host[], options: { acceptNewHostKeys: boolean; passphrase?: PassphrasePrompt; concurrency?: number; connectHost?: (host: Host) => Promise<Transport> }): Promise<Connections> {
  return connectFleet(hosts, options.connectHost ?? sshConnector({ acceptNewHostKeys: options.acceptNewHostKeys, passphrase: options.passphrase }), options.concurrency);
}

export interface FleetReport {
  certificates: FleetCertificate[];
  problems: CertificateProblem[];
}

/** Every certificate of every host, hosts in cluster-file order. */
export async function gatherFleet(hosts: readonly Host[], transport: (host: Host) => Promise<Transport>, now: Date, concurrency = 20): Promise<FleetReport> {
  const ok = await forEachHost('check-expiration', hosts, concurrency, async (h) => gatherHostCertificates(h, await transport(h), now));
  return { certificates: ok.flatMap((r) => r.certificates), problems: ok.flatMap((r) => r.problems) };
}
