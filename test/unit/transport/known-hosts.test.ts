import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../../src/errors/index.js';
import { KnownHostsFile } from '../../../src/transport/ssh/known-hosts-file.js';
import {
  checkHostKey,
  fingerprint,
  formatEntry,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  lookupName,
  parseKnownHosts,
  hostKeyAlgorithms,
} from '../../../src/transport/ssh/known-hosts.js';

const run = promisify(execFile);

function sshString(value: Buffer | string): Buffer {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A syntactically valid public key blob of the given type with random key material. */
function keyBlob(type: 'ssh-ed25519' | 'ssh-rsa' | 'ecdsa-sha2-nistp256'): Buffer {
  if (type === 'ssh-ed25519') return Buffer.concat([sshString(type), sshString(randomBytes(32))]);
  if (type === 'ssh-rsa') return Buffer.concat([sshString(type), sshString(Buffer.from([1, 0, 1])), sshString(Buffer.concat([Buffer.from([0]), randomBytes(256)]))]);
  return Buffer.concat([sshString(type), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([4]), randomBytes(64)]))]);
}

const line = (hosts: string, key: Buffer, marker?: string): string => `${marker ? `@${marker} ` : ''}${hosts} ${keyTypeOf(key)} ${key.toString('base64')}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-known-hosts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('host matching', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1', true],
    ['10.0.0.1', '10.0.0.10', false],
    ['cp1.example.com,10.0.0.1', '10.0.0.1', true],
    ['*.example.com', 'CP1.Example.com', true],
    ['cp?.example.com', 'cp1.example.com', true],
    ['cp?.example.com', 'cp10.example.com', false],
    ['!cp2.example.com,*.example.com', 'cp1.example.com', true],
    ['!cp2.example.com,*.example.com', 'cp2.example.com', false],
    ['*.example.com,!cp2.example.com', 'cp2.example.com', false],
    ['[10.0.0.1]:2222', '[10.0.0.1]:2222', true],
    ['[10.0.0.1]:2222', '10.0.0.1', false],
    ['[10.0.0.*]:2222', '[10.0.0.7]:2222', true],
    ['a.b', 'axb', false],
  ])('%s covers %s: %s', (field, name, expected) => {
    expect(hostFieldMatches(field, name)).toBe(expected);
  });

  it('looks up [host]:port for ports other than 22', () => {
    expect(lookupName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(lookupName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('hashes names the way ssh-keygen -F finds them', async () => {
    const key = keyBlob('ssh-ed25519');
    const file = join(dir, 'hashed_by_us');
    await writeFile(file, `${formatEntry(hashHostName('[10.0.0.1]:2222'), key)}\n${formatEntry(hashHostName('cp1.example.com'), keyBlob('ssh-ed25519'))}\n`);
    const { stdout } = await run('ssh-keygen', ['-F', '[10.0.0.1]:2222', '-f', file]);
    expect(stdout).toContain(key.toString('base64'));
    expect(stdout).toContain('found: line 1');
    await expect(run('ssh-keygen', ['-F', '10.0.0.1', '-f', file])).rejects.toMatchObject({ code: 1 });
  });

  it('matches names hashed by ssh-keygen -H, with and without a port', async () => {
    const file = join(dir, 'hashed_by_openssh');
    await writeFile(file, `${line('cp1.example.com', keyBlob('ssh-ed25519'))}\n${line('[10.0.0.1]:2222', keyBlob('ssh-rsa'))}\n`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const [first, second] = parseKnownHosts(await readFile(file, 'utf8'));
    expect(first!.hosts).toMatch(/^\|1\|/);
    expect(hostFieldMatches(first!.hosts, 'cp1.example.com')).toBe(true);
    expect(hostFieldMatches(first!.hosts, 'CP1.example.com')).toBe(true);
    expect(hostFieldMatches(first!.hosts, 'cp2.example.com')).toBe(false);
    expect(hostFieldMatches(second!.hosts, '[10.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches(second!.hosts, '10.0.0.1')).toBe(false);
  });
});

describe('parsing', () => {
  it('keeps line numbers and markers, skips comments, unknown markers and mismatched types', () => {
    const ed = keyBlob('ssh-ed25519');
    const text = [
      '# comment',
      '',
      line('a', ed),
      line('*', ed, 'revoked'),
      line('*.example.com', ed, 'cert-authority'),
      line('b', ed, 'bogus'),
      `c ssh-rsa ${ed.toString('base64')}`,
      'd ssh-ed25519',
    ].join('\n');
    expect(parseKnownHosts(text).map((e) => [e.line, e.marker, e.hosts])).toEqual([
      [3, undefined, 'a'],
      [4, 'revoked', '*'],
      [5, 'cert-authority', '*.example.com'],
    ]);
  });

  it('prints fingerprints exactly as ssh-keygen -l does', async () => {
    const key = keyBlob('ssh-ed25519');
    const file = join(dir, 'key.pub');
    await writeFile(file, `${line('x', key).split(' ').slice(1).join(' ')}\n`);
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', file]);
    expect(fingerprint(key)).toBe(stdout.split(' ')[1]);
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('checking a presented key', () => {
  const ed = keyBlob('ssh-ed25519');
  const otherEd = keyBlob('ssh-ed25519');
  const rsa = keyBlob('ssh-rsa');

  it('is known when an entry of the same type matches, even after a conflicting one', () => {
    const entries = parseKnownHosts([line('h', otherEd), line('h', ed)].join('\n'));
    expect(checkHostKey(entries, 'h', ed)).toMatchObject({ status: 'known', entry: { line: 2 } });
  });

  it('is changed when only a different key of the same type is recorded', () => {
    const entries = parseKnownHosts(['# x', line('other', ed), line('h', otherEd)].join('\n'));
    expect(checkHostKey(entries, 'h', ed)).toMatchObject({ status: 'changed', entry: { line: 3 } });
  });

  it('is unknown (not changed) when only keys of other types are recorded, like OpenSSH', () => {
    const entries = parseKnownHosts(line('h', ed));
    const result = checkHostKey(entries, 'h', rsa);
    expect(result.status).toBe('unknown');
    expect(result.status === 'unknown' && result.otherTypes.map((e) => e.keyType)).toEqual(['ssh-ed25519']);
  });

  it('refuses a revoked key even when it is also recorded as known', () => {
    const entries = parseKnownHosts([line('h', ed), line('*', ed, 'revoked')].join('\n'));
    expect(checkHostKey(entries, 'h', ed)).toMatchObject({ status: 'revoked', entry: { line: 2 } });
  });

  it('recognises @cert-authority lines without treating them as host keys', () => {
    const entries = parseKnownHosts(line('*.example.com', ed, 'cert-authority'));
    const result = checkHostKey(entries, 'cp1.example.com', ed);
    expect(result.status).toBe('unknown');
    expect(result.status === 'unknown' && result.certAuthorities.map((e) => e.line)).toEqual([1]);
  });

  it('accepts a matching key recorded without the port, but never calls a mismatch there "changed"', () => {
    const entries = parseKnownHosts(line('10.0.0.1', ed));
    expect(checkHostKey(entries, '[10.0.0.1]:2222', ed, '10.0.0.1').status).toBe('known');
    expect(checkHostKey(entries, '[10.0.0.1]:2222', otherEd, '10.0.0.1').status).toBe('unknown');
    expect(checkHostKey(entries, '[10.0.0.1]:2222', ed).status).toBe('unknown');
  });

  it('refuses a key revoked for the bare name on a non-22 port, even though the fallback would accept it', () => {
    const entries = parseKnownHosts([line('10.0.0.1', ed), line('10.0.0.1', ed, 'revoked')].join('\n'));
    expect(checkHostKey(entries, '[10.0.0.1]:2222', ed, '10.0.0.1')).toMatchObject({ status: 'revoked', entry: { line: 2 } });
    // Revoked under the port-qualified name and recorded under the bare one: refused too.
    const crossed = parseKnownHosts([line('10.0.0.1', ed), line('[10.0.0.1]:2222', ed, 'revoked')].join('\n'));
    expect(checkHostKey(crossed, '[10.0.0.1]:2222', ed, '10.0.0.1').status).toBe('revoked');
  });

  it('negotiates only the recorded key types once any is recorded; without one, no SHA-1 ssh-rsa', () => {
    expect(hostKeyAlgorithms(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(['ssh-ed25519'])).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms(['ssh-rsa', 'ecdsa-sha2-nistp256'])).toEqual(['ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms([])).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256']);
    // Only types ssh2 cannot negotiate recorded: the defaults, and verify refuses whatever comes.
    expect(hostKeyAlgorithms(['sk-ssh-ed25519@openssh.com'])).not.toContain('ssh-rsa');
  });
});

describe('KnownHostsFile', () => {
  const target = { label: 'cp1', address: '10.0.0.1', port: 2222 };

  it('refuses an unknown key with type, fingerprint and the flag; records it with the flag (hashed, 0600)', async () => {
    const file = new KnownHostsFile(join(dir, 'new', 'known_hosts'));
    const key = keyBlob('ssh-ed25519');
    const error = await file.verify(target, key, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toBe(
      `cp1: host key for [10.0.0.1]:2222 is not known: ssh-ed25519 key ${fingerprint(key)} is not in ${file.path}. ` +
        `Compare the fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host), then run again with --accept-new-host-keys to record it.`,
    );
    expect(await file.verify(target, key, true)).toBe('recorded');
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(await file.verify(target, key, false)).toBe('known');
    const { stdout } = await run('ssh-keygen', ['-F', '[10.0.0.1]:2222', '-f', file.path]);
    expect(stdout).toContain(key.toString('base64'));
  });

  it('appends once when many connections accept the same key at the same time', async () => {
    const file = new KnownHostsFile(join(dir, 'concurrent_known_hosts'));
    await writeFile(file.path, line('other', keyBlob('ssh-rsa'))); // no trailing newline
    const key = keyBlob('ssh-ed25519');
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => file.verify(target, key, true)));
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(1);
    expect((await readFile(file.path, 'utf8')).split('\n')).toHaveLength(3);
    expect((await file.entries()).map((e) => e.line)).toEqual([1, 2]);
  });

  it('refuses a changed key with or without the flag, naming the file and line', async () => {
    const file = new KnownHostsFile(join(dir, 'changed_known_hosts'));
    const old = keyBlob('ssh-ed25519');
    await writeFile(file.path, `# hosts\n${line('[10.0.0.1]:2222', old)}\n`);
    const presented = keyBlob('ssh-ed25519');
    for (const accept of [false, true]) {
      const error = await file.verify(target, presented, accept).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as Error).message).toContain(`HOST KEY CHANGED for [10.0.0.1]:2222: it presents ssh-ed25519 ${fingerprint(presented)}, but ${file.path}:2`);
      expect((error as Error).message).toContain(fingerprint(old));
    }
  });

  it('says which other key types are recorded and that host certificates are not verified', async () => {
    const file = new KnownHostsFile(join(dir, 'types_known_hosts'));
    await writeFile(file.path, `${line('[10.0.0.1]:2222', keyBlob('ssh-ed25519'))}\n${line('[10.0.0.*]:2222', keyBlob('ssh-ed25519'), 'cert-authority')}\n`);
    const error = await file.verify(target, keyBlob('ssh-rsa'), false).catch((e: unknown) => e);
    expect((error as Error).message).toContain('Keys of other types are recorded for this host (ssh-ed25519 at line 1); the host offered ssh-rsa instead.');
    expect((error as Error).message).toContain(`${file.path}:2 has a @cert-authority line for this host, but kbuild does not verify host certificates`);
  });

  it('a new key type is not a new host: refused even with the flag when other types are recorded, nothing written', async () => {
    const file = new KnownHostsFile(join(dir, 'new_type_known_hosts'));
    const text = `${line('[10.0.0.1]:2222', keyBlob('ssh-ed25519'))}\n`;
    await writeFile(file.path, text);
    const error = await file.verify(target, keyBlob('ssh-rsa'), true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toContain('ssh-ed25519 at line 1');
    expect((error as Error).message).toContain('not recorded as a new key, with or without --accept-new-host-keys');
    expect((error as Error).message).toContain(`ssh-keygen -R '[10.0.0.1]:2222' -f ${file.path}`);
    expect(await readFile(file.path, 'utf8')).toBe(text);
  });

  it('refuses a revoked key even with the flag', async () => {
    const file = new KnownHostsFile(join(dir, 'revoked_known_hosts'));
    const key = keyBlob('ssh-ed25519');
    await writeFile(file.path, `${line('*', key, 'revoked')}\n`);
    await expect(file.verify(target, key, true)).rejects.toThrow(/marked @revoked in .*revoked_known_hosts:1/);
  });
});
