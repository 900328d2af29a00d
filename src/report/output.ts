/**
 * The only place kbuild writes to the terminal. Commands print results with `print` (stdout) and
 * diagnostics with `warn` (stderr); phases go through a reporter. The streams are injected: `run()`
 * passes the process's, tests their own, so `main()` runs in-process.
 */
import type { Readable, Writable } from 'node:stream';

export interface Output {
  print(line: string): void;
  warn(line: string): void;
}

/** The terminal a command talks to. `isTTY` chooses progress rendering and whether prompts may ask. */
export interface Streams {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
}

/** A command's output: lines to print and the streams under them (listr2 and prompts need those). */
export interface Io extends Output {
  readonly streams: Streams;
}

export function streamIo(streams: Streams): Io {
  return {
    streams,
    print: (line) => void streams.stdout.write(`${line}\n`),
    warn: (line) => void streams.stderr.write(`${line}\n`),
  };
}

/** Collects lines instead of printing; for tests and JSON modes. */
export function captureOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, print: (l) => void stdout.push(l), warn: (l) => void stderr.push(l) };
}
