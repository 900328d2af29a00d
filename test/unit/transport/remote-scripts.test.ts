/**
 * The remote command text, run through a real local /bin/sh: quoting must survive any path, and
 * the write script must refuse content that arrived short.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { shCommand, shellQuote } from '../../../src/transport/quote.js';
import { SshTransport } from '../../../src/transport/ssh/ssh.js';
import { MISSING_EXIT_CODE, parseStatOutput, readScript, removeScript, statScript, writeScript, writeStdin } from '../../../src/transport/ssh/remote-scripts.js';
import { sh } from '../../support/sh.js';

const run = promisify(execFile);

const nasty = [`plain`, `with space`, `it's`, `"double"`, `$HOME`, '`id`', `a\\b`, `semi;colon`, `new\nline`, `*`, `-rf`, `a=b`, ``];

describe('shell quoting', () => {
  it.each(nasty)('passes %j through sh as one literal word', async (word) => {
    const { stdout } = await sh(`printf '%s|' ${shellQuote(word)}`);
    expect(stdout).toBe(`${word}|`);
  });

  it('wraps a script in sh -c so the login shell does not parse it', async () => {
    const script = `x='single'; y="double $x"; printf '%s\\n' "$y" "it's"`;
    expect((await sh(shCommand(script))).stdout).toBe("double single\nit's\n");
    expect((await sh(shCommand(shCommand(script)))).stdout).toBe("double single\nit's\n");
  });

  it('runs the sudo and timeout wrapping as the same words', async () => {
    const transport = new SshTransport(new EventEmitter() as unknown as Client, { name: 'cp1', user: 'kube', sudo: true });
    const line = transport.commandLine(`printf '%s' "it's $0"`, 1500);
    expect(line).toBe(`sudo -n -- timeout -k 5 1.5 sh -c 'printf '\\''%s'\\'' "it'\\''s $0"'`);
    // Without sudo here, the rest must run unchanged in a shell.
    expect((await sh(line.replace(/^sudo -n -- /, ''))).stdout).toBe("it's sh");
    const asRoot = new SshTransport(new EventEmitter() as unknown as Client, { name: 'cp1', user: 'root', sudo: true });
    expect(asRoot.commandLine('true')).toBe('sh -c true');
  });

  it('refuses NUL bytes', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('file scripts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbuild-remote-scripts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to a path with quotes and spaces, with mode and owner, leaving no temp file', async () => {
    const path = join(dir, `new dir/it's "x" $PATH.conf`);
    const content = Buffer.from('payload\n');
    const result = await sh(shCommand(writeScript(path, 0o600, `${process.getuid!()}:${process.getgid!()}`, 'abc123')), writeStdin(content));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(path, 'utf8')).toBe('payload\n');
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
    expect(await readdir(join(dir, 'new dir'))).toEqual([`it's "x" $PATH.conf`]);
  });

  it('refuses short content: target unchanged, temp removed', async () => {
    const path = join(dir, 'target');
    await writeFile(path, 'old');
    const full = Buffer.from('the whole new content');
    const result = await sh(shCommand(writeScript(path, 0o644, 'root:root', 'abc123')), writeStdin(full).subarray(0, 65 + 5));
    expect(result.code).toBe(75);
    expect(result.stderr).toContain('content arrived incomplete');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('stats files, directories and missing paths', async () => {
    const path = join(dir, `sp ace's`);
    await writeFile(path, 'abc', { mode: 0o640 });
    const file = parseStatOutput((await sh(shCommand(statScript(path)))).stdout);
    expect(file).toEqual({
      mode: 0o640,
      size: 3,
      uid: process.getuid!(),
      gid: process.getgid!(),
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
    expect(parseStatOutput((await sh(shCommand(statScript(dir)))).stdout)?.sha256).toBe('');
    expect(parseStatOutput((await sh(shCommand(statScript(join(dir, 'nope'))))).stdout)).toBeUndefined();
  });

  it('reads a file or exits with the missing code; removes trees', async () => {
    const path = join(dir, 'sub dir', 'f');
    await run('mkdir', ['-p', join(dir, 'sub dir')]);
    await writeFile(path, 'content');
    expect((await sh(shCommand(readScript(path)))).stdout).toBe('content');
    expect((await sh(shCommand(readScript(join(dir, 'nope'))))).code).toBe(MISSING_EXIT_CODE);
    expect((await sh(shCommand(removeScript(join(dir, 'sub dir'))))).code).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses relative paths and removing /', () => {
    expect(() => readScript('etc/x')).toThrow(/absolute/);
    expect(() => removeScript('/')).toThrow(/refusing/);
    expect(() => removeScript('/etc/..')).toThrow(/refusing/);
  });
});
