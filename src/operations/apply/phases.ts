/**
 * kbuild apply's ordered phase tree: the control plane's documented startup order
 * (etcd → kube-apiserver → kube-controller-manager → kube-scheduler → load balancer → bootstrap
 * token → kubelet → pod network → mark control plane → addons), each phase gated on its component's health before the next starts.
 * Each phase also says what it will do from the cluster alone: PLAN.md is made of those (plan.ts).
 *
 * Static pods need a running kubelet, as with kubeadm: a phase that places a static pod first makes
 * sure the host's kubelet is configured and started; the `kubelet` phase then brings up every
 * remaining node and gates on the kubelet's own health. Files are picked by the component (or,
 * for the addons, the init phase) their renderer gave them.
 */
import type { V1Node } from '@kubernetes/client-node';
import { dnsServiceIp, endpointUrl, firstControlPlane, hasRole, hostPort, isEtcdMember, registersNode, runsKubelet, type Cluster, type Host } from '../../config/model.js';
import { apiserverReady, apiserverViaEndpoint, componentHealthz, etcdHealth, etcdMembers as etcdMemberList, kubeletHealthz, loadBalancerFrontend, runProbe, type GateCheck, type Probe } from '../../health/probes.js';
import { parseObjects } from '../../kube/client.js';
import { kbuildConfigObjects, kubeadmConfigObjects } from '../../kube/published-cluster.js';
import { controlPlaneMarks, hasMarks, markNode, workerMarks } from '../../kube/node.js';
import { dnsOff, kubeProxyOff } from '../addons-off.js';
import { PATHS, POD_NETWORK, PORTS } from '../../kubeadm/constants.js';
import { STATIC_POD_OF, type Component, type InitPhase } from '../../kubeadm/files.js';
import { runPreflight } from '../../preflight/run.js';
import { restartKubelet } from '../../static-pods/restart.js';
import { runChecked } from '../../transport/run.js';
import { pushFiles } from '../../transport/sync.js';
import type { HealthGate, StepOutcome } from '../../workflow/types.js';
import { addonFilesOf, filesOf, type ApplyContext, type ApplyPhase } from './context.js';
import { kubeletConfUsable, removeBootstrapKubeconfig } from '../kubelet-bootstrap.js';
import { tlsBootstraps } from '../../render/kubelet.js';
import { pushStaticPodFiles } from './roll.js';

const MINUTE = 60_000;

const gate = (name: string, timeoutMs: number, make: (ctx: ApplyContext, host: Host) => Probe, afterAll?: HealthGate<ApplyContext>['afterAll']): HealthGate<ApplyContext> => ({
  name,
  timeoutMs,
  intervalMs: 1000,
  check: async (ctx, host) => runProbe(await ctx.transport(host), make(ctx, host)),
  afterAll,
});

async function push(ctx: ApplyContext, host: Host, component: Component): Promise<string[]> {
  return pushFiles(await ctx.transport(host), filesOf(ctx, host, component));
}

/**
 * Writes the kubelet's files and (re)starts it only when they changed. A node whose kubelet already
 * has its own credential (kubelet.conf from the TLS bootstrap) does not get the bootstrap token again.
 */
async function ensureKubelet(ctx: ApplyContext, host: Host): Promise<string[]> {
  const transport = await ctx.transport(host);
  const bootstrapped = tlsBootstraps(host) && (await kubeletConfUsable(transport)).ok;
  const files = filesOf(ctx, host, 'kubelet').filter((f) => !(bootstrapped && f.path === PATHS.bootstrapKubeconfig));
  const changed = await pushFiles(transport, files);
  if (changed.length > 0) await restartKubelet(transport);
  return changed;
}

/**
 * As join does after the TLS bootstrap: bootstrap-kubelet.conf goes once the node is registered and
 * its kubelet.conf is usable (the kubelet phase's gate waited for both); otherwise it stays, said so.
 */
async function removeBootstrapStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const transport = await ctx.transport(host);
  if (!(await transport.stat(PATHS.bootstrapKubeconfig))) return { changed: [] };
  const usable = await kubeletConfUsable(transport);
  const registered = usable.ok && (await (await ctx.api()).read('v1', 'Node', undefined, host.name)) !== undefined;
  if (!registered) {
    const why = usable.ok ? 'the API has no Node for it yet' : usable.seen;
    ctx.reporter.event({ type: 'warn', host: host.name, message: `${PATHS.bootstrapKubeconfig} kept: ${why}; the next kbuild apply removes it once the kubelet has its own credential` });
    return { changed: [] };
  }
  return { changed: await removeBootstrapKubeconfig(transport) };
}

/**
 * A static-pod component: its files plus a running kubelet to start it. Files its unchanged manifest
 * reads (a re-issued certificate) restart it one host at a time with its gate (roll.ts).
 */
const staticPodStep = (component: Component) => async (ctx: ApplyContext, host: Host): Promise<StepOutcome> => {
  const pod = STATIC_POD_OF[component];
  const own = pod ? await pushStaticPodFiles(ctx, host, pod, filesOf(ctx, host, component)) : await push(ctx, host, component);
  return { changed: [...own, ...(await ensureKubelet(ctx, host))] };
};

/** kube-apiserver; a control plane that is not an etcd member (external etcd) also gets its etcd client files here. */
async function apiserverStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const etcdClient = isEtcdMember(ctx.cluster, host) ? [] : await push(ctx, host, 'etcd');
  const own = await staticPodStep('apiserver')(ctx, host);
  return { changed: [...etcdClient, ...own.changed] };
}

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

/** The builtin pod network on one node: its CNI config and routes script, run when they changed. */
async function builtinPodNetworkStep(ctx: ApplyContext, host: Host): Promise<StepOutcome> {
  const changed = await push(ctx, host, 'pod-network');
  if (changed.length > 0) await runChecked(await ctx.transport(host), PATHS.podNetworkScript);
  return { changed };
}

/**
 * kubeadm's mark-control-plane for every control plane apply brings up: its labels and taints (an API
 * change, reported with the API objects). The kubelet phase's gate has waited for every Node to register.
 */
async function markControlPlanes(ctx: ApplyContext): Promise<StepOutcome> {
  const api = await ctx.api();
  const changed: string[] = [];
  for (const host of ctx.cluster.controlPlanes) changed.push(...(await markNode(api, host.name, controlPlaneMarks(host))));
  return { changed };
}

/** The workers the cluster file gives labels or taints: a kubelet sets them only when it registers its Node, so a Node from before gets them here. */
const markedWorkers = (cluster: Cluster): Host[] => cluster.hosts.filter((h) => registersNode(h) && !hasRole(h, 'control-plane') && hasMarks(workerMarks(h)));

async function markWorkers(ctx: ApplyContext): Promise<StepOutcome> {
  const api = await ctx.api();
  const changed: string[] = [];
  for (const host of markedWorkers(ctx.cluster)) changed.push(...(await markNode(api, host.name, workerMarks(host))));
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

const viaFirstControlPlane = (name: string, make: (ctx: ApplyContext) => Probe): NonNullable<HealthGate<ApplyContext>['afterAll']> => ({
  name,
  check: async (ctx) => runProbe(await ctx.transport(firstControlPlane(ctx.cluster)), make(ctx)),
});

/**
 * Places the addon files on the first control plane (the record of what was applied) and applies
 * their objects through the API when a file changed or an object is missing, so a re-run is a no-op.
 */
async function applyAddons(ctx: ApplyContext, phases: readonly InitPhase[]): Promise<StepOutcome> {
  const first = firstControlPlane(ctx.cluster);
  const files = addonFilesOf(ctx, first, phases);
  const changed = await pushFiles(await ctx.transport(first), files);
  const api = await ctx.api();
  const objects = files.flatMap((f) => parseObjects(f.content.toString()));
  const missing = [];
  for (const o of objects) if (!(await api.read(o.apiVersion ?? '', o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? ''))) missing.push(o);
  if (changed.length === 0 && missing.length === 0) return { changed: [] };
  await api.apply(objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`)] };
}

/**
 * kubeadm's upload-config/kubeadm (kube-system/kubeadm-config, so kubeadm's own join and upgrade can
 * read the cluster) and kbuild's kbuild-config (the cluster file without SSH settings, for `kbuild
 * join`), as init uploads them. Applied when missing or when their data changed.
 */
async function uploadConfig(ctx: ApplyContext): Promise<StepOutcome> {
  const api = await ctx.api();
  const objects = [...kubeadmConfigObjects(ctx.cluster), ...kbuildConfigObjects(ctx.file)];
  const stale = [];
  for (const o of objects) {
    const current = (await api.read(o.apiVersion ?? '', o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? '')) as { data?: unknown } | undefined;
    if (!current || ('data' in o && JSON.stringify(current.data) !== JSON.stringify(o.data))) stale.push(o);
  }
  if (stale.length === 0) return { changed: [] };
  await api.apply(stale);
  return { changed: stale.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`) };
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

/**
 * The addon files (by the init phase that writes them) each API phase applies. bootstrap-token also
 * takes the kubelet-config init uploads, which joining kubelets read.
 */
export const ADDON_PHASES = {
  bootstrap: ['bootstrap-token', 'upload-config/kubelet'],
  kubeProxy: ['addon/kube-proxy'],
  coredns: ['addon/coredns'],
  podNetwork: ['addon/pod-network'],
} as const satisfies Record<string, readonly InitPhase[]>;

/** What `apply` ends with when it installed no pod network, as kubeadm init does. */
export const POD_NETWORK_NEEDED =
  'the cluster has no pod network (spec.networking.cni: none): nodes stay NotReady and CoreDNS Pending until you install one — kubectl apply -f <your CNI manifest> with the admin kubeconfig, or set spec.networking.cni to builtin or { manifest: FILE } and run kbuild apply again';

const deploymentCreated = async (ctx: ApplyContext): Promise<GateCheck> =>
  (await (await ctx.api()).read('apps/v1', 'Deployment', 'kube-system', 'coredns')) ? { ok: true } : { ok: false, seen: 'not found' };

const localComponentStep = (cluster: Cluster, component: string, port: number) => ({
  title: component,
  hosts: cluster.controlPlanes,
  what: `static pod ${PATHS.manifests}/${component}.yaml.`,
  gate: `\`GET https://127.0.0.1:${port}/healthz\` answers 200 on each control plane.`,
});

function loadBalancerPlan(cluster: Cluster) {
  const lbs = cluster.loadBalancers;
  if (lbs.length === 0) return { title: 'load balancer', hosts: [], what: `none: clients reach the API directly at ${endpointUrl(cluster)}.`, gate: 'nothing to check.' };
  return {
    title: 'load balancer',
    hosts: lbs,
    what:
      `HAProxy (${PATHS.haproxyCfg}) on frontend port ${cluster.loadBalancer.port}` +
      (cluster.loadBalancer.placement === 'control-plane' ? ' as static pods on the control planes' : '') +
      (cluster.loadBalancer.vip ? `, keepalived holding ${cluster.loadBalancer.vip} (MASTER ${lbs[0]!.name})` : '') +
      '.',
    gate: `on each load balancer, its own frontend answers \`GET ${endpointUrl(cluster)}/readyz\` with 200 and a certificate that verifies against ca.crt for ${cluster.endpoint.host}; then the same through the endpoint from the first control plane.`,
  };
}

const apiGate = (afterAll: NonNullable<HealthGate<ApplyContext>['afterAll']>): HealthGate<ApplyContext> => ({ name: afterAll.name, timeoutMs: 5 * MINUTE, intervalMs: 2000, afterAll });

export const APPLY_PHASES: readonly ApplyPhase[] = [
  {
    name: 'preflight',
    description: 'check every host before anything is written (ports, binaries, swap, forwarding, networks)',
    runOnce: async (ctx) => {
      await runPreflight(ctx.cluster, { hosts: ctx.cluster.hosts, connect: (h) => ctx.transport(h), concurrency: ctx.concurrency, ignore: ctx.ignorePreflightErrors, reporter: ctx.reporter, gathered: ctx.facts });
      return { changed: [] };
    },
  },
  {
    name: 'etcd',
    description: 'etcd members: certificates and static pod; gate: /health on every member, then all members in the list',
    targets: (ctx) => ctx.cluster.etcdMembers,
    run: staticPodStep('etcd'),
    plan: (cluster) => ({
      title: 'etcd',
      hosts: cluster.etcdMembers,
      what: `static pod ${PATHS.manifests}/etcd.yaml; all members start together with one --initial-cluster.`,
      gate:
        `on each member, \`GET https://127.0.0.1:${PORTS.etcdClientHttp}/health\` with the healthcheck-client certificate ` +
        `(${PATHS.etcdPki}/healthcheck-client.crt, verified against ${PATHS.etcdPki}/ca.crt) reports health true; then the member list ` +
        `seen from ${cluster.etcdMembers[0]?.name ?? 'the first member'} names every member (quorum).`,
    }),
    gate: gate('etcd /health', 4 * MINUTE, (_ctx, host) => etcdHealth(host), {
      name: 'etcd quorum (member list)',
      check: async (ctx) => {
        const members = ctx.cluster.etcdMembers;
        return runProbe(await ctx.transport(members[0]!), etcdMemberList(members[0]!, members.map((m) => m.name)));
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
        targets: (ctx) => ctx.cluster.controlPlanes,
        run: apiserverStep,
        plan: (cluster) => ({
          title: 'kube-apiserver',
          hosts: cluster.controlPlanes,
          what: `static pod ${PATHS.manifests}/kube-apiserver.yaml.`,
          gate: `\`GET /readyz\` answers 200 on each control plane (${cluster.controlPlanes.map((h) => `https://${hostPort(h.address, cluster.apiServer.bindPort)}/readyz`).join(', ')}), then through the endpoint once the load balancer is up.`,
        }),
        gate: gate('kube-apiserver /readyz', 4 * MINUTE, (ctx, host) => apiserverReady(ctx.cluster, host)),
      },
      {
        name: 'controller-manager',
        description: `kube-controller-manager; gate: /healthz on ${PORTS.controllerManager}`,
        targets: (ctx) => ctx.cluster.controlPlanes,
        run: staticPodStep('controller-manager'),
        plan: (cluster) => localComponentStep(cluster, 'kube-controller-manager', PORTS.controllerManager),
        gate: gate('kube-controller-manager /healthz', 4 * MINUTE, () => componentHealthz(PORTS.controllerManager)),
      },
      {
        name: 'scheduler',
        description: `kube-scheduler; gate: /healthz on ${PORTS.scheduler}`,
        targets: (ctx) => ctx.cluster.controlPlanes,
        run: staticPodStep('scheduler'),
        plan: (cluster) => localComponentStep(cluster, 'kube-scheduler', PORTS.scheduler),
        gate: gate('kube-scheduler /healthz', 4 * MINUTE, () => componentHealthz(PORTS.scheduler)),
      },
    ],
  },
  {
    name: 'load-balancer',
    description: 'HAProxy (and keepalived with a VIP); gate: the frontend reaches a ready apiserver, then the endpoint answers',
    targets: (ctx) => ctx.cluster.loadBalancers,
    skipReason: 'no load balancer (spec.loadBalancer.type is none)',
    run: loadBalancerStep,
    plan: loadBalancerPlan,
    gate: gate(
      'load balancer frontend',
      2 * MINUTE,
      (ctx) => loadBalancerFrontend(ctx.cluster, ctx.cluster.loadBalancer.placement === 'hosts' ? PATHS.haproxyCa : `${PATHS.pki}/ca.crt`),
      viaFirstControlPlane('kube-apiserver via the endpoint', (ctx) => apiserverViaEndpoint(ctx.cluster)),
    ),
  },
  {
    name: 'upload-config',
    description: "kube-system/kubeadm-config (kubeadm's ClusterConfiguration) and kbuild-config (the cluster file without SSH settings), with the RBAC that lets nodes read them",
    runOnce: uploadConfig,
    plan: (cluster) => ({
      title: 'upload config',
      hosts: [firstControlPlane(cluster)],
      what: "the ConfigMaps kube-system/kubeadm-config (kubeadm's ClusterConfiguration v1beta4, so kubeadm's own join and upgrade can read this cluster) and kube-system/kbuild-config (the cluster file without SSH settings, which `kbuild join` reads), readable by joining nodes and nodes.",
      gate: 'nothing to check: the API accepted them.',
    }),
  },
  {
    name: 'bootstrap-token',
    description: 'bootstrap token, node bootstrap RBAC and the cluster-info ConfigMap, so nodes can join',
    runOnce: (ctx) => applyAddons(ctx, ADDON_PHASES.bootstrap),
    plan: (cluster) => ({
      title: 'bootstrap token',
      hosts: [firstControlPlane(cluster)],
      what: `the bootstrap token, node bootstrap RBAC, cluster-info and kubelet-config from ${PATHS.addons}/00-bootstrap-rbac.yaml, 01-bootstrap-token.yaml, 02-cluster-info.yaml and 03-kubelet-config.yaml, applied on ${firstControlPlane(cluster).name}, so nodes can join.`,
      gate: 'the API serves the ConfigMap kube-public/cluster-info.',
    }),
    gate: apiGate({
      name: 'kube-public/cluster-info readable',
      check: async (ctx) => ((await (await ctx.api()).read('v1', 'ConfigMap', 'kube-public', 'cluster-info')) ? { ok: true } : { ok: false, seen: 'not found' }),
    }),
  },
  {
    name: 'kubelet',
    description: `kubelet configuration on every node; gate: /healthz on ${PORTS.kubeletHealthz}`,
    targets: (ctx) => ctx.cluster.hosts.filter(runsKubelet),
    run: async (ctx, host) => ({ changed: await ensureKubelet(ctx, host) }),
    plan: (cluster) => ({
      title: 'kubelet',
      hosts: cluster.hosts.filter(runsKubelet),
      what:
        `systemd kubelet with ${PATHS.kubeletDropIn}, ${PATHS.kubeletConfig} and ${PATHS.kubeletFlags}. ` +
        'On control planes and etcd hosts it is started first, since it runs the static pods above; here the nodes register.',
      gate: `\`GET http://127.0.0.1:${PORTS.kubeletHealthz}/healthz\` answers 200 on each host; then the API lists a Node for every control plane and worker.`,
    }),
    gate: gate('kubelet /healthz', 4 * MINUTE, () => kubeletHealthz(), nodesRegistered),
  },
  {
    name: 'remove-bootstrap-kubeconfig',
    description: `remove ${PATHS.bootstrapKubeconfig} (a bootstrap token) from workers whose kubelet has its own credential, as kbuild join and kubeadm do`,
    targets: (ctx) => ctx.cluster.hosts.filter(tlsBootstraps),
    skipReason: 'no worker joins through TLS bootstrap',
    run: removeBootstrapStep,
    plan: (cluster) =>
      cluster.hosts.some(tlsBootstraps)
        ? {
            title: 'remove bootstrap kubeconfig',
            hosts: cluster.hosts.filter(tlsBootstraps),
            what: `${PATHS.bootstrapKubeconfig} removed once ${PATHS.kubeletKubeconfig} holds the kubelet's own credential and its Node is registered; later applies do not write it again.`,
            gate: 'nothing to check.',
          }
        : [],
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
        plan: (cluster) =>
          cluster.networking.cni.type !== 'builtin' ? [] : {
          title: 'pod network (builtin)',
          hosts: cluster.hosts.filter(registersNode),
          what: `${PATHS.cniConflist} (bridge ${POD_NETWORK.bridge}, this node's pod range) and ${PATHS.podNetworkScript}, run when it changed: routes to the other nodes' pod ranges, masquerading out of the pod network.`,
          gate: 'nothing to check here: the CoreDNS gate needs pods to reach each other.',
        },
      },
      {
        name: 'manifest',
        description: 'your CNI manifest (spec.networking.cni.manifest), applied through the API',
        runOnce: async (ctx) => (ctx.cluster.networking.cni.type === 'manifest' ? applyAddons(ctx, ADDON_PHASES.podNetwork) : { changed: [] }),
        plan: (cluster) =>
          cluster.networking.cni.type !== 'manifest' ? [] : {
          title: 'pod network (manifest)',
          hosts: [firstControlPlane(cluster)],
          what: `${cluster.networking.cni.manifest} as ${PATHS.addons}/30-pod-network.yaml, applied on ${firstControlPlane(cluster).name}.`,
          gate: 'nothing to check here: the CoreDNS gate needs the network to work.',
        },
      },
    ],
  },
  {
    name: 'mark-control-plane',
    description: 'control-plane Nodes: labels node-role.kubernetes.io/control-plane, exclude-from-external-load-balancers, taint NoSchedule (as kubeadm), and the hosts\' own labels and taints',
    runOnce: markControlPlanes,
    plan: (cluster) => ({
      title: 'mark control plane',
      hosts: cluster.controlPlanes,
      what: 'labels node-role.kubernetes.io/control-plane and node.kubernetes.io/exclude-from-external-load-balancers on each control-plane Node, and the taint node-role.kubernetes.io/control-plane:NoSchedule unless it is also a worker (spec.hosts[].taints replaces it); the host\'s labels. Adds and updates, never removes.',
      gate: 'nothing to check: the API accepted the patch.',
    }),
  },
  {
    name: 'mark-workers',
    description: "worker Nodes: the labels and taints spec.hosts[] gives them (a kubelet sets them only when it registers the Node)",
    runOnce: markWorkers,
    plan: (cluster) =>
      markedWorkers(cluster).length === 0 ? [] : {
        title: 'mark workers',
        hosts: markedWorkers(cluster),
        what: "each worker's labels and taints from the cluster file on its Node, for a Node registered before they were written (a kubelet registers with them, --node-labels and --register-with-taints). Adds and updates, never removes.",
        gate: 'nothing to check: the API accepted the patch.',
      },
  },
  {
    name: 'addons',
    description: 'cluster addons, after the kubelets',
    children: [
      {
        name: 'kube-proxy',
        description: 'kube-proxy DaemonSet; gate: ready on every node',
        skip: (ctx) => kubeProxyOff(ctx.cluster),
        runOnce: (ctx) => applyAddons(ctx, ADDON_PHASES.kubeProxy),
        plan: (cluster) => kubeProxyOff(cluster) !== undefined ? [] : ({
          title: 'kube-proxy',
          hosts: [firstControlPlane(cluster)],
          what: `DaemonSet from ${PATHS.addons}/10-kube-proxy.yaml, applied on ${firstControlPlane(cluster).name}; runs on every node.`,
          gate: 'the API reports the DaemonSet kube-system/kube-proxy ready on every node it is scheduled to (numberReady = desiredNumberScheduled).',
        }),
        gate: apiGate(workloadReady('DaemonSet', 'kube-proxy')),
      },
      {
        name: 'coredns',
        description: 'CoreDNS Deployment and the kube-dns Service; gate: available (with cni: none, created: it needs a pod network to run)',
        skip: (ctx) => dnsOff(ctx.cluster),
        runOnce: (ctx) => applyAddons(ctx, ADDON_PHASES.coredns),
        plan: (cluster) => dnsOff(cluster) !== undefined ? [] : ({
          title: 'CoreDNS',
          hosts: [firstControlPlane(cluster)],
          what: `Deployment and Service kube-dns (${dnsServiceIp(cluster)}) from ${PATHS.addons}/20-coredns.yaml, applied on ${firstControlPlane(cluster).name}.`,
          gate:
            cluster.networking.cni.type === 'none'
              ? 'the API serves the Deployment kube-system/coredns (with no pod network its pods stay Pending until you install one).'
              : 'the API reports the Deployment kube-system/coredns available (availableReplicas = replicas).',
        }),
        gate: apiGate({ name: 'Deployment kube-system/coredns', check: async (ctx) => (ctx.cluster.networking.cni.type === 'none' ? deploymentCreated(ctx) : workloadReady('Deployment', 'coredns').check(ctx)) }),
      },
    ],
  },
];
