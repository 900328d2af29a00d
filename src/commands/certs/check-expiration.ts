/** `kbuild certs check-expiration`: kubeadm's tables for this machine, or with -i FILE the fleet report, as a table or JSON. */
import type { Argv, CommandModule } from 'yargs';
import { checkExpirationFleet, checkExpirationHere, failIfExpiring } from '../../operations/certs/expiration.js';
import type { ExpirationRow } from '../../pki/expiration.js';
import type { Io } from '../../report/output.js';
import { terminalSecretPrompt } from '../../report/prompts.js';
import { shortHumanDuration as shortDuration } from '../../util/duration.js';
import { hostDirOptions, type HostDirArgs } from './options.js';
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
    const days = args['fail-within'];
    const now = new Date();
    if (args.inventory !== undefined) {
      const report = await checkExpirationFleet({ inventory: args.inventory, acceptNewHostKeys: args['accept-new-host-keys'], passphrase: terminalSecretPrompt(io.streams) }, now);
      if (args.output === 'json') {
        const certificates = report.certificates.map((c) => ({ ...c, notAfter: c.notAfter.toISOString() }));
        io.print(JSON.stringify({ checkedAt: now.toISOString(), hosts: report.hosts, certificates, problems: report.problems }, null, 2));
      } else {
        const rows = report.certificates.map((c) => [c.host, c.path, c.subject, c.notAfter.toISOString(), shortDuration(c.residualSeconds), c.issuer]);
        for (const line of textTable(['HOST', 'PATH', 'SUBJECT', 'NOT AFTER', 'RESIDUAL', 'ISSUER'], rows)) io.print(line);
        for (const p of report.problems) io.warn(`${p.host}: ${p.path}: ${p.problem}`);
      }
      if (days !== undefined) failIfExpiring(report.certificates, days, (c) => `${c.host}:${c.path}`, 'kbuild certs renew <names> -i FILE');
      return;
    }
    const rows = await checkExpirationHere({ certDir: args['cert-dir'], kubeconfigDir: args['kubeconfig-dir'] }, now);
    if (args.output === 'json') {
      const certificates = rows.map((r) => ({ ...r, notAfter: r.notAfter.toISOString() }));
      io.print(JSON.stringify({ certificates }, null, 2));
    } else {
      for (const line of formatExpiration(rows)) io.print(line);
    }
    if (days !== undefined) failIfExpiring(rows, days, (r) => r.name, 'kbuild certs renew');
  },
});
