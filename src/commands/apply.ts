/**
 * kbuild apply: render (reusing the state dir), connect to every host (host keys verified), preflight,
 * then push in phase order with health gates. --dry-run connects read-only and writes what it would
 * push under DIR, listing per host every file it would change and every command it would run.
 */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { ApplyContext } from '../apply/context.js';
import { DriftReportingTransport } from '../apply/drift.js';
import { describeDifference, PushRecord } from '../apply/push-record.js';
import { APPLY_PHASES } from '../apply/phases.js';
import { endpointUrl, firstControlPlane, type Host } from '../config/model.js';
import { apiClientFromKubeconfig, recordingApiClient, type ApiClient } from '../kube/client.js';
import { ensureAdminBinding } from '../kube/admin-binding.js';
import { joinCommand } from '../kube/token.js';
import { caCertHash } from '../pki/ca-hash.js';
import { runPhases, type PhaseRecord } from '../workflow/engine.js';
import { selectPhases } from '../workflow/select.js';
import { prepareCluster } from '../state/prepare.js';
import type { Io } from '../report/output.js';
import { reporterFor } from '../report/choose.js';
import { terminalSecretPrompt } from '../report/prompts.js';
import { DryRunRecorder } from '../transport/dry-run.js';
import { Connections } from '../transport/fleet.js';
import { sshConnector } from '../transport/ssh/connect.js';
import type { Transport } from '../transport/transport.js';
import { fleetOptions, inventoryOption, type FleetArgs, type InventoryArgs, withPhases } from './options.js';
import { describeAction } from '../report/dry-run.js';
import { PATHS } from '../kubeadm/constants.js';

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
  const prepared = await prepareCluster({ inventory: args.inventory, stateDir: args.stateDir, templates: args.templates });
  const { cluster, rendered } = prepared;
  const reporter = await reporterFor(io, args.format);
  const recorder = args.dryRun && args.output ? new DryRunRecorder(resolve(args.output)) : undefined;
  const pushRecords = new Map<string, PushRecord>();
  const connectHost = sshConnector({
    acceptNewHostKeys: args.acceptNewHostKeys,
    readOnly: args.dryRun,
    passphrase: terminalSecretPrompt(io.streams),
    onReconnect: (host, cause) => reporter.event({ type: 'warn', host: host.name, message: `reconnected after the connection dropped (${cause})` }),
  });
  const connections = new Connections(async (host: Host): Promise<Transport> => {
    const real = await connectHost(host);
    if (!recorder) {
      const record = await PushRecord.load(prepared.state, host.name);
      pushRecords.set(host.name, record);
      return new DriftReportingTransport(real, {
        replaced: (path, sha256, previous) => {
          const { level, message } = describeDifference(path, record.classify(path, sha256, previous));
          reporter.event({ type: level, host: host.name, message });
        },
        inSync: (path, sha256) => record.note(path, sha256),
      });
    }
    return recorder.wrap(host.name, real);
  });
  const firstFiles = rendered.hosts.get(firstControlPlane(cluster).name) ?? [];
  const kubeconfig = (name: string) => firstFiles.find((f) => f.path === `${PATHS.kubernetesDir}/${name}`)?.content.toString();
  let api: Promise<ApiClient> | undefined;
  // The admin identity works once its ClusterRoleBinding exists; kubeadm creates it with super-admin.
  const adminApi = async (): Promise<ApiClient> => {
    const admin = kubeconfig('admin.conf');
    if (args.dryRun || !admin) return recordingApiClient();
    const client = apiClientFromKubeconfig(admin);
    const superAdmin = kubeconfig('super-admin.conf');
    await ensureAdminBinding(client, () => (superAdmin ? apiClientFromKubeconfig(superAdmin) : undefined));
    return client;
  };
  const ctx: ApplyContext = {
    cluster,
    rendered,
    reporter,
    concurrency: args.concurrency,
    ignorePreflightErrors: args.ignorePreflightErrors,
    transport: (host) => connections.get(host),
    api: () => (api ??= adminApi()),
  };
  try {
    // Every host is reached (and its host key verified) before any phase writes anything.
    await connections.reachAll(cluster.hosts, args.concurrency);
    const phases = selectPhases(APPLY_PHASES, { only: args.path, skip: args.skipPhases });
    const records = await runPhases(phases, ctx, { concurrency: args.concurrency, reporter, skipGates: args.dryRun });
    summarize(io, args, records, recorder, cluster.hosts.map((h) => h.name));
    if (!args.path && !args.dryRun) printJoinCommands(io, joinCommand(endpointUrl(cluster), prepared.secrets.bootstrapToken, caCertHash(prepared.pki.caCertPem)), args.format);
  } finally {
    try {
      // Even a failed run records what it did push, so the next run tells updates from hand edits.
      const saved = await Promise.allSettled([...pushRecords.values()].map((r) => r.save()));
      for (const s of saved) {
        if (s.status === 'rejected') reporter.event({ type: 'warn', message: `could not record what was pushed in ${prepared.state.root}: ${(s.reason as Error).message}; the next apply may report updates as drift` });
      }
    } finally {
      await reporter.close();
      await connections.closeAll();
    }
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
  builder: (yargs: Argv) => withPhases<ApplyArgs>(applyOptions(yargs), APPLY_PHASES, applyOptions, (args) => apply(io, args)),
  handler: (args) => apply(io, args),
});
