/** The batch sync scripts (src/transport/ssh/batch-scripts.ts) run by a real local /bin/sh, batch after batch, as sshd would. */
import { shCommand } from '../../src/transport/quote.js';
import { syncBatches } from '../../src/transport/ssh/batch-scripts.js';
import type { SyncFile } from '../../src/transport/transport.js';
import { sh, type ShResult } from './sh.js';

/** This process's uid:gid, the owner a test can set without root. */
export const me = `${process.getuid!()}:${process.getgid!()}`;
let suffixes = 0;
/** Temp-file suffixes, predictable so a test can look for leftovers. */
export const suffix = (): string => `test${String(++suffixes).padStart(4, '0')}`;

/** Runs every batch for `files` in order; returns each batch's result. */
export async function sync(files: SyncFile[], stdinOf: (stdin: Buffer) => Buffer = (s) => s): Promise<ShResult[]> {
  const results: ShResult[] = [];
  for (const batch of syncBatches(files, suffix)) results.push(await sh(shCommand(batch.script), stdinOf(batch.stdin)));
  return results;
}
