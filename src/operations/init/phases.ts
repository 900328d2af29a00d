/**
 * `kbuild init`'s phase tree, with kubeadm's names and order (§5.1). Each phase writes its share of
 * render's files for this host — the files whose renderer tagged them with this phase — or talks to
 * the API; the same phases run against the local machine or, in a dry-run, against a directory and
 * a recording API client.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { endpointUrl } from '../../config/model.js';
import { controlPlaneProbes, probeAll } from '../../health/probes.js';
import { parseObjects } from '../../kube/client.js';
import type { Phase, StepOutcome } from '../../workflow/types.js';
import { runPreflight } from '../../preflight/run.js';
import { PATHS } from '../../kubeadm/constants.js';
import type { InitPhase, RenderedFile } from '../../kubeadm/files.js';
import { runChecked } from '../../transport/run.js';
import { pushFiles } from '../../transport/sync.js';
import { caCertHash } from '../../pki/ca-hash.js';
import { parseKubeconfig, renderKubeconfig } from '../../kubeconfig/kubeconfig.js';
import { signedClusterInfo } from '../../kube/cluster-info.js';
import { controlPlaneMarks, markNode } from '../../kube/node.js';
import { CERTS_TOKEN_DESCRIPTION, CERTS_TOKEN_TTL_MS, joinCommand, newTokenString, splitToken, tokenSecret } from '../../kube/token.js';
import { certsRbac, certsSecret, decodeCertificateKey, ownerReferenceTo, sharedCertFiles } from '../../kube/upload-certs.js';
import { kbuildConfigObjects, kubeadmConfigObjects } from '../../kube/published-cluster.js';
import { restartKubelet } from '../../static-pods/restart.js';
import { dnsOff, kubeProxyOff } from '../addons-off.js';
import type { InitContext } from './context.js';
import { StateError } from '../../errors/index.js';
import { CERT_ROWS_IN_PHASE_ORDER, KUBECONFIG_ROWS, initPhaseOf } from '../../pki/table.js';

const MINUTE = 60_000;

/** The host's files that this init phase writes. */
const filesOf = (ctx: InitContext, phase: InitPhase): RenderedFile[] => ctx.files.filter((f) => f.phase === phase);

const writePhase = (phase: InitPhase) => async (ctx: InitContext): Promise<StepOutcome> => ({ changed: await pushFiles(ctx.transport, filesOf(ctx, phase)) });

/** The objects of an addon phase's files (render's), in file order, as they are applied. */
function addonObjects(ctx: InitContext, phase: InitPhase): KubernetesObject[] {
  const files = filesOf(ctx, phase);
  if (files.length === 0) throw new StateError(`render gave ${ctx.host.name} no files for ${phase}; init must run on the first control plane`);
  return files.flatMap((f) => parseObjects(f.content.toString()));
}

async function apply(ctx: InitContext, objects: KubernetesObject[]): Promise<KubernetesObject[]> {
  return (await ctx.api()).apply(objects);
}

/** Writes the addon files of a phase (the record on the host) and applies their objects. */
const addonPhase = (phase: InitPhase) => async (ctx: InitContext): Promise<StepOutcome> => {
  const changed = await pushFiles(ctx.transport, filesOf(ctx, phase));
  const objects = addonObjects(ctx, phase);
  await apply(ctx, objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`)] };
};

async function bootstrapToken(ctx: InitContext): Promise<StepOutcome> {
  const changed = await pushFiles(ctx.transport, filesOf(ctx, 'bootstrap-token'));
  const { id, secret } = splitToken(ctx.secrets.bootstrapToken)!;
  // The files hold the RBAC, the token, then cluster-info (signed here, as the bootstrap signer would);
  // kubeadm creates the token first.
  const rendered = addonObjects(ctx, 'bootstrap-token').map((o) => (o.kind === 'ConfigMap' && o.metadata?.name === 'cluster-info' ? signedClusterInfo(o, id, secret) : o));
  const isToken = (o: KubernetesObject) => o.kind === 'Secret';
  const objects = [...rendered.filter(isToken), ...rendered.filter((o) => !isToken(o))];
  await apply(ctx, objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`)] };
}

async function uploadCerts(ctx: InitContext): Promise<StepOutcome> {
  if (!ctx.certificateKey) return { changed: [] };
  const key = decodeCertificateKey(ctx.certificateKey);
  const token = splitToken(newTokenString(ctx.random))!;
  const [stored] = await apply(ctx, [
    tokenSecret({ ...token, description: CERTS_TOKEN_DESCRIPTION, expires: new Date(ctx.now().getTime() + CERTS_TOKEN_TTL_MS), usages: [], groups: [] }),
  ]);
  const files = new Map<string, Buffer | undefined>();
  for (const name of sharedCertFiles(ctx.cluster.etcd.topology === 'stacked')) files.set(name, await ctx.transport.readFile(`${PATHS.pki}/${name}`));
  const objects = [certsSecret(files, key, ownerReferenceTo(stored as V1Secret)), ...certsRbac()];
  await apply(ctx, objects);
  return { changed: ['Secret/kube-system/kubeadm-certs', 'Role/kubeadm:kubeadm-certs', 'RoleBinding/kubeadm:kubeadm-certs'] };
}

async function markControlPlane(ctx: InitContext): Promise<StepOutcome> {
  return { changed: await markNode(await ctx.api(), ctx.host.name, controlPlaneMarks(ctx.host), ctx.apiRetry) };
}

/** kubelet-finalize/enable-client-cert-rotation: point kubelet.conf at the rotating client pem. */
async function enableClientCertRotation(ctx: InitContext): Promise<StepOutcome> {
  if (!(await ctx.transport.stat(PATHS.kubeletClientPem))) return { changed: [] };
  const current = await ctx.transport.readFile(PATHS.kubeletKubeconfig);
  if (!current) return { changed: [] };
  const parsed = parseKubeconfig(current.toString());
  if (parsed.clientCertPem === undefined) return { changed: [] };
  const text = renderKubeconfig({ server: parsed.server, caCertPem: parsed.caCertPem, user: parsed.user, clusterName: parsed.clusterName })
    .replace(/user: \{\}/, `user:\n    client-certificate: ${PATHS.kubeletClientPem}\n    client-key: ${PATHS.kubeletClientPem}`);
  await ctx.transport.writeFile(PATHS.kubeletKubeconfig, text, { mode: 0o600 });
  await runChecked(ctx.transport, 'systemctl restart kubelet');
  return { changed: [PATHS.kubeletKubeconfig] };
}

function showJoinCommand(ctx: InitContext): Promise<StepOutcome> {
  const join = (certificateKey?: string) => joinCommand(endpointUrl(ctx.cluster), ctx.secrets.bootstrapToken, caCertHash(ctx.caCertPem), certificateKey);
  ctx.joinCommands = { worker: join(), ...(ctx.certificateKey ? { controlPlane: join(ctx.certificateKey) } : {}) };
  return Promise.resolve({ changed: [] });
}

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  {
    name: 'preflight',
    description: 'Run pre-flight checks',
    runOnce: async (ctx) => {
      await runPreflight(ctx.cluster, { hosts: [ctx.host], connect: () => Promise.resolve(ctx.transport), concurrency: 1, ignore: ctx.ignorePreflightErrors, reporter: ctx.reporter, gathered: new Map([[ctx.host.name, ctx.facts]]) });
      return { changed: [] };
    },
  },
  {
    name: 'certs',
    description: 'Certificate generation',
    children: CERT_ROWS_IN_PHASE_ORDER.map((row) => {
      const phase = initPhaseOf(row);
      const name = phase.slice('certs/'.length);
      return { name, description: `Write the ${name} certificate and key`, runOnce: writePhase(phase) };
    }),
  },
  {
    name: 'kubeconfig',
    description: 'Generate all kubeconfig files necessary to establish the control plane and the admin kubeconfig file',
    // kubeadm's order, which is not the table's.
    children: ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf'].map((file) => {
      const phase = initPhaseOf(KUBECONFIG_ROWS.find((r) => r.name === file)!);
      return { name: phase.slice('kubeconfig/'.length), description: `Write ${PATHS.kubernetesDir}/${file}`, runOnce: writePhase(phase) };
    }),
  },
  { name: 'etcd', description: 'Generate static Pod manifest file for local etcd', children: [{ name: 'local', description: 'Write the static Pod manifest for a local, single-node etcd', runOnce: writePhase('etcd/local') }] },
  {
    name: 'control-plane',
    description: 'Generate all static Pod manifest files necessary to establish the control plane',
    children: (['apiserver', 'controller-manager', 'scheduler'] as const).map((name) => ({ name, description: `Write the kube-${name} static Pod manifest`, runOnce: writePhase(`control-plane/${name}`) })),
  },
  { name: 'load-balancer', description: 'kbuild: HAProxy/keepalived static pods when the load balancer runs on the control planes', runOnce: writePhase('load-balancer') },
  {
    name: 'kubelet-start',
    description: 'Write kubelet settings and (re)start the kubelet',
    runOnce: async (ctx) => {
      const changed = await pushFiles(ctx.transport, filesOf(ctx, 'kubelet-start'));
      await restartKubelet(ctx.transport);
      return { changed };
    },
  },
  {
    name: 'pod-network',
    description: "kbuild: the builtin pod network's CNI config and routes on this node (spec.networking.cni: builtin)",
    runOnce: async (ctx) => {
      const changed = await pushFiles(ctx.transport, filesOf(ctx, 'pod-network'));
      if (changed.includes(PATHS.podNetworkScript) || changed.includes(PATHS.cniConflist)) await runChecked(ctx.transport, PATHS.podNetworkScript);
      return { changed };
    },
  },
  {
    name: 'wait-control-plane',
    description: 'Wait for the control plane to start',
    runOnce: () => Promise.resolve({ changed: [] }),
    gate: {
      name: 'kubelet, etcd, kube-apiserver, kube-controller-manager and kube-scheduler healthy',
      timeoutMs: 4 * MINUTE,
      intervalMs: 1000,
      afterAll: {
        name: 'control plane healthy',
        check: async (ctx) => probeAll(ctx.transport, controlPlaneProbes(ctx.cluster, ctx.host)),
      },
    },
  },
  {
    name: 'upload-config',
    description: 'Upload the kubeadm and kubelet configuration to ConfigMaps',
    children: [
      {
        name: 'kubeadm',
        description: 'Upload the ClusterConfiguration to the kubeadm-config ConfigMap, and the cluster file to kbuild-config',
        runOnce: async (ctx) => {
          const objects = [...kubeadmConfigObjects(ctx.cluster), ...kbuildConfigObjects(ctx.file)];
          await apply(ctx, objects);
          return { changed: objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`) };
        },
      },
      { name: 'kubelet', description: 'Upload the kubelet configuration to the kubelet-config ConfigMap', runOnce: addonPhase('upload-config/kubelet') },
    ],
  },
  { name: 'upload-certs', description: 'Upload certificates to kubeadm-certs (only with --upload-certs)', runOnce: uploadCerts },
  { name: 'mark-control-plane', description: 'Mark a node as a control-plane (labels and taint)', runOnce: markControlPlane },
  { name: 'bootstrap-token', description: 'Bootstrap token, node bootstrap RBAC and the signed kube-public/cluster-info ConfigMap', runOnce: bootstrapToken },
  {
    name: 'kubelet-finalize',
    description: 'Update settings relevant to the kubelet after TLS bootstrap',
    children: [{ name: 'enable-client-cert-rotation', description: 'Point kubelet.conf at the rotatable kubelet client certificate', runOnce: enableClientCertRotation }],
  },
  {
    name: 'addon',
    description: 'Install required addons for passing conformance tests',
    children: [
      { name: 'coredns', description: 'Install the CoreDNS addon', skip: (ctx) => dnsOff(ctx.cluster), runOnce: addonPhase('addon/coredns') },
      { name: 'kube-proxy', description: 'Install the kube-proxy addon', skip: (ctx) => kubeProxyOff(ctx.cluster), runOnce: addonPhase('addon/kube-proxy') },
      {
        name: 'pod-network',
        description: 'kbuild: apply your CNI manifest (spec.networking.cni.manifest)',
        runOnce: (ctx) => (ctx.cluster.networking.cni.type === 'manifest' ? addonPhase('addon/pod-network')(ctx) : Promise.resolve({ changed: [] })),
      },
    ],
  },
  { name: 'show-join-command', description: 'Show the join command for control-plane and worker node', runOnce: showJoinCommand },
];

