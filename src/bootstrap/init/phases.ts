/**
 * `kbuild init`'s phase tree, with kubeadm's names and order (§5.1). Each phase writes its share of
 * render's files for this host (files.ts) or talks to the API; the same phases run against the
 * local machine or, in a dry-run, against a directory and a recording API client.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { hasRole } from '../../config/model.js';
import { apiserverReady, componentHealthz, etcdHealth, kubeletHealthz, type Probe } from '../../health/probes.js';
import { parseObjects } from '../../kube/client.js';
import type { Phase, StepOutcome } from '../../phases/types.js';
import { runPreflight } from '../../preflight/run.js';
import { PATHS } from '../../render/constants.js';
import { BOOTSTRAP_TOKEN_PATTERN } from '../../render/secrets.js';
import { pushFiles, runChecked } from '../../apply/push.js';
import { caCertHash } from '../../pki/ca-hash.js';
import { parseKubeconfig, renderKubeconfig } from '../../kubeconfig/kubeconfig.js';
import { httpCode, withApiRetry } from '../api-retry.js';
import { CERTS_TOKEN_DESCRIPTION, CERTS_TOKEN_TTL_MS, newTokenString, parseToken, tokenSecret } from '../token.js';
import { certsRbac, certsSecret, decodeCertificateKey, ownerReferenceTo, sharedCertFiles } from '../upload-certs.js';
import { kbuildConfigObjects } from '../published-cluster.js';
import { joinEndpoint, kubeadmConfigObjects, markControlPlanePatch, signedClusterInfo } from './api-objects.js';
import type { InitContext } from './context.js';
import { ADDON_FILE_PHASES, CERT_PHASES, KUBECONFIG_PHASES, filesOfPhase } from './files.js';

const MINUTE = 60_000;
export const RESTART_KUBELET = 'systemctl daemon-reload && systemctl enable kubelet && systemctl restart kubelet';
const KUBELET_CLIENT_PEM = '/var/lib/kubelet/pki/kubelet-client-current.pem';

const writePhase = (phase: string) => async (ctx: InitContext): Promise<StepOutcome> => ({ changed: await pushFiles(ctx.transport, filesOfPhase(ctx.files, phase)) });

/** Objects of one addon file (render's), as they are applied. */
function addonObjects(ctx: InitContext, name: string): KubernetesObject[] {
  const file = ctx.files.find((f) => f.path === `${PATHS.addons}/${name}`);
  if (!file) throw new Error(`render gave ${ctx.host.name} no ${PATHS.addons}/${name}; init must run on the first control plane`);
  return parseObjects(file.content.toString());
}

async function applyWithRetry(ctx: InitContext, what: string, objects: KubernetesObject[]): Promise<KubernetesObject[]> {
  const api = await ctx.api();
  return withApiRetry(what, () => api.apply(objects), ctx.apiRetry);
}

/** Writes the addon files of a phase (the record on the host) and applies their objects. */
const addonPhase = (phase: string, transform: (ctx: InitContext, objects: KubernetesObject[]) => KubernetesObject[] = (_c, o) => o) => async (ctx: InitContext): Promise<StepOutcome> => {
  const names = Object.entries(ADDON_FILE_PHASES).filter(([, p]) => p === phase).map(([n]) => n);
  const changed = await pushFiles(ctx.transport, filesOfPhase(ctx.files, phase));
  const objects = transform(ctx, names.flatMap((n) => addonObjects(ctx, n)));
  await applyWithRetry(ctx, `${phase}: apply`, objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`)] };
};

const tokenParts = (ctx: InitContext) => {
  const match = BOOTSTRAP_TOKEN_PATTERN.exec(ctx.secrets.bootstrapToken)!;
  return { id: match[1]!, secret: match[2]! };
};

async function bootstrapToken(ctx: InitContext): Promise<StepOutcome> {
  const changed = await pushFiles(ctx.transport, filesOfPhase(ctx.files, 'bootstrap-token'));
  const { id, secret } = tokenParts(ctx);
  const clusterInfo = addonObjects(ctx, '02-cluster-info.yaml').map((o) => (o.kind === 'ConfigMap' ? signedClusterInfo(o, id, secret) : o));
  const objects = [...addonObjects(ctx, '01-bootstrap-token.yaml'), ...addonObjects(ctx, '00-bootstrap-rbac.yaml'), ...clusterInfo];
  await applyWithRetry(ctx, 'bootstrap-token: apply', objects);
  return { changed: [...changed, ...objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`)] };
}

async function uploadCerts(ctx: InitContext): Promise<StepOutcome> {
  if (!ctx.certificateKey) return { changed: [] };
  const key = decodeCertificateKey(ctx.certificateKey);
  const token = parseToken(newTokenString(ctx.random));
  const [stored] = await applyWithRetry(ctx, 'upload-certs: token Secret', [
    tokenSecret({ ...token, description: CERTS_TOKEN_DESCRIPTION, expires: new Date(ctx.now().getTime() + CERTS_TOKEN_TTL_MS), usages: [], groups: [] }),
  ]);
  const files = new Map<string, Buffer | undefined>();
  for (const name of sharedCertFiles(ctx.cluster.etcd.topology === 'stacked')) files.set(name, await ctx.transport.readFile(`${PATHS.pki}/${name}`));
  const objects = [certsSecret(files, key, ownerReferenceTo(stored as V1Secret)), ...certsRbac()];
  await applyWithRetry(ctx, 'upload-certs: kubeadm-certs', objects);
  return { changed: ['Secret/kube-system/kubeadm-certs', 'Role/kubeadm:kubeadm-certs', 'RoleBinding/kubeadm:kubeadm-certs'] };
}

async function markControlPlane(ctx: InitContext): Promise<StepOutcome> {
  const api = await ctx.api();
  const name = ctx.host.name;
  // The kubelet registers the Node shortly after the API is up: a 404 is retried like an unready API, as kubeadm waits.
  const patch = await withApiRetry(`mark-control-plane: Node ${name}`, async () => {
    const wanted = markControlPlanePatch((await api.read('v1', 'Node', undefined, name)), !hasRole(ctx.host, 'worker'));
    if (!wanted) return undefined;
    try {
      await api.mergePatch('v1', 'Node', undefined, name, wanted);
    } catch (error) {
      if (httpCode(error) === 404) throw Object.assign(new Error(`Node ${name} is not registered yet (is the kubelet running?)`), { code: 503 });
      throw error;
    }
    return wanted;
  }, ctx.apiRetry);
  if (!patch) return { changed: [] };
  return { changed: [`Node/${name}: ${Object.keys(patch.metadata.labels).join(', ')}${patch.spec ? ', taint node-role.kubernetes.io/control-plane:NoSchedule' : ''}`] };
}

/** kubelet-finalize/enable-client-cert-rotation: point kubelet.conf at the rotating client pem. */
async function enableClientCertRotation(ctx: InitContext): Promise<StepOutcome> {
  if (!(await ctx.transport.stat(KUBELET_CLIENT_PEM))) return { changed: [] };
  const current = await ctx.transport.readFile(PATHS.kubeletKubeconfig);
  if (!current) return { changed: [] };
  const parsed = parseKubeconfig(current.toString());
  if (parsed.clientCertPem === undefined) return { changed: [] };
  const text = renderKubeconfig({ server: parsed.server, caCertPem: parsed.caCertPem, user: parsed.user })
    .replace(/user: \{\}/, `user:\n    client-certificate: ${KUBELET_CLIENT_PEM}\n    client-key: ${KUBELET_CLIENT_PEM}`);
  await ctx.transport.writeFile(PATHS.kubeletKubeconfig, text, { mode: 0o600 });
  await runChecked(ctx.transport, 'systemctl restart kubelet');
  return { changed: [PATHS.kubeletKubeconfig] };
}

function showJoinCommand(ctx: InitContext): Promise<StepOutcome> {
  const base = `kbuild join ${joinEndpoint(ctx.cluster)} --token ${ctx.secrets.bootstrapToken} --discovery-token-ca-cert-hash ${caCertHash(ctx.caCertPem)}`;
  ctx.joinCommands = { worker: base, ...(ctx.certificateKey ? { controlPlane: `${base} --control-plane --certificate-key ${ctx.certificateKey}` } : {}) };
  return Promise.resolve({ changed: [] });
}

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  {
    name: 'preflight',
    description: 'Run pre-flight checks',
    runOnce: async (ctx) => {
      await runPreflight(ctx.cluster, { hosts: [ctx.host], connect: () => Promise.resolve(ctx.transport), concurrency: 1, ignore: ctx.ignorePreflightErrors, reporter: ctx.reporter });
      return { changed: [] };
    },
  },
  {
    name: 'certs',
    description: 'Certificate generation',
    children: CERT_PHASES.map((c) => ({ name: c.name, description: `Write the ${c.name} certificate and key`, runOnce: writePhase(`certs/${c.name}`) })),
  },
  {
    name: 'kubeconfig',
    description: 'Generate all kubeconfig files necessary to establish the control plane and the admin kubeconfig file',
    children: KUBECONFIG_PHASES.map((k) => ({ name: k.name, description: `Write ${k.file}`, runOnce: writePhase(`kubeconfig/${k.name}`) })),
  },
  { name: 'etcd', description: 'Generate static Pod manifest file for local etcd', children: [{ name: 'local', description: 'Write the static Pod manifest for a local, single-node etcd', runOnce: writePhase('etcd/local') }] },
  {
    name: 'control-plane',
    description: 'Generate all static Pod manifest files necessary to establish the control plane',
    children: ['apiserver', 'controller-manager', 'scheduler'].map((name) => ({ name, description: `Write the kube-${name} static Pod manifest`, runOnce: writePhase(`control-plane/${name}`) })),
  },
  { name: 'load-balancer', description: 'kbuild: HAProxy/keepalived static pods when the load balancer runs on the control planes', runOnce: writePhase('load-balancer') },
  {
    name: 'kubelet-start',
    description: 'Write kubelet settings and (re)start the kubelet',
    runOnce: async (ctx) => {
      const changed = await pushFiles(ctx.transport, filesOfPhase(ctx.files, 'kubelet-start'));
      await runChecked(ctx.transport, RESTART_KUBELET);
      return { changed };
    },
  },
  {
    name: 'pod-network',
    description: "kbuild: the builtin pod network's CNI config and routes on this node (spec.networking.cni: builtin)",
    runOnce: async (ctx) => {
      const changed = await pushFiles(ctx.transport, filesOfPhase(ctx.files, 'pod-network'));
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
        check: async (ctx) => {
          const probes: Array<[string, Probe]> = [
            ['kubelet', kubeletHealthz()],
            ...(ctx.cluster.etcd.topology === 'stacked' ? [['etcd', etcdHealth(ctx.host)] as [string, Probe]] : []),
            ['kube-apiserver', apiserverReady(ctx.cluster, ctx.host)],
            ['kube-controller-manager', componentHealthz(10257)],
            ['kube-scheduler', componentHealthz(10259)],
          ];
          for (const [name, p] of probes) {
            const result = p.interpret(await ctx.transport.run(p.command, { timeoutMs: 15_000, readOnly: true }));
            if (!result.ok) return { ok: false, seen: `${name}: ${result.seen}` };
          }
          return { ok: true };
        },
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
          await applyWithRetry(ctx, 'upload-config/kubeadm', objects);
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
      { name: 'coredns', description: 'Install the CoreDNS addon', runOnce: addonPhase('addon/coredns') },
      { name: 'kube-proxy', description: 'Install the kube-proxy addon', runOnce: addonPhase('addon/kube-proxy') },
      {
        name: 'pod-network',
        description: 'kbuild: apply your CNI manifest (spec.networking.cni.manifest)',
        runOnce: (ctx) => (ctx.cluster.networking.cni.type === 'manifest' ? addonPhase('addon/pod-network')(ctx) : Promise.resolve({ changed: [] })),
      },
    ],
  },
  { name: 'show-join-command', description: 'Show the join command for control-plane and worker node', runOnce: showJoinCommand },
];

