/**
 * kubeadm's signature of a component-configuration ConfigMap (kube-proxy, kubelet-config): the
 * annotation `kubeadm upgrade` checks to tell a configuration kubeadm wrote from one a user edited.
 * sha256 over the values in key order, binary data after (componentconfigs.ChecksumForConfigMap).
 */
import { createHash } from 'node:crypto';

export const COMPONENT_CONFIG_HASH_ANNOTATION = 'kubeadm.kubernetes.io/component-config.hash';

export function componentConfigHash(data: Readonly<Record<string, string>>, binaryData: Readonly<Record<string, Buffer>> = {}): string {
  const hash = createHash('sha256');
  const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  for (const key of Object.keys(data).sort(byKey)) hash.update(data[key]!);
  for (const key of Object.keys(binaryData).sort(byKey)) hash.update(binaryData[key]!);
  return `sha256:${hash.digest('hex')}`;
}

/** `metadata.annotations` with kubeadm's hash of `data`. */
export const signedBy = (data: Readonly<Record<string, string>>): Record<string, string> => ({ [COMPONENT_CONFIG_HASH_ANNOTATION]: componentConfigHash(data) });
