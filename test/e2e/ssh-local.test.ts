/** LocalTransport on this machine (root: chown to another owner is part of the contract). */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileError } from '../../src/errors/index.js';
import { LocalTransport } from '../../src/transport/local.js';

let dir: string;
const local = new LocalTransport();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-local-transport-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalTransport', () => {
  it('runs commands with exit code, output, stdin and a timeout that kills the whole group', async () => {
    expect(await local.run('echo out; echo err >&2; exit 4')).toEqual({ code: 4, stdout: 'out\n', stderr: 'err\n' });
    expect((await local.run('cat', { stdin: 'piped' })).stdout).toBe('piped');
    const marker = join(dir, 'survived');
    const started = Date.now();
    const result = await local.run(`(sleep 2; touch '${marker}') & sleep 30`, { timeoutMs: 300 });
    expect(result).toMatchObject({ code: null, timedOut: true });
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  });

  it('writes atomically with exact mode and owner, creating directories', async () => {
    const path = join(dir, 'etc', 'kubernetes', 'pki', 'ca.key');
    await local.writeFile(path, 'secret', { mode: 0o600, owner: 'nobody:nogroup' });
    const info = await stat(path);
    expect(info.mode & 0o7777).toBe(0o600);
    expect([info.uid, info.gid]).toEqual([65534, 65534]);
    await local.writeFile(path, 'rotated', { mode: 0o640 });
    expect(await readFile(path, 'utf8')).toBe('rotated');
    expect((await stat(path)).uid).toBe(0);
    expect(await readdir(join(dir, 'etc', 'kubernetes', 'pki'))).toEqual(['ca.key']);
  });

  it('leaves the old file and no temp file when the owner is invalid', async () => {
    const path = join(dir, 'kept');
    await writeFile(path, 'old');
    await expect(local.writeFile(path, 'new', { mode: 0o644, owner: 'no-such-user-kbuild:x' })).rejects.toBeInstanceOf(FileError);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((n) => n.includes('kbuild-'))).toEqual([]);
  });

  it('stats with sha256, reads, removes', async () => {
    const path = join(dir, 'blob');
    const content = randomBytes(100_000);
    await local.writeFile(path, content, { mode: 0o644 });
    expect(await local.stat(path)).toEqual({ mode: 0o644, size: content.length, uid: 0, gid: 0, sha256: createHash('sha256').update(content).digest('hex') });
    expect((await local.readFile(path))!.equals(content)).toBe(true);
    expect(await local.readFile(join(dir, 'missing'))).toBeUndefined();
    expect(await local.stat(join(dir, 'missing'))).toBeUndefined();
    await local.remove(path);
    await local.remove(path);
    expect(await local.stat(path)).toBeUndefined();
  });
});
