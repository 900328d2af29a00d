/**
 * A sync list long enough to need several batch scripts (the split itself is checked in
 * test/unit/ssh/batch-scripts.test.ts), run for real by /bin/sh: each batch's stdin lines up with its
 * script and every file lands. Hundreds of fsyncs, so not a unit test.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncFile } from '../../src/transport/transport.js';
import { me, sync } from '../support/batch-sync.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-batch-scripts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sync script', () => {
  it("a long list split into several scripts: each script's stdin lines up and every file lands", async () => {
    const files = Array.from({ length: 900 }, (_, i): SyncFile => ({ path: join(dir, `${'long-name-'.repeat(10)}${i}`), mode: 0o644, owner: me, content: `file ${i}\n` }));
    const results = await sync(files);
    expect(results.length).toBeGreaterThan(1);
    expect(results.every((r) => r.code === 0)).toBe(true);
    for (const i of [0, 450, 899]) expect(await readFile(files[i]!.path, 'utf8')).toBe(`file ${i}\n`);
  });
});
