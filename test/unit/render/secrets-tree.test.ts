import { chmodSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeRenderedTree, RENDER_MARKER } from '../../../src/operations/render/tree.js';
import { BOOTSTRAP_TOKEN_PATTERN } from '../../../src/kubeadm/constants.js';
import { loadRenderSecrets, STATE_FILES } from '../../../src/state/secrets.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { FileError } from '../../../src/errors/index.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-render-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('render secrets', () => {
  test('generated once (0600), reused while valid, the token replaced only after it expires', async () => {
    const state = await StateDir.open(join(work, 'state'));
    let now = new Date('2030-01-01T00:00:00Z');
    const first = await loadRenderSecrets(state, { now: () => now });
    expect(first.bootstrapToken).toMatch(BOOTSTRAP_TOKEN_PATTERN);
    expect(first.bootstrapTokenExpires).toBe('2030-01-02T00:00:00Z');
    expect(first.keepalived.routerId).toBeGreaterThanOrEqual(1);
    expect(first.keepalived.routerId).toBeLessThanOrEqual(255);
    expect(first.keepalived.authPass).toMatch(/^[A-Za-z0-9]{8}$/);
    for (const file of Object.values(STATE_FILES)) expect(statSync(state.path(file)).mode & 0o777, file).toBe(0o600);
    now = new Date('2030-01-01T23:00:00Z');
    expect(await loadRenderSecrets(state, { now: () => now })).toEqual(first);
    now = new Date('2030-01-02T00:00:01Z');
    const later = await loadRenderSecrets(state, { now: () => now });
    expect(later.bootstrapToken).not.toBe(first.bootstrapToken);
    expect(later.keepalived).toEqual(first.keepalived);
  });
});

describe('output tree', () => {
  const hosts = new Map([['cp1', [{ path: '/etc/kubernetes/pki/ca.key', mode: 0o600, content: 'k', secret: true }]]]);
  const plan = '# plan\n';

  test('writes <host>/<path> with modes, PLAN.md and the marker; a marked directory is replaced on re-render', async () => {
    const out = join(work, 'out');
    await writeRenderedTree(out, hosts, plan);
    expect(statSync(join(out, 'cp1/etc/kubernetes/pki/ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(out, 'PLAN.md'), 'utf8')).toBe('# plan\n');
    writeFileSync(join(out, 'stale'), 'old');
    await writeRenderedTree(out, hosts, plan);
    expect(readdirSync(out).sort()).toEqual([RENDER_MARKER, 'PLAN.md', 'cp1'].sort());
  });

  test('refuses a non-empty directory it did not create, unless forced (which deletes nothing)', async () => {
    const out = join(work, 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    await expect(writeRenderedTree(out, hosts, plan)).rejects.toThrow(FileError);
    await expect(writeRenderedTree(out, hosts, plan)).rejects.toThrow(/--force/);
    await writeRenderedTree(out, hosts, plan, { force: true });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(out, 'cp1/etc/kubernetes/pki/ca.key'), 'utf8')).toBe('k');
  });
});

describe('output tree modes: keys land there, so every directory kbuild makes for it is 0700', () => {
  const hosts = new Map([['cp1', [{ path: '/etc/kubernetes/pki/ca.key', mode: 0o600, content: 'k', secret: true }]]]);
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  test('re-rendering into its own directory that was opened up restores 0700', async () => {
    const out = join(work, 'reopened');
    await writeRenderedTree(out, hosts, '# plan\n');
    chmodSync(out, 0o755);
    await writeRenderedTree(out, hosts, '# plan\n');
    expect(modeOf(out)).toBe(0o700);
  });

  test('--force into an existing 0755 directory makes it 0700; host directories are 0700', async () => {
    const out = join(work, 'forced');
    mkdirSync(out, { mode: 0o755 });
    chmodSync(out, 0o755);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    await writeRenderedTree(out, hosts, '# plan\n', { force: true });
    expect(modeOf(out)).toBe(0o700);
    for (const dir of ['cp1', 'cp1/etc', 'cp1/etc/kubernetes', 'cp1/etc/kubernetes/pki']) expect(modeOf(join(out, dir)), dir).toBe(0o700);
  });
});

test('a corrupt keepalived router id in the state directory is an error naming the file', async () => {
  const state = await StateDir.open(join(work, 'corrupt'));
  await state.write(STATE_FILES.routerId, 'banana\n');
  await expect(loadRenderSecrets(state)).rejects.toThrow(/virtual-router-id.*banana.*1-255/);
});
