/**
 * What init publishes in kube-system for `kbuild join`, and its reading on the joining node:
 * - kbuild-config: the cluster file, so `kbuild join` (as printed by init, with no --config) renders
 *   a joining control plane exactly as `kbuild render` would; kubeadm's ClusterConfiguration alone
 *   lacks the hosts, the etcd topology and the load balancer. SSH settings are left out: they
 *   describe the workstation's access, and are no business of the nodes;
 * - kubeadm-config: kubeadm's ClusterConfiguration, so kubeadm-aware tools read the cluster as
 *   kubeadm wrote it (and a worker joins a cluster without kbuild-config the kubeadm way).
 * Both are readable by the bootstrap token's group and by nodes.
 */
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { parseClusterFile } from '../config/load.js';
import { hostPort, type Cluster, type ComponentExtras } from '../config/model.js';
import type { ClusterFile } from '../config/schema.js';
import { StateError } from '../errors/index.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { kubeadmApiVersion } from '../kubeadm/versions.js';
import { toYaml } from '../util/yaml.js';
import { isForbidden, type ApiClient } from './client.js';
import { nodesMayGetConfigMap } from './rbac.js';

export const KBUILD_CONFIG = 'kbuild-config';
export const KBUILD_CONFIG_KEY = 'cluster.yaml';
/** How messages name the published file (it has no path on the joining machine). */
export const PUBLISHED_SOURCE = `kube-system/${KBUILD_CONFIG}`;

/** The cluster file without its SSH settings, as YAML. */
export function publishableClusterFile(file: ClusterFile): string {
  const { ssh: _clusterSsh, ...spec } = file.spec;
  const hosts = spec.hosts.map(({ ssh: _hostSsh, ...host }) => host);
  const header = '# Published by kbuild init (upload-config/kubeadm) for `kbuild join`; SSH settings omitted.\n';
  return header + yaml.dump({ ...file, spec: { ...spec, hosts } }, { noRefs: true, lineWidth: -1 });
}

/** The ConfigMap and the RBAC that lets joining nodes (bootstrap token) and nodes read it, as kubeadm does for kubeadm-config. */
export function kbuildConfigObjects(file: ClusterFile): KubernetesObject[] {
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: KBUILD_CONFIG, namespace: 'kube-system' },
    data: { [KBUILD_CONFIG_KEY]: publishableClusterFile(file) },
  };
  return [configMap, ...nodesMayGetConfigMap(KBUILD_CONFIG, `kbuild:nodes-${KBUILD_CONFIG}`)];
}

/** The published cluster file, validated as any cluster file; undefined when the cluster has none (init by an older kbuild, or upload-config skipped). */
export async function readPublishedClusterFile(api: ApiClient): Promise<ClusterFile | undefined> {
  let configMap: V1ConfigMap | undefined;
  try {
    configMap = (await api.read('v1', 'ConfigMap', 'kube-system', KBUILD_CONFIG));
  } catch (error) {
    // A cluster initialised without it also lacks the Role that would let the token read it.
    if (isForbidden(error)) return undefined;
    throw error;
  }
  const text = configMap?.data?.[KBUILD_CONFIG_KEY];
  return text === undefined ? undefined : parseClusterFile(text, PUBLISHED_SOURCE);
}

/** The part of kubeadm's ClusterConfiguration a worker joining kubeadm's way reads back. */
export interface ClusterConfiguration {
  kubernetesVersion?: string;
  imageRepository?: string;
  networking?: { serviceSubnet?: string; podSubnet?: string; dnsDomain?: string };
}

/** A list kubeadm omits when empty. */
const nonEmpty = <T>(list: readonly T[]): readonly T[] | undefined => (list.length > 0 ? list : undefined);

/** kubeadm v1beta4's extraVolumes and extraEnvs, omitted when empty. */
const extrasOf = (extras: ComponentExtras) => ({ extraVolumes: nonEmpty(extras.extraVolumes), extraEnvs: nonEmpty(extras.extraEnvs) });

/** kubeadm v1beta4's extraArgs: a list of name/value pairs, sorted by name (as kubeadm writes it). */
const argList = (args: Record<string, string>) => {
  const list = Object.entries(args)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
  return list.length > 0 ? list : undefined;
};

/** kubeadm v1beta3's extraArgs: a map, keys sorted (as kubeadm writes it). */
const argMap = (args: Record<string, string>) => {
  const list = argList(args);
  return list && Object.fromEntries(list.map(({ name, value }) => [name, value]));
};

/**
 * The cluster as kubeadm's own ClusterConfiguration, in the API its release reads (v1beta4 from
 * v1.31, v1beta3 for v1.30: kubeadmApiVersion), complete enough that kubeadm itself can work from it
 * (`kubeadm config validate`, `join`, `upgrade`): the etcd it uses (local, or the external endpoints
 * with the apiserver's client certificate), the components' extra arguments, the API server's SANs
 * and the key algorithm. The e2e kubeadm-reference test feeds it to the real kubeadm of every
 * supported minor and compares what kubeadm writes with kbuild's render.
 */
export function kubeadmClusterConfiguration(cluster: Cluster): Record<string, unknown> {
  const apiVersion = kubeadmApiVersion(cluster.kubernetesVersion);
  return apiVersion === 'kubeadm.k8s.io/v1beta4' ? v1beta4(cluster) : v1beta3(cluster);
}

/** etcd as both APIs name it; `local` takes the version's own extraArgs shape and fields. */
function etcdOf(cluster: Cluster, local: Record<string, unknown>): Record<string, unknown> {
  return cluster.etcd.topology === 'stacked'
    ? { local: { dataDir: cluster.etcd.dataDir, serverCertSANs: nonEmpty(cluster.etcd.serverCertSANs), peerCertSANs: nonEmpty(cluster.etcd.peerCertSANs), ...local } }
    : {
        external: {
          endpoints: cluster.etcdMembers.map((m) => `https://${hostPort(m.address, PORTS.etcdClient)}`),
          caFile: `${PATHS.etcdPki}/ca.crt`,
          certFile: `${PATHS.pki}/apiserver-etcd-client.crt`,
          keyFile: `${PATHS.pki}/apiserver-etcd-client.key`,
        },
      };
}

/** What both APIs share, the same in each. */
const common = (cluster: Cluster) => ({
  kind: 'ClusterConfiguration',
  certificatesDir: PATHS.pki,
  clusterName: cluster.clusterName,
  controlPlaneEndpoint: hostPort(cluster.endpoint.host, cluster.endpoint.port),
  imageRepository: cluster.imageRepository,
  kubernetesVersion: cluster.kubernetesVersion,
  networking: { dnsDomain: cluster.networking.dnsDomain, serviceSubnet: cluster.networking.serviceSubnet, podSubnet: cluster.networking.podSubnet },
});

// JSON round trips: the undefined fields go, as kubeadm omits empty ones.
const withoutUndefined = (value: object): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

function v1beta4(cluster: Cluster): Record<string, unknown> {
  return withoutUndefined({
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    ...common(cluster),
    apiServer: { certSANs: nonEmpty(cluster.apiServer.certSANs), extraArgs: argList(cluster.apiServer.extraArgs), ...extrasOf(cluster.apiServer) },
    controllerManager: { extraArgs: argList(cluster.controllerManager.extraArgs), ...extrasOf(cluster.controllerManager) },
    scheduler: { extraArgs: argList(cluster.scheduler.extraArgs), ...extrasOf(cluster.scheduler) },
    encryptionAlgorithm: cluster.certificates.encryptionAlgorithm,
    etcd: etcdOf(cluster, { extraArgs: argList(cluster.etcd.extraArgs), extraEnvs: nonEmpty(cluster.etcd.extraEnvs) }),
    featureGates: Object.keys(cluster.featureGates).length > 0 ? cluster.featureGates : undefined,
    dns: cluster.dns.disabled ? { disabled: true } : undefined,
    proxy: cluster.kubeProxy.disabled ? { disabled: true } : undefined,
  });
}

/**
 * kubeadm v1.30's v1beta3: extraArgs are maps; no extraEnvs and no encryptionAlgorithm (validation
 * refuses extraEnvs and RSA-3072/4096 for v1.30), ECDSA-P256 is its PublicKeysECDSA gate; no
 * dns/proxy.disabled: kubeadm v1.30 skips those addons with init's skipPhases, and its upgrade leaves
 * alone an addon whose ConfigMap or Deployment the cluster lacks.
 */
function v1beta3(cluster: Cluster): Record<string, unknown> {
  const extraVolumes = (extras: ComponentExtras) => nonEmpty(extras.extraVolumes);
  const gates = { ...cluster.featureGates, ...(cluster.certificates.encryptionAlgorithm === 'ECDSA-P256' ? { PublicKeysECDSA: true } : {}) };
  return withoutUndefined({
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    ...common(cluster),
    apiServer: { certSANs: nonEmpty(cluster.apiServer.certSANs), extraArgs: argMap(cluster.apiServer.extraArgs), extraVolumes: extraVolumes(cluster.apiServer) },
    controllerManager: { extraArgs: argMap(cluster.controllerManager.extraArgs), extraVolumes: extraVolumes(cluster.controllerManager) },
    scheduler: { extraArgs: argMap(cluster.scheduler.extraArgs), extraVolumes: extraVolumes(cluster.scheduler) },
    etcd: etcdOf(cluster, { extraArgs: argMap(cluster.etcd.extraArgs) }),
    featureGates: Object.keys(gates).length > 0 ? gates : undefined,
  });
}

/** kube-system/kubeadm-config (key ClusterConfiguration), with the RBAC that lets joining nodes and nodes read it. */
export function kubeadmConfigObjects(cluster: Cluster): KubernetesObject[] {
  const clusterConfiguration = kubeadmClusterConfiguration(cluster);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
    data: { ClusterConfiguration: toYaml(clusterConfiguration) },
  };
  return [configMap, ...nodesMayGetConfigMap('kubeadm-config', 'kubeadm:nodes-kubeadm-config')];
}

/** kube-system/kubeadm-config's ClusterConfiguration, readable by the bootstrap token (kubeadm:nodes-kubeadm-config). */
export async function readClusterConfiguration(api: ApiClient): Promise<ClusterConfiguration> {
  const configMap: V1ConfigMap | undefined = await api.read('v1', 'ConfigMap', 'kube-system', 'kubeadm-config');
  const text = configMap?.data?.ClusterConfiguration;
  if (!text) throw new StateError('the cluster has no kube-system/kubeadm-config with a ClusterConfiguration (run `kbuild init phase upload-config/kubeadm` on the first control plane), or pass the cluster file with --config');
  let parsed: unknown;
  try {
    parsed = yaml.load(text);
  } catch (error) {
    throw new StateError(`kube-system/kubeadm-config's ClusterConfiguration is not YAML (${(error as Error).message}); pass the cluster file with --config`, { cause: error });
  }
  return parsed !== null && typeof parsed === 'object' ? parsed : {};
}
