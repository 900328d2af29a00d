/**
 * The kubelet files a joining node gets (kubeadm join phases/kubelet-start): config.yaml as the
 * cluster published it in kube-system/kubelet-config (with the resolvConf this machine needs, as
 * kubeadm join decides it), kubeadm-flags.env and the systemd drop-in
 * as `kbuild render` writes them, the discovered CA, and for TLS bootstrap bootstrap-kubelet.conf
 * with the token (workers; control planes get kubelet.conf from their own PKI instead).
 */
import yaml from 'js-yaml';
import type { Cluster, Host } from '../../config/model.js';
import type { PatchFile } from '../../config/patches.js';
import { StateError } from '../../errors/index.js';
import type { ApiClient } from '../../kube/client.js';
import { PATHS } from '../../kubeadm/constants.js';
import type { FileOwner, RenderedFile } from '../../kubeadm/files.js';
import type { HostEnvironment } from '../../kubeadm/host-environment.js';
import { bootstrapKubeconfig, clusterCaFile, kubeletDropIn, kubeletFlagsEnv, withHostResolvConf } from '../../render/kubelet.js';
import { withPatches } from '../../render/patches.js';
import { toYaml } from '../../util/yaml.js';
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

/**
 * The published kubelet configuration as this machine's config.yaml: byte for byte, unless this
 * machine needs a resolvConf the configuration does not set (systemd-resolved active; kubeadm join's
 * mutateResolverConfig) or the cluster file has kubeletconfiguration patches; text that is no mapping stays as it is (the kubelet reports it).
 */
export function hostKubeletConfigText(published: string, env: HostEnvironment, patches: readonly PatchFile[] = []): string {
  let config: unknown;
  try {
    config = yaml.load(published);
  } catch {
    return published;
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return published;
  const decided = withPatches(patches, 'kubeletconfiguration', withHostResolvConf(config as Record<string, unknown>, env));
  return decided === config ? published : toYaml(decided);
}

export interface JoinKubeletInput {
  cluster: Cluster;
  host: Host;
  discovered: DiscoveredCluster;
  token: string;
  /** kube-system/kubelet-config's text. */
  kubeletConfig: string;
  /** This machine's, from its facts. */
  environment: HostEnvironment;
  templates: Templates;
  /** Control planes have kubelet.conf from their PKI and need no bootstrap kubeconfig. */
  tlsBootstrap: boolean;
}

export function joinKubeletFiles(input: JoinKubeletInput): RenderedFile[] {
  const { templates } = input;
  const files: RenderedFile[] = [
    clusterCaFile(input.discovered.caCertPem),
    { path: PATHS.kubeletConfig, mode: 0o644, content: hostKubeletConfigText(input.kubeletConfig, input.environment, input.cluster.patches), ...KUBELET_START },
    { path: PATHS.kubeletFlags, mode: 0o644, content: kubeletFlagsEnv(templates, input.cluster, input.host), ...KUBELET_START },
    { path: PATHS.kubeletDropIn, mode: 0o644, content: kubeletDropIn(templates, input.cluster, true), ...KUBELET_START },
    // The builtin network on this node; the other nodes learn its route at the next `kbuild apply`.
    ...podNetworkFiles(input.cluster, input.host, nodePodRanges(input.cluster)),
  ];
  if (input.tlsBootstrap) files.push({ path: PATHS.bootstrapKubeconfig, mode: 0o600, secret: true, content: joinBootstrapKubeconfig(input.discovered, input.token), ...KUBELET_START });
  return files;
}
