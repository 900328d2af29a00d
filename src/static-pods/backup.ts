/**
 * Backups on the host itself, beside kubeadm's own (/etc/kubernetes/tmp): each replaced file is
 * copied to <dir><its absolute path> before the new one is written, so a failed roll-out can put
 * exactly the old bytes and modes back.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shCommand, shellQuote } from '../transport/quote.js';
import type { Transport } from '../transport/transport.js';
import { runChecked } from '../transport/run.js';
import { PATHS } from '../kubeadm/constants.js';

/** `kbuild-backup-20261121T080017.123Z-3f2a` under `parent`: milliseconds and a suffix, so two runs never share a directory. */
export function hostBackupDir(now: Date, suffix: string = randomBytes(2).toString('hex'), parent: string = PATHS.backups): string {
  return `${parent}/kbuild-backup-${now.toISOString().replace(/[-:]/g, '')}-${suffix}`;
}

/** Copies each existing file into the backup; prints the paths that did not exist (to remove on restore). */
export function backupScript(dir: string, paths: readonly string[]): string {
  return [
    'set -e',
    `umask 077`,
    ...paths.map((p) => {
      const source = shellQuote(p);
      const target = shellQuote(posix.join(dir, p));
      return `if [ -e ${source} ]; then mkdir -p ${shellQuote(posix.dirname(posix.join(dir, p)))} && cp -p ${source} ${target}; else echo ${source}; fi`;
    }),
  ].join('\n');
}

/** Puts every backed-up file back (cp -p keeps its mode) and removes the ones that were new. */
export function restoreScript(dir: string, backedUp: readonly string[], created: readonly string[]): string {
  return [
    'set -e',
    ...backedUp.map((p) => `cp -p ${shellQuote(posix.join(dir, p))} ${shellQuote(p)}.kbuild-restore && mv -f ${shellQuote(p)}.kbuild-restore ${shellQuote(p)}`),
    ...created.map((p) => `rm -f ${shellQuote(p)}`),
  ].join('\n');
}

/** Returns which paths were backed up and which did not exist before. */
export async function backUp(transport: Transport, dir: string, paths: readonly string[]): Promise<{ backedUp: string[]; created: string[] }> {
  const out = await runChecked(transport, shCommand(backupScript(dir, paths)));
  const created = out.split('\n').map((l) => l.trim()).filter((l) => paths.includes(l));
  return { backedUp: paths.filter((p) => !created.includes(p)), created };
}

export async function restore(transport: Transport, dir: string, backup: { backedUp: readonly string[]; created: readonly string[] }): Promise<void> {
  await runChecked(transport, shCommand(restoreScript(dir, backup.backedUp, backup.created)));
}
