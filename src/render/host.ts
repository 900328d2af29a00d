/** Every file one host needs, by role, sorted by path. */
import { hasRole, type Cluster, type Host } from '../config/model.js';
import { addonFiles } from './addons/index.js';
import { isEtcdMember } from './cluster-facts.js';
import { PATHS } from './constants.js';
import type { RenderContext } from './context.js';
import { apiServerPod, controllerManagerPod, schedulerPod } from './control-plane.js';
import { etcdPod, type EtcdBootstrap } from './etcd.js';
import { kubeletFiles, runsKubelet } from './kubelet.js';
import { loadBalancerFiles } from './load-balancer.js';
import { nodePodRanges, podNetworkFiles } from './pod-network.js';
import { perCluster } from './cluster-facts.js';
import { byPath, type RenderedFile } from './types.js';
import { yamlFile } from './yaml.js';

const manifest = (name: string, source: string, pod: unknown): RenderedFile => ({
  path: `${PATHS.manifests}/${name}.yaml`,
  mode: 0o600,
  content: yamlFile(source, [pod]),
});

/** etcd's static pod; `bootstrap` as in etcdArgs (every member at once unless told otherwise). */
export const etcdManifest = (cluster: Cluster, host: Host, bootstrap?: EtcdBootstrap): RenderedFile =>
  manifest('etcd', 'render/etcd.ts', etcdPod(cluster, host, bootstrap));

function controlPlaneManifests(ctx: RenderContext, host: Host): RenderedFile[] {
  if (!hasRole(host, 'control-plane')) return [];
  return [
    manifest('kube-apiserver', 'render/control-plane.ts: kube-apiserver', apiServerPod(ctx.cluster, host)),
    manifest('kube-controller-manager', 'render/control-plane.ts: kube-controller-manager', controllerManagerPod(ctx.cluster)),
    manifest('kube-scheduler', 'render/control-plane.ts: kube-scheduler', schedulerPod(ctx.cluster)),
  ];
}

/**
 * Two sources may name the same path (the PKI's ca.crt and the kubelet's); they must agree, and
 * then the file appears once.
 */
function mergeByPath(host: Host, files: readonly RenderedFile[]): RenderedFile[] {
  const seen = new Map<string, RenderedFile>();
  for (const file of files) {
    const earlier = seen.get(file.path);
    if (earlier === undefined) seen.set(file.path, file);
    else if (Buffer.compare(Buffer.from(earlier.content), Buffer.from(file.content)) !== 0 || earlier.mode !== file.mode) {
      throw new Error(`${host.name}:${file.path}: two renderers produced different contents for this file`);
    }
  }
  return [...seen.values()].sort(byPath);
}

export function renderHost(ctx: RenderContext, host: Host): RenderedFile[] {
  return mergeByPath(host, [
    ...ctx.pki.filesForHost(host),
    ...(isEtcdMember(ctx.cluster, host) ? [etcdManifest(ctx.cluster, host)] : []),
    ...controlPlaneManifests(ctx, host),
    ...(runsKubelet(host) ? kubeletFiles(ctx, host) : []),
    ...loadBalancerFiles(ctx, host),
    ...podNetworkFiles(ctx.cluster, host, perCluster(ctx.cluster, 'node-pod-ranges', () => nodePodRanges(ctx.cluster))),
    ...addonFiles(ctx, host),
  ]);
}
