/**
 * The kubelet files a joining node gets (kubeadm join phases/kubelet-start): config.yaml exactly as
 * the cluster published it in kube-system/kubelet-config, kubeadm-flags.env and the systemd drop-in
 * as `kbuild render` writes them, the discovered CA, and for TLS bootstrap bootstrap-kubelet.conf
 * with the token (workers; control planes get kubelet.conf from their own PKI instead).
 */
import type { Cluster, Host } from '../../config/model.js';
import { UsageError } from '../../errors/index.js';
import type { ApiClient } from '../../kube/client.js';
import { renderKubeconfig } from '../../kubeconfig/kubeconfig.js';
import { nodePodRanges, podNetworkFiles } from '../../render/pod-network.js';
import { PATHS } from '../../render/constants.js';
import { kubeletFlags } from '../../render/kubelet.js';
import type { RenderedFile } from '../../render/types.js';
import { generatedBy } from '../../render/yaml.js';
import type { Templates } from '../../templates/index.js';
import { withApiRetry, type RetryOptions } from '../api-retry.js';
import type { DiscoveredCluster } from '../discovery.js';

export const TLS_BOOTSTRAP_USER = 'tls-bootstrap-token-user';

/** kube-system/kubelet-config key `kubelet`, readable by bootstrap tokens (kubeadm:kubelet-config). */
export async function publishedKubeletConfig(api: ApiClient, retry?: RetryOptions): Promise<string> {
  const configMap = (await withApiRetry('get ConfigMap kube-system/kubelet-config', () => api.read('v1', 'ConfigMap', 'kube-system', 'kubelet-config'), retry)) as
    | { data?: Record<string, string> }
    | undefined;
  const text = configMap?.data?.kubelet;
  if (!text) throw new UsageError('the cluster has no kube-system/kubelet-config ConfigMap with key "kubelet": run `kbuild init phase upload-config/kubelet` on the first control plane');
  return text;
}

export function bootstrapKubeconfig(discovered: DiscoveredCluster, token: string): string {
  return generatedBy('bootstrap/join: discovered server and CA') + renderKubeconfig({ server: discovered.server, caCertPem: discovered.caCertPem, user: TLS_BOOTSTRAP_USER, token });
}

export interface JoinKubeletInput {
  cluster: Cluster;
  host: Host;
  discovered: DiscoveredCluster;
  token: string;
  kubeletConfig: string;
  templates: Templates;
  /** Control planes have kubelet.conf from their PKI and need no bootstrap kubeconfig. */
  tlsBootstrap: boolean;
}

export function joinKubeletFiles(input: JoinKubeletInput): RenderedFile[] {
  const { templates } = input;
  const files: RenderedFile[] = [
    { path: `${PATHS.pki}/ca.crt`, mode: 0o644, content: input.discovered.caCertPem },
    { path: PATHS.kubeletConfig, mode: 0o644, content: input.kubeletConfig },
    { path: PATHS.kubeletFlags, mode: 0o644, content: templates.render('kubeadm-flags.env.hbs', { quotedArgs: JSON.stringify(kubeletFlags(input.cluster, input.host).join(' ')) }) },
    {
      path: PATHS.kubeletDropIn,
      mode: 0o644,
      content: templates.render('kubelet-dropin.conf.hbs', {
        kubeconfigArgs: `--bootstrap-kubeconfig=${PATHS.bootstrapKubeconfig} --kubeconfig=${PATHS.kubeletKubeconfig}`,
        configPath: PATHS.kubeletConfig,
        flagsPath: PATHS.kubeletFlags,
        podNetworkScript: input.cluster.networking.cni.type === 'builtin' ? PATHS.podNetworkScript : '',
      }),
    },
    // The builtin network on this node; the other nodes learn its route at the next `kbuild apply`.
    ...podNetworkFiles(input.cluster, input.host, nodePodRanges(input.cluster)),
  ];
  if (input.tlsBootstrap) files.push({ path: PATHS.bootstrapKubeconfig, mode: 0o600, secret: true, content: bootstrapKubeconfig(input.discovered, input.token) });
  return files;
}
