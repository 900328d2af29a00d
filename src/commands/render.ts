import type { Argv, CommandModule } from 'yargs';
import { renderToDirectory } from '../operations/render/run.js';
import type { Io } from '../report/output.js';
import { inventoryOption, type InventoryArgs } from './options.js';

export interface RenderArgs extends InventoryArgs {
  output: string;
  stateDir?: string;
  templates?: string;
  force: boolean;
}

export const renderCommand = (io: Io): CommandModule<object, RenderArgs> => ({
  command: 'render',
  describe: 'Write every file of every host into a directory (DIR/<host>/<path>) plus DIR/PLAN.md, without touching any host',
  builder: (yargs: Argv) =>
    inventoryOption(yargs)
      .option('output', { alias: 'o', type: 'string', demandOption: 'pass the output directory with -o DIR', describe: 'Output directory', normalize: true })
      .option('state-dir', { type: 'string', describe: 'State directory (PKI master copy, tokens); default .kbuild/<name>/ beside the cluster file', normalize: true })
      .option('templates', { type: 'string', describe: 'Directory of .hbs files replacing built-in templates of the same name', normalize: true })
      .option('force', { type: 'boolean', default: false, describe: 'Write into a non-empty directory kbuild did not create' }),
  handler: async (args) => {
    const result = await renderToDirectory({ inventory: args.inventory, stateDir: args.stateDir, templates: args.templates, output: args.output, force: args.force });
    const { state, pki } = result.prepared;
    const created = pki.actions.filter((a) => a.outcome !== 'reused').length;
    io.print(`PKI in ${state.root}: ${created} created or re-issued, ${pki.actions.length - created} reused`);
    io.print(`Rendered ${result.files} files for ${result.hosts} hosts into ${args.output}; startup plan: ${args.output}/PLAN.md`);
  },
});
