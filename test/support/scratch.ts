/**
 * Scratch directories for tests, removed after the file that made them (test/support/cleanup.ts runs
 * as a setup file of every project): a test need not remember to clean up, and /tmp does not fill up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

export function scratchDir(prefix = 'kbuild-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export function removeScratchDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
