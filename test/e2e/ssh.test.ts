/**
 * The SSH transport against real OpenSSH servers on 127.0.0.1: host key checks, key and agent
 * auth, sudo users, a bastion hop, atomic writes (also when the connection is cut) and retries.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SSH_TIMING, type Host, type SshSettings } from '../../src/config/model.js';
import { ConnectionError, HostKeyError } from '../../src/errors/index.js';
import { connect, type ConnectOptions } from '../../src/transport/ssh/connect.js';
import type { Transport } from '../../src/transport/transport.js';
import { freePort, makeUserKey, startSshd, type Sshd, type UserKey } from '../support/sshd.js';

const run = promisify(execFile);

let work: string;
let rootKey: UserKey;
let encryptedKey: UserKey;
let encryptedPemKey: UserKey;
let agentOnlyKey: UserKey;
let target: Sshd;
let twoKeyTarget: Sshd;
let rsaOnlyTarget: Sshd;
let bastion: Sshd;
const sudoUser = `kbt${randomBytes(3).toString('hex')}ok`;
const passwordUser = `kbt${randomBytes(3).toString('hex')}pw`;
let usersCreated = false;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kbuild-ssh-e2e-'));
  await chmod(work, 0o755);
  rootKey = await makeUserKey(work, 'id_root');
  encryptedKey = await makeUserKey(work, 'id_encrypted', { passphrase: 'correct horse' });
  encryptedPemKey = await makeUserKey(work, 'id_encrypted_pem', { type: 'rsa', format: 'PEM', passphrase: 'pem pass' });
  agentOnlyKey = await makeUserKey(work, 'id_agent');
  const everyKey = [rootKey, encryptedKey, encryptedPemKey, agentOnlyKey].map((k) => k.publicLine);
  await run('useradd', ['-M', '-p', '*', '-s', '/bin/sh', sudoUser]);
  await run('useradd', ['-M', '-p', '*', '-s', '/bin/sh', passwordUser]);
  usersCreated = true;
  await writeFile(`/etc/sudoers.d/${sudoUser}`, `${sudoUser} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  await writeFile(`/etc/sudoers.d/${passwordUser}`, `${passwordUser} ALL=(ALL) ALL\n`, { mode: 0o440 });
  const authorizedKeys = { root: everyKey, [sudoUser]: [rootKey.publicLine], [passwordUser]: [rootKey.publicLine] };
  target = await startSshd({ authorizedKeys });
  twoKeyTarget = await startSshd({ authorizedKeys, hostKeyTypes: ['ed25519', 'rsa'] });
  rsaOnlyTarget = await startSshd({ authorizedKeys, hostKeyTypes: ['rsa'] });
  bastion = await startSshd({ authorizedKeys, logLevel: 'DEBUG1' });
});

afterAll(async () => {
  await target?.stop();
  await twoKeyTarget?.stop();
  await rsaOnlyTarget?.stop();
  await bastion?.stop();
  if (usersCreated) {
    for (const user of [sudoUser, passwordUser]) {
      await run('userdel', [user]).catch(() => undefined);
      await rm(`/etc/sudoers.d/${user}`, { force: true });
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
});

let knownHostsCounter = 0;
/** A fresh known_hosts path per test so tests do not depend on each other. */
function freshKnownHosts(): string {
  return join(work, `known_hosts_${++knownHostsCounter}`);
}

function hostFor(server: { port: number }, ssh: Partial<SshSettings> = {}): Host {
  return {
    name: 'node1',
    address: '127.0.0.1',
    roles: ['worker'],
    ssh: { address: '127.0.0.1', user: 'root', port: server.port, identityFile: rootKey.privatePath, knownHostsFile: freshKnownHosts(), sudo: false, ...DEFAULT_SSH_TIMING, ...ssh },
  };
}

/** known_hosts that trusts the given servers (written the way ssh-keyscan would). */
async function trusting(...servers: Array<{ sshd: Sshd; keyIndex?: number }>): Promise<string> {
  const path = freshKnownHosts();
  const lines = servers.map(({ sshd, keyIndex }) => `[127.0.0.1]:${sshd.port} ${sshd.hostKeys[keyIndex ?? 0]!.publicLine}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

const quick: Partial<ConnectOptions> = { attempts: 1, connectTimeoutMs: 10_000 };

async function withTransport<T>(host: Host, options: Partial<ConnectOptions>, use: (t: Transport) => Promise<T>): Promise<T> {
  const transport = await connect(host, { acceptNewHostKeys: false, ...quick, ...options });
  try {
    return await use(transport);
  } finally {
    await transport.close();
  }
}

async function sshKeygenFingerprint(publicKeyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyPath]);
  return stdout.split(' ')[1]!;
}

describe('host keys', () => {
  it('refuses an unknown host with its type, OpenSSH fingerprint and the accepting flag, and writes nothing', async () => {
    const host = hostFor(target);
    const error = await connect(host, { acceptNewHostKeys: false, ...quick }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    const message = (error as Error).message;
    expect(message).toContain(await sshKeygenFingerprint(`${target.hostKeys[0]!.path}.pub`));
    expect(message).toContain('ssh-ed25519');
    expect(message).toContain('--accept-new-host-keys');
    expect(message).toContain(`[127.0.0.1]:${target.port}`);
    await expect(stat(host.ssh.knownHostsFile)).rejects.toThrow(/ENOENT/);
  });

  it('records a new key with --accept-new-host-keys (hashed, found by ssh-keygen -F) and then connects without the flag', async () => {
    const host = hostFor(target);
    const recorded: string[] = [];
    await withTransport(host, { acceptNewHostKeys: true, onHostKeyRecorded: (label, type, print) => recorded.push(`${label} ${type} ${print}`) }, async (t) => {
      expect((await t.run('echo ok')).stdout).toBe('ok\n');
    });
    expect(recorded).toEqual([`node1 ssh-ed25519 ${await sshKeygenFingerprint(`${target.hostKeys[0]!.path}.pub`)}`]);
    const file = await readFile(host.ssh.knownHostsFile, 'utf8');
    expect(file).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 AAAA/);
    expect(file).not.toContain('127.0.0.1');
    const { stdout } = await run('ssh-keygen', ['-F', `[127.0.0.1]:${target.port}`, '-f', host.ssh.knownHostsFile]);
    expect(stdout).toContain(target.hostKeys[0]!.publicLine.split(' ')[1]);
    await withTransport(host, { acceptNewHostKeys: false }, async (t) => {
      expect((await t.run('echo again')).stdout).toBe('again\n');
    });
    expect((await readFile(host.ssh.knownHostsFile, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('refuses a changed key, even with --accept-new-host-keys, naming the old entry', async () => {
    const other = await makeUserKey(work, 'impostor_host_key');
    const knownHostsFile = freshKnownHosts();
    await writeFile(knownHostsFile, `# comment\n[127.0.0.1]:${target.port} ${other.publicLine}\n`);
    const host = hostFor(target, { knownHostsFile });
    for (const acceptNewHostKeys of [false, true]) {
      const error = await connect(host, { ...quick, acceptNewHostKeys }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as Error).message).toContain('HOST KEY CHANGED');
      expect((error as Error).message).toContain(`${knownHostsFile}:2`);
    }
    expect(await readFile(knownHostsFile, 'utf8')).toBe(`# comment\n[127.0.0.1]:${target.port} ${other.publicLine}\n`);
  });

  it('negotiates the key type already recorded (rsa) on a host that also offers ed25519', async () => {
    const knownHostsFile = await trusting({ sshd: twoKeyTarget, keyIndex: 1 });
    await withTransport(hostFor(twoKeyTarget, { knownHostsFile }), {}, async (t) => {
      expect((await t.run('true')).code).toBe(0);
    });
  });

  it('a host known by ed25519 that offers only RSA is refused even with --accept-new-host-keys, and nothing is recorded', async () => {
    // The man in the middle: the name is known by an ed25519 key, the server in the path has only RSA.
    const known = await makeUserKey(work, 'known_ed25519_host_key');
    const knownHostsFile = freshKnownHosts();
    const text = `[127.0.0.1]:${rsaOnlyTarget.port} ${known.publicLine}\n`;
    await writeFile(knownHostsFile, text);
    const recorded: string[] = [];
    const error = await connect(hostFor(rsaOnlyTarget, { knownHostsFile }), { ...quick, acceptNewHostKeys: true, onHostKeyRecorded: (l) => recorded.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toContain('ssh-ed25519 at line 1');
    expect((error as Error).message).toContain('with or without --accept-new-host-keys');
    expect(recorded).toEqual([]);
    expect(await readFile(knownHostsFile, 'utf8')).toBe(text);
  });

  it('refuses a key revoked for the bare name on a non-22 port, where the bare name would otherwise vouch for it', async () => {
    const knownHostsFile = freshKnownHosts();
    const key = target.hostKeys[0]!.publicLine;
    await writeFile(knownHostsFile, `127.0.0.1 ${key}\n@revoked 127.0.0.1 ${key}\n`);
    for (const acceptNewHostKeys of [false, true]) {
      const error = await connect(hostFor(target, { knownHostsFile }), { ...quick, acceptNewHostKeys }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as Error).message).toContain(`marked @revoked in ${knownHostsFile}:2`);
    }
  });

  it('treats a key of another type as unknown (as OpenSSH does), not as changed', async () => {
    const ecdsa = await makeUserKey(work, 'other_type_host_key', { type: 'ecdsa' });
    const knownHostsFile = freshKnownHosts();
    await writeFile(knownHostsFile, `[127.0.0.1]:${target.port} ${ecdsa.publicLine}\n`);
    const error = await connect(hostFor(target, { knownHostsFile }), { ...quick, acceptNewHostKeys: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toContain('is not known');
    expect((error as Error).message).toContain('ecdsa-sha2-nistp256 at line 1');
  });
});

describe('commands and files', () => {
  let transport: Transport;
  let dir: string;
  beforeAll(async () => {
    transport = await connect(hostFor(target, { knownHostsFile: await trusting({ sshd: target }) }), { acceptNewHostKeys: false, ...quick });
    dir = await mkdtemp(join(tmpdir(), 'kbuild-ssh-files-'));
  });
  afterAll(async () => {
    await transport?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('returns exit code, stdout and stderr, and passes stdin', async () => {
    expect(await transport.run('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await transport.run('tr a-z A-Z', { stdin: 'shout' })).stdout).toBe('SHOUT');
    expect((await transport.run(`printf '%s' "it's"`)).stdout).toBe("it's");
  });

  it('kills a command at its timeout', async () => {
    const started = Date.now();
    const result = await transport.run('sleep 30; echo never', { timeoutMs: 1000 });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBeNull();
    expect(result.stdout).toBe('');
    // Killed, not run out: TERM at 1 s and KILL 5 s later at the latest (timeout -k 5), against 30 s for the
    // command; the margin is for a loaded machine (the suite must pass with one CPU kept busy).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await transport.run('pgrep -f "sleep 3[0]; echo never" || true')).stdout.trim()).toBe('');
  });

  it('writes atomically with mode and owner, to paths with spaces and quotes', async () => {
    const path = join(dir, `a dir/it's a "file" $HOME.txt`);
    await transport.writeFile(path, 'secret\n', { mode: 0o600, owner: 'nobody:nogroup' });
    const info = await stat(path);
    expect(info.mode & 0o7777).toBe(0o600);
    expect([info.uid, info.gid]).toEqual([65534, 65534]);
    expect(await readFile(path, 'utf8')).toBe('secret\n');
    await transport.writeFile(path, 'replaced', { mode: 0o644 });
    expect((await stat(path)).mode & 0o7777).toBe(0o644);
    expect((await stat(path)).uid).toBe(0);
    expect(await readdir(join(dir, 'a dir'))).toEqual([`it's a "file" $HOME.txt`]);
  });

  it('stats with sha256, reads binary content back, removes', async () => {
    const path = join(dir, 'blob.bin');
    const content = randomBytes(200_000);
    await transport.writeFile(path, content, { mode: 0o640 });
    expect(await transport.stat(path)).toEqual({
      mode: 0o640,
      size: content.length,
      uid: 0,
      gid: 0,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect((await transport.readFile(path))!.equals(content)).toBe(true);
    expect(await transport.stat(join(dir, 'missing'))).toBeUndefined();
    expect(await transport.readFile(join(dir, 'missing'))).toBeUndefined();
    expect((await transport.stat(dir))?.sha256).toBe('');
    await transport.remove(path);
    expect(await transport.stat(path)).toBeUndefined();
    await transport.remove(path); // missing is fine
  });
});

/** A TCP relay that cuts both directions once `limit` bytes went from client to server. */
async function cuttingRelay(port: number, limit: number): Promise<{ port: number; cut: Promise<void>; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  let onCut!: () => void;
  const cut = new Promise<void>((resolve) => (onCut = resolve));
  const server: Server = createServer((client) => {
    const upstream = netConnect(port, '127.0.0.1');
    sockets.push(client, upstream);
    let forwarded = 0;
    client.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (forwarded > limit) {
        client.destroy();
        upstream.destroy();
        onCut();
      } else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cut,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a connection cut in the middle of a write', () => {
  it('leaves the old file intact and no temp file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-ssh-cut-'));
    const relay = await cuttingRelay(target.port, 4 * 1024 * 1024);
    try {
      const path = join(dir, 'manifest.yaml');
      await writeFile(path, 'old content\n', { mode: 0o644 });
      const host = hostFor(relay, { knownHostsFile: freshKnownHosts() });
      const transport = await connect(host, { acceptNewHostKeys: true, ...quick });
      const error = await transport.writeFile(path, randomBytes(64 * 1024 * 1024), { mode: 0o600 }).catch((e: unknown) => e);
      await transport.close();
      await relay.cut;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(await readFile(path, 'utf8')).toBe('old content\n');
      // The remote shell sees EOF, fails the hash check and removes its temp file.
      let entries = await readdir(dir);
      for (let i = 0; i < 100 && entries.length > 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        entries = await readdir(dir);
      }
      expect(entries).toEqual(['manifest.yaml']);
      expect(await readFile(path, 'utf8')).toBe('old content\n');
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('authentication', () => {
  it('uses an encrypted OpenSSH key with the passphrase from KBUILD_SSH_PASSPHRASE', async () => {
    const host = hostFor(target, { identityFile: encryptedKey.privatePath, knownHostsFile: await trusting({ sshd: target }) });
    await withTransport(host, { keySources: { env: { KBUILD_SSH_PASSPHRASE: 'correct horse' } } }, async (t) => {
      expect((await t.run('whoami')).stdout).toBe('root\n');
    });
  });

  it('uses an encrypted PEM RSA key', async () => {
    const host = hostFor(target, { identityFile: encryptedPemKey.privatePath, knownHostsFile: await trusting({ sshd: target }) });
    await withTransport(host, { keySources: { env: { KBUILD_SSH_PASSPHRASE: 'pem pass' } } }, async (t) => {
      expect((await t.run('whoami')).stdout).toBe('root\n');
    });
  });

  it('fails clearly on a wrong or missing passphrase, without retrying', async () => {
    const host = hostFor(target, { identityFile: encryptedKey.privatePath, knownHostsFile: await trusting({ sshd: target }) });
    const sleeps: number[] = [];
    const wrong = await connect(host, { acceptNewHostKeys: false, attempts: 3, sleep: async (ms) => void sleeps.push(ms), keySources: { env: { KBUILD_SSH_PASSPHRASE: 'nope' } } }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(ConnectionError);
    expect((wrong as Error).message).toMatch(/cannot decrypt SSH identity file .*id_encrypted with the passphrase in KBUILD_SSH_PASSPHRASE: it is wrong/);
    const missing = await connect(host, { acceptNewHostKeys: false, ...quick, keySources: { env: {}, prompt: () => Promise.resolve(undefined) } }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/is encrypted and no passphrase was given\. Set KBUILD_SSH_PASSPHRASE/);
    expect(sleeps).toEqual([]);
  });

  it('authenticates through ssh-agent when no identityFile is set', async () => {
    const socket = join(work, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50; i++) {
        if (await stat(socket).then(() => true, () => false)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await run('ssh-add', [agentOnlyKey.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const host = hostFor(target, { identityFile: undefined, knownHostsFile: await trusting({ sshd: target }) });
      await withTransport(host, { agentSocket: socket }, async (t) => {
        expect((await t.run('whoami')).stdout).toBe('root\n');
      });
      const noAgent = await connect(host, { acceptNewHostKeys: false, ...quick, agentSocket: '' }).catch((e: unknown) => e);
      expect((noAgent as Error).message).toContain('SSH_AUTH_SOCK is not set');
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('reports a refused key without retrying', async () => {
    const stranger = await makeUserKey(work, 'id_stranger');
    const sleeps: number[] = [];
    const host = hostFor(target, { identityFile: stranger.privatePath, knownHostsFile: await trusting({ sshd: target }) });
    const error = await connect(host, { acceptNewHostKeys: false, attempts: 3, sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`root@127.0.0.1:${target.port} refused the key ${stranger.privatePath}`);
    expect(sleeps).toEqual([]);
  });
});

describe('sudo', () => {
  it('runs as root through passwordless sudo for a non-root user, including atomic writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-ssh-sudo-'));
    try {
      const host = hostFor(target, { user: sudoUser, sudo: true, knownHostsFile: await trusting({ sshd: target }) });
      await withTransport(host, {}, async (t) => {
        expect((await t.run('id -u')).stdout).toBe('0\n');
        expect((await t.run('cat', { stdin: 'through sudo' })).stdout).toBe('through sudo');
        await t.writeFile(join(dir, 'etc/kubernetes/admin.conf'), 'kubeconfig', { mode: 0o600 });
        expect(await t.stat(join(dir, 'etc/kubernetes/admin.conf'))).toMatchObject({ mode: 0o600, uid: 0, gid: 0 });
        const timed = await t.run('sleep 20', { timeoutMs: 500 });
        expect(timed.timedOut).toBe(true);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('syncs a batch of files through sudo in one exec: only differing files written, root-owned, exact modes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbuild-ssh-sudo-sync-'));
    try {
      const host = hostFor(target, { user: sudoUser, sudo: true, knownHostsFile: await trusting({ sshd: target }) });
      await writeFile(join(dir, 'drifted.yaml'), 'hand edit\n');
      const files = [
        { path: join(dir, 'etc/kubernetes/pki/ca.key'), mode: 0o600, content: randomBytes(40_000) },
        { path: join(dir, 'drifted.yaml'), mode: 0o644, content: 'rendered\n' },
        { path: join(dir, `it's a dir/conf`), mode: 0o640, content: 'conf\n' },
      ];
      await withTransport(host, {}, async (t) => {
        expect(await t.syncFiles!(files)).toEqual({
          written: files.map((f) => f.path),
          differed: [join(dir, 'drifted.yaml')],
          previous: { [join(dir, 'drifted.yaml')]: createHash('sha256').update('hand edit\n').digest('hex') },
        });
        expect(await t.syncFiles!(files)).toEqual({ written: [], differed: [] });
        const infos = await t.statFiles!(files.map((f) => f.path));
        expect(infos.map((i) => [i?.mode, i?.uid, i?.gid])).toEqual([
          [0o600, 0, 0],
          [0o644, 0, 0],
          [0o640, 0, 0],
        ]);
      });
      for (const f of files) expect(await readFile(f.path)).toEqual(Buffer.from(f.content));
      expect((await readdir(join(dir, 'etc/kubernetes/pki'))).sort()).toEqual(['ca.key']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails fast with the NOPASSWD advice when sudo wants a password', async () => {
    const host = hostFor(target, { user: passwordUser, sudo: true, knownHostsFile: await trusting({ sshd: target }) });
    const started = Date.now();
    const error = await connect(host, { acceptNewHostKeys: false, ...quick }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`user ${passwordUser} cannot run commands through sudo without a password`);
    expect((error as Error).message).toContain('NOPASSWD');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('bastion', () => {
  it('reaches the host through the bastion, verifying both host keys', async () => {
    const knownHostsFile = freshKnownHosts();
    const host = hostFor(target, { knownHostsFile, bastion: { address: '127.0.0.1', port: bastion.port, user: 'root', identityFile: rootKey.privatePath } });
    const refused = await connect(host, { acceptNewHostKeys: false, ...quick }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HostKeyError);
    expect((refused as Error).message).toContain(`node1 (bastion 127.0.0.1): host key for [127.0.0.1]:${bastion.port} is not known`);
    const recorded: string[] = [];
    await withTransport(host, { acceptNewHostKeys: true, onHostKeyRecorded: (label) => recorded.push(label) }, async (t) => {
      expect((await t.run('echo via bastion')).stdout).toBe('via bastion\n');
    });
    expect(recorded).toEqual(['node1 (bastion 127.0.0.1)', 'node1']);
    expect(bastion.logs()).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${target.port}`));
    await withTransport(host, { acceptNewHostKeys: false }, async (t) => {
      expect((await t.run('true')).code).toBe(0);
    });
  });
});

describe('retries', () => {
  it('retries a refused connection with exponential backoff, then names the host and route', async () => {
    const deadPort = await freePort();
    const sleeps: number[] = [];
    const host = hostFor({ port: deadPort });
    const error = await connect(host, { acceptNewHostKeys: false, attempts: 3, backoffMs: 40, sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(new RegExp(`^node1: cannot connect to root@127\\.0\\.0\\.1:${deadPort} after 3 attempts; last error: .*ECONNREFUSED`));
    expect(sleeps).toEqual([40, 80]);
  });
});
