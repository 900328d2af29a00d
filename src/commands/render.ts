import type { Argv, CommandModule } from 'yargs';
import { loadClusterFile } from '../config/load.js';
import { ensureClusterPki } from '../pki/ensure.js';
import { renderCluster } from '../render/cluster.js';
import { writeRenderedTree } from '../render/output-tree.js';
import { loadRenderSecrets } from '../render/secrets.js';
import { terminal } from '../report/output.js';
import { StateDir } from '../state/state-dir.js';
import { loadTemplates } from '../templates/index.js';
import { inventoryOption, type InventoryArgs } from './options.js';

export interface RenderArgs extends InventoryArgs {
  output: string;
  stateDir?: string;
  templates?: string;
  force: boolean;
}

export const renderCommand: CommandModule<object, RenderArgs> = {
  command: 'render',
  describe: 'Write every file of every host into a directory (DIR/<host>/<path>) plus DIR/PLAN.md, without touching any host',
  builder: (yargs: Argv) =>
    inventoryOption(yargs)
      .option('output', { alias: 'o', type: 'string', demandOption: 'pass the output directory with -o DIR', describe: 'Output directory', normalize: true })
      .option('state-dir', { type: 'string', describe: 'State directory (PKI master copy, tokens); default .kbuild/<name>/ beside the cluster file', normalize: true })
      .option('templates', { type: 'string', describe: 'Directory of .hbs files replacing built-in templates of the same name', normalize: true })
      .option('force', { type: 'boolean', default: false, describe: 'Write into a non-empty directory kbuild did not create' }),
  handler: async (args) => {
    const { path, cluster } = await loadClusterFile(args.inventory);
    const state = await StateDir.open(args.stateDir ?? StateDir.defaultPath(path, cluster.name));
    const templates = await loadTemplates(args.templates);
    const pki = await ensureClusterPki(cluster, state);
    const secrets = await loadRenderSecrets(state);
    const summary = await writeRenderedTree(args.output, renderCluster({ cluster, pki, secrets, templates }), { force: args.force });
    const created = pki.actions.filter((a) => a.outcome !== 'reused').length;
    terminal.print(`PKI in ${state.root}: ${created} created or re-issued, ${pki.actions.length - created} reused`);
    terminal.print(`Rendered ${summary.files} files for ${summary.hosts} hosts into ${args.output}; startup plan: ${args.output}/PLAN.md`);
  },
};
