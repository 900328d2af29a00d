/**
 * The etcd-data removal command against a crafted directory with the real sh, find and rm: names with
 * line breaks, spaces, leading dashes and a symlink to a directory outside are entries, nothing more.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasEntries, removeEntriesCommand } from '../../../src/operations/reset/cleanup.js';
import { LocalTransport } from '../../../src/transport/local.js';

const made: string[] = [];
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

describe('removing a directory\'s contents', () => {
  it('removes every entry and nothing else, whatever the names; the directory stays', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kbuild-reset-rm-'));
    made.push(root);
    const data = join(root, 'etcd');
    const victim = join(root, 'victim');
    await mkdir(join(data, 'member/snap'), { recursive: true });
    await writeFile(join(data, 'member/snap/db'), 'db');
    await mkdir(victim);
    await writeFile(join(victim, 'keep'), 'keep');
    // Read line by line, this entry is "<data>/x" and "victim", which rm would resolve from its own directory.
    await mkdir(join(data, 'x\nvictim'));
    await writeFile(join(data, 'x\nvictim', 'f'), 'crafted');
    await writeFile(join(data, '-rf'), 'dash');
    await writeFile(join(data, 'a b'), 'space');
    await symlink(victim, join(data, 'link'));
    const local = new LocalTransport();
    expect(await hasEntries(local, data)).toBe(true);
    const result = await local.run(`cd ${root} && ${removeEntriesCommand(data)}`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await readdir(data)).toEqual([]);
    expect(await readdir(victim)).toEqual(['keep']);
    expect(await hasEntries(local, data)).toBe(false);
    expect(await hasEntries(local, join(root, 'missing'))).toBe(false);
  });
});
