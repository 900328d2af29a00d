/**
 * Batch file operations over any Transport: the transport's own batch form when it has one (SSH:
 * one exec channel per batch), otherwise stat + writeFile per file, exactly as before batching
 * existed (directory, dry-run and fake transports rely on that). Only files whose content or mode
 * differ are written, so a second push writes nothing.
 */
import { settleWithLimit } from '../util/pool.js';
import { sha256Hex } from '../util/sha256.js';
import type { FileInfo, SyncFile, SyncResult, Transport } from './transport.js';

/** Whether a file with this stat must be (re)written to hold `file`. */
export function needsWrite(current: FileInfo | undefined, file: SyncFile): boolean {
  return !current || current.sha256 !== sha256Hex(file.content) || (current.mode & 0o7777) !== file.mode;
}

/** Writes the files whose content or mode differ on the host; see Transport.syncFiles. */
export function syncFiles(transport: Transport, files: readonly SyncFile[]): Promise<SyncResult> {
  if (files.length === 0) return Promise.resolve({ written: [], differed: [] });
  return transport.syncFiles ? transport.syncFiles(files) : syncOneByOne(transport, files);
}

/** Pushes files to a host; returns the paths written. */
export async function pushFiles(transport: Transport, files: readonly SyncFile[]): Promise<string[]> {
  return (await syncFiles(transport, files)).written;
}

/** The fallback: one stat and, when needed, one writeFile per file, in order. */
export async function syncOneByOne(transport: Transport, files: readonly SyncFile[]): Promise<SyncResult> {
  const result: SyncResult = { written: [], differed: [] };
  for (const file of files) {
    const current = await transport.stat(file.path);
    if (!needsWrite(current, file)) continue;
    await transport.writeFile(file.path, file.content, { mode: file.mode, owner: file.owner });
    result.written.push(file.path);
    if (current?.sha256 && current.sha256 !== sha256Hex(file.content)) {
      result.differed.push(file.path);
      (result.previous ??= {})[file.path] = current.sha256;
    }
  }
  return result;
}

/** stat of every path, in order; one round trip where the transport supports it. */
export async function statFiles(transport: Transport, paths: readonly string[]): Promise<Array<FileInfo | undefined>> {
  if (paths.length === 0) return [];
  if (transport.statFiles) return transport.statFiles(paths);
  const infos: Array<FileInfo | undefined> = [];
  for (const path of paths) infos.push(await transport.stat(path));
  return infos;
}

/** Each file's bytes (undefined when missing), a few at a time: over SSH each read is a channel, and sshd allows 10 per connection (MaxSessions). */
export async function readFiles(transport: Transport, paths: readonly string[]): Promise<Array<Buffer | undefined>> {
  const settled = await settleWithLimit(paths, 4, (path) => transport.readFile(path));
  return settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}
