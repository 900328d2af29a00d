/** `kbuild certs <generate|check-expiration|renew>`: the PKI commands. */
import type { Argv, CommandModule } from 'yargs';
import { generateCommand } from './certs/generate.js';
import { checkExpirationCommand } from './certs/check-expiration.js';
import { renewCommand } from './certs/renew.js';

export const certsCommand: CommandModule = {
  command: 'certs',
  describe: 'Certificates: generate the cluster PKI, check expiration, renew on a host',
  builder: (yargs: Argv) =>
    yargs
      .command(generateCommand)
      .command(checkExpirationCommand)
      .command(renewCommand)
      .demandCommand(1, 'name a certs subcommand: generate, check-expiration or renew'),
  handler: () => undefined,
};
