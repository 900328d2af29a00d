/** Running commands for the test-host harness: bounded in time, with their output kept for messages. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve with a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Names the command in error messages, e.g. "host cp1". */
  label?: string;
}

/** Environment for tools: sbin on PATH (sshd, ip), a predictable locale. */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...extra };
}

export function describeFailure(argv: readonly string[], result: CommandResult, label?: string): string {
  const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-10).join('\n');
  return `${label ? `${label}: ` : ''}\`${argv.join(' ')}\` ${how}${tail ? `:\n${tail}` : ''}`;
}

/** Runs argv to completion; the timeout kills it (and, via `onTimeout`, whatever it spawned). */
export function run(argv: readonly string[], options: RunOptions = {}, onTimeout?: (pid: number) => void): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('run: empty argv');
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? toolEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) onTimeout?.(child.pid);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${options.label ? `${options.label}: ` : ''}cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (timedOut) reject(new Error(`${describeFailure(argv, result, options.label)}\n(timed out after ${timeoutMs} ms)`));
      else if (code !== 0 && !options.allowFailure) reject(new Error(describeFailure(argv, result, options.label)));
      else resolve(result);
    });
  });
}

/** Synchronous variant for teardown paths that run from `process.on('exit')`. */
export function runSync(argv: readonly string[]): CommandResult {
  const [command, ...args] = argv;
  const result = spawnSync(command ?? 'true', args, { env: toolEnv(), encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Direct children of a process (needs CONFIG_PROC_CHILDREN, present on Debian kernels). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** A process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Start time in clock ticks since boot: with the pid it identifies a process despite pid reuse. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; starttime is field 22 overall.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns a value or the deadline passes. */
export async function pollUntil<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
