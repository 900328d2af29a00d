import type { Argv, CommandModule } from 'yargs';
import { CertificateAttentionError } from '../../errors/index.js';
import { verifyFleet } from '../../operations/certs/verify.js';
import type { Io } from '../../report/output.js';
import { terminalSecretPrompt } from '../../report/prompts.js';
import { inventoryOption, type InventoryArgs } from '../options.js';
import { textTable } from './table.js';

interface VerifyArgs extends InventoryArgs {
  output: 'table' | 'json';
  'accept-new-host-keys': boolean;
}

export const verifyCommand = (io: Io): CommandModule<object, VerifyArgs> => ({
  command: 'verify',
  describe:
    'TLS handshake (openssl s_client on each host) to every apiserver, the endpoint, etcd client/peer ports, controller-manager and scheduler: ' +
    'chain to the right CA, SAN for the address, served serial/NotAfter equal to the file on disk. Exit 3 on any mismatch or unreachable server',
  builder: (yargs: Argv) =>
    inventoryOption(yargs)
      .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'Record unknown SSH host keys (trust on first use)' }),
  handler: async (args) => {
    const now = new Date();
    const results = await verifyFleet({ inventory: args.inventory, acceptNewHostKeys: args['accept-new-host-keys'], passphrase: terminalSecretPrompt(io.streams) }, now);
    if (args.output === 'json') io.print(JSON.stringify({ checkedAt: now.toISOString(), results }, null, 2));
    else {
      const rows = results.map((r) => [r.host, r.target, r.connect, r.status, 'served' in r && r.served ? `${r.served.serial} ${r.served.notAfter}` : '-', r.problems.join('; ') || '-']);
      for (const line of textTable(['FROM', 'SERVER', 'ADDRESS', 'STATUS', 'SERVED (SERIAL NOTAFTER)', 'PROBLEMS'], rows)) io.print(line);
    }
    const bad = results.filter((r) => r.status === 'mismatch' || r.status === 'unreachable');
    if (bad.length > 0) {
      throw new CertificateAttentionError(
        `${bad.length} served certificate${bad.length === 1 ? '' : 's'} need attention: ${bad.map((r) => `${r.host} ${r.target} ${r.connect}: ${r.problems.join('; ')}`).join(' | ')}. ` +
          'A served certificate older than its file means the component was not restarted (etcd excepted: it reads its files per connection): run kbuild certs renew again or restart it.',
      );
    }
  },
});
