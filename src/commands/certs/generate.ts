import type { Argv, CommandModule } from 'yargs';
import { generateCerts } from '../../operations/certs/generate.js';
import { describePkiAction, summarizePkiActions } from '../../pki/types.js';
import type { Io } from '../../report/output.js';
import { inventoryOption, type InventoryArgs } from '../options.js';

interface GenerateArgs extends InventoryArgs {
  stateDir?: string;
}

export const generateCommand = (io: Io): CommandModule<object, GenerateArgs> => ({
  command: 'generate',
  describe: 'Create or update the PKI master copy (CAs, certificates, kubeconfigs for every host) in the state directory',
  builder: (yargs: Argv) =>
    inventoryOption(yargs).option('state-dir', {
      type: 'string',
      normalize: true,
      describe: 'State directory (default: .kbuild/<cluster name>/ beside the cluster file)',
    }),
  handler: async (args) => {
    const { clusterName, stateDir, pki } = await generateCerts({ inventory: args.inventory, stateDir: args.stateDir });
    for (const action of pki.actions) io.print(describePkiAction(action));
    io.print(`PKI for cluster ${clusterName} in ${stateDir}: ${summarizePkiActions(pki.actions)}`);
  },
});
