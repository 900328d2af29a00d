/** `kbuild certs <generate|check-expiration|renew|verify>`: the PKI commands. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../report/output.js';
import { generateCommand } from './certs/generate.js';
import { checkExpirationCommand } from './certs/check-expiration.js';
import { renewCommand } from './certs/renew.js';
import { verifyCommand } from './certs/verify.js';

export const certsCommand = (io: Io): CommandModule => ({
  command: 'certs',
  describe: 'Certificates: generate the cluster PKI, check expiration, renew and roll out, verify what servers present',
  builder: (yargs: Argv) =>
    yargs
      .command(generateCommand(io))
      .command(checkExpirationCommand(io))
      .command(renewCommand(io))
      .command(verifyCommand(io))
      .demandCommand(1, 'name a certs subcommand: generate, check-expiration, renew or verify'),
  handler: () => undefined,
});
