/**
 * A throwaway OpenSSH server on 127.0.0.1 for transport tests: its own host keys, authorized
 * keys per user, a random port. Always stop() it (afterAll); stop() also removes its directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface UserKey {
  privatePath: string;
  publicLine: string;
}

export interface HostKey {
  type: KeyType;
  path: string;
  /** `ssh-ed25519 AAAA...` (no comment). */
  publicLine: string;
}

export interface Sshd {
  port: number;
  dir: string;
  hostKeys: HostKey[];
  /** What sshd wrote to stderr so far (raise logLevel to see forwarding requests). */
  logs(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Host key types, in the order sshd offers them. Default: ed25519. */
  hostKeyTypes?: KeyType[];
  /** Public key lines allowed to log in, per user. */
  authorizedKeys: Record<string, string[]>;
  logLevel?: 'ERROR' | 'INFO' | 'VERBOSE' | 'DEBUG1';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A user key pair made by ssh-keygen; `format: 'PEM'` gives the old PEM layout. */
export async function makeUserKey(dir: string, name: string, options: { type?: KeyType; passphrase?: string; format?: 'PEM' } = {}): Promise<UserKey> {
  const privatePath = join(dir, name);
  const type = options.type ?? 'ed25519';
  const args = ['-q', '-t', type, '-N', options.passphrase ?? '', '-C', '', '-f', privatePath];
  if (type === 'rsa') args.push('-b', '2048');
  if (options.format) args.push('-m', options.format);
  await run('ssh-keygen', args);
  const publicLine = (await readFile(`${privatePath}.pub`, 'utf8')).trim();
  return { privatePath, publicLine };
}

export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-sshd-'));
  // sshd reads authorized_keys as the logging-in user, so the path must be readable by all.
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const hostKeys: HostKey[] = [];
  for (const type of options.hostKeyTypes ?? ['ed25519']) {
    const path = join(dir, `ssh_host_${type}_key`);
    await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
    const publicLine = (await readFile(`${path}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    hostKeys.push({ type, path, publicLine });
  }
  await mkdir(join(dir, 'authorized_keys'), { mode: 0o755 });
  for (const [user, keys] of Object.entries(options.authorizedKeys)) {
    await writeFile(join(dir, 'authorized_keys', user), `${keys.join('\n')}\n`, { mode: 0o644 });
  }
  let lastError: unknown;
  // Another process may take the free port between probing and binding: try a few ports.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeys.map((k) => `HostKey ${k.path}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'MaxStartups 100',
      'MaxSessions 100',
      `LogLevel ${options.logLevel ?? 'ERROR'}`,
    ].join('\n');
    const configPath = join(dir, 'sshd_config');
    await writeFile(configPath, `${config}\n`);
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitForBanner(port, child);
      return { port, dir, hostKeys, logs: () => stderr, stop: () => stopSshd(child, dir) };
    } catch (error) {
      lastError = new Error(`sshd did not start on port ${port}: ${(error as Error).message}\n${stderr}`);
      await stopProcess(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitForBanner(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const banner = await new Promise<string>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString());
      });
      socket.once('error', () => resolve(''));
      socket.once('timeout', () => {
        socket.destroy();
        resolve('');
      });
    });
    if (banner.startsWith('SSH-2.0-')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no SSH banner within 10 s');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function stopSshd(child: ChildProcess, dir: string): Promise<void> {
  await stopProcess(child);
  await rm(dir, { recursive: true, force: true });
}
