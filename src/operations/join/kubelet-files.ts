/**
 * The kubelet files a joining node gets (kubeadm join phases/kubelet-start): config.yaml exactly as
 * the cluster published it in kube-system/kubelet-config, kubeadm-flags.env and the systemd drop-in
 * as `kbuild render` writes them, the discovered CA, and for TLS bootstrap bootstrap-kubelet.conf
 * with the token (workers; control planes get kubelet.conf from their own PKI instead).
 */
import type { Cluster, Host } from '../../config/model.js';
import { StateError } from '../../errors/index.js';
import type { ApiClient } from '../../kube/client.js';
import { PATHS } from '../../kubeadm/constants.js';
import type { FileOwner, RenderedFile } from '../../kubeadm/files.js';
import { bootstrapKubeconfig, clusterCaFile, kubeletDropIn, kubeletFlagsEnv } from '../../render/kubelet.js';
import { nodePodRanges, podNetworkFiles } from '../../render/pod-network.js';
import { generatedBy } from '../../render/yaml.js';
import type { Templates } from '../../templates/index.js';
import type { DiscoveredCluster } from '../../kube/cluster-info.js';

const KUBELET_START: FileOwner = { component: 'kubelet', phase: 'kubelet-start' };

/** kube-system/kubelet-config key `kubelet`, readable by bootstrap tokens (kubeadm:kubelet-config). */
export async function publishedKubeletConfig(api: ApiClient): Promise<string> {
  const configMap = (await api.read('v1', 'ConfigMap', 'kube-system', 'kubelet-config')) as
    | { data?: Record<string, string> }
    | undefined;
  const text = configMap?.data?.kubelet;
  if (!text) throw new StateError('the cluster has no kube-system/kubelet-config ConfigMap with key "kubelet": run `kbuild init phase upload-config/kubelet` on the first control plane');
  return text;
}

export const joinBootstrapKubeconfig = (discovered: DiscoveredCluster, token: string): string =>
  generatedBy('bootstrap/join: discovered server and CA') + bootstrapKubeconfig(discovered.server, discovered.caCertPem, token);

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
    clusterCaFile(input.discovered.caCertPem),
    { path: PATHS.kubeletConfig, mode: 0o644, content: input.kubeletConfig, ...KUBELET_START },
    { path: PATHS.kubeletFlags, mode: 0o644, content: kubeletFlagsEnv(templates, input.cluster, input.host), ...KUBELET_START },
    { path: PATHS.kubeletDropIn, mode: 0o644, content: kubeletDropIn(templates, input.cluster, true), ...KUBELET_START },
    // The builtin network on this node; the other nodes learn its route at the next `kbuild apply`.
    ...podNetworkFiles(input.cluster, input.host, nodePodRanges(input.cluster)),
  ];
  if (input.tlsBootstrap) files.push({ path: PATHS.bootstrapKubeconfig, mode: 0o600, secret: true, content: joinBootstrapKubeconfig(input.discovered, input.token), ...KUBELET_START });
  return files;
}
