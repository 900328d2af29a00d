/**
 * `kbuild certs check-expiration`: every certificate a host holds and when it expires, read through
 * the host's Transport. On this machine that is a LocalTransport (with --cert-dir and
 * --kubeconfig-dir), answered in kubeadm's rows; with -i FILE every host of the cluster, over SSH.
 */
import { loadClusterFile } from '../../config/load.js';
import { CertificateAttentionError } from '../../errors/index.js';
import { expirationRows, type ExpirationRow } from '../../pki/expiration.js';
import { readHostPkiFiles, type HostPkiDirs } from '../../pki/host-files.js';
import { forEachHost } from '../../transport/fleet.js';
import { LocalTransport } from '../../transport/local.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import type { Transport } from '../../transport/transport.js';
import { openFleet } from './fleet.js';
import { gatherHostCertificates, type CertificateProblem, type FleetCertificate } from './gather.js';

/** This machine's certificates, in kubeadm's check-expiration rows. */
export async function checkExpirationHere(dirs: HostPkiDirs, now: Date, machine: Transport = new LocalTransport()): Promise<ExpirationRow[]> {
  return expirationRows(await readHostPkiFiles(machine, dirs), now);
}

export interface FleetReport {
  checkedAt: Date;
  hosts: string[];
  certificates: FleetCertificate[];
  problems: CertificateProblem[];
}

/** Every certificate of every host of the cluster file, hosts in cluster-file order. */
export async function checkExpirationFleet(options: { inventory: string; acceptNewHostKeys: boolean; passphrase?: PassphrasePrompt }, now: Date): Promise<FleetReport> {
  const { cluster } = await loadClusterFile(options.inventory);
  const connections = await openFleet(cluster.hosts, options);
  try {
    const reports = await forEachHost('check-expiration', cluster.hosts, 20, async (h) => gatherHostCertificates(h, await connections.get(h), now));
    return { checkedAt: now, hosts: cluster.hosts.map((h) => h.name), certificates: reports.flatMap((r) => r.certificates), problems: reports.flatMap((r) => r.problems) };
  } finally {
    await connections.closeAll();
  }
}

/** --fail-within: a CertificateAttentionError (exit 3) naming each certificate that expires inside the window. */
export function failIfExpiring<T extends { residualSeconds: number; notAfter: Date }>(certificates: readonly T[], days: number, name: (c: T) => string, renew: string): void {
  const soon = certificates.filter((c) => c.residualSeconds < days * 86_400);
  if (soon.length === 0) return;
  throw new CertificateAttentionError(
    `${soon.length} certificate${soon.length === 1 ? '' : 's'} expire within ${days} days: ` +
      `${soon.map((c) => `${name(c)} (${c.notAfter.toISOString()})`).join(', ')}; renew with ${renew}`,
  );
}
