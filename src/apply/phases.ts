/**
 * kbuild apply's ordered phase tree: the control plane's documented startup order
 * (etcd → kube-apiserver → kube-controller-manager → kube-scheduler → load balancer → kubelet),
 * each phase gated on its component's health before the next starts.
 *
 * Static pods need a running kubelet, as with kubeadm: a phase that places a static pod first makes
 * sure the host's kubelet is configured and started; the `kubelet` phase then brings up every
 * remaining node and gates on the kubelet's own health.
 */
import { controlPlanes, etcdMembers, firstControlPlane, hasRole, type Host } from '../config/model.js';
import { apiserverReady, apiserverViaEndpoint, componentHealthz, etcdHealth, etcdMembers as etcdMemberList, kubeletHealthz, loadBalancerFrontend, type Probe } from '../health/probes.js';
import type { GateCheck, HealthGate, Phase, StepOutcome } from '../phases/types.js';
import { runPreflight } from '../preflight/run.js';
import { runsKubelet } from '../preflight/checks.js';
import { PATHS } from '../render/constants.js';
import type { Transport } from '../ssh/transport.js';
import { filesOf, type Component } from './components.js';
import { parseObjects } from '../kube/client.js';
import { renderedFiles, type ApplyContext } from './context.js';
import { pushFiles, runChecked } from './push.js';
import { pushStaticPodFiles } from '../lifecycle/apply-roll.js';
import type { V1Node } from '@kubernetes/client-node';
import { CONTROL_PLANE_TAINT, markControlPlanePatch } from '../bootstrap/init/api-objects.js';
import { POD_NETWORK_ADDON } from '../render/addons/index.js';
import { registersNode } from '../render/pod-network.js';
import type { StaticPod } from '../lifecycle/static-pods.js';

const MINUTE = 60_000;
const RESTART_KUBELET = 'systemctl daemon-reload && systemctl enable kubelet && systemctl restart kubelet';

async function probe(transport: Transport, p: Probe): Promise<GateCheck> {
  return p.interpret(await transport.run(p.command, { timeoutMs: 15_000, readOnly: true }));
}

const gate = (name: string, timeoutMs: number, make: (ctx: ApplyContext, host: Host) => Probe, afterAll?: HealthGate<ApplyContext>['afterAll']): HealthGate<ApplyContext> => ({
  name,
  timeoutMs,
  intervalMs: 1000,
  check: async (ctx, host) => probe(await ctx.transport(host), make(ctx, host)),
  afterAll,
});

async function push(ctx: ApplyContext, host: Host, component: Component): Promise<string[]> {
  return pushFiles(await ctx.transport(host), filesOf(renderedFiles(ctx, host), component));
}

/** Writes the kubelet's files and (re)starts it only when they changed. */
async function ensureKubelet(ctx: ApplyContext, host: Host): Promise<string[]> {
  const changed = await push(ctx, host, 'kubelet');
  if (changed.length > 0) await runChecked(await ctx.transport(host), RESTART_KUBELET);
  return changed;
}

const STATIC_POD: Partial<Record<Component, StaticPod>> = { etcd: 'etcd', apiserver: 'kube-apiserver', 'controller-manager': 'kube-controller-manager', scheduler: 'kube-scheduler' };

/**
 * A static-pod component: its files plus a running kubelet to start it. Files its unchanged manifest
 * reads (a re-issued certificate) restart it one host at a time with its gate (src/lifecycle).
 */
const staticPodStep = (component: Component) => async (ctx: ApplyContext, host: Host): Promise<StepOutcome> => {
  const pod = STATIC_POD[component];
  const own = pod ? await pushStaticPodFiles(ctx, host, pod, filesOf(renderedFiles(ctx, host), component)) : await push(ctx, host, component);
  return { changed: [...own, ...(await ensureKubelet(ctx, host))] };
};

const isEtcdMember = (ctx: ApplyContext, host: Host) => etcdMembers(ctx.cluster).some((m) => m.name === host.name);

/** kube-apiserver; a control plane that is not an etcd member (external etcd) also gets its etcd client files here. */
async function apiserverStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const etcdClient = isEtcdMember(ctx, host) ? [] : await push(ctx, host, 'etcd');
  const own = await staticPodStep('apiserver')(ctx, host);
  return { changed: [...etcdClient, ...own.changed] };
}

const lbHosts = (ctx: ApplyContext): Host[] =>
  ctx.cluster.loadBalancer.placement === 'hosts' ? ctx.cluster.hosts.filter((h) => hasRole(h, 'load-balancer')) : ctx.cluster.loadBalancer.placement === 'control-plane' ? controlPlanes(ctx.cluster) : [];

async function loadBalancerStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const changed = await push(ctx, host, 'load-balancer');
  if (ctx.cluster.loadBalancer.placement === 'control-plane') return { changed: [...changed, ...(await ensureKubelet(ctx, host))] };
  if (changed.length > 0) {
    const transport = await ctx.transport(host);
    await runChecked(transport, 'systemctl enable haproxy && systemctl reload-or-restart haproxy');
    if (ctx.cluster.loadBalancer.vip) await runChecked(transport, 'systemctl enable keepalived && systemctl reload-or-restart keepalived');
  }
  return { changed };
}

const viaFirstControlPlane = (name: string, make: (ctx: ApplyContext) => Probe): NonNullable<HealthGate<ApplyContext>['afterAll']> => ({
  name,
  check: async (ctx) => probe(await ctx.transport(firstControlPlane(ctx.cluster)), make(ctx)),
});

/** Addon files (rendered under /etc/kubernetes/addons on the first control plane) each API phase applies. */
export const ADDON_FILES = {
  bootstrap: ['00-bootstrap-rbac.yaml', '01-bootstrap-token.yaml', '02-cluster-info.yaml', '03-kubelet-config.yaml'],
  kubeProxy: ['10-kube-proxy.yaml'],
  coredns: ['20-coredns.yaml'],
  podNetwork: [POD_NETWORK_ADDON],
} as const;

/** The builtin pod network on one node: its CNI config and routes, the routes script run when it changed. */
async function builtinPodNetworkStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const changed = await push(ctx, host, 'pod-network');
  if (changed.length > 0) await runChecked(await ctx.transport(host), PATHS.podNetworkScript);
  return { changed };
}

/**
 * kubeadm's mark-control-plane for every control plane apply brings up: its labels and taint (an API
 * change, reported with the API objects). The kubelet phase's gate has waited for every Node to register.
 */
async function markControlPlanes(ctx: ApplyContext): Promise<StepOutcome> {
  const api = await ctx.api();
  const changed: string[] = [];
  for (const host of controlPlanes(ctx.cluster)) {
    const node = (await api.read('v1', 'Node', undefined, host.name));
    const patch = markControlPlanePatch(node, !hasRole(host, 'worker'));
    if (!patch) continue;
    await api.mergePatch('v1', 'Node', undefined, host.name, patch);
    changed.push(`Node/${host.name} (${Object.keys(patch.metadata.labels).join(', ')}${patch.spec ? `, taint ${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}` : ''})`);
  }
  return { changed };
}

/** Every host that registers a Node has one (a worker's appears once its client certificate is signed). */
const nodesRegistered: NonNullable<HealthGate<ApplyContext>['afterAll']> = {
  name: 'every node registered',
  check: async (ctx) => {
    const nodes = new Set((await (await ctx.api()).list('v1', 'Node', undefined)).map((n) => (n as V1Node).metadata?.name));
    const missing = ctx.cluster.hosts.filter(registersNode).filter((h) => !nodes.has(h.name)).map((h) => h.name);
    return missing.length === 0 ? { ok: true } : { ok: false, seen: `not registered yet: ${missing.join(', ')}` };
  },
};

/**
 * Places the addon files on the first control plane (the record of what was applied) and applies
 * their objects through the API when a file changed or an object is missing, so a re-run is a no-op.
 */
async function applyAddons(ctx: ApplyContext, names: readonly string[]): Promise<StepOutcome> {
  const first = firstControlPlane(ctx.cluster);
  const files = filesOf(renderedFiles(ctx, first), 'addons').filter((f) => names.some((n) => f.path.endsWith(`/${n}`)));
  const changed = await pushFiles(await ctx.transport(first), files);
  const api = await ctx.api();
  const objects = files.flatMap((f) => parseObjects(f.content.toString()));
  const missing = [];
  for (const o of objects) if (!(await api.read(o.apiVersion ?? '', o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? ''))) missing.push(o);
  if (changed.length === 0 && missing.length === 0) return { changed: [] };
  await api.apply(objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`)] };
}

type Status = { desiredNumberScheduled?: number; numberReady?: number; replicas?: number; availableReplicas?: number };

const workloadReady = (kind: 'DaemonSet' | 'Deployment', name: string): NonNullable<HealthGate<ApplyContext>['afterAll']> => ({
  name: `${kind} kube-system/${name} ready`,
  check: async (ctx) => {
    const object = (await (await ctx.api()).read('apps/v1', kind, 'kube-system', name)) as ({ status?: Status } & object) | undefined;
    const status = object?.status;
    if (!status) return { ok: false, seen: object ? 'no status yet' : 'not found' };
    const [ready, wanted] = kind === 'DaemonSet' ? [status.numberReady ?? 0, status.desiredNumberScheduled ?? 0] : [status.availableReplicas ?? 0, status.replicas ?? 0];
    return wanted > 0 && ready >= wanted ? { ok: true } : { ok: false, seen: `${ready} of ${wanted} ready` };
  },
});

/** What `apply` ends with when it installed no pod network, as kubeadm init does. */
export const POD_NETWORK_NEEDED =
  'the cluster has no pod network (spec.networking.cni: none): nodes stay NotReady and CoreDNS Pending until you install one — kubectl apply -f <your CNI manifest> with the admin kubeconfig, or set spec.networking.cni to builtin or { manifest: FILE } and run kbuild apply again';

const deploymentCreated = async (ctx: ApplyContext): Promise<GateCheck> =>
  (await (await ctx.api()).read('apps/v1', 'Deployment', 'kube-system', 'coredns')) ? { ok: true } : { ok: false, seen: 'not found' };

const apiGate = (afterAll: NonNullable<HealthGate<ApplyContext>['afterAll']>): HealthGate<ApplyContext> => ({ name: afterAll.name, timeoutMs: 5 * MINUTE, intervalMs: 2000, afterAll });

export const APPLY_PHASES: readonly Phase<ApplyContext>[] = [
  {
    name: 'preflight',
    description: 'check every host before anything is written (ports, binaries, swap, forwarding, networks)',
    runOnce: async (ctx) => {
      await runPreflight(ctx.cluster, { hosts: ctx.cluster.hosts, connect: (h) => ctx.transport(h), concurrency: ctx.concurrency, ignore: ctx.ignorePreflightErrors, reporter: ctx.reporter });
      return { changed: [] };
    },
  },
  {
    name: 'etcd',
    description: 'etcd members: certificates and static pod; gate: /health on every member, then all members in the list',
    targets: (ctx) => etcdMembers(ctx.cluster),
    run: staticPodStep('etcd'),
    gate: gate('etcd /health', 4 * MINUTE, (_ctx, host) => etcdHealth(host), {
      name: 'etcd quorum (member list)',
      check: async (ctx) => {
        const members = etcdMembers(ctx.cluster);
        return probe(await ctx.transport(members[0]!), etcdMemberList(members[0]!, members.map((m) => m.name)));
      },
    }),
  },
  {
    name: 'control-plane',
    description: 'control-plane components, in startup order',
    children: [
      {
        name: 'apiserver',
        description: 'PKI, admin kubeconfigs and kube-apiserver; gate: /readyz on each host, verified against the cluster CA',
        targets: (ctx) => controlPlanes(ctx.cluster),
        run: apiserverStep,
        gate: gate('kube-apiserver /readyz', 4 * MINUTE, (ctx, host) => apiserverReady(ctx.cluster, host)),
      },
      {
        name: 'controller-manager',
        description: 'kube-controller-manager; gate: /healthz on 10257',
        targets: (ctx) => controlPlanes(ctx.cluster),
        run: staticPodStep('controller-manager'),
        gate: gate('kube-controller-manager /healthz', 4 * MINUTE, () => componentHealthz(10257)),
      },
      {
        name: 'scheduler',
        description: 'kube-scheduler; gate: /healthz on 10259',
        targets: (ctx) => controlPlanes(ctx.cluster),
        run: staticPodStep('scheduler'),
        gate: gate('kube-scheduler /healthz', 4 * MINUTE, () => componentHealthz(10259)),
      },
    ],
  },
  {
    name: 'load-balancer',
    description: 'HAProxy (and keepalived with a VIP); gate: the frontend reaches a ready apiserver, then the endpoint answers',
    targets: lbHosts,
    skipReason: 'no load balancer (spec.loadBalancer.type is none)',
    run: loadBalancerStep,
    gate: gate(
      'load balancer frontend',
      2 * MINUTE,
      (ctx) => loadBalancerFrontend(ctx.cluster, ctx.cluster.loadBalancer.placement === 'hosts' ? PATHS.haproxyCa : `${PATHS.pki}/ca.crt`),
      viaFirstControlPlane('kube-apiserver via the endpoint', (ctx) => apiserverViaEndpoint(ctx.cluster)),
    ),
  },
  {
    name: 'bootstrap-token',
    description: 'bootstrap token, node bootstrap RBAC and the cluster-info ConfigMap, so nodes can join',
    runOnce: (ctx) => applyAddons(ctx, ADDON_FILES.bootstrap),
    gate: apiGate({
      name: 'kube-public/cluster-info readable',
      check: async (ctx) => ((await (await ctx.api()).read('v1', 'ConfigMap', 'kube-public', 'cluster-info')) ? { ok: true } : { ok: false, seen: 'not found' }),
    }),
  },
  {
    name: 'kubelet',
    description: 'kubelet configuration on every node; gate: /healthz on 10248',
    targets: (ctx) => ctx.cluster.hosts.filter(runsKubelet),
    run: async (ctx, host) => ({ changed: await ensureKubelet(ctx, host) }),
    gate: gate('kubelet /healthz', 4 * MINUTE, () => kubeletHealthz(), nodesRegistered),
  },
  {
    name: 'pod-network',
    description: 'the pod network (spec.networking.cni): builtin — CNI config and routes on every node; manifest — your CNI applied through the API',
    children: [
      {
        name: 'builtin',
        description: "kbuild's bridge network: CNI config, routes to the other nodes' pod ranges, masquerading",
        targets: (ctx) => (ctx.cluster.networking.cni.type === 'builtin' ? ctx.cluster.hosts.filter(registersNode) : []),
        skipReason: 'spec.networking.cni is not builtin',
        run: builtinPodNetworkStep,
      },
      {
        name: 'manifest',
        description: 'your CNI manifest (spec.networking.cni.manifest), applied through the API',
        runOnce: async (ctx) => (ctx.cluster.networking.cni.type === 'manifest' ? applyAddons(ctx, ADDON_FILES.podNetwork) : { changed: [] }),
      },
    ],
  },
  {
    name: 'mark-control-plane',
    description: 'control-plane Nodes: labels node-role.kubernetes.io/control-plane, exclude-from-external-load-balancers, taint NoSchedule (as kubeadm)',
    runOnce: markControlPlanes,
  },
  {
    name: 'addons',
    description: 'cluster addons, after the kubelets',
    children: [
      { name: 'kube-proxy', description: 'kube-proxy DaemonSet; gate: ready on every node', runOnce: (ctx) => applyAddons(ctx, ADDON_FILES.kubeProxy), gate: apiGate(workloadReady('DaemonSet', 'kube-proxy')) },
      {
        name: 'coredns',
        description: 'CoreDNS Deployment and the kube-dns Service; gate: available (with cni: none, created: it needs a pod network to run)',
        runOnce: (ctx) => applyAddons(ctx, ADDON_FILES.coredns),
        gate: apiGate({ name: 'Deployment kube-system/coredns', check: async (ctx) => (ctx.cluster.networking.cni.type === 'none' ? deploymentCreated(ctx) : workloadReady('Deployment', 'coredns').check(ctx)) }),
      },
    ],
  },
];
