/** The Kubernetes releases kbuild renders, and kubeadm's component versions and image tags for each. */
import { ConfigError } from '../errors/index.js';

export interface ComponentVersions {
  etcd: string;
  pause: string;
  coredns: string;
}

/** kubeadm's SupportedEtcdVersion / pause / CoreDNS tags per Kubernetes minor (at .0). */
const VERSIONS: Readonly<Record<number, ComponentVersions>> = {
  30: { etcd: '3.5.12-0', pause: '3.9', coredns: 'v1.11.1' },
  31: { etcd: '3.5.15-0', pause: '3.10', coredns: 'v1.11.3' },
  32: { etcd: '3.5.16-0', pause: '3.10', coredns: 'v1.11.3' },
  33: { etcd: '3.5.21-0', pause: '3.10', coredns: 'v1.12.0' },
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

export const isSupportedVersion = (version: string): boolean => VERSIONS[kubernetesMinor(version)] !== undefined;

export function componentVersions(kubernetesVersion: string): ComponentVersions {
  const versions = VERSIONS[kubernetesMinor(kubernetesVersion)];
  if (!versions) {
    throw new ConfigError('cluster file', [{ path: 'spec.kubernetesVersion', message: `${kubernetesVersion} is not supported; kbuild renders ${SUPPORTED_RANGE}` }]);
  }
  return versions;
}
