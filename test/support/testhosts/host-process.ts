/**
 * A long-running process inside a test host. It is started through `nsenter --pid`, which forks:
 * the process we spawn is nsenter (root PID namespace), the real program is its child (the host's
 * PID namespace). Signals therefore go to the child; nsenter exits with it.
 */
import { spawn as spawnChild } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { childPids, signal, sleep, toolEnv } from './processes.js';

const OUTPUT_LIMIT = 256 * 1024;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class HostProcess {
  readonly pid: number;
  /** Resolves when the process has ended. Never rejects. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private tail = '';

  constructor(
    readonly host: string,
    readonly argv: readonly string[],
    nsenterArgv: readonly string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv = {},
  ) {
    const [command, ...args] = nsenterArgv;
    const child = spawnChild(command ?? 'nsenter', args, { env: toolEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`host ${host}: cannot start ${argv.join(' ')}`);
    this.pid = child.pid;
    const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    const collect = (chunk: Buffer): void => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        this.tail += `\n[harness] ${error.message}`;
        this.exitInfo = { code: null, signal: null };
        log.end();
        resolve(this.exitInfo);
      });
      child.on('close', (code, sig) => {
        this.exitInfo = { code, signal: sig };
        log.end();
        resolve(this.exitInfo);
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last 256 KiB of stdout and stderr, interleaved. */
  output(): string {
    return this.tail;
  }

  /** The program's pid as seen from the root namespace (the child of nsenter), once it exists. */
  innerPids(): number[] {
    return childPids(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    this.signal('SIGTERM');
    const ended = await Promise.race([this.exited, sleep(graceMs).then(() => undefined)]);
    if (ended) return ended;
    this.signal('SIGKILL');
    signal(this.pid, 'SIGKILL');
    const killed = await Promise.race([this.exited, sleep(5_000).then(() => undefined)]);
    if (!killed) throw new Error(`host ${this.host}: ${this.argv.join(' ')} (pid ${this.pid}) did not end after SIGKILL`);
    return killed;
  }

  /** Sends a signal to the program (not to nsenter, which would orphan it). */
  signal(sig: NodeJS.Signals): void {
    const inner = this.innerPids();
    if (inner.length === 0) signal(this.pid, sig); // not forked yet: nsenter itself
    for (const pid of inner) signal(pid, sig);
  }

  /** Fails with the process's output if it has exited. */
  assertRunning(): void {
    if (this.exitInfo) {
      const how = this.exitInfo.signal ? `was killed by ${this.exitInfo.signal}` : `exited ${this.exitInfo.code}`;
      throw new Error(`host ${this.host}: \`${this.argv.join(' ')}\` ${how}:\n${this.tail.trim().split('\n').slice(-20).join('\n')}`);
    }
  }
}
