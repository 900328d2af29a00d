/**
 * The push record tells a hand edit on a host from a cluster-file change: classification against
 * what apply last pushed, persistence in the state directory, and tolerance of a damaged record.
 */
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeDifference, PushRecord } from '../../../src/operations/apply/push-record.js';
import { StateDir } from '../../../src/state/state-dir.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-scheduler.yaml';
let dir: string;
let state: StateDir;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-push-record-'));
  state = await StateDir.open(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('PushRecord', () => {
  it('without an earlier push every difference is unknown, and the run is recorded for the next', async () => {
    const first = await PushRecord.load(state, 'cp1');
    expect(first.classify(MANIFEST, 'aaa')).toBe('unknown');
    first.note(MANIFEST, 'aaa');
    await first.save();
    const file = join(dir, 'hosts/cp1/pushed.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ [MANIFEST]: 'aaa' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await PushRecord.load(state, 'cp1');
    // The host differs but the rendered content is what was pushed: someone edited the host.
    expect(second.classify(MANIFEST, 'aaa')).toBe('hand-edit');
    // The rendered content is new: the cluster file changed.
    expect(second.classify(MANIFEST, 'bbb')).toBe('update');
    // With the host's old hash known: what was pushed last means an update; anything else a hand edit, even with a new render.
    expect(second.classify(MANIFEST, 'bbb', 'aaa')).toBe('update');
    expect(second.classify(MANIFEST, 'bbb', 'edited')).toBe('hand-edit');
    expect(second.classify(MANIFEST, 'aaa', 'edited')).toBe('hand-edit');
  });

  it('keeps paths this run did not touch, and writes nothing when nothing changed', async () => {
    const first = await PushRecord.load(state, 'cp1');
    first.note(MANIFEST, 'aaa');
    first.note('/etc/kubernetes/pki/ca.crt', 'ccc');
    await first.save();
    const file = join(dir, 'hosts/cp1/pushed.json');
    const before = (await stat(file)).mtimeMs;
    const again = await PushRecord.load(state, 'cp1');
    again.note(MANIFEST, 'aaa');
    await again.save();
    expect((await stat(file)).mtimeMs).toBe(before);
    const third = await PushRecord.load(state, 'cp1');
    third.note(MANIFEST, 'bbb');
    await third.save();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ '/etc/kubernetes/pki/ca.crt': 'ccc', [MANIFEST]: 'bbb' });
  });

  it('a damaged record only loses the distinction', async () => {
    await state.write('hosts/cp1/pushed.json', '{not json');
    const record = await PushRecord.load(state, 'cp1');
    expect(record.classify(MANIFEST, 'aaa')).toBe('unknown');
    await writeFile(join(dir, 'hosts/cp1/pushed.json'), '[1, 2]');
    expect((await PushRecord.load(state, 'cp1')).classify('0', '1')).toBe('unknown');
  });

  it('words each case for the user: drift is a warning, an update is not', () => {
    expect(describeDifference(MANIFEST, 'hand-edit')).toEqual({ level: 'warn', message: `restored drifted file ${MANIFEST}: it was changed on the host after the last apply` });
    expect(describeDifference(MANIFEST, 'update')).toEqual({ level: 'info', message: `updated ${MANIFEST}: the cluster file or a certificate changed since the last apply` });
    expect(describeDifference(MANIFEST, 'unknown').level).toBe('warn');
  });
});
