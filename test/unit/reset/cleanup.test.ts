/**
 * The etcd-data removal command against a crafted directory with the real sh, find and rm: names with
 * line breaks, spaces, leading dashes and a symlink to a directory outside are entries, nothing more.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasEntries, removeEntriesCommand, removePods } from '../../../src/operations/reset/cleanup.js';
import type { Host } from '../../../src/config/model.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { FakeTransport } from '../../support/fake-transport.js';
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

describe('removing the kubelet\'s pods', () => {
  const host = { name: 'cp3' } as Host;
  const STARTING = 'failed to set removing state for container "973e": container is in starting state, can\'t be removed';
  /** crictl on a host whose `rmp` fails `failures` times, listing the pods still there each time. */
  function runtime(failures: number) {
    let left = ['pod-a', 'pod-b'];
    let failed = 0;
    const fake = new FakeTransport('cp3', {
      rules: [
        { match: (c) => c.includes(' pods -q'), result: () => ({ stdout: left.join('\n') }) },
        {
          match: (c) => c.includes(' rmp -f '),
          result: () => {
            if (failed++ < failures) {
              left = ['pod-b'];
              return { code: 1, stderr: STARTING };
            }
            left = [];
            return { code: 0 };
          },
        },
      ],
    });
    return fake;
  }

  it('a pod whose container was still starting is tried again, and only the pods still listed', async () => {
    const fake = runtime(2);
    expect(await removePods({ reporter: recordingReporter() }, host, fake, 0)).toEqual(['removed 2 pods (crictl rmp)']);
    const removals = fake.commands.filter((c) => c.includes(' rmp -f '));
    expect(removals).toHaveLength(3);
    expect(removals[0]).toMatch(/rmp -f pod-a pod-b$/);
    expect(removals[2]).toMatch(/rmp -f pod-b$/);
  });

  it('gives up after five attempts with crictl\'s error, naming the host', async () => {
    const fake = runtime(99);
    await expect(removePods({ reporter: recordingReporter() }, host, fake, 0)).rejects.toThrow(/cp3: .*rmp -f .*container is in starting state/s);
    expect(fake.commands.filter((c) => c.includes(' rmp -f '))).toHaveLength(5);
  });
});
