import type { Argv, CommandModule } from 'yargs';
import { loadClusterFile } from '../../config/load.js';
import { ensureClusterPki } from '../../pki/ensure.js';
import type { PkiAction } from '../../pki/types.js';
import type { Io } from '../../report/output.js';
import { StateDir } from '../../state/state-dir.js';
import { inventoryOption, type InventoryArgs } from '../options.js';

interface GenerateArgs extends InventoryArgs {
  stateDir?: string;
}

export function describeAction(a: PkiAction): string {
  const what = a.host ? `${a.name} (${a.host})` : a.name;
  return `${a.outcome.padEnd(9)} ${what}${a.reason ? `: ${a.reason}` : ''}`;
}

export function summarizeActions(actions: readonly PkiAction[]): string {
  const count = (o: PkiAction['outcome']) => actions.filter((a) => a.outcome === o).length;
  const parts = [`${count('created')} created`, `${count('reused')} reused`, `${count('re-issued')} re-issued`];
  if (count('external') > 0) parts.push(`${count('external')} external`);
  return parts.join(', ');
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
    const { path, cluster } = await loadClusterFile(args.inventory);
    const dir = args.stateDir ?? StateDir.defaultPath(path, cluster.name);
    const pki = await ensureClusterPki(cluster, await StateDir.open(dir));
    for (const action of pki.actions) io.print(describeAction(action));
    io.print(`PKI for cluster ${cluster.name} in ${dir}: ${summarizeActions(pki.actions)}`);
  },
});
