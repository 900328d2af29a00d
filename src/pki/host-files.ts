/**
 * The PKI files on one host, as a map from a relative name (`pki/apiserver.crt`, `admin.conf`) to
 * content. check-expiration and renew work on this map, so the same logic serves local directories
 * and files gathered over SSH.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS } from './table.js';

export type HostPkiFiles = ReadonlyMap<string, string>;

/** Every relative name kbuild looks for on a host. */
export function knownHostFiles(): string[] {
  return [
    ...CA_ROWS.flatMap((r) => [`pki/${r.base}.crt`, `pki/${r.base}.key`]),
    ...LEAF_ROWS.flatMap((r) => [`pki/${r.base}.crt`, `pki/${r.base}.key`]),
    ...KUBECONFIG_ROWS.map((r) => r.name),
  ];
}

/** Absolute path of a relative name, given the two directories. */
export function hostFilePath(name: string, certDir: string, kubeconfigDir: string): string {
  return name.startsWith('pki/') ? join(certDir, name.slice(4)) : join(kubeconfigDir, name);
}

export async function readLocalHostFiles(certDir: string, kubeconfigDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of knownHostFiles()) {
    try {
      files.set(name, await readFile(hostFilePath(name, certDir, kubeconfigDir), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files;
}
