/**
 * The PKI files on one host, as a map from a relative name (`pki/apiserver.crt`, `admin.conf`) to
 * content, read through the host's Transport: this machine's (LocalTransport, with --cert-dir and
 * --kubeconfig-dir) and a fleet host's alike, so check-expiration and renew have one implementation.
 */
import { join } from 'node:path';
import { PATHS } from '../kubeadm/constants.js';
import { readFiles } from '../transport/sync.js';
import type { Transport } from '../transport/transport.js';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS } from './table.js';

export type HostPkiFiles = ReadonlyMap<string, string>;

/** Where a host keeps its certificates and its kubeconfigs. */
export interface HostPkiDirs {
  certDir: string;
  kubeconfigDir: string;
}

export const KUBEADM_DIRS: HostPkiDirs = { certDir: PATHS.pki, kubeconfigDir: PATHS.kubernetesDir };

/** Every relative name kbuild looks for on a host. */
export function knownHostFiles(): string[] {
  return [
    ...CA_ROWS.flatMap((r) => [`pki/${r.base}.crt`, `pki/${r.base}.key`]),
    ...LEAF_ROWS.flatMap((r) => [`pki/${r.base}.crt`, `pki/${r.base}.key`]),
    ...KUBECONFIG_ROWS.map((r) => r.name),
  ];
}

/** Absolute path of a relative name, given the two directories. */
export function hostFilePath(name: string, dirs: HostPkiDirs = KUBEADM_DIRS): string {
  return name.startsWith('pki/') ? join(dirs.certDir, name.slice(4)) : join(dirs.kubeconfigDir, name);
}

/** The known files that exist on the host, by relative name. */
export async function readHostPkiFiles(transport: Transport, dirs: HostPkiDirs = KUBEADM_DIRS): Promise<Map<string, string>> {
  const names = knownHostFiles();
  const texts = await readFiles(transport, names.map((n) => hostFilePath(n, dirs)));
  return new Map(names.flatMap((name, i) => (texts[i] === undefined ? [] : [[name, texts[i].toString('utf8')] as const])));
}
