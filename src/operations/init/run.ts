/**
 * Assembles and runs `kbuild init` on this machine: pick the cluster and host, gather its facts
 * (preflight's command, read-only), reuse or create the PKI and secrets in the state directory,
 * render `kbuild render`'s files for the host with those facts (src/kubeadm/host-environment.ts), then
 * run the selected phases through the local transport, or in a dry-run through a directory (writes)
 * over a read-only local transport (reads) with a recording API client.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiClientFromKubeconfig, recordingApiClient, type ApiClient, type RecordedRequest } from '../../kube/client.js';
import type { PkiOptions } from '../../pki/ensure.js';
import { runPhases, type PhaseRecord } from '../../workflow/engine.js';
import { selectPhases } from '../../workflow/select.js';
import { etcdManifest } from '../../render/host.js';
import { initialCluster } from '../../render/etcd.js';
import type { SecretOptions } from '../../state/secrets.js';
import type { RandomInt } from '../../kube/token.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import type { Reporter } from '../../report/reporter.js';
import type { DirectoryTransport } from '../../transport/directory.js';
import { dryRunTransport, readOnlyTransport } from '../../transport/dry-run.js';
import { LocalTransport } from '../../transport/local.js';
import type { Transport } from '../../transport/transport.js';
import { prepareCluster } from '../../state/prepare.js';
import { hostEnvironment } from '../../preflight/facts.js';
import { gatherHostFacts } from '../../preflight/run.js';
import { StateDir } from '../../state/state-dir.js';
import { StateError } from '../../errors/index.js';
import type { RetryOptions } from '../../kube/retry.js';
import { newCertificateKey, decodeCertificateKey } from '../../kube/upload-certs.js';
import { ensureAdminBinding } from '../../kube/admin-binding.js';
import type { InitContext, JoinCommands } from './context.js';
import { INIT_PHASES } from './phases.js';
import { resolveInitTarget } from './target.js';

export interface InitOptions {
  config?: string;
  nodeName?: string;
  stateDir?: string;
  templates?: string;
  skipPhases?: readonly string[];
  /** `kbuild init phase <path>`. */
  only?: string;
  uploadCerts?: boolean;
  certificateKey?: string;
  ignorePreflightErrors?: readonly string[];
  /** Dry-run: write under this directory, send nothing to the API. */
  dryRunDir?: string;
  reporter: Reporter;
  /** Tests: the machine (default LocalTransport), API clients, clock, PKI and secret sources. */
  machine?: Transport;
  apiFor?: (kubeconfig: string, retry?: RetryOptions) => ApiClient;
  apiRetry?: RetryOptions;
  now?: () => Date;
  pki?: PkiOptions;
  secrets?: SecretOptions;
  random?: RandomInt;
}

export interface InitResult {
  host: string;
  stateDir: string;
  files: readonly RenderedFile[];
  records: PhaseRecord[];
  joinCommands?: JoinCommands;
  certificateKey?: string;
  /** Dry-run only. */
  directory?: DirectoryTransport;
  requests?: RecordedRequest[];
}

export async function runInit(options: InitOptions): Promise<InitResult> {
  const machine = options.machine ?? new LocalTransport();
  const dryRun = options.dryRunDir !== undefined;
  const reads = dryRun ? readOnlyTransport(machine) : machine;
  const target = await resolveInitTarget(reads, { config: options.config, nodeName: options.nodeName });
  const { cluster, host } = target;
  const stateRoot =
    options.stateDir ??
    (target.path ? StateDir.defaultPath(target.path, cluster.name) : dryRun ? await mkdtemp(join(tmpdir(), 'kbuild-init-dryrun-state-')) : `/var/lib/kbuild/${cluster.name}`);
  // Whatever phases run, this machine's files follow its facts, as kubeadm init reads its machine.
  const facts = await gatherHostFacts(cluster, host, reads);
  const { state, pki, secrets, rendered } = await prepareCluster({
    inventory: target,
    stateDir: resolve(stateRoot),
    templates: options.templates,
    pki: options.pki,
    secrets: options.secrets,
    hosts: [host],
    hostEnvironments: new Map([[host.name, hostEnvironment(facts.facts)]]),
  });
  // kubeadm's init starts a single-member etcd; the other control planes join it one by one. So the
  // only difference from `kbuild render` (where all members start together) is --initial-cluster.
  const singleMember = cluster.etcd.topology === 'stacked' && cluster.etcdMembers.length > 1;
  const files = rendered.hosts.get(host.name)!.map((f) =>
    singleMember && f.phase === 'etcd/local' ? etcdManifest(cluster, host, { cluster: initialCluster([host]) }) : f,
  );

  const dry = dryRun ? dryRunTransport(machine, resolve(options.dryRunDir!), host.name) : undefined;
  const transport = dry ?? machine;
  const recording = dryRun ? recordingApiClient() : undefined;
  const kubeconfig = (phase: 'kubeconfig/admin' | 'kubeconfig/super-admin') => {
    const file = files.find((f) => f.phase === phase);
    if (!file) throw new StateError(`render gave ${host.name} no ${phase} file; init must run on the first control plane`);
    return file.content.toString();
  };
  const clientFor = options.apiFor ?? apiClientFromKubeconfig;
  let superAdmin: ApiClient | undefined;
  const superAdminApi = () => recording ?? (superAdmin ??= clientFor(kubeconfig('kubeconfig/super-admin'), options.apiRetry));
  let admin: Promise<ApiClient> | undefined;
  // The first API use makes sure admin.conf has its rights, as kubeadm's init client does.
  const adminApi = () =>
    (admin ??= (async () => {
      const client = recording ?? clientFor(kubeconfig('kubeconfig/admin'), options.apiRetry);
      await ensureAdminBinding(client, superAdminApi);
      return client;
    })());
  const certificateKey = options.uploadCerts ? (options.certificateKey ?? newCertificateKey()) : undefined;
  if (certificateKey) decodeCertificateKey(certificateKey);
  const ctx: InitContext = {
    file: target.file,
    cluster,
    host,
    files,
    facts,
    caCertPem: pki.caCertPem,
    secrets,
    transport,
    reporter: options.reporter,
    ignorePreflightErrors: options.ignorePreflightErrors ?? [],
    api: adminApi,
    superAdminApi: () => Promise.resolve(superAdminApi()),
    certificateKey,
    now: options.now ?? (() => new Date()),
    apiRetry: options.apiRetry,
    random: options.random,
  };
  const phases = selectPhases(INIT_PHASES, { only: options.only, skip: options.skipPhases });
  const records = await runPhases(phases, ctx, { concurrency: 1, reporter: options.reporter, skipGates: dryRun });
  return { host: host.name, stateDir: state.root, files, records, joinCommands: ctx.joinCommands, certificateKey, directory: dry?.directory, requests: recording?.requests };
}
