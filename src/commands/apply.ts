/**
 * kbuild apply: render (reusing the state dir), connect to every host (host keys verified), preflight,
 * then push in phase order with health gates. --dry-run connects read-only and writes what it would
 * push under DIR, listing per host every file it would change and every command it would run.
 */
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { Connections, type ApplyContext } from '../apply/context.js';
import { DriftReportingTransport } from '../apply/drift.js';
import { describeDifference, PushRecord } from '../apply/push-record.js';
import { APPLY_PHASES, POD_NETWORK_NEEDED } from '../apply/phases.js';
import { endpointUrl, firstControlPlane, type Host } from '../config/model.js';
import { MultiHostError } from '../errors/index.js';
import { apiClientFromKubeconfig, recordingApiClient, type ApiClient } from '../kube/client.js';
import { ensureAdminBinding } from '../kube/admin-binding.js';
import { caCertHash } from '../pki/ca-hash.js';
import { runPhases, type PhaseRecord } from '../phases/engine.js';
import { selectPhases } from '../phases/select.js';
import { prepareCluster } from '../render/prepare.js';
import { terminal } from '../report/output.js';
import { reporterFor } from '../report/reporter.js';
import { connectResilient } from '../ssh/connect.js';
import { DirectoryTransport } from '../ssh/directory.js';
import { DryRunTransport } from '../ssh/dry-run.js';
import type { Transport } from '../ssh/transport.js';
import { settleWithLimit } from '../util/pool.js';
import { fleetOptions, inventoryOption, type FleetArgs, type InventoryArgs, withPhases } from './options.js';
import { describeAction } from '../report/dry-run.js';

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

async function apply(args: ApplyArgs): Promise<void> {
  const prepared = await prepareCluster({ inventory: args.inventory, stateDir: args.stateDir, templates: args.templates });
  const { cluster, rendered } = prepared;
  const reporter = await reporterFor(args.format, terminal);
  const outDir = args.output ? resolve(args.output) : undefined;
  const directories = new Map<string, DirectoryTransport>();
  const pushRecords = new Map<string, PushRecord>();
  const connections = new Connections(async (host: Host): Promise<Transport> => {
    const reconnected = (cause: string) => reporter.event({ type: 'warn', host: host.name, message: `reconnected after the connection dropped (${cause})` });
    const real = await connectResilient(host, { acceptNewHostKeys: args.acceptNewHostKeys, readOnly: args.dryRun }, reconnected);
    if (!args.dryRun || !outDir) {
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
    const directory = new DirectoryTransport(join(outDir, host.name), host.name);
    directories.set(host.name, directory);
    return new DryRunTransport(real, directory);
  });
  const firstFiles = rendered.hosts.get(firstControlPlane(cluster).name) ?? [];
  const kubeconfig = (name: string) => firstFiles.find((f) => f.path === `/etc/kubernetes/${name}`)?.content.toString();
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
    const reached = await settleWithLimit(cluster.hosts, args.concurrency, (h) => connections.get(h));
    const failures = reached.flatMap((r, i) => (r.status === 'rejected' ? [{ host: cluster.hosts[i]!.name, error: r.reason as unknown }] : []));
    if (failures.length > 0) throw new MultiHostError('connect', failures);
    const phases = selectPhases(APPLY_PHASES, { only: args.path, skip: args.skipPhases });
    const records = await runPhases(phases, ctx, { concurrency: args.concurrency, reporter, skipGates: args.dryRun });
    summarize(args, records, directories, cluster.hosts.map((h) => h.name));
    if (!args.path && !args.dryRun) {
      printJoinCommands(endpointUrl(cluster).replace(/^https:\/\//, ''), prepared.secrets.bootstrapToken, caCertHash(prepared.pki.caCertPem), args.format);
      if (cluster.networking.cni.type === 'none') terminal.print(args.format === 'json' ? JSON.stringify({ type: 'info', message: POD_NETWORK_NEEDED }) : `Note: ${POD_NETWORK_NEEDED}`);
    }
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

function summarize(args: ApplyArgs, records: PhaseRecord[], directories: Map<string, DirectoryTransport>, hosts: string[]): void {
  if (args.format === 'json') return;
  terminal.print('');
  for (const host of hosts) {
    if (args.dryRun) {
      const actions = directories.get(host)?.actions.map((a) => `  ${describeAction(a)}`) ?? [];
      terminal.print(actions.length === 0 ? `${host}: no changes` : `${host}:\n${actions.join('\n')}`);
      continue;
    }
    const changed = records.flatMap((r) => r.changed.get(host) ?? []);
    terminal.print(changed.length === 0 ? `${host}: no changes` : `${host}: ${changed.length} file${changed.length === 1 ? '' : 's'} changed`);
  }
  const clusterWide = records.flatMap((r) => r.changed.get('') ?? []);
  if (clusterWide.length > 0) terminal.print(`API objects applied: ${clusterWide.join(', ')}`);
  if (args.dryRun) terminal.print(`Dry run: nothing was changed; the files above are under ${args.output}`);
}

function printJoinCommands(endpoint: string, token: string, hash: string, format: 'text' | 'json'): void {
  const worker = `kbuild join ${endpoint} --token ${token} --discovery-token-ca-cert-hash ${hash}`;
  if (format === 'json') {
    terminal.print(JSON.stringify({ type: 'join-command', worker }));
    return;
  }
  terminal.print(`\nTo join further worker nodes, run on each as root:\n\n  ${worker}\n`);
}

export const applyCommand: CommandModule<object, ApplyArgs> = {
  command: 'apply',
  describe: 'Bring every host to its rendered state over SSH, in startup order, gated on health',
  builder: (yargs: Argv) => withPhases<ApplyArgs>(applyOptions(yargs), APPLY_PHASES, applyOptions, apply),
  handler: apply,
};
