/** Every top-level command, in the order `kbuild --help` lists them. */
import type { CommandModule } from 'yargs';
import type { Io } from '../report/output.js';
import { validateCommand } from './validate.js';
import { renderCommand } from './render.js';
import { certsCommand } from './certs.js';
import { applyCommand } from './apply.js';
import { initCommand } from './init.js';
import { tokenCommand } from './token.js';
import { joinCommand } from './join.js';
import { resetCommand } from './reset.js';

/** Each command prints to `io` only. */
// yargs' CommandModule is invariant in its argument types; the list is heterogeneous by design.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands = (io: Io): CommandModule<object, any>[] => [validateCommand, renderCommand, applyCommand, initCommand, joinCommand, tokenCommand, certsCommand, resetCommand].map((command) => command(io));
