/**
 * Rolling out new certificate and kubeconfig files: plan the steps (pure), then per step back up the
 * files it replaces on the host, write the new ones, make the static pod that reads them load them
 * (restart it; etcd's certificates need no restart, it reads them per TLS handshake) and wait for its
 * health gate — one host at a time, in startup order: etcd members, apiservers, controller-managers,
 * schedulers. A step that fails puts that host's old files back, loads them again the same way and
 * stops the roll-out, naming the host and the last health error.
 */
import { type Cluster, type Host } from '../config/model.js';
import { describe } from '../errors/index.js';
import { waitForGate, type EngineOptions } from '../workflow/engine.js';
import type { HealthGate } from '../workflow/types.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../transport/transport.js';
import { backUp, restore } from './backup.js';
import { RolloutError } from '../errors/index.js';
import { restartStaticPod } from './restart.js';
import { handOffLeadership, leaderName } from './etcd-leader.js';
import { runProbe, type Probe } from '../health/probes.js';
import { gateProbes, handshakeGateProbes, hasStackedApiserver, listenAddress, localEtcdApi, manifestReads, podLoad, type PodLoad } from './pods.js';
import { serversUp, setStateCommand, stateChangeError } from './lb-rotation.js';
import { shellQuote } from '../transport/quote.js';
import { syncFiles } from '../transport/sync.js';
import { STATIC_PODS, STATIC_POD_OF, manifestOf, type RenderedFile, type StaticPod } from '../kubeadm/files.js';
import { PATHS } from '../kubeadm/constants.js';

/** How the pod loads the step's files (podLoad); a `handshake` step names etcd's certificate files through its manifest. */
type StepLoad = { load: Exclude<PodLoad, 'handshake'>; manifest?: string } | { load: 'handshake'; manifest: string };

export type RollStep = {
  host: Host;
  pod: StaticPod;
  /** The new files this step writes. */
  files: RenderedFile[];
} & StepLoad;

/** The step's load, with the rendered manifest it was decided from. */
export function stepLoad(pod: StaticPod, manifest: string | undefined, paths: readonly string[]): StepLoad {
  const load = podLoad(pod, manifest, paths);
  return load === 'handshake' ? { load, manifest: manifest! } : { load, ...(manifest === undefined ? {} : { manifest }) };
}

/**
 * Orders the changed files into steps. A file belongs to the pod whose manifest (as rendered for
 * that host) names it; files no manifest reads (admin.conf, the etcd healthcheck client) ride along
 * with their component's step without loading anything.
 */
export function planRollout(cluster: Cluster, changed: ReadonlyMap<string, readonly RenderedFile[]>, rendered: ReadonlyMap<string, readonly RenderedFile[]>): RollStep[] {
  const steps: RollStep[] = [];
  const hostsFor = (pod: StaticPod) => (pod === 'etcd' ? cluster.etcdMembers : cluster.controlPlanes);
  const podOf = (host: Host, file: RenderedFile): StaticPod | undefined => {
    const manifests = manifestsOf(rendered.get(host.name) ?? []);
    return STATIC_PODS.find((pod) => manifests.has(pod) && manifestReads(manifests.get(pod)!, file.path)) ?? STATIC_POD_OF[file.component];
  };
  for (const pod of STATIC_PODS) {
    for (const host of hostsFor(pod)) {
      const files = (changed.get(host.name) ?? []).filter((f) => podOf(host, f) === pod);
      if (files.length === 0) continue;
      const manifest = manifestsOf(rendered.get(host.name) ?? []).get(pod);
      steps.push({ host, pod, files, ...stepLoad(pod, manifest, files.map((f) => f.path)) });
    }
  }
  const placed = new Set(steps.flatMap((s) => s.files.map((f) => `${s.host.name}\u0000${f.path}`)));
  const unplaced = [...changed].flatMap(([host, files]) => files.filter((f) => !placed.has(`${host}\u0000${f.path}`)).map((f) => `${host}:${f.path}`));
  if (unplaced.length > 0) throw new Error(`planRollout: no static pod step for ${unplaced.join(', ')}; this is a bug in kbuild`);
  return steps;
}

function manifestsOf(files: readonly RenderedFile[]): Map<StaticPod, string> {
  const out = new Map<StaticPod, string>();
  for (const pod of STATIC_PODS) {
    const file = manifestOf(files, pod);
    if (file) out.set(pod, file.content.toString());
  }
  return out;
}

export interface RolloutOptions {
  cluster: Cluster;
  transport(host: Host): Promise<Transport>;
  reporter: Reporter;
  /** Backup directory on each host (hostBackupDir). */
  backupDir: string;
  gateTimeoutMs?: number;
  gateIntervalMs?: number;
  downTimeoutMs?: number;
  /** Injected for tests. */
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
}

const DEFAULTS = { gateTimeoutMs: 4 * 60_000, gateIntervalMs: 1000, downTimeoutMs: 60_000 };

export interface StepRecord {
  host: string;
  pod: StaticPod;
  written: string[];
  /** What loaded the files: a restart, etcd's next handshakes, or nothing (the pod does not read them). */
  loaded: PodLoad;
}

export async function executeRollout(steps: readonly RollStep[], options: RolloutOptions): Promise<StepRecord[]> {
  const firstMember = steps.find((s) => s.pod === 'etcd' && s.load === 'restart');
  const leader = firstMember ? await leaderName(await options.transport(firstMember.host), localEtcdApi(firstMember.host)) : undefined;
  const records: StepRecord[] = [];
  for (const step of leaderLast(steps, leader)) records.push(await executeStep(step, options));
  return records;
}

/**
 * The etcd member that leads restarts after the others: its hand-off then goes to a member already
 * restarted, and the roll-out changes leader once instead of up to once per member (every leader
 * change fails the reads in flight with "etcdserver: leader changed"). Other steps keep their order.
 */
export function leaderLast(steps: readonly RollStep[], leader: string | undefined): RollStep[] {
  const isLeaders = (s: RollStep) => s.pod === 'etcd' && s.host.name === leader;
  const lastEtcd = steps.findLastIndex((s) => s.pod === 'etcd');
  if (leader === undefined || !steps.some(isLeaders)) return [...steps];
  const rest = steps.filter((s) => !isLeaders(s));
  return [...rest.slice(0, lastEtcd), ...steps.filter(isLeaders), ...rest.slice(lastEtcd)];
}

export async function executeStep(step: RollStep, options: RolloutOptions): Promise<StepRecord> {
  const { host, pod } = step;
  const transport = await options.transport(host);
  const paths = step.files.map((f) => f.path);
  const rotation = step.load === 'restart' ? await rotationFor(step, options) : [];
  // Draining this apiserver must leave HAProxy others to send to: wait until it has them all.
  for (const lb of rotation) await waitForGate(probeGate(`HAProxy sends to the other apiservers (before ${host.name}'s ${pod} restarts)`, lb.transport, serversUp(others(options.cluster, host)), options), null, lb.host, `rollout/${pod}`, engineOf(options));
  const backup = await backUp(transport, options.backupDir, paths);
  // One batch (one SSH channel), so a key and its certificate change close together: etcd's next
  // handshake reads whatever pair is on disk. A batch cut halfway puts the old files back.
  try {
    await syncFiles(transport, step.files);
  } catch (error) {
    await restore(transport, options.backupDir, backup).catch(() => undefined);
    throw error;
  }
  options.reporter.event({ type: 'info', host: host.name, message: `${pod}: wrote ${paths.join(', ')} (old files in ${options.backupDir})` });
  const record = { host: host.name, pod, written: paths, loaded: step.load };
  if (step.load === 'none') return record;

  const load = () => (step.load === 'handshake' ? handshakeGate(step, step.manifest, transport, options) : outOfRotation(step, rotation, options, () => restartAndGate(step, transport, options)));
  const failure = await load();
  if (failure === undefined) return record;

  options.reporter.event({ type: 'warn', host: host.name, message: `${pod}: ${failure}; restoring the previous files from ${options.backupDir}` });
  await restore(transport, options.backupDir, backup);
  const again = await load();
  throw new RolloutError(host.name, pod, failure, options.backupDir, again === undefined ? 'recovered' : again, step.load === 'restart' ? 'restarted' : 'serves them again');
}

interface LoadBalancerHost {
  host: Host;
  transport: Transport;
}

const others = (cluster: Cluster, host: Host) => cluster.controlPlanes.filter((h) => h.name !== host.name).map((h) => h.name);
const engineOf = (options: RolloutOptions): EngineOptions => ({ concurrency: 1, reporter: options.reporter, now: options.now, delay: options.delay });
const probeGate = (name: string, transport: Transport, probe: Probe, options: RolloutOptions): HealthGate<null> => ({
  name,
  timeoutMs: options.gateTimeoutMs ?? DEFAULTS.gateTimeoutMs,
  intervalMs: options.gateIntervalMs ?? DEFAULTS.gateIntervalMs,
  check: () => runProbe(transport, probe),
});

/** Waits for each gate in turn; undefined when all passed, else what the first that did not pass last saw. */
async function firstFailedGate(gates: ReadonlyArray<{ name: string; host: Host; transport: Transport; probe: Probe }>, pod: StaticPod, options: RolloutOptions): Promise<string | undefined> {
  for (const { name, host, transport, probe } of gates) {
    try {
      await waitForGate(probeGate(name, transport, probe, options), null, host, `rollout/${pod}`, engineOf(options));
    } catch (error) {
      return describe(error);
    }
  }
  return undefined;
}

/**
 * The HAProxy hosts to take this step's apiserver out of: when the pod restarting is the apiserver,
 * or the stacked etcd member that is that apiserver's first etcd server. Only HAProxy that kbuild runs on
 * load-balancer hosts has the admin socket; one without it (an older haproxy.cfg) is left alone.
 */
async function rotationFor(step: RollStep, options: RolloutOptions): Promise<LoadBalancerHost[]> {
  const { cluster } = options;
  const servesApi = step.pod === 'kube-apiserver' || (step.pod === 'etcd' && hasStackedApiserver(cluster, step.host));
  // With one control plane there is no other apiserver to send to: nothing to drain towards.
  if (!servesApi || cluster.loadBalancer.placement !== 'hosts' || others(cluster, step.host).length === 0) return [];
  const lbs: LoadBalancerHost[] = [];
  for (const host of cluster.loadBalancers) {
    const transport = await options.transport(host);
    const probe = await transport.run(`test -S ${shellQuote(PATHS.haproxyAdminSocket)}`, { timeoutMs: 20_000, readOnly: true });
    if (probe.code === 0) lbs.push({ host, transport });
    else options.reporter.event({ type: 'warn', host: host.name, message: `HAProxy has no admin socket ${PATHS.haproxyAdminSocket}: ${step.host.name}'s apiserver stays in its rotation while ${step.pod} restarts (kbuild apply renders haproxy.cfg with it)` });
  }
  return lbs;
}

/** Runs `restart` with this host drained on every load balancer; puts it back whatever happens, then waits until each sends to it again. */
async function outOfRotation(step: RollStep, lbs: readonly LoadBalancerHost[], options: RolloutOptions, restart: () => Promise<string | undefined>): Promise<string | undefined> {
  const server = step.host.name;
  const setState = async (state: 'drain' | 'ready'): Promise<string | undefined> => {
    const errors: string[] = [];
    for (const lb of lbs) {
      const error = stateChangeError(await lb.transport.run(setStateCommand(server, state), { timeoutMs: 20_000 }));
      if (error !== undefined) errors.push(`${lb.host.name}: ${error}`);
    }
    return errors.length > 0 ? `HAProxy did not set ${server} to ${state}: ${errors.join('; ')}` : undefined;
  };
  if (lbs.length === 0) return restart();
  const drained = await setState('drain');
  if (drained !== undefined) {
    await setState('ready');
    return drained;
  }
  options.reporter.event({ type: 'info', host: server, message: `${step.pod}: ${server}'s apiserver drained on ${lbs.map((l) => l.host.name).join(', ')} while it restarts` });
  let failure: string | undefined;
  try {
    failure = await restart();
  } finally {
    const readied = await setState('ready');
    failure ??= readied;
  }
  if (failure !== undefined) return failure;
  return firstFailedGate(lbs.map((lb) => ({ name: `HAProxy sends to ${server} again`, host: lb.host, transport: lb.transport, probe: serversUp([server]) })), step.pod, options);
}

const RELOADS = {
  etcd: 'etcd reads its certificate files on each new TLS connection',
  'kube-apiserver': 'kube-apiserver reloads its serving certificate when the files change',
} as const;

/** A pod that loads its changed certificate files itself (etcd, kube-apiserver's serving pair): new connections get them, the pod stays healthy. */
async function handshakeGate(step: RollStep, manifest: string, transport: Transport, options: RolloutOptions): Promise<string | undefined> {
  const { host, pod } = step;
  const why = pod === 'etcd' || pod === 'kube-apiserver' ? RELOADS[pod] : `${pod} loads them itself`;
  options.reporter.event({ type: 'info', host: host.name, message: `${pod}: no restart, ${why}; checking what it serves` });
  return firstFailedGate(handshakeGateProbes(options.cluster, host, pod, manifest).map((g) => ({ ...g, host, transport })), pod, options);
}

/** Restarts the pod and waits for its gates; undefined when healthy, else the last error seen. */
async function restartAndGate(step: RollStep, transport: Transport, options: RolloutOptions): Promise<string | undefined> {
  const { cluster, reporter } = options;
  const { host, pod } = step;
  const downTimeoutMs = options.downTimeoutMs ?? DEFAULTS.downTimeoutMs;
  if (pod === 'etcd') {
    const handOff = await handOffLeadership(transport, localEtcdApi(host));
    if (handOff.moved) reporter.event({ type: 'info', host: host.name, message: `etcd: leadership handed to ${handOff.to} before the restart` });
    else if ('warning' in handOff) reporter.event({ type: 'warn', host: host.name, message: `etcd: ${handOff.warning}` });
  }
  reporter.event({ type: 'info', host: host.name, message: `restart ${pod}: manifest moved out of ${PATHS.manifests} until it stops, then back` });
  const restarted = await restartStaticPod(transport, pod, { parkDir: `${options.backupDir}/parked-manifests`, listen: listenAddress(cluster, host, pod), downTimeoutMs });
  if (!restarted.ok) return restarted.error;
  return firstFailedGate(gateProbes(cluster, host, pod).map((g) => ({ ...g, host, transport })), pod, options);
}
