/**
 * A host over SSH (ssh2). Every operation is one exec of `sh -c` (through `sudo -n` for a
 * non-root user): file transfers stream over stdin, so no SFTP subsystem and no sudo-for-sftp
 * tricks are needed.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'ssh2';
import { ConnectionError, ConnectionLostError, RemoteCommandError } from '../../errors/index.js';
import { shCommand } from '../quote.js';
import { parseStatFilesOutput, parseSyncLines, statBatches, statFilesScript, syncBatches } from './batch-scripts.js';
import { MISSING_EXIT_CODE, parseStatOutput, readScript, removeScript, statScript, writeScript, writeStdin } from './remote-scripts.js';
import type { CommandResult, FileInfo, RunOptions, SyncFile, SyncResult, Transport, WriteOptions } from '../transport.js';

export interface SshTransportSettings {
  name: string;
  user: string;
  /** Wrap commands in `sudo -n` (ignored for root). */
  sudo: boolean;
  /** The bastion connection this one runs through; closed with it. */
  bastion?: Client;
}

/** How long past its own timeout a remote command may take before the channel is dropped. */
const TIMEOUT_GRACE_MS = 10_000;

/** sudo's ways of saying it would have asked for a password or is not allowed at all. */
const SUDO_REFUSAL = /^sudo: (a password is required|a terminal is required|.*is not in the sudoers file|.*may not run sudo|.*not allowed to execute)/m;

interface RawResult {
  code: number | null;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

export class SshTransport implements Transport {
  readonly name: string;
  private lost: Error | undefined;
  private readonly useSudo: boolean;

  constructor(
    private readonly client: Client,
    private readonly settings: SshTransportSettings,
  ) {
    this.name = settings.name;
    this.useSudo = settings.sudo && settings.user !== 'root';
    const markLost = (error?: Error): void => {
      this.lost ??= error ?? new Error('connection closed');
    };
    client.on('error', markLost);
    client.on('close', () => markLost());
  }

  /** The exact command line sent for a script (exported for tests of quoting). */
  commandLine(script: string, timeoutMs?: number): string {
    let command = shCommand(script);
    // timeout(1) kills the remote process tree; closing the channel alone would leave it running.
    if (timeoutMs !== undefined) command = `timeout -k 5 ${Math.max(timeoutMs, 1) / 1000} ${command}`;
    return this.useSudo ? `sudo -n -- ${command}` : command;
  }

  /** Fails fast when sudo would prompt: called once right after connecting. */
  async checkSudo(): Promise<void> {
    if (!this.useSudo) return;
    await this.run('true', { timeoutMs: 15_000 });
  }

  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const raw = await this.exec(command, options.stdin, options.timeoutMs, command);
    return {
      code: raw.timedOut ? null : raw.code,
      stdout: raw.stdout.toString('utf8'),
      stderr: raw.stderr.toString('utf8'),
      ...(raw.timedOut ? { timedOut: true } : {}),
    };
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const raw = await this.exec(readScript(path), undefined, undefined, `cat ${path}`);
    if (raw.code === MISSING_EXIT_CODE) return undefined;
    if (raw.code !== 0) throw new RemoteCommandError(this.name, `cat ${path}`, raw.code, raw.stderr.toString('utf8'));
    return raw.stdout;
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const script = writeScript(path, options.mode, options.owner ?? 'root:root', randomBytes(6).toString('hex'));
    const what = `write ${path}`;
    const raw = await this.exec(script, writeStdin(bytes), undefined, what);
    if (raw.code !== 0) throw new RemoteCommandError(this.name, what, raw.code, raw.stderr.toString('utf8'));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const what = `stat ${path}`;
    const raw = await this.exec(statScript(path), undefined, undefined, what);
    if (raw.code !== 0) throw new RemoteCommandError(this.name, what, raw.code, raw.stderr.toString('utf8'));
    return parseStatOutput(raw.stdout.toString('utf8'));
  }

  /** One exec channel per batch (normally one for the whole list): see batch-scripts.ts. */
  async syncFiles(files: readonly SyncFile[]): Promise<SyncResult> {
    const result: SyncResult = { written: [], differed: [] };
    for (const batch of syncBatches(files, () => randomBytes(6).toString('hex'))) {
      const paths = batch.files.map((f) => f.path);
      const what = paths.length === 1 ? `write ${paths[0]}` : `write ${paths.length} files (${paths[0]} … ${paths.at(-1)})`;
      const raw = await this.exec(batch.script, batch.stdin, undefined, what);
      const stdout = raw.stdout.toString('utf8');
      if (raw.code !== 0) {
        // Files are handled in order and each reports when done: the first unreported one failed.
        const done = stdout.split('\n').filter(Boolean).length;
        throw new RemoteCommandError(this.name, `write ${paths[done] ?? paths.at(-1)}`, raw.code, raw.stderr.toString('utf8'));
      }
      const lines = parseSyncLines(stdout);
      if (lines.length !== paths.length) throw new RemoteCommandError(this.name, what, raw.code, `reported ${lines.length} of ${paths.length} files`);
      lines.forEach(({ status, previous }, i) => {
        if (status !== 'unchanged') result.written.push(paths[i]!);
        if (status === 'replaced') result.differed.push(paths[i]!);
        if (previous) (result.previous ??= {})[paths[i]!] = previous;
      });
    }
    return result;
  }

  async statFiles(paths: readonly string[]): Promise<Array<FileInfo | undefined>> {
    const infos: Array<FileInfo | undefined> = [];
    for (const batch of statBatches(paths)) {
      const what = batch.length === 1 ? `stat ${batch[0]}` : `stat ${batch.length} files (${batch[0]} … ${batch.at(-1)})`;
      const raw = await this.exec(statFilesScript(batch), undefined, undefined, what);
      if (raw.code !== 0) throw new RemoteCommandError(this.name, what, raw.code, raw.stderr.toString('utf8'));
      infos.push(...parseStatFilesOutput(raw.stdout.toString('utf8'), batch.length));
    }
    return infos;
  }

  async remove(path: string): Promise<void> {
    const what = `rm -rf ${path}`;
    const raw = await this.exec(removeScript(path), undefined, undefined, what);
    if (raw.code !== 0) throw new RemoteCommandError(this.name, what, raw.code, raw.stderr.toString('utf8'));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.settings.bastion?.end();
        resolve();
      };
      if (this.lost) return done();
      // A peer that never answers the disconnect must not hang the run.
      const timer = setTimeout(() => {
        this.client.destroy();
        done();
      }, 5000);
      this.client.once('close', () => {
        clearTimeout(timer);
        done();
      });
      this.client.end();
    });
  }

  /** Runs a script; throws ConnectionError when the connection fails and for sudo refusals. */
  private exec(script: string, stdin: string | Buffer | undefined, timeoutMs: number | undefined, what: string): Promise<RawResult> {
    if (this.lost) return Promise.reject(new ConnectionLostError(this.name, `connection lost before \`${what}\`: ${this.lost.message}`, false));
    const started = Date.now();
    return new Promise<RawResult>((resolve, reject) => {
      this.client.exec(this.commandLine(script, timeoutMs), (error, channel) => {
        if (error) {
          // Refused on a live connection (e.g. sshd's MaxSessions) is not a lost connection. On a lost
          // one the request may have reached sshd before the drop, so the command counts as sent.
          const message = `cannot start \`${what}\`: ${error.message}`;
          return reject(this.lost ? new ConnectionLostError(this.name, message, true, { cause: error }) : new ConnectionError(this.name, message, { cause: error }));
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exit: { code: number | null; signal?: string } | undefined;
        let backstopFired = false;
        const backstop =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                backstopFired = true;
                channel.close();
              }, timeoutMs + TIMEOUT_GRACE_MS);
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = { code, signal };
        });
        channel.on('close', () => {
          if (backstop) clearTimeout(backstop);
          const elapsed = Date.now() - started;
          const timedOut =
            backstopFired || (timeoutMs !== undefined && elapsed >= timeoutMs && (exit?.code === 124 || exit?.code === 137 || exit?.signal !== undefined));
          if (!exit && !timedOut) {
            const cause = this.lost?.message ?? 'channel closed without an exit status';
            return reject(new ConnectionLostError(this.name, `connection lost during \`${what}\`: ${cause}`, true));
          }
          const result: RawResult = { code: exit?.code ?? null, signal: exit?.signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), timedOut };
          const refusal = this.sudoRefusal(result);
          if (refusal) return reject(refusal);
          resolve(result);
        });
        channel.on('error', () => undefined); // surfaced through 'close' without an exit status
        channel.end(stdin ?? '');
      });
    });
  }

  private sudoRefusal(result: RawResult): ConnectionError | undefined {
    if (!this.useSudo || result.code === 0) return undefined;
    const stderr = result.stderr.toString('utf8');
    const user = this.settings.user;
    if (result.code === 127 && /sudo: (command )?not found/.test(stderr)) {
      return new ConnectionError(this.name, `sudo is not installed, but ssh.sudo is set for user ${user}. Install sudo on the host or connect as root.`);
    }
    const said = SUDO_REFUSAL.exec(stderr);
    if (!said) return undefined;
    return new ConnectionError(
      this.name,
      `user ${user} cannot run commands through sudo without a password (sudo said: "${said[0].trim()}"). kbuild never types passwords: ` +
        `allow passwordless sudo, e.g. \`echo '${user} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/kbuild && chmod 0440 /etc/sudoers.d/kbuild\` on the host, or connect as root.`,
    );
  }
}
