/** /etc/kubernetes/addons/ on the first control plane: what `init` applies once the API is up, in file order. */
import { firstControlPlane, type Host } from '../../config/model.js';
import { PATHS } from '../../kubeadm/constants.js';
import type { RenderContext } from '../context.js';
import type { InitPhase, RenderedFile } from '../../kubeadm/files.js';
import { generatedBy, yamlFile } from '../yaml.js';
import { clusterInfoConfigMap } from '../../kube/cluster-info.js';
import { bootstrapRbacObjects, bootstrapTokenSecret, kubeletConfigMap } from './bootstrap.js';
import { corednsObjects } from './coredns.js';
import { kubeProxyObjects } from './kube-proxy.js';

export function addonFiles(ctx: RenderContext, host: Host): RenderedFile[] {
  const { cluster } = ctx;
  if (firstControlPlane(cluster).name !== host.name) return [];
  const file = (name: string, phase: InitPhase, source: string, documents: unknown[], secret = false): RenderedFile => ({
    path: `${PATHS.addons}/${name}`,
    mode: 0o600,
    content: yamlFile(source, documents),
    ...(secret ? { secret: true } : {}),
    component: 'addons',
    phase,
  });
  return [
    file('00-bootstrap-rbac.yaml', 'bootstrap-token', 'render/addons/bootstrap.ts: RBAC', bootstrapRbacObjects()),
    file('01-bootstrap-token.yaml', 'bootstrap-token', 'render/addons/bootstrap.ts: token', [bootstrapTokenSecret(ctx.secrets)], true),
    file('02-cluster-info.yaml', 'bootstrap-token', 'render/addons/bootstrap.ts: cluster-info', [clusterInfoConfigMap(cluster, ctx.pki.caCertPem)]),
    file('03-kubelet-config.yaml', 'upload-config/kubelet', 'render/addons/bootstrap.ts: kubelet-config', [kubeletConfigMap(cluster, host)]),
    // kubeadm's proxy.disabled and dns.disabled: no addon, no file.
    ...(cluster.kubeProxy.disabled ? [] : [file('10-kube-proxy.yaml', 'addon/kube-proxy', 'render/addons/kube-proxy.ts', kubeProxyObjects(cluster))]),
    ...(cluster.dns.disabled ? [] : [file('20-coredns.yaml', 'addon/coredns', 'render/addons/coredns.ts', corednsObjects(cluster))]),
    ...podNetworkManifestFile(ctx),
  ];
}

/** The user's CNI manifest (spec.networking.cni.manifest), kept as written below kbuild's header. */
function podNetworkManifestFile(ctx: RenderContext): RenderedFile[] {
  if (ctx.cluster.networking.cni.type !== 'manifest') return [];
  if (ctx.podNetworkManifest === undefined) throw new Error('render: spec.networking.cni.manifest was not read before rendering (prepareCluster reads it)');
  return [{ path: `${PATHS.addons}/30-pod-network.yaml`, mode: 0o600, content: generatedBy('spec.networking.cni.manifest, as written') + ctx.podNetworkManifest, component: 'addons', phase: 'addon/pod-network' }];
}
