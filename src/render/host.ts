/** Every file one host needs, by role, sorted by path. */
import { hasRole, isEtcdMember, runsKubelet, type Cluster, type Host } from '../config/model.js';
import { byPath, manifestPath, type FileOwner, type RenderedFile, type StaticPod } from '../kubeadm/files.js';
import { addonFiles } from './addons/index.js';
import { corednsObjects } from './addons/coredns.js';
import { assumedEnvironment, environmentOf, type RenderContext } from './context.js';
import type { HostEnvironment } from '../kubeadm/host-environment.js';
import { apiServerPod, controllerManagerPod, schedulerPod } from './control-plane.js';
import { etcdPod, type EtcdBootstrap } from './etcd.js';
import { hostKubeletConfiguration, kubeletRenderer } from './kubelet.js';
import { loadBalancerFiles } from './load-balancer.js';
import { nodePodRanges, podNetworkFiles } from './pod-network.js';
import { withPatches } from './patches.js';
import { yamlFile } from './yaml.js';

/** A static pod's manifest, with the cluster's patches for it (kubeadm's patch targets are the pods' names). */
const manifest = (cluster: Cluster, pod: StaticPod, source: string, spec: unknown, owner: FileOwner): RenderedFile => ({
  path: manifestPath(pod),
  mode: 0o600,
  content: yamlFile(source, [withPatches(cluster.patches, pod, spec)]),
  ...owner,
});

/** etcd's static pod; `bootstrap` as in etcdArgs (every member at once unless told otherwise). */
export const etcdManifest = (cluster: Cluster, host: Host, bootstrap?: EtcdBootstrap): RenderedFile =>
  manifest(cluster, 'etcd', bootstrap?.state === 'existing' ? 'render/etcd.ts, joining an existing cluster' : 'render/etcd.ts', etcdPod(cluster, host, bootstrap), { component: 'etcd', phase: 'etcd/local' });

/** kube-apiserver, kube-controller-manager and kube-scheduler of a control plane; `env` is what the host has (its CA directories). */
export function controlPlaneManifests(cluster: Cluster, host: Host, env: HostEnvironment): RenderedFile[] {
  return [
    manifest(cluster, 'kube-apiserver', 'render/control-plane.ts: kube-apiserver', apiServerPod(cluster, host, env), { component: 'apiserver', phase: 'control-plane/apiserver' }),
    manifest(cluster, 'kube-controller-manager', 'render/control-plane.ts: kube-controller-manager', controllerManagerPod(cluster, env), { component: 'controller-manager', phase: 'control-plane/controller-manager' }),
    manifest(cluster, 'kube-scheduler', 'render/control-plane.ts: kube-scheduler', schedulerPod(cluster), { component: 'scheduler', phase: 'control-plane/scheduler' }),
  ];
}

/**
 * Two sources may name the same path (the PKI's ca.crt and the kubelet's); they must agree, owner
 * included, and then the file appears once.
 */
function mergeByPath(host: Host, files: readonly RenderedFile[]): RenderedFile[] {
  const seen = new Map<string, RenderedFile>();
  for (const file of files) {
    const earlier = seen.get(file.path);
    if (earlier === undefined) seen.set(file.path, file);
    else if (Buffer.compare(Buffer.from(earlier.content), Buffer.from(file.content)) !== 0 || earlier.mode !== file.mode || earlier.component !== file.component || earlier.phase !== file.phase) {
      throw new Error(`${host.name}:${file.path}: two renderers produced different files for this path`);
    }
  }
  return [...seen.values()].sort(byPath);
}

/** Renders host after host of one run; what every host of a kind shares is rendered once per renderer. */
export function hostRenderer(ctx: RenderContext): (host: Host) => RenderedFile[] {
  const kubeletFiles = kubeletRenderer(ctx);
  const podRanges = nodePodRanges(ctx.cluster);
  return (host) =>
    mergeByPath(host, [
      ...ctx.pki.filesForHost(host),
      ...(isEtcdMember(ctx.cluster, host) ? [etcdManifest(ctx.cluster, host)] : []),
      ...(hasRole(host, 'control-plane') ? controlPlaneManifests(ctx.cluster, host, environmentOf(ctx, host)) : []),
      ...(runsKubelet(host) ? kubeletFiles(host) : []),
      ...loadBalancerFiles(ctx, host),
      ...podNetworkFiles(ctx.cluster, host, podRanges),
      ...addonFiles(ctx, host),
    ]);
}

export const renderHost = (ctx: RenderContext, host: Host): RenderedFile[] => hostRenderer(ctx)(host);

/**
 * Applies the cluster's patches to every object they target, on every host as the cluster file
 * assumes it, and throws the first that cannot apply: `validate` finds it without a PKI or a render.
 */
export function checkPatchesApply(cluster: Cluster): void {
  if (cluster.patches.length === 0) return;
  const env = assumedEnvironment(cluster);
  for (const host of cluster.hosts) {
    if (isEtcdMember(cluster, host)) etcdManifest(cluster, host);
    if (hasRole(host, 'control-plane')) controlPlaneManifests(cluster, host, env);
    if (runsKubelet(host)) hostKubeletConfiguration(cluster, host, env);
  }
  if (!cluster.dns.disabled) corednsObjects(cluster);
}
