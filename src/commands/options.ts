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
