/** The kubelet's files on every node (kubeadm phases/kubelet/flags.go, componentconfigs/kubelet.go). */
import { dnsServiceIp, endpointUrl, hasRole, type Cluster, type Host } from '../config/model.js';
import { mergeConfiguration } from '../config/component-config.js';
import { renderKubeconfig } from '../kubeconfig/kubeconfig.js';
import type { Templates } from '../templates/index.js';
import { argsFromRecord, argumentsToCommand, type Arg } from './flags.js';
import { perCluster } from './cluster-facts.js';
import { componentVersions, PATHS, PORTS } from './constants.js';
import type { RenderContext } from './context.js';
import type { RenderedFile } from './types.js';
import { generatedBy, yamlFile } from './yaml.js';

/** An etcd-only host runs a standalone kubelet (no API server) just for its etcd static pod. */
export const isStandaloneKubelet = (host: Host): boolean => !hasRole(host, 'control-plane') && !hasRole(host, 'worker');
export const runsKubelet = (host: Host): boolean => hasRole(host, 'control-plane') || hasRole(host, 'worker') || hasRole(host, 'etcd');

export function kubeletConfiguration(cluster: Cluster, host: Host): Record<string, unknown> {
  return mergeConfiguration(kbuildKubeletConfiguration(cluster, host), cluster.kubelet.configuration);
}

function kbuildKubeletConfiguration(cluster: Cluster, host: Host): Record<string, unknown> {
  const standalone = isStandaloneKubelet(host);
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      // A standalone kubelet has no API server to ask (kubeadm's external-etcd guide).
      webhook: { enabled: !standalone },
      x509: { clientCAFile: `${PATHS.pki}/ca.crt` },
    },
    authorization: { mode: standalone ? 'AlwaysAllow' : 'Webhook' },
    cgroupDriver: cluster.kubelet.cgroupDriver,
    ...(standalone ? {} : { clusterDNS: [perCluster(cluster, 'dns-service-ip', () => dnsServiceIp(cluster))], clusterDomain: cluster.networking.dnsDomain }),
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    readOnlyPort: 0,
    rotateCertificates: !standalone,
    staticPodPath: PATHS.manifests,
  };
}

/**
 * KUBELET_KUBEADM_ARGS. kubeadm adds --hostname-override only when the node name differs from the
 * hostname; an offline render cannot know the hostname, so it is always set to the cluster-file name
 * (the name the kubelet's certificate and kubeconfig carry).
 */
export function kubeletFlags(cluster: Cluster, host: Host): string[] {
  const defaults: Arg[] = [
    { name: 'container-runtime-endpoint', value: cluster.kubelet.criSocket },
    { name: 'hostname-override', value: host.name },
    { name: 'pod-infra-container-image', value: `${cluster.imageRepository}/pause:${componentVersions(cluster.kubernetesVersion).pause}` },
  ];
  return argumentsToCommand(defaults, argsFromRecord(cluster.kubelet.extraArgs));
}

/** Files whose content is the same on every host of a kind, rendered once per render (5,000 workers share three). */
const sharedContent = new WeakMap<RenderContext, Map<string, string>>();
function shared(ctx: RenderContext, key: string, render: () => string): string {
  let contents = sharedContent.get(ctx);
  if (!contents) sharedContent.set(ctx, (contents = new Map<string, string>()));
  let content = contents.get(key);
  if (content === undefined) contents.set(key, (content = render()));
  return content;
}

export function kubeletFiles(ctx: RenderContext, host: Host): RenderedFile[] {
  const { cluster, templates } = ctx;
  const standalone = isStandaloneKubelet(host);
  const files: RenderedFile[] = [
    { path: PATHS.kubeletConfig, mode: 0o644, content: shared(ctx, `config:${standalone}`, () => yamlFile('render/kubelet.ts', [kubeletConfiguration(cluster, host)])) },
    { path: PATHS.kubeletFlags, mode: 0o644, content: flagsEnv(templates, kubeletFlags(cluster, host)) },
    {
      path: PATHS.kubeletDropIn,
      mode: 0o644,
      content: shared(ctx, `drop-in:${standalone}`, () =>
        templates.render('kubelet-dropin.conf.hbs', {
          kubeconfigArgs: standalone ? '' : `--bootstrap-kubeconfig=${PATHS.bootstrapKubeconfig} --kubeconfig=${PATHS.kubeletKubeconfig}`,
          podNetworkScript: !standalone && cluster.networking.cni.type === 'builtin' ? PATHS.podNetworkScript : '',
          configPath: PATHS.kubeletConfig,
          flagsPath: PATHS.kubeletFlags,
        }),
      ),
    },
    { path: `${PATHS.pki}/ca.crt`, mode: 0o644, content: ctx.pki.caCertPem },
  ];
  // Control planes get kubelet.conf from the PKI; workers join through TLS bootstrap.
  if (hasRole(host, 'worker') && !hasRole(host, 'control-plane')) {
    files.push({
      path: PATHS.bootstrapKubeconfig,
      mode: 0o600,
      secret: true,
      content: shared(
        ctx,
        'bootstrap-kubeconfig',
        () =>
          generatedBy('render/kubelet.ts') +
          renderKubeconfig({ server: endpointUrl(cluster), caCertPem: ctx.pki.caCertPem, user: 'tls-bootstrap-token-user', token: ctx.secrets.bootstrapToken }),
      ),
    });
  }
  return files;
}

/** One line, the arguments joined by spaces and quoted as Go's %q (JSON string quoting for this text). */
function flagsEnv(templates: Templates, args: readonly string[]): string {
  return templates.render('kubeadm-flags.env.hbs', { quotedArgs: JSON.stringify(args.join(' ')) });
}
