/** `kbuild certs check-expiration -i FILE`: the fleet report, as a table or JSON. */
import { loadClusterFile } from '../../config/load.js';
import { CertificateAttentionError } from '../../errors/index.js';
import { gatherFleet, openFleet } from '../../operations/certs/fleet.js';
import type { FleetCertificate } from '../../operations/certs/gather.js';
import { shortDuration } from '../../pki/expiration.js';
import type { Io } from '../../report/output.js';
import { terminalSecretPrompt } from '../../report/prompts.js';
import { textTable } from './table.js';

export interface FleetExpirationArgs {
  inventory: string;
  output: 'table' | 'json';
  failWithin?: number;
  acceptNewHostKeys: boolean;
}

export async function fleetExpiration(io: Io, args: FleetExpirationArgs): Promise<void> {
  const { cluster } = await loadClusterFile(args.inventory);
  const connections = await openFleet(cluster.hosts, { acceptNewHostKeys: args.acceptNewHostKeys, passphrase: terminalSecretPrompt(io.streams) });
  try {
    const now = new Date();
    const report = await gatherFleet(cluster.hosts, (h) => connections.get(h), now);
    if (args.output === 'json') {
      const certificates = report.certificates.map((c) => ({ ...c, notAfter: c.notAfter.toISOString() }));
      io.print(JSON.stringify({ checkedAt: now.toISOString(), hosts: cluster.hosts.map((h) => h.name), certificates, problems: report.problems }, null, 2));
    } else {
      const rows = report.certificates.map((c) => [c.host, c.path, c.subject, c.notAfter.toISOString(), shortDuration(c.residualSeconds), c.issuer]);
      for (const line of textTable(['HOST', 'PATH', 'SUBJECT', 'NOT AFTER', 'RESIDUAL', 'ISSUER'], rows)) io.print(line);
      for (const p of report.problems) io.warn(`${p.host}: ${p.path}: ${p.problem}`);
    }
    if (args.failWithin !== undefined) failIfExpiring(report.certificates, args.failWithin);
  } finally {
    await connections.closeAll();
  }
}

function failIfExpiring(certificates: readonly FleetCertificate[], days: number): void {
  const soon = certificates.filter((c) => c.residualSeconds < days * 86_400);
  if (soon.length === 0) return;
  throw new CertificateAttentionError(
    `${soon.length} certificate${soon.length === 1 ? '' : 's'} expire within ${days} days: ` +
      `${soon.map((c) => `${c.host}:${c.path} (${c.notAfter.toISOString()})`).join(', ')}; renew with kbuild certs renew <names> -i FILE`,
  );
}
