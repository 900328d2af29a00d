/**
 * `kbuild apply`: prepare the PKI and secrets (reusing the state dir), connect to every host (host
 * keys verified), gather each host's facts (preflight's command, read-only) and render with them,
 * then run the selected phases of the tree in order. Writes are told apart as drift or updates with the
 * push record in the state directory; --dry-run connects read-only and records what it would do
 * under DIR, one directory per host.
 */
import { resolve } from 'node:path';
import { endpointUrl, firstControlPlane, type Host } from '../../config/model.js';
import { ensureAdminBinding } from '../../kube/admin-binding.js';
import { apiClientFromKubeconfig, recordingApiClient, type ApiClient } from '../../kube/client.js';
import { joinCommand } from '../../kube/token.js';
import type { InitPhase } from '../../kubeadm/files.js';
import { caCertHash } from '../../pki/ca-hash.js';
import type { Reporter } from '../../report/reporter.js';
import { hostEnvironment } from '../../preflight/facts.js';
import { gatherHostFacts } from '../../preflight/run.js';
import { renderCluster, type RenderedCluster } from '../../render/cluster.js';
import { prepareState } from '../../state/prepare.js';
import { DryRunRecorder } from '../../transport/dry-run.js';
import { Connections, forEachHost } from '../../transport/fleet.js';
import { sshConnector } from '../../transport/ssh/connect.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import type { Transport } from '../../transport/transport.js';
import { runPhases, type PhaseRecord } from '../../workflow/engine.js';
import { selectPhases } from '../../workflow/select.js';
import type { ApplyContext } from './context.js';
import { DriftReportingTransport } from './drift.js';
import { APPLY_PHASES, POD_NETWORK_NEEDED } from './phases.js';
import { describeDifference, PushRecord } from './push-record.js';
import { newRestarts } from './roll.js';

export interface ApplyOptions {
  inventory: string;
  stateDir?: string;
  templates?: string;
  /** Dry run: connect read-only and record what would change under this directory. */
  dryRunDir?: string;
  /** `apply phase <path>`. */
  only?: string;
  skipPhases: readonly string[];
  concurrency: number;
  ignorePreflightErrors: readonly string[];
  acceptNewHostKeys: boolean;
  passphrase?: PassphrasePrompt;
  reporter: Reporter;
}

export interface ApplyResult {
  hosts: string[];
  records: PhaseRecord[];
  /** Dry run: per host what would have been written, run and removed. */
  dryRun?: DryRunRecorder;
  /** What a further worker runs to join. */
  joinCommand: string;
  /** What the cluster still needs from the user (no pod network), said after the join command. */
  notes: string[];
}

export async function runApply(options: ApplyOptions): Promise<ApplyResult> {
  const { reporter } = options;
  const prepared = await prepareState({ inventory: options.inventory, stateDir: options.stateDir, templates: options.templates });
  const { cluster } = prepared;
  const recorder = options.dryRunDir !== undefined ? new DryRunRecorder(resolve(options.dryRunDir)) : undefined;
  const pushRecords = new Map<string, PushRecord>();
  const connectHost = sshConnector({
    acceptNewHostKeys: options.acceptNewHostKeys,
    readOnly: recorder !== undefined,
    passphrase: options.passphrase,
    onReconnect: (host, cause) => reporter.event({ type: 'warn', host: host.name, message: `reconnected after the connection dropped (${cause})` }),
    onKeyWarning: (message) => reporter.event({ type: 'warn', message }),
  });
  const connections = new Connections(async (host: Host): Promise<Transport> => {
    const real = await connectHost(host);
    if (recorder) return recorder.wrap(host.name, real);
    const record = await PushRecord.load(prepared.state, host.name);
    pushRecords.set(host.name, record);
    return new DriftReportingTransport(real, {
      replaced: (path, sha256, previous) => {
        const { level, message } = describeDifference(path, record.classify(path, sha256, previous));
        reporter.event({ type: level, host: host.name, message });
      },
      inSync: (path, sha256) => record.note(path, sha256),
    });
  });
  let rendered: RenderedCluster | undefined;
  const kubeconfig = (phase: InitPhase) => rendered?.hosts.get(firstControlPlane(cluster).name)?.find((f) => f.phase === phase)?.content.toString();
  let api: Promise<ApiClient> | undefined;
  // The admin identity works once its ClusterRoleBinding exists; kubeadm creates it with super-admin.
  const adminApi = async (): Promise<ApiClient> => {
    const admin = kubeconfig('kubeconfig/admin');
    if (recorder || !admin) return recordingApiClient();
    const client = apiClientFromKubeconfig(admin);
    const superAdmin = kubeconfig('kubeconfig/super-admin');
    await ensureAdminBinding(client, () => (superAdmin ? apiClientFromKubeconfig(superAdmin) : undefined));
    return client;
  };
  try {
    // Every host is reached (and its host key verified) before any phase writes anything.
    await connections.reachAll(cluster.hosts, options.concurrency);
    // Whatever phases run, each host's files follow its own facts (src/kubeadm/host-environment.ts),
    // as kubeadm reads its machine; preflight then checks the same facts without asking again.
    const facts = new Map(await forEachHost('facts', cluster.hosts, options.concurrency, async (host) => [host.name, await gatherHostFacts(cluster, host, await connections.get(host))] as const));
    rendered = renderCluster({ ...prepared.context, hostEnvironments: new Map([...facts].map(([name, f]) => [name, hostEnvironment(f.facts)])) });
    const ctx: ApplyContext = {
      cluster,
      file: prepared.file,
      rendered,
      facts,
      reporter,
      concurrency: options.concurrency,
      ignorePreflightErrors: options.ignorePreflightErrors,
      transport: (host) => connections.get(host),
      api: () => (api ??= adminApi()),
      restarts: newRestarts(),
    };
    const phases = selectPhases(APPLY_PHASES, { only: options.only, skip: options.skipPhases });
    const records = await runPhases(phases, ctx, { concurrency: options.concurrency, reporter, skipGates: recorder !== undefined });
    return {
      hosts: cluster.hosts.map((h) => h.name),
      records,
      dryRun: recorder,
      joinCommand: joinCommand(endpointUrl(cluster), prepared.secrets.bootstrapToken, caCertHash(prepared.pki.caCertPem)),
      notes: cluster.networking.cni.type === 'none' ? [POD_NETWORK_NEEDED] : [],
    };
  } finally {
    try {
      // Even a failed run records what it did push, so the next run tells updates from hand edits.
      const saved = await Promise.allSettled([...pushRecords.values()].map((r) => r.save()));
      for (const s of saved) {
        if (s.status === 'rejected') reporter.event({ type: 'warn', message: `could not record what was pushed in ${prepared.state.root}: ${(s.reason as Error).message}; the next apply may report updates as drift` });
      }
    } finally {
      await connections.closeAll();
    }
  }
}
