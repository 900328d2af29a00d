/**
 * kbuild apply: flags, and the summary of what operations/apply did. --dry-run lists per host every
 * file it would change and every command it would run.
 */
import type { Argv, CommandModule } from 'yargs';
import { APPLY_PHASES } from '../operations/apply/phases.js';
import { runApply, type ApplyResult } from '../operations/apply/run.js';
import { reporterFor } from '../report/choose.js';
import { describeAction } from '../report/dry-run.js';
import type { Io } from '../report/output.js';
import { terminalSecretPrompt } from '../report/prompts.js';
import type { DryRunRecorder } from '../transport/dry-run.js';
import type { PhaseRecord } from '../workflow/engine.js';
import { fleetOptions, inventoryOption, type FleetArgs, type InventoryArgs, withPhases } from './options.js';

export interface ApplyArgs extends InventoryArgs, FleetArgs {
  stateDir?: string;
  templates?: string;
  dryRun: boolean;
  output?: string;
  ignorePreflightErrors: string[];
  path?: string;
}

const applyOptions = (yargs: Argv) =>
  fleetOptions(inventoryOption(yargs))
    .option('state-dir', { type: 'string', normalize: true, describe: 'State directory; default .kbuild/<name>/ beside the cluster file' })
    .option('templates', { type: 'string', normalize: true, describe: 'Directory of .hbs files replacing built-in templates' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Connect read-only; write what would be pushed under -o DIR and list it' })
    .option('output', { alias: 'o', type: 'string', normalize: true, describe: 'Dry-run output directory (required with --dry-run)' })
    .option('ignore-preflight-errors', { type: 'array', string: true, default: [] as string[], describe: 'Preflight checks to report as warnings, e.g. Swap,Port-6443, or all' })
    .check((args) => {
      if (args['dry-run'] && !args.output) throw new Error('--dry-run needs -o DIR for the files it would push');
      return true;
    });

async function apply(io: Io, args: ApplyArgs): Promise<void> {
  const reporter = await reporterFor(io, args.format);
  let result: ApplyResult;
  try {
    result = await runApply({
      inventory: args.inventory,
      stateDir: args.stateDir,
      templates: args.templates,
      dryRunDir: args.dryRun ? args.output : undefined,
      only: args.path,
      skipPhases: args.skipPhases,
      concurrency: args.concurrency,
      ignorePreflightErrors: args.ignorePreflightErrors,
      acceptNewHostKeys: args.acceptNewHostKeys,
      passphrase: terminalSecretPrompt(io.streams),
      reporter,
    });
  } finally {
    await reporter.close();
  }
  summarize(io, args, result.records, result.dryRun, result.hosts);
  if (!args.path && !args.dryRun) {
    printJoinCommands(io, result.joinCommand, args.format);
    for (const note of result.notes) io.print(args.format === 'json' ? JSON.stringify({ type: 'info', message: note }) : `Note: ${note}`);
  }
}

function summarize(io: Io, args: ApplyArgs, records: PhaseRecord[], recorder: DryRunRecorder | undefined, hosts: string[]): void {
  if (args.format === 'json') return;
  io.print('');
  for (const host of hosts) {
    if (args.dryRun) {
      const actions = recorder?.directories.get(host)?.actions.map((a) => `  ${describeAction(a)}`) ?? [];
      io.print(actions.length === 0 ? `${host}: no changes` : `${host}:\n${actions.join('\n')}`);
      continue;
    }
    const changed = records.flatMap((r) => r.changed.get(host) ?? []);
    io.print(changed.length === 0 ? `${host}: no changes` : `${host}: ${changed.length} file${changed.length === 1 ? '' : 's'} changed`);
  }
  const clusterWide = records.flatMap((r) => r.changed.get('') ?? []);
  if (clusterWide.length > 0) io.print(`API objects applied: ${clusterWide.join(', ')}`);
  if (args.dryRun) io.print(`Dry run: nothing was changed; the files above are under ${args.output}`);
}

function printJoinCommands(io: Io, worker: string, format: 'text' | 'json'): void {
  if (format === 'json') {
    io.print(JSON.stringify({ type: 'join-command', worker }));
    return;
  }
  io.print(`\nTo join further worker nodes, run on each as root:\n\n  ${worker}\n`);
}

export const applyCommand = (io: Io): CommandModule<object, ApplyArgs> => ({
  command: 'apply',
  describe: 'Bring every host to its rendered state over SSH, in startup order, gated on health',
  builder: (yargs: Argv) => withPhases<ApplyArgs>(applyOptions(yargs), APPLY_PHASES, (args) => apply(io, args)),
  handler: (args) => apply(io, args),
});
