/**
 * Builds the reset context for either form and runs the phases: on this machine (LocalTransport),
 * or across the cluster file's hosts over SSH. A dry run connects read-only and records every
 * removal and command through a DirectoryTransport per host instead of performing it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadClusterFile } from '../../config/load.js';
import { DEFAULT_SSH_TIMING, isEtcdMember, type Host } from '../../config/model.js';
import { StateError, UsageError } from '../../errors/index.js';
import { runPhases, type PhaseRecord } from '../../workflow/engine.js';
import { selectPhases } from '../../workflow/select.js';
import type { Reporter } from '../../report/reporter.js';
import { sshConnector } from '../../transport/ssh/connect.js';
import type { RecordedAction } from '../../transport/directory.js';
import { DryRunRecorder } from '../../transport/dry-run.js';
import { Connections } from '../../transport/fleet.js';
import { LocalTransport } from '../../transport/local.js';
import type { Transport } from '../../transport/transport.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import { StateDir } from '../../state/state-dir.js';
import { closest } from '../../util/suggest.js';
import type { YesNoPrompt } from '../../report/prompts.js';
import { etcdDataDecider } from './confirm.js';
import type { ResetContext } from './context.js';
import { RESET_PHASES } from './phases.js';
import { PATHS } from '../../kubeadm/constants.js';

/** The name dry-run output and summaries use for the machine kbuild runs on (the state directory). */
export const THIS_MACHINE = 'this-machine';

export interface ResetOptions {
  force: boolean;
  dryRun: boolean;
  /** Dry-run directory; a temporary one (removed afterwards) on the host form when omitted. */
  output?: string;
  skipPhases: readonly string[];
  reporter: Reporter;
  prompt: YesNoPrompt;
}

export interface FleetResetOptions extends ResetOptions {
  inventory: string;
  hosts: readonly string[];
  stateDir?: string;
  purgeState: boolean;
  concurrency: number;
  acceptNewHostKeys: boolean;
  /** Asks for an SSH key's passphrase (on a terminal). */
  passphrase?: PassphrasePrompt;
  /** Injected for tests; SSH otherwise. */
  connectHost?: (host: Host) => Promise<Transport>;
  /** Injected for tests; this machine otherwise. */
  local?: Transport;
}

export interface LocalResetOptions extends ResetOptions {
  /** Injected for tests; this machine otherwise. */
  local?: Transport;
  isRoot?: boolean;
}

export interface ResetResult {
  hosts: string[];
  records: PhaseRecord[];
  /** Dry run only: per host (and THIS_MACHINE) what would be removed or run. */
  wouldDo?: Map<string, readonly RecordedAction[]>;
  output?: string;
}

export function selectTargets(hosts: readonly Host[], names: readonly string[], file: string): Host[] {
  const wanted = names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  if (wanted.length === 0) return [...hosts];
  const known = hosts.map((h) => h.name);
  for (const name of wanted) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    throw new UsageError(`--hosts: ${file} has no host "${name}"${guess ? `; did you mean "${guess}"?` : ''}. Hosts: ${known.join(', ')}`);
  }
  return hosts.filter((h) => wanted.includes(h.name));
}

async function execute(ctx: ResetContext, options: ResetOptions): Promise<PhaseRecord[]> {
  const phases = selectPhases(RESET_PHASES, { skip: options.skipPhases });
  return runPhases(phases, ctx, { concurrency: ctx.concurrency, reporter: options.reporter, skipGates: options.dryRun });
}

export async function resetFleet(options: FleetResetOptions): Promise<ResetResult> {
  const { path, cluster } = await loadClusterFile(options.inventory);
  const targets = selectTargets(cluster.hosts, options.hosts, path);
  if (options.purgeState && targets.length < cluster.hosts.length) {
    throw new UsageError('--purge-state removes the CA and keys every host of the cluster relies on; use it only when resetting every host (without --hosts)');
  }
  if (options.dryRun && !options.output) throw new UsageError('--dry-run with -i needs -o DIR for the record of what would change');
  const recorder = options.dryRun ? new DryRunRecorder(resolve(options.output!)) : undefined;
  const connectHost =
    options.connectHost ??
    sshConnector({
      acceptNewHostKeys: options.acceptNewHostKeys,
      readOnly: options.dryRun,
      passphrase: options.passphrase,
      onReconnect: (h, cause) => options.reporter.event({ type: 'warn', host: h.name, message: `reconnected after the connection dropped (${cause})` }),
      onKeyWarning: (message) => options.reporter.event({ type: 'warn', message }),
    });
  const connections = new Connections(async (h) => {
    const real = await connectHost(h);
    return recorder ? recorder.wrap(h.name, real) : real;
  });
  const local = options.local ?? new LocalTransport(THIS_MACHINE);
  const ctx: ResetContext = {
    targets,
    reporter: options.reporter,
    concurrency: options.concurrency,
    transport: (h) => connections.get(h),
    decideEtcdData: etcdDataDecider(options),
    removedMembers: new Map(),
    // A custom directory is an etcd member's only: on other hosts it may be anything else's.
    etcdDataDir: (h) => (isEtcdMember(cluster, h) ? cluster.etcd.dataDir : PATHS.etcdData),
    etcdDataDirs: new Map(),
    stateDir: {
      path: resolve(options.stateDir ?? StateDir.defaultPath(path, cluster.name)),
      purge: options.purgeState,
      transport: recorder ? recorder.wrap(THIS_MACHINE, local) : local,
    },
  };
  try {
    // Every target is reached (host keys verified) before anything is removed anywhere.
    await connections.reachAll(targets, options.concurrency);
    const records = await execute(ctx, options);
    return { hosts: targets.map((h) => h.name), records, wouldDo: recorder?.actions(), output: recorder?.root };
  } finally {
    await connections.closeAll();
  }
}

/** This machine as a cluster host: only its name is used, in messages. */
function thisHost(name: string): Host {
  return { name, address: '127.0.0.1', roles: [], ssh: { address: 'localhost', user: 'root', port: 22, knownHostsFile: '', sudo: false, ...DEFAULT_SSH_TIMING } };
}

export async function resetThisHost(options: LocalResetOptions): Promise<ResetResult> {
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!options.dryRun && !isRoot) throw new StateError(`kbuild reset removes files under ${PATHS.kubernetesDir} and /var/lib and stops services: run it as root (sudo kbuild reset), or see what it would do with --dry-run`);
  const probe = options.local ?? new LocalTransport();
  const name = (await probe.run('hostname', { readOnly: true, timeoutMs: 10_000 })).stdout.trim() || 'localhost';
  const real = options.local ?? new LocalTransport(name);
  const temporary = options.dryRun && !options.output ? await mkdtemp(join(tmpdir(), 'kbuild-reset-dry-run-')) : undefined;
  const recorder = options.dryRun ? new DryRunRecorder(resolve(options.output ?? temporary!)) : undefined;
  const transport = recorder ? recorder.wrap(name, real) : real;
  const host = thisHost(name);
  const ctx: ResetContext = {
    targets: [host],
    reporter: options.reporter,
    concurrency: 1,
    transport: () => Promise.resolve(transport),
    decideEtcdData: etcdDataDecider(options),
    removedMembers: new Map(),
    // No cluster file here: the host's etcd manifest says where the data is (kubeadm's default without one).
    etcdDataDir: () => PATHS.etcdData,
    etcdDataDirs: new Map(),
  };
  try {
    const records = await execute(ctx, options);
    return { hosts: [name], records, wouldDo: recorder?.actions(), output: temporary ? undefined : recorder?.root };
  } finally {
    await transport.close();
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}
