/** Options shared by several commands. */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { describePhases, phasePaths } from '../workflow/select.js';
import type { Phase } from '../workflow/types.js';

export interface InventoryArgs {
  inventory: string;
}

export const inventoryOption = <T>(yargs: Argv<T>) =>
  yargs.option('inventory', {
    alias: 'i',
    type: 'string',
    demandOption: 'pass the cluster file with -i FILE',
    describe: 'Cluster file (kind: Cluster)',
    normalize: true,
  });

/** Options of the commands that work on many hosts over SSH (apply, reset). */
export interface FleetArgs {
  format: 'text' | 'json';
  concurrency: number;
  skipPhases: string[];
  acceptNewHostKeys: boolean;
}

export const fleetOptions = <T>(yargs: Argv<T>) =>
  yargs
    .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Progress as text, or a JSON event stream' })
    .option('concurrency', { type: 'number', default: 20, describe: 'Hosts worked on at once within a phase' })
    .option('skip-phases', { type: 'array', string: true, default: [] as string[], describe: 'Phases to skip (a parent skips its children)' })
    .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'Record unknown SSH host keys in known_hosts (trust on first use); changed keys are always refused' })
    .check((args) => {
      if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new Error('--concurrency must be a whole number of at least 1');
      return true;
    });

/**
 * A phased command's `phase <path>` subcommand (the paths come from the tree, so a typo is a usage
 * error listing them) and the ordered phase list in its --help. The subcommand inherits the command's
 * flags and checks (yargs options are global), so they are declared once: declared again, --help
 * listed every alias and choice twice. `positionals` are extra positionals after the path, e.g. "[endpoint]".
 */
export function withPhases<A>(yargs: Argv, tree: readonly Phase<never>[], handler: (args: ArgumentsCamelCase<A>) => Promise<void>, positionals = ''): Argv<A> {
  return yargs
    .command<A>({
      command: `phase <path>${positionals ? ` ${positionals}` : ''}`,
      describe: 'Run one phase and its children (see the phase list below)',
      builder: (y: Argv) => y.positional('path', { type: 'string', choices: phasePaths(tree), describe: 'Phase path' }) as unknown as Argv<A>,
      handler,
    })
    .epilogue(`Phases, in order:\n${describePhases(tree)}`) as unknown as Argv<A>;
}
