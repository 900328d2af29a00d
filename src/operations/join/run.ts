/**
 * Assembles and runs `kbuild join` on this machine. Token discovery comes first and writes nothing:
 * a wrong hash, an expired token or a bad signature stops here. Then the cluster model and host are
 * resolved and the selected phases run through the local transport, or in a dry-run through a
 * directory (writes) over a read-only local transport (reads), with API writes recorded.
 */
import { resolve } from 'node:path';
import { apiClientFromKubeconfig, recordingApiClient, type ApiClient, type RecordedRequest } from '../../kube/client.js';
import { runPhases, type PhaseRecord } from '../../workflow/engine.js';
import { selectPhases } from '../../workflow/select.js';
import type { Reporter } from '../../report/reporter.js';
import type { DirectoryTransport } from '../../transport/directory.js';
import { dryRunTransport, readOnlyTransport } from '../../transport/dry-run.js';
import { LocalTransport } from '../../transport/local.js';
import type { Transport } from '../../transport/transport.js';
import { loadTemplates } from '../../templates/index.js';
import { FileError, UsageError } from '../../errors/index.js';
import type { RetryOptions } from '../../kube/retry.js';
import { discoverClusterInfo, parsePins, type DiscoveryOptions } from '../../kube/cluster-info.js';
import { parseToken } from '../../kube/token.js';
import { decodeCertificateKey } from '../../kube/upload-certs.js';
import type { JoinContext } from './context.js';
import { joinBootstrapKubeconfig } from './kubelet-files.js';
import { JOIN_PHASES } from './phases.js';
import { resolveJoinTarget } from './target.js';
import { PATHS } from '../../kubeadm/constants.js';
import { gatherHostFacts } from '../../preflight/run.js';

export interface JoinOptions {
  /** host:port of the API server. */
  endpoint: string;
  token: string;
  caCertHashes: readonly string[];
  controlPlane?: boolean;
  certificateKey?: string;
  nodeName?: string;
  config?: string;
  templates?: string;
  skipPhases?: readonly string[];
  /** `kbuild join phase <path>`. */
  only?: string;
  ignorePreflightErrors?: readonly string[];
  dryRunDir?: string;
  reporter: Reporter;
  /** Tests: the machine, API clients, discovery timing, retry and gate clocks, the certificates' start time. */
  machine?: Transport;
  apiFor?: (kubeconfig: string, retry?: RetryOptions) => ApiClient;
  discovery?: Pick<DiscoveryOptions, 'timeoutMs' | 'intervalMs' | 'now' | 'delay' | 'onRetry'>;
  apiRetry?: RetryOptions;
  gates?: { now?: () => number; delay?: (ms: number) => Promise<void> };
  now?: () => Date;
}

export interface JoinResult {
  host: string;
  controlPlane: boolean;
  server: string;
  records: PhaseRecord[];
  etcdInitialCluster?: string;
  directory?: DirectoryTransport;
  requests?: RecordedRequest[];
}

export async function runJoin(options: JoinOptions): Promise<JoinResult> {
  // Flags first: nothing is fetched with a malformed token, pin or key.
  const token = parseToken(options.token);
  const pins = parsePins(options.caCertHashes);
  const controlPlane = options.controlPlane ?? false;
  if (controlPlane) {
    if (!options.certificateKey) throw new UsageError('--control-plane needs --certificate-key KEY (printed by `kbuild init --upload-certs`)');
    decodeCertificateKey(options.certificateKey);
  } else if (options.certificateKey) {
    throw new UsageError('--certificate-key is used only with --control-plane');
  }
  const tokenString = `${token.id}.${token.secret}`;
  const discovered = await discoverClusterInfo({ endpoint: options.endpoint, token: tokenString, caCertHashes: pins, ...options.discovery });

  const machine = options.machine ?? new LocalTransport();
  const dryRun = options.dryRunDir !== undefined;
  const reads = dryRun ? readOnlyTransport(machine) : machine;
  const clientFor = options.apiFor ?? apiClientFromKubeconfig;
  // A dry run reads from the cluster as the bootstrap token (it needs what init published) and records every request; writes are only recorded.
  const recording = dryRun ? recordingApiClient() : undefined;
  const realBootstrap = clientFor(joinBootstrapKubeconfig(discovered, tokenString), options.apiRetry);
  const bootstrap = recording ? recordingApiClient({ readsFrom: realBootstrap, requests: recording.requests }) : realBootstrap;
  const target = await resolveJoinTarget(reads, bootstrap, { config: options.config, nodeName: options.nodeName, controlPlane, endpoint: options.endpoint });

  // Read-only; whatever phases run, this machine's files follow its facts, as kubeadm join reads its machine.
  const facts = await gatherHostFacts(target.cluster, target.host, reads);

  const dry = dryRun ? dryRunTransport(machine, resolve(options.dryRunDir!), target.host.name) : undefined;
  const transport = dry ?? machine;
  const ctx: JoinContext = {
    cluster: target.cluster,
    host: target.host,
    controlPlane,
    discovered,
    token: tokenString,
    certificateKey: options.certificateKey,
    transport,
    facts,
    reporter: options.reporter,
    templates: await loadTemplates(options.templates),
    ignorePreflightErrors: options.ignorePreflightErrors ?? [],
    bootstrapApi: () => bootstrap,
    adminApi: async () => {
      if (recording) return recording;
      const admin = (await transport.readFile(PATHS.adminKubeconfig))?.toString();
      if (!admin) throw new FileError(PATHS.adminKubeconfig, 'does not exist; run `kbuild join phase control-plane-prepare/kubeconfig` first');
      return clientFor(admin, options.apiRetry);
    },
    now: options.now ?? (() => new Date()),
    apiRetry: options.apiRetry,
  };
  const phases = selectPhases(JOIN_PHASES, { only: options.only, skip: options.skipPhases });
  const records = await runPhases(phases, ctx, { concurrency: 1, reporter: options.reporter, skipGates: dryRun, ...options.gates });
  return { host: target.host.name, controlPlane, server: discovered.server, records, etcdInitialCluster: ctx.etcdInitialCluster, directory: dry?.directory, requests: recording?.requests };
}
