/** Shared test helpers: fixture keys, a fixed clock, temp state dirs, loading examples. */
import 'reflect-metadata';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { scratchDir } from './scratch.js';
import { loadClusterFile } from '../../src/config/load.js';
import type { Cluster } from '../../src/config/model.js';
import { importPrivateKeyPem, type KeySource } from '../../src/pki/keys.js';
import type { PkiOptions } from '../../src/pki/ensure.js';
import type { RenderedFile } from '../../src/kubeadm/files.js';
import { fixtureKeys } from './fixture-keys.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Hands out the pre-generated keys in turn (process-wide, so successive runs get different keys). */
export const fixtureKeySource: KeySource = fixtureKeys(importPrivateKeyPem);

export const START = new Date('2025-03-01T12:00:00Z');

export function testOptions(start = START): PkiOptions {
  let serial = 1000n;
  return { now: () => start, keySource: fixtureKeySource, serial: () => serial++ };
}

export async function example(name: string): Promise<Cluster> {
  return (await exampleFile(name)).cluster;
}

/** An example as loaded: its cluster file (defaults applied) and model. */
export const exampleFile = (name: string) => loadClusterFile(join(repoRoot, 'examples', `${name}.yaml`));

/** A scratch directory, removed when the test file ends (scratch.ts). */
export async function tempDir(prefix = 'kbuild-pki-'): Promise<string> {
  return Promise.resolve(scratchDir(prefix));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

/** Every file under `dir` with its content and mtime, by relative path. */
export async function snapshot(dir: string): Promise<Map<string, { content: string; mtimeMs: number; mode: number }>> {
  const result = new Map<string, { content: string; mtimeMs: number; mode: number }>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const s = await stat(full);
        result.set(relative(dir, full), { content: await readFile(full, 'utf8'), mtimeMs: s.mtimeMs, mode: s.mode & 0o777 });
      }
    }
  };
  await walk(dir);
  return result;
}

/** Runs the real openssl CLI; throws with its stderr on failure. */
export function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Writes a host's RenderedFiles under a temp root, mirroring its filesystem, for real-tool checks. */
export async function materialize(root: string, files: ReadonlyArray<Pick<RenderedFile, 'path' | 'mode' | 'content'>>): Promise<void> {
  for (const f of files) {
    const path = join(root, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content, { mode: f.mode });
    await chmod(path, f.mode);
  }
}
