import type { Argv, CommandModule } from 'yargs';
import { CertificateAttentionError } from '../../errors/index.js';
import { expirationRows, shortDuration, type ExpirationRow } from '../../pki/expiration.js';
import { readLocalHostFiles } from '../../pki/host-files.js';
import { terminal } from '../../report/output.js';
import { hostDirOptions, type HostDirArgs } from './options.js';

interface CheckArgs extends HostDirArgs {
  output: 'table' | 'json';
  'fail-within'?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** kubeadm's layout "Jan 02, 2006 15:04 MST", in UTC. */
const kubeadmDate = (d: Date) =>
  `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('');
  return [line(header), ...rows.map(line)];
}

export function formatExpiration(rows: readonly ExpirationRow[]): string[] {
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  const certs = rows.filter((r) => r.kind !== 'ca');
  const cas = rows.filter((r) => r.kind === 'ca');
  return [
    ...table(
      ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED'],
      certs.map((r) => [r.name, kubeadmDate(r.notAfter), shortDuration(r.residualSeconds), r.certificateAuthority ?? '', yesNo(r.externallyManaged)]),
    ),
    '',
    ...table(['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'], cas.map((r) => [r.name, kubeadmDate(r.notAfter), shortDuration(r.residualSeconds), yesNo(r.externallyManaged)])),
  ];
}

export const checkExpirationCommand: CommandModule<object, CheckArgs> = {
  command: 'check-expiration',
  describe: "Show when this machine's certificates and kubeconfig client certificates expire",
  builder: (yargs: Argv) =>
    hostDirOptions(yargs)
      .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' })
      .option('fail-within', { type: 'number', describe: 'Exit with code 3 if anything expires within this many days' }),
  handler: async (args) => {
    const now = new Date();
    const rows = expirationRows(await readLocalHostFiles(args['cert-dir'], args['kubeconfig-dir']), now);
    if (args.output === 'json') {
      const certificates = rows.map((r) => ({ ...r, notAfter: r.notAfter.toISOString() }));
      terminal.print(JSON.stringify({ certificates }, null, 2));
    } else {
      for (const line of formatExpiration(rows)) terminal.print(line);
    }
    const days = args['fail-within'];
    if (days !== undefined) {
      const soon = rows.filter((r) => r.residualSeconds < days * 86_400);
      if (soon.length > 0) {
        throw new CertificateAttentionError(
          `${soon.length} certificate${soon.length === 1 ? '' : 's'} expire within ${days} days: ` +
            `${soon.map((r) => `${r.name} (${r.notAfter.toISOString()})`).join(', ')}; renew with kbuild certs renew`,
        );
      }
    }
  },
};

