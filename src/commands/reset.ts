/**
 * kbuild reset: undo what kbuild put on a host, as kubeadm reset does. On this machine without -i;
 * across the cluster file's hosts (or --hosts) over SSH with -i. etcd data goes only with --force or
 * a "y" on a terminal; the state directory only with --purge-state.
 */
import type { Argv, CommandModule } from 'yargs';
import { describePhases } from '../workflow/select.js';
import type { Io } from '../report/output.js';
import { reporterFor } from '../report/choose.js';
import { terminalSecretPrompt, terminalYesNo } from '../report/prompts.js';
import { fleetOptions } from './options.js';
import { RESET_PHASES } from '../operations/reset/phases.js';
import { resetFleet, resetThisHost, THIS_MACHINE, type ResetResult } from '../operations/reset/run.js';
import { describeAction } from '../report/dry-run.js';
import { PATHS } from '../kubeadm/constants.js';

export interface ResetArgs {
  inventory?: string;
  hosts: string[];
  stateDir?: string;
  force: boolean;
  purgeState: boolean;
  dryRun: boolean;
  output?: string;
  format: 'text' | 'json';
  concurrency: number;
  skipPhases: string[];
  acceptNewHostKeys: boolean;
}

const FLEET_ONLY = ['hosts', 'state-dir', 'purge-state', 'accept-new-host-keys'] as const;

async function reset(io: Io, args: ResetArgs): Promise<void> {
  const reporter = await reporterFor(io, args.format);
  const common = { force: args.force, dryRun: args.dryRun, output: args.output, skipPhases: args.skipPhases, reporter, prompt: terminalYesNo(io.streams) };
  let result: ResetResult;
  try {
    result = args.inventory
      ? await resetFleet({ ...common, inventory: args.inventory, hosts: args.hosts, stateDir: args.stateDir, purgeState: args.purgeState, concurrency: args.concurrency, acceptNewHostKeys: args.acceptNewHostKeys, passphrase: terminalSecretPrompt(io.streams) })
      : await resetThisHost(common);
  } finally {
    await reporter.close();
  }
  if (args.format === 'text') summarize(io, result, args.dryRun);
}

function summarize(io: Io, result: ResetResult, dryRun: boolean): void {
  io.print('');
  if (dryRun) {
    for (const [host, actions] of result.wouldDo ?? []) {
      if (host === THIS_MACHINE && actions.length === 0) continue;
      io.print(actions.length === 0 ? `${host}: nothing would change (already clean)` : `${host}:\n${actions.map((a) => `  ${describeAction(a)}`).join('\n')}`);
    }
    io.print(`Dry run: nothing was changed${result.output ? `; the record is under ${result.output}` : ''}`);
    return;
  }
  for (const host of result.hosts) {
    const changed = result.records.flatMap((r) => r.changed.get(host) ?? []);
    io.print(changed.length === 0 ? `${host}: already clean, nothing to remove` : `${host}: reset\n${changed.map((c) => `  ${c}`).join('\n')}`);
  }
  for (const line of result.records.flatMap((r) => r.changed.get('') ?? [])) io.print(line);
}

export const resetCommand = (io: Io): CommandModule<object, ResetArgs> => ({
  command: 'reset',
  describe: 'Undo what kbuild set up: on this host, or with -i FILE on every host (or --hosts) over SSH',
  builder: (yargs: Argv) =>
    fleetOptions(yargs)
      .option('inventory', { alias: 'i', type: 'string', normalize: true, describe: 'Cluster file: reset its hosts over SSH instead of this machine' })
      .option('hosts', { type: 'array', string: true, default: [] as string[], describe: 'With -i: only these hosts (names, comma-separated or repeated)' })
      .option('state-dir', { type: 'string', normalize: true, describe: 'With -i: the state directory; default .kbuild/<name>/ beside the cluster file' })
      .option('force', { type: 'boolean', default: false, describe: `Also remove etcd data (the directory each host's etcd manifest names, ${PATHS.etcdData} by default) without asking` })
      .option('purge-state', { type: 'boolean', default: false, describe: 'With -i, resetting every host: also remove the local state directory (CA, keys, token)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Change nothing: list what would be removed and run' })
      .option('output', { alias: 'o', type: 'string', normalize: true, describe: 'Dry-run record directory (required with -i --dry-run)' })
      .check((args) => {
        if (!args.inventory) {
          const given = { hosts: args.hosts.length > 0, 'state-dir': args['state-dir'] !== undefined, 'purge-state': args['purge-state'], 'accept-new-host-keys': args['accept-new-host-keys'] };
          const misplaced = FLEET_ONLY.filter((flag) => given[flag]);
          if (misplaced.length > 0) throw new Error(`${misplaced.map((f) => `--${f}`).join(', ')} need${misplaced.length === 1 ? 's' : ''} -i FILE (the fleet form)`);
        }
        if (args.inventory && args['dry-run'] && !args.output) throw new Error('--dry-run with -i needs -o DIR for the record of what would change');
        return true;
      })
      .epilogue(`Phases, in order:\n${describePhases(RESET_PHASES)}`) as unknown as Argv<ResetArgs>,
  handler: (args) => reset(io, args),
});
