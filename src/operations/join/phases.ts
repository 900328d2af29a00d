/**
 * `kbuild join`'s phase tree, with kubeadm's names and order (§5.2). Control-plane phases target
 * this host only with --control-plane (and etcd-join only with stacked etcd); otherwise they are
 * skipped with the reason. The same phases run against this machine or, in a dry-run, a directory.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { Host } from '../../config/model.js';
import { StateError } from '../../errors/index.js';
import { isForbidden } from '../../kube/client.js';
import { controlPlaneProbes, etcdHealth, kubeletHealthz, probeAll, type GateCheck, type Probe } from '../../health/probes.js';
import type { Phase, StepOutcome } from '../../workflow/types.js';
import { hostEnvironment } from '../../preflight/facts.js';
import { runPreflight } from '../../preflight/run.js';
import { runChecked } from '../../transport/run.js';
import { pushFiles } from '../../transport/sync.js';
import { PATHS } from '../../kubeadm/constants.js';
import { sleep } from '../../util/pool.js';
import { controlPlaneMarks, markNode } from '../../kube/node.js';
import { downloadSharedCerts } from '../../kube/upload-certs.js';
import { restartKubelet } from '../../static-pods/restart.js';
import type { JoinContext } from './context.js';
import { controlPlaneManifests, etcdManifest } from '../../render/host.js';
import { joinPkiFiles } from './control-plane.js';
import { addLearnerCommand, existingEndpoints, joiningInitialCluster, listMembersCommand, ownMember, promoteCommand } from './etcd.js';
import { parseMemberList } from '../../static-pods/etcd-api.js';
import { kubeletConfUsable as kubeletConfUsableOn, removeBootstrapKubeconfig as removeBootstrapKubeconfigOn } from '../kubelet-bootstrap.js';
import { joinKubeletFiles, publishedKubeletConfig } from './kubelet-files.js';

const MINUTE = 60_000;
const ETCD_PROMOTE_TIMEOUT_MS = 2 * MINUTE;
const ETCD_PROMOTE_INTERVAL_MS = 1000;

const controlPlaneOnly = (ctx: JoinContext): Host[] => (ctx.controlPlane ? [ctx.host] : []);
const WORKER = 'worker join (no --control-plane)';

async function sharedCerts(ctx: JoinContext): Promise<Map<string, Buffer>> {
  ctx.sharedCerts ??= await downloadSharedCerts(ctx.bootstrapApi(), ctx.cluster.etcd.topology === 'stacked', ctx.certificateKey ?? '', ctx.discovered.caCertPem);
  return ctx.sharedCerts;
}

async function pkiFiles(ctx: JoinContext) {
  ctx.pkiFiles ??= await joinPkiFiles(ctx.cluster, ctx.host, await sharedCerts(ctx), { now: ctx.now });
  return ctx.pkiFiles;
}

async function run(ctx: JoinContext, command: string, timeoutMs = 60_000): Promise<string> {
  return runChecked(ctx.transport, command, timeoutMs);
}

/** kubeadm refuses to join a name that a Ready Node already has (another machine owns it). */
async function refuseReadyNode(ctx: JoinContext): Promise<void> {
  let node: V1Node | undefined;
  try {
    node = (await ctx.bootstrapApi().read('v1', 'Node', undefined, ctx.host.name));
  } catch (error) {
    if (isForbidden(error)) return; // a token without kubeadm:get-nodes cannot check; kubeadm goes on too
    throw error;
  }
  const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready) throw new StateError(`a Node named "${ctx.host.name}" already exists in the cluster and is Ready; pick another --node-name, or delete that Node first`);
}

async function kubeletStart(ctx: JoinContext): Promise<StepOutcome> {
  await refuseReadyNode(ctx);
  const kubeletConfig = await publishedKubeletConfig(ctx.bootstrapApi());
  const files = joinKubeletFiles({ cluster: ctx.cluster, host: ctx.host, discovered: ctx.discovered, token: ctx.token, kubeletConfig, environment: hostEnvironment(ctx.facts.facts), templates: ctx.templates, tlsBootstrap: !ctx.controlPlane });
  const changed = await pushFiles(ctx.transport, files);
  await restartKubelet(ctx.transport);
  return { changed };
}

async function etcdJoin(ctx: JoinContext, host: Host): Promise<StepOutcome> {
  if (existingEndpoints(ctx.cluster, host).length === 0) throw new StateError(`${host.name}: the cluster file names no other etcd member to join`);
  const members = async () => parseMemberList(await run(ctx, listMembersCommand(ctx.cluster, host)));
  // A re-run finds the member it added before.
  if (!ownMember(await members(), host)) await run(ctx, addLearnerCommand(ctx.cluster, host));
  ctx.etcdInitialCluster = joiningInitialCluster(await members(), ctx.cluster, host);
  const changed = await pushFiles(ctx.transport, [etcdManifest(ctx.cluster, host, { cluster: ctx.etcdInitialCluster, state: 'existing' })]);
  // The learner is promoted once its etcd (started by the kubelet from the manifest) has caught up.
  const now = ctx.apiRetry?.now ?? Date.now;
  const delay = ctx.apiRetry?.delay ?? sleep;
  const deadline = now() + ETCD_PROMOTE_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    const own = ownMember(await members(), host);
    if (own && !own.isLearner) break;
    const result = own ? await ctx.transport.run(promoteCommand(ctx.cluster, host, own.id), { timeoutMs: 60_000 }) : undefined;
    if (result?.code === 0) break;
    if (now() + ETCD_PROMOTE_INTERVAL_MS > deadline || attempt > 10_000) {
      const why = own ? (result?.stdout || result?.stderr || '').trim().slice(0, 300) : 'the member list no longer has it';
      throw new StateError(`${host.name}: etcd did not promote learner ${host.name} within ${ETCD_PROMOTE_TIMEOUT_MS / 1000} s: ${why}; check ${ctx.cluster.etcd.dataDir} and the etcd static pod's log`);
    }
    await delay(ETCD_PROMOTE_INTERVAL_MS);
  }
  return { changed: [...changed, `etcd member ${host.name} (learner, promoted)`] };
}

async function markControlPlane(ctx: JoinContext, host: Host): Promise<StepOutcome> {
  return { changed: await markNode(await ctx.adminApi(), host.name, controlPlaneMarks(host), ctx.apiRetry) };
}

const probe = (ctx: JoinContext, probes: Array<[string, Probe]>): Promise<GateCheck> => probeAll(ctx.transport, probes);

const kubeletConfUsable = (ctx: JoinContext): Promise<GateCheck> => kubeletConfUsableOn(ctx.transport);

const removeBootstrapKubeconfig = async (ctx: JoinContext): Promise<StepOutcome> => ({ changed: await removeBootstrapKubeconfigOn(ctx.transport) });

export const JOIN_PHASES: readonly Phase<JoinContext>[] = [
  {
    name: 'preflight',
    description: 'Run join pre-flight checks',
    runOnce: async (ctx) => {
      await runPreflight(ctx.cluster, { hosts: [ctx.host], connect: () => Promise.resolve(ctx.transport), concurrency: 1, ignore: ctx.ignorePreflightErrors, reporter: ctx.reporter, gathered: new Map([[ctx.host.name, ctx.facts]]) });
      return { changed: [] };
    },
  },
  {
    name: 'control-plane-prepare',
    description: 'Prepare the machine for serving a control plane',
    children: [
      {
        name: 'download-certs',
        description: 'Download the certificates shared among control planes from the kubeadm-certs Secret',
        targets: controlPlaneOnly,
        skipReason: WORKER,
        run: async (ctx) => ({ changed: [...(await sharedCerts(ctx)).keys()].map((f) => `decrypted ${f}`) }),
      },
      {
        name: 'certs',
        description: "Write the shared CAs and this host's own certificates, signed by them",
        targets: controlPlaneOnly,
        skipReason: WORKER,
        run: async (ctx) => ({ changed: await pushFiles(ctx.transport, (await pkiFiles(ctx)).filter((f) => f.phase.startsWith('certs/'))) }),
      },
      {
        name: 'kubeconfig',
        description: 'Write admin.conf, controller-manager.conf, scheduler.conf and kubelet.conf (no super-admin.conf)',
        targets: controlPlaneOnly,
        skipReason: WORKER,
        run: async (ctx) => ({ changed: await pushFiles(ctx.transport, (await pkiFiles(ctx)).filter((f) => f.phase.startsWith('kubeconfig/'))) }),
      },
      {
        name: 'control-plane',
        description: 'Write the control-plane static Pod manifests',
        targets: controlPlaneOnly,
        skipReason: WORKER,
        run: async (ctx, host) => ({ changed: await pushFiles(ctx.transport, controlPlaneManifests(ctx.cluster, host, hostEnvironment(ctx.facts.facts))) }),
      },
    ],
  },
  {
    name: 'kubelet-start',
    description: 'Write the kubelet settings, certificates and (re)start the kubelet',
    runOnce: kubeletStart,
    gate: { name: 'kubelet healthz', timeoutMs: 4 * MINUTE, intervalMs: 1000, afterAll: { name: 'kubelet /healthz ok', check: (ctx) => probe(ctx, [['kubelet', kubeletHealthz()]]) } },
  },
  {
    name: 'etcd-join',
    description: 'Add this host to the stacked etcd cluster as a learner, start it, promote it',
    targets: (ctx) => (ctx.controlPlane && ctx.cluster.etcd.topology === 'stacked' ? [ctx.host] : []),
    skipReason: 'no local etcd member to add (worker, or external etcd)',
    run: etcdJoin,
    gate: { name: 'etcd /health', timeoutMs: 2 * MINUTE, intervalMs: 2000, check: (ctx, host) => probe(ctx, [['etcd', etcdHealth(host)]]) },
  },
  {
    name: 'kubelet-wait-bootstrap',
    description: 'Wait for the kubelet to bootstrap itself (kubelet.conf from TLS bootstrap)',
    runOnce: () => Promise.resolve({ changed: [] }),
    gate: { name: 'TLS bootstrap', timeoutMs: 5 * MINUTE, intervalMs: 1000, afterAll: { name: `usable ${PATHS.kubeletKubeconfig}`, check: kubeletConfUsable } },
  },
  {
    name: 'remove-bootstrap-kubeconfig',
    description: 'Remove bootstrap-kubelet.conf once the kubelet has its own credential, as kubeadm does',
    targets: (ctx) => (ctx.controlPlane ? [] : [ctx.host]),
    skipReason: 'control plane (its kubelet.conf is issued directly; there is no bootstrap credential)',
    run: removeBootstrapKubeconfig,
  },
  {
    name: 'control-plane-join',
    description: 'Join a machine as a control plane instance',
    children: [{ name: 'mark-control-plane', description: 'Mark the node as a control-plane (labels and taint)', targets: controlPlaneOnly, skipReason: WORKER, run: markControlPlane }],
  },
  {
    name: 'wait-control-plane',
    description: 'Wait for the control plane to start',
    targets: controlPlaneOnly,
    skipReason: WORKER,
    run: () => Promise.resolve({ changed: [] }),
    gate: {
      name: 'kubelet, etcd, kube-apiserver, kube-controller-manager and kube-scheduler healthy',
      timeoutMs: 4 * MINUTE,
      intervalMs: 1000,
      check: (ctx, host) => probe(ctx, controlPlaneProbes(ctx.cluster, host)),
    },
  },
];
