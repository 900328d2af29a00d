/** The Kubernetes releases kbuild renders, and kubeadm's component versions and image tags for each. */
import { ConfigError } from '../errors/index.js';

export interface ComponentVersions {
  etcd: string;
  pause: string;
  coredns: string;
}

/**
 * kubeadm's SupportedEtcdVersion, CoreDNSVersion and PauseVersion (cmd/kubeadm/app/constants/constants.go)
 * as each patch release ships them: a minor's rows apply from their patch on, until the next row. Read
 * from every tag on the Go module proxy (v1.30.0–v1.30.14, v1.31.0–v1.31.14, v1.32.0–v1.32.13,
 * v1.33.0–v1.33.13); backports moved etcd (e.g. 3.5.24 in v1.31.14, v1.32.10, v1.33.6) and CoreDNS
 * (v1.11.3 in v1.30.5, v1.31.1). Patches after the newest tag read keep that tag's values.
 */
const VERSIONS: Readonly<Record<number, ReadonlyArray<{ fromPatch: number } & ComponentVersions>>> = {
  30: [
    { fromPatch: 0, etcd: '3.5.12-0', pause: '3.9', coredns: 'v1.11.1' },
    { fromPatch: 5, etcd: '3.5.15-0', pause: '3.9', coredns: 'v1.11.3' },
  ],
  31: [
    { fromPatch: 0, etcd: '3.5.15-0', pause: '3.10', coredns: 'v1.11.1' },
    { fromPatch: 1, etcd: '3.5.15-0', pause: '3.10', coredns: 'v1.11.3' },
    { fromPatch: 14, etcd: '3.5.24-0', pause: '3.10', coredns: 'v1.11.3' },
  ],
  32: [
    { fromPatch: 0, etcd: '3.5.16-0', pause: '3.10', coredns: 'v1.11.3' },
    { fromPatch: 10, etcd: '3.5.24-0', pause: '3.10', coredns: 'v1.11.3' },
  ],
  33: [
    { fromPatch: 0, etcd: '3.5.21-0', pause: '3.10', coredns: 'v1.12.0' },
    { fromPatch: 6, etcd: '3.5.24-0', pause: '3.10', coredns: 'v1.12.0' },
  ],
};

/** The supported minors, ascending: the keys of the version table and nothing else. */
export const SUPPORTED_MINORS: readonly number[] = Object.keys(VERSIONS).map(Number);
/** "v1.30.x to v1.33.x", for messages and the schema's description. */
export const SUPPORTED_RANGE = `v1.${SUPPORTED_MINORS[0]}.x to v1.${SUPPORTED_MINORS.at(-1)}.x`;

/** The load balancer's images (kubeadm's HA guide): HAProxy, and keepalived with a VIP. */
export const HAPROXY_IMAGE = 'haproxy:2.8';
export const KEEPALIVED_IMAGE = 'osixia/keepalived:2.0.17';

export function kubernetesMinor(version: string): number {
  return Number(/^v?1\.(\d+)\./.exec(version)?.[1] ?? Number.NaN);
}

/**
 * kubeadm's configuration API of a release: v1beta4 from v1.31; v1.30's kubeadm reads v1beta3 and
 * refuses v1beta4 (experimental there: "not allowed" without --allow-experimental-api).
 */
export const kubeadmApiVersion = (kubernetesVersion: string): 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4' =>
  kubernetesMinor(kubernetesVersion) >= 31 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';

/** The patch number of v1.MINOR.PATCH (a pre-release such as v1.33.0-rc.1 counts as its patch). */
const kubernetesPatch = (version: string): number => Number(/^v?1\.\d+\.(\d+)/.exec(version)?.[1] ?? Number.NaN);

/** Whether `version` is v1.MINOR.PATCH or later: where kubeadm changed something in a patch release. */
export const isAtLeast = (version: string, minor: number, patch = 0): boolean => {
  const [m, p] = [kubernetesMinor(version), kubernetesPatch(version)];
  return m > minor || (m === minor && p >= patch);
};

/**
 * kubeadm's apiserver-kubelet-client certificate has no O from v1.33.12 (kubernetes PR 138957, a
 * cherry-pick; v1.32.13 and older still have kubeadm:cluster-admins): the ClusterRoleBinding
 * kubeadm:apiserver-kubelet-client gives its user system:kubelet-api-admin instead.
 */
export const kubeletClientHasNoGroup = (version: string): boolean => isAtLeast(version, 33, 12);

export const isSupportedVersion = (version: string): boolean => VERSIONS[kubernetesMinor(version)] !== undefined;

export function componentVersions(kubernetesVersion: string): ComponentVersions {
  const rows = VERSIONS[kubernetesMinor(kubernetesVersion)];
  const patch = kubernetesPatch(kubernetesVersion);
  const row = rows?.findLast((r) => r.fromPatch <= patch);
  if (!row) {
    throw new ConfigError('cluster file', [{ path: 'spec.kubernetesVersion', message: `${kubernetesVersion} is not supported; kbuild renders ${SUPPORTED_RANGE}` }]);
  }
  const { etcd, pause, coredns } = row;
  return { etcd, pause, coredns };
}
