/**
 * The batch scripts run by a real local /bin/sh against a temp dir, as sshd would run them: only
 * differing files are written, each by rename of a verified temp file; short input refuses; modes,
 * owners and awkward paths survive; SshTransport maps the results and names the file that failed.
 * A long list run for real (hundreds of fsyncs) is in test/e2e/batch-scripts.test.ts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SCRIPT_BYTES, parseStatFilesOutput, parseSyncOutput, statBatches, statFilesScript, syncBatches } from '../../../src/transport/ssh/batch-scripts.js';
import { shCommand } from '../../../src/transport/quote.js';
import { writeScript, writeStdin } from '../../../src/transport/ssh/remote-scripts.js';
import { SshTransport } from '../../../src/transport/ssh/ssh.js';
import type { SyncFile } from '../../../src/transport/transport.js';
import { RemoteCommandError } from '../../../src/errors/index.js';
import { sh, type ShResult } from '../../support/sh.js';
import { me, suffix, sync } from '../../support/batch-sync.js';

const sha = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o7777;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-batch-scripts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sync script', () => {
  it('writes only missing or differing files, reports each, and leaves no temp file', async () => {
    await writeFile(join(dir, 'same'), 'same\n', { mode: 0o644 });
    await writeFile(join(dir, 'edited'), 'hand edit\n', { mode: 0o644 });
    await writeFile(join(dir, 'mode'), 'mode\n');
    await chmod(join(dir, 'mode'), 0o644);
    const files: SyncFile[] = [
      { path: join(dir, 'same'), mode: 0o644, owner: me, content: 'same\n' },
      { path: join(dir, 'edited'), mode: 0o644, owner: me, content: 'rendered\n' },
      { path: join(dir, 'mode'), mode: 0o600, owner: me, content: 'mode\n' },
      { path: join(dir, 'new dir', 'key'), mode: 0o600, owner: me, content: Buffer.from([0, 1, 2, 255, 10]) },
      { path: join(dir, 'empty'), mode: 0o640, owner: me, content: '' },
    ];
    const [result] = await sync(files);
    expect(result).toEqual({ code: 0, stderr: '', stdout: `0 unchanged\n1 replaced ${sha('hand edit\n')}\n2 updated\n3 created\n4 created\n` });
    expect(parseSyncOutput(result!.stdout)).toEqual(['unchanged', 'replaced', 'updated', 'created', 'created']);
    expect(await readFile(join(dir, 'edited'), 'utf8')).toBe('rendered\n');
    expect(await readFile(join(dir, 'new dir', 'key'))).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    expect(await readFile(join(dir, 'empty'), 'utf8')).toBe('');
    expect(await modeOf(join(dir, 'mode'))).toBe(0o600);
    expect(await modeOf(join(dir, 'new dir', 'key'))).toBe(0o600);
    expect(await modeOf(join(dir, 'empty'))).toBe(0o640);
    expect((await readdir(dir)).sort()).toEqual(['edited', 'empty', 'mode', 'new dir', 'same']);
    expect(await readdir(join(dir, 'new dir'))).toEqual(['key']);
    // A second run finds everything in place.
    expect((await sync(files))[0]!.stdout).toBe('0 unchanged\n1 unchanged\n2 unchanged\n3 unchanged\n4 unchanged\n');
  });

  it("removes an earlier run's leftover temp files beside a target once idle for a minute, and nothing else", async () => {
    const target = join(dir, 'kube-apiserver.yaml');
    await writeFile(target, 'current\n', { mode: 0o600 });
    const stale = join(dir, '.kube-apiserver.yaml.kbuild-0a1b2c3d4e5f');
    const recent = join(dir, '.kube-apiserver.yaml.kbuild-ffffffffffff');
    const other = join(dir, '.etcd.yaml.kbuild-0a1b2c3d4e5f');
    for (const f of [stale, recent, other]) await writeFile(f, 'partial');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(stale, twoMinutesAgo, twoMinutesAgo);
    await utimes(other, twoMinutesAgo, twoMinutesAgo);
    // Unchanged target: the leftover goes all the same.
    const [result] = await sync([{ path: target, mode: 0o600, owner: me, content: 'current\n' }]);
    expect(result).toEqual({ code: 0, stderr: '', stdout: '0 unchanged\n' });
    expect((await readdir(dir)).sort()).toEqual(['.etcd.yaml.kbuild-0a1b2c3d4e5f', '.kube-apiserver.yaml.kbuild-ffffffffffff', 'kube-apiserver.yaml']);
    // The single-file write does the same.
    await utimes(recent, twoMinutesAgo, twoMinutesAgo);
    const single = await sh(shCommand(writeScript(target, 0o600, me, 'abcdefabcdef')), writeStdin(Buffer.from('new\n')));
    expect(single).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await readdir(dir)).sort()).toEqual(['.etcd.yaml.kbuild-0a1b2c3d4e5f', 'kube-apiserver.yaml']);
  });

  it('replaces by rename: a hard link to the old file keeps the old bytes, the target gets a new inode', async () => {
    const target = join(dir, 'manifest.yaml');
    await writeFile(target, 'old\n', { mode: 0o644 });
    await link(target, join(dir, 'old-link'));
    const before = (await stat(target)).ino;
    const [result] = await sync([{ path: target, mode: 0o644, owner: me, content: 'new\n' }]);
    expect(result!.code).toBe(0);
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect(await readFile(join(dir, 'old-link'), 'utf8')).toBe('old\n');
    expect((await stat(target)).ino).not.toBe(before);
  });

  it('handles paths with spaces, quotes, $, backquotes and newlines, and sets the owner', async () => {
    const names = [`with space`, `it's`, `"double"`, `$HOME`, '`id`', `semi;colon`, `new\nline`, `-rf`];
    const files = names.map((name, i): SyncFile => ({ path: join(dir, `d ${i}'`, name), mode: 0o640, owner: me, content: `content ${name}` }));
    const [result] = await sync(files);
    expect(result!.code, result!.stderr).toBe(0);
    for (const file of files) {
      expect(await readFile(file.path, 'utf8')).toBe(file.content);
      expect(await modeOf(file.path)).toBe(0o640);
      expect((await stat(file.path)).uid).toBe(process.getuid!());
    }
  });

  it('refuses content that arrived short: the target keeps its old bytes, earlier files are done, no temp file', async () => {
    await writeFile(join(dir, 'b'), 'old b\n');
    const files: SyncFile[] = [
      { path: join(dir, 'a'), mode: 0o644, owner: me, content: 'new a\n' },
      { path: join(dir, 'b'), mode: 0o644, owner: me, content: 'the whole new content of b\n' },
    ];
    // a's hash line and bytes, b's hash line, then 10 of b's bytes.
    const [result] = await sync(files, (stdin) => stdin.subarray(0, 65 + 6 + 65 + 10));
    expect(result!.code).toBe(75);
    expect(result!.stdout).toBe('0 created\n');
    expect(result!.stderr).toContain(`kbuild: ${join(dir, 'b')}: content arrived incomplete; the target file was left unchanged`);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('new a\n');
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('old b\n');
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
  });

  it('refuses bytes that do not match the hash (same length, other content)', async () => {
    const file: SyncFile = { path: join(dir, 'x'), mode: 0o644, owner: me, content: 'expected' };
    const [result] = await sync([file], () => Buffer.from('tampered'));
    expect(result!.code).toBe(75);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not move a file into a directory standing at the target path, and cleans its temp file', async () => {
    await mkdir(join(dir, 'conf'));
    const [result] = await sync([{ path: join(dir, 'conf'), mode: 0o644, owner: me, content: 'x' }]);
    expect(result!.code).toBe(1);
    expect(result!.stderr).toContain(`kbuild: cannot replace ${join(dir, 'conf')}`);
    expect(await readdir(dir)).toEqual(['conf']);
    expect(await readdir(join(dir, 'conf'))).toEqual([]);
  });

  it('replaces a symlink at the target with a regular file', async () => {
    await writeFile(join(dir, 'real'), 'same');
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const [result] = await sync([{ path: join(dir, 'link'), mode: 0o644, owner: me, content: 'same' }]);
    expect(result!.stdout).toBe('0 updated\n');
    expect((await stat(join(dir, 'link'))).isFile()).toBe(true);
    expect(await readFile(join(dir, 'real'), 'utf8')).toBe('same');
  });

  it('splits a long list into scripts under the argument limit, every file in order', () => {
    const files = Array.from({ length: 900 }, (_, i): SyncFile => ({ path: join(dir, `${'long-name-'.repeat(10)}${i}`), mode: 0o644, owner: me, content: `file ${i}\n` }));
    const batches = syncBatches(files, suffix);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(shCommand(b.script).length).toBeLessThanOrEqual(MAX_SCRIPT_BYTES + 200);
    expect(batches.flatMap((b) => b.files)).toEqual(files);
  });

  it('reads exactly each file from stdin arriving in small pieces (a slow link)', async () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const files: SyncFile[] = [
      { path: join(dir, 'big'), mode: 0o644, owner: me, content: big },
      { path: join(dir, 'after'), mode: 0o644, owner: me, content: 'after\n' },
    ];
    const [batch] = syncBatches(files, suffix);
    const result = await new Promise<ShResult>((resolve) => {
      const child = spawn('/bin/sh', ['-c', shCommand(batch!.script)]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      const pieces = Array.from({ length: Math.ceil(batch!.stdin.length / 7001) }, (_, i) => batch!.stdin.subarray(i * 7001, (i + 1) * 7001));
      const next = (): void => {
        const piece = pieces.shift();
        if (!piece) return void child.stdin.end();
        child.stdin.write(piece, () => setTimeout(next, 1));
      };
      next();
    });
    expect(result).toEqual({ code: 0, stdout: '0 created\n1 created\n', stderr: '' });
    expect(await readFile(join(dir, 'big'))).toEqual(big);
    expect(await readFile(join(dir, 'after'), 'utf8')).toBe('after\n');
  });

  it('keeps content hashes off the command line (ps shows it): keepalived.conf\'s hash would give its 8-character password away', () => {
    const secret = 'vrrp_instance VI_1 {\n    authentication {\n        auth_type PASS\n        auth_pass Xy7#q2Lm\n    }\n}\n';
    const [batch] = syncBatches([{ path: '/etc/keepalived/keepalived.conf', mode: 0o600, content: secret }], suffix);
    expect(shCommand(batch!.script)).not.toContain(sha(secret));
    expect(batch!.stdin.toString()).toBe(`${sha(secret)}\n${secret}`);
    expect(shCommand(writeScript('/etc/keepalived/keepalived.conf', 0o600, 'root:root', 'abcdefabcdef'))).not.toMatch(/[0-9a-f]{64}/);
  });

  it('refuses relative paths', () => {
    expect(() => syncBatches([{ path: 'etc/x', mode: 0o644, content: '' }], suffix)).toThrow(/absolute/);
  });
});

describe('stat script', () => {
  it('stats files, directories, symlinks and missing paths in one run, in order', async () => {
    const file = join(dir, `sp ace's`);
    await writeFile(file, 'abc', { mode: 0o640 });
    await symlink('nowhere', join(dir, 'dangling'));
    const paths = [file, dir, join(dir, 'nope'), join(dir, 'dangling')];
    const result = await sh(shCommand(statFilesScript(paths)));
    expect(result.code).toBe(0);
    const [f, d, missing, dangling] = parseStatFilesOutput(result.stdout, paths.length);
    expect(f).toEqual({ mode: 0o640, size: 3, uid: process.getuid!(), gid: process.getgid!(), sha256: sha('abc') });
    expect(d?.sha256).toBe('');
    expect(missing).toBeUndefined();
    expect(dangling).toMatchObject({ mode: 0o777, sha256: '' });
  });

  it('splits long path lists and refuses short output', () => {
    const paths = Array.from({ length: 3000 }, (_, i) => `/etc/${'x'.repeat(60)}/${i}`);
    const batches = statBatches(paths);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(paths);
    for (const b of batches) expect(shCommand(statFilesScript(b)).length).toBeLessThanOrEqual(MAX_SCRIPT_BYTES);
    expect(() => parseStatFilesOutput('missing\n', 2)).toThrow(/unexpected stat output/);
  });
});

/** An ssh2 Client stand-in whose exec runs the command line in a local /bin/sh, like sshd. */
function localShellClient(): { client: Client; commands: string[] } {
  const commands: string[] = [];
  const emitter = new EventEmitter();
  const exec = (command: string, callback: (error: Error | undefined, channel: EventEmitter) => void): void => {
    commands.push(command);
    const channel = Object.assign(new EventEmitter(), { stderr: new EventEmitter(), close: () => undefined, end: (stdin: Buffer | string) => void run(stdin) });
    const run = async (stdin: Buffer | string): Promise<void> => {
      const result = await sh(command, stdin);
      channel.emit('data', Buffer.from(result.stdout));
      channel.stderr.emit('data', Buffer.from(result.stderr));
      channel.emit('exit', result.code);
      channel.emit('close');
    };
    callback(undefined, channel);
  };
  return { client: Object.assign(emitter, { exec }) as unknown as Client, commands };
}

describe('SshTransport batches', () => {
  it('syncs a list in one exec and reports written and differed paths', async () => {
    const { client, commands } = localShellClient();
    const transport = new SshTransport(client, { name: 'cp1', user: 'root', sudo: false });
    await writeFile(join(dir, 'drifted'), 'hand edit');
    await writeFile(join(dir, 'same'), 'same', { mode: 0o644 });
    await chmod(join(dir, 'same'), 0o644);
    const files: SyncFile[] = [
      { path: join(dir, 'same'), mode: 0o644, owner: me, content: 'same' },
      { path: join(dir, 'drifted'), mode: 0o644, owner: me, content: 'rendered' },
      { path: join(dir, 'new'), mode: 0o600, owner: me, content: 'new' },
    ];
    expect(await transport.syncFiles(files)).toEqual({ written: [join(dir, 'drifted'), join(dir, 'new')], differed: [join(dir, 'drifted')], previous: { [join(dir, 'drifted')]: sha('hand edit') } });
    expect(commands).toHaveLength(1);
    expect(await transport.statFiles(files.map((f) => f.path))).toEqual(files.map((f) => ({ mode: f.mode, size: Buffer.byteLength(f.content), uid: process.getuid!(), gid: process.getgid!(), sha256: sha(f.content) })));
    expect(commands).toHaveLength(2);
  });

  it('names the file that failed', async () => {
    const { client } = localShellClient();
    const transport = new SshTransport(client, { name: 'cp1', user: 'root', sudo: false });
    await mkdir(join(dir, 'blocked'));
    const files: SyncFile[] = [
      { path: join(dir, 'ok'), mode: 0o644, owner: me, content: 'ok' },
      { path: join(dir, 'blocked'), mode: 0o644, owner: me, content: 'x' },
      { path: join(dir, 'later'), mode: 0o644, owner: me, content: 'later' },
    ];
    const error = await transport.syncFiles(files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect((error as RemoteCommandError).message).toMatch(new RegExp(`^cp1: \`write ${join(dir, 'blocked')}\` exited with 1:[\\s\\S]*cannot replace`));
    expect(await readFile(join(dir, 'ok'), 'utf8')).toBe('ok');
    expect((await readdir(dir)).sort()).toEqual(['blocked', 'ok']);
  });

  it('goes through sudo -n like every other command for a non-root user', () => {
    const transport = new SshTransport(new EventEmitter() as unknown as Client, { name: 'cp1', user: 'kube', sudo: true });
    const [batch] = syncBatches([{ path: '/etc/a', mode: 0o644, content: 'a' }], suffix);
    expect(transport.commandLine(batch!.script)).toMatch(/^sudo -n -- sh -c '/);
  });
});
