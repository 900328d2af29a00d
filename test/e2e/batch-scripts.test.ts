/**
 * A sync list long enough to need several batch scripts (the split itself is checked in
 * test/unit/ssh/batch-scripts.test.ts), run for real by /bin/sh: each batch's stdin lines up with its
 * script and every file lands. Hundreds of fsyncs, so not a unit test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncFile } from '../../src/transport/transport.js';
import { me, sync } from '../support/batch-sync.js';

let dir: string;
beforeEach(async () => {
  // tmpfs: the test is about batching, not the disk's fsync latency (hundreds of them).
  dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kbuild-batch-scripts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sync script', () => {
  it("a long list split into several scripts: each script's stdin lines up and every file lands", async () => {
    // Names near NAME_MAX (with room for the temp-file prefix and suffix) fill a script with few files: each file costs several processes on the host.
    const files = Array.from({ length: 300 }, (_, i): SyncFile => ({ path: join(dir, `${'long-name-'.repeat(22)}${i}`), mode: 0o644, owner: me, content: `file ${i}\n` }));
    const results = await sync(files);
    expect(results.length).toBeGreaterThan(1);
    expect(results.every((r) => r.code === 0)).toBe(true);
    for (const i of [0, 150, 299]) expect(await readFile(files[i]!.path, 'utf8')).toBe(`file ${i}\n`);
  });
});
