/** Options shared by several commands. */
import type { Argv } from 'yargs';

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
