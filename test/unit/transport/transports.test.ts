import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryTransport } from '../../../src/transport/directory.js';
import { DryRunTransport, readOnlyTransport } from '../../../src/transport/dry-run.js';
import { FakeTransport } from '../../support/fake-transport.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbuild-dir-transport-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('DirectoryTransport', () => {
  it('keeps what it writes private: its root and every directory it creates are 0700 (dry-run trees hold keys)', async () => {
    const out = join(root, 'dry-run-out');
    const dir = new DirectoryTransport(join(out, 'cp1'), 'cp1');
    await dir.writeFile('/etc/kubernetes/pki/ca.key', 'KEY', { mode: 0o600 });
    for (const d of [out, join(out, 'cp1'), join(out, 'cp1/etc'), join(out, 'cp1/etc/kubernetes/pki')]) expect((await stat(d)).mode & 0o777, d).toBe(0o700);
    const existing = join(root, 'existing');
    await mkdir(existing, { mode: 0o755 });
    await chmod(existing, 0o755);
    await new DirectoryTransport(existing, 'cp1').writeFile('/etc/kubernetes/admin.conf', 'x', { mode: 0o600 });
    expect((await stat(existing)).mode & 0o777).toBe(0o700);
  });

  it('writes under <root>/<path> with the mode, records owner, commands and removals in order, runs nothing', async () => {
    const dir = new DirectoryTransport(root, 'cp1');
    await dir.writeFile('/etc/kubernetes/pki/ca.key', 'KEY', { mode: 0o600 });
    const result = await dir.run(`touch ${join(root, 'must-not-exist')}`);
    await dir.writeFile('/var/lib/etcd/../kubelet/config.yaml', 'cfg', { mode: 0o644, owner: 'kubelet:kubelet' });
    await dir.remove('/etc/old');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    await expect(stat(join(root, 'must-not-exist'))).rejects.toThrow(/ENOENT/);
    expect((await stat(join(root, 'etc/kubernetes/pki/ca.key'))).mode & 0o7777).toBe(0o600);
    expect(await readFile(join(root, 'var/lib/kubelet/config.yaml'), 'utf8')).toBe('cfg');
    expect(dir.actions).toEqual([
      { kind: 'write', path: '/etc/kubernetes/pki/ca.key', mode: 0o600, owner: 'root:root', size: 3, sha256: sha('KEY') },
      { kind: 'run', command: `touch ${join(root, 'must-not-exist')}` },
      { kind: 'write', path: '/var/lib/kubelet/config.yaml', mode: 0o644, owner: 'kubelet:kubelet', size: 3, sha256: sha('cfg') },
      { kind: 'remove', path: '/etc/old' },
    ]);
    expect(dir.commands).toEqual([`touch ${join(root, 'must-not-exist')}`]);
    expect(dir.writtenFiles.map((w) => w.path)).toEqual(['/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml']);
  });

  it('reads and stats what it wrote; a removed path reads as missing', async () => {
    const dir = new DirectoryTransport(root, 'cp1');
    await dir.writeFile('/etc/a', 'hello', { mode: 0o640 });
    expect((await dir.readFile('/etc/a'))?.toString()).toBe('hello');
    expect(await dir.stat('/etc/a')).toEqual({ mode: 0o640, size: 5, uid: 0, gid: 0, sha256: sha('hello') });
    expect(await dir.readFile('/etc/missing')).toBeUndefined();
    await dir.remove('/etc/a');
    expect(await dir.readFile('/etc/a')).toBeUndefined();
    expect(await dir.stat('/etc/a')).toBeUndefined();
  });

  it('refuses relative paths', async () => {
    const dir = new DirectoryTransport(root, 'cp1');
    await expect(dir.writeFile('etc/a', 'x', { mode: 0o644 })).rejects.toThrow(/must be absolute/);
  });
});

describe('DryRunTransport', () => {
  it('reads and read-only commands go to the host; writes and other commands are only recorded', async () => {
    const host = new FakeTransport('cp1', {
      files: { '/etc/kubernetes/manifests/etcd.yaml': { content: 'old', mode: 0o600 } },
      rules: [{ match: /^ip -j addr$/, result: { stdout: '[]' } }],
    });
    const dir = new DirectoryTransport(root, 'cp1');
    const dry = new DryRunTransport(readOnlyTransport(host), dir);
    expect(dry.name).toBe('cp1');
    expect((await dry.run('ip -j addr', { readOnly: true })).stdout).toBe('[]');
    expect((await dry.readFile('/etc/kubernetes/manifests/etcd.yaml'))?.toString()).toBe('old');
    expect(await dry.stat('/etc/kubernetes/manifests/etcd.yaml')).toMatchObject({ mode: 0o600, sha256: sha('old') });
    await dry.writeFile('/etc/kubernetes/manifests/etcd.yaml', 'new', { mode: 0o600 });
    expect(await dry.run('systemctl restart kubelet')).toEqual({ code: 0, stdout: '', stderr: '' });
    await dry.remove('/etc/kubernetes/manifests/old.yaml');
    // Later reads see what the run would have produced.
    expect((await dry.readFile('/etc/kubernetes/manifests/etcd.yaml'))?.toString()).toBe('new');
    expect(await dry.stat('/etc/kubernetes/manifests/old.yaml')).toBeUndefined();
    expect(host.files.get('/etc/kubernetes/manifests/etcd.yaml')?.content.toString()).toBe('old');
    expect(host.commands).toEqual(['ip -j addr']);
    expect(dir.actions.map((a) => a.kind)).toEqual(['write', 'run', 'remove']);
    await dry.close();
    expect(host.closed).toBe(true);
  });

  it('a read-only connection refuses changes as a bug', async () => {
    const guarded = readOnlyTransport(new FakeTransport('cp1', { unmatched: {} }));
    await expect(guarded.run('rm -rf /var/lib/etcd')).rejects.toThrow(/cp1: command `rm -rf \/var\/lib\/etcd` attempted on a read-only \(dry-run\) connection/);
    await expect(guarded.writeFile('/etc/x', 'x', { mode: 0o644 })).rejects.toThrow(/write of \/etc\/x/);
    await expect(guarded.remove('/etc/x')).rejects.toThrow(/removal of \/etc\/x/);
  });
});

describe('FakeTransport', () => {
  it('answers by rule (string, regex, predicate, function, times), logs every call in order', async () => {
    const fake = new FakeTransport('w1', {
      rules: [
        { match: 'hostname', result: { stdout: 'w1\n' } },
        { match: /^systemctl is-active /, result: { code: 3, stdout: 'inactive\n' }, times: 1 },
        { match: /^systemctl is-active /, result: { stdout: 'active\n' } },
        { match: (c) => c.startsWith('echo '), result: (c) => ({ stdout: `${c.slice(5)}\n` }) },
      ],
    });
    fake.on('hostname', { stdout: 'overridden\n' }, 1);
    expect((await fake.run('hostname')).stdout).toBe('overridden\n');
    expect((await fake.run('hostname')).stdout).toBe('w1\n');
    expect(await fake.run('systemctl is-active kubelet')).toEqual({ code: 3, stdout: 'inactive\n', stderr: '' });
    expect((await fake.run('systemctl is-active kubelet')).code).toBe(0);
    expect((await fake.run('echo hi', { timeoutMs: 5 })).stdout).toBe('hi\n');
    await expect(fake.run('reboot')).rejects.toThrow('FakeTransport w1: no rule for command `reboot`');
    expect(fake.calls[4]).toEqual({ op: 'run', command: 'echo hi', options: { timeoutMs: 5 } });
    expect(fake.commands).toEqual(['hostname', 'hostname', 'systemctl is-active kubelet', 'systemctl is-active kubelet', 'echo hi', 'reboot']);
  });

  it('rejects with an Error a rule returns, to simulate a lost host', async () => {
    const fake = new FakeTransport('w1', { rules: [{ match: /.*/, result: new Error('connection lost') }] });
    await expect(fake.run('true')).rejects.toThrow('connection lost');
  });

  it('keeps files in memory with mode, owner and hash; remove drops a tree', async () => {
    const fake = new FakeTransport('w1', { files: { '/etc/hosts': '127.0.0.1 localhost\n' }, ids: { etcd: 998 } });
    await fake.writeFile('/var/lib/etcd/member/x', 'data', { mode: 0o600, owner: 'etcd:etcd' });
    expect(await fake.stat('/var/lib/etcd/member/x')).toEqual({ mode: 0o600, size: 4, uid: 998, gid: 998, sha256: sha('data') });
    expect(await fake.stat('/etc/hosts')).toMatchObject({ mode: 0o644, uid: 0 });
    await fake.remove('/var/lib/etcd');
    expect(await fake.readFile('/var/lib/etcd/member/x')).toBeUndefined();
    expect((await fake.readFile('/etc/hosts'))?.toString()).toBe('127.0.0.1 localhost\n');
    expect(fake.calls.map((c) => c.op)).toEqual(['writeFile', 'stat', 'stat', 'remove', 'readFile', 'readFile']);
  });
});
