import type { Argv, CommandModule } from 'yargs';
import { CertificateAttentionError } from '../../errors/index.js';
import { expirationRows, shortDuration, type ExpirationRow } from '../../pki/expiration.js';
import { readLocalHostFiles } from '../../pki/host-files.js';
import type { Io } from '../../report/output.js';
import { hostDirOptions, type HostDirArgs } from './options.js';
import { fleetExpiration } from './fleet-expiration.js';
import { textTable } from './table.js';

interface CheckArgs extends HostDirArgs {
  output: 'table' | 'json';
  'fail-within'?: number;
  inventory?: string;
  'accept-new-host-keys': boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** kubeadm's layout "Jan 02, 2006 15:04 MST", in UTC. */
const kubeadmDate = (d: Date) =>
  `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;

const table = textTable;

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

export const checkExpirationCommand = (io: Io): CommandModule<object, CheckArgs> => ({
  command: 'check-expiration',
  describe: "Show when certificates expire: on this machine, or with -i on every host of the cluster over SSH",
  builder: (yargs: Argv) =>
    hostDirOptions(yargs)
      .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' })
      .option('fail-within', { type: 'number', describe: 'Exit with code 3 if anything expires within this many days' })
      .option('inventory', { alias: 'i', type: 'string', normalize: true, describe: 'Cluster file: check every host over SSH instead of this machine' })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'With -i: record unknown SSH host keys (trust on first use)' }),
  handler: async (args) => {
    if (args.inventory !== undefined) {
      return fleetExpiration(io, { inventory: args.inventory, output: args.output, failWithin: args['fail-within'], acceptNewHostKeys: args['accept-new-host-keys'] });
    }
    const now = new Date();
    const rows = expirationRows(await readLocalHostFiles(args['cert-dir'], args['kubeconfig-dir']), now);
    if (args.output === 'json') {
      const certificates = rows.map((r) => ({ ...r, notAfter: r.notAfter.toISOString() }));
      io.print(JSON.stringify({ certificates }, null, 2));
    } else {
      for (const line of formatExpiration(rows)) io.print(line);
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
});
