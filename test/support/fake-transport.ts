/**
 * A scripted Transport for unit tests of phases: rules map commands to results, files live in
 * memory, and `calls` logs every operation in order. A command no rule matches throws, so a test
 * never passes because an unexpected command silently "succeeded".
 */
import { sha256Hex } from '../../src/util/sha256.js';
import { normalize } from 'node:path';
import { ownerIds } from '../../src/transport/owner.js';
import type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from '../../src/transport/transport.js';

export type CommandMatcher = string | RegExp | ((command: string) => boolean);

export interface FakeRule {
  match: CommandMatcher;
  /** A result, a function of the command (may throw or return an Error to reject). */
  result: Partial<CommandResult> | Error | ((command: string, options: RunOptions) => Partial<CommandResult> | Error);
  /** Use the rule at most this many times; later calls fall through to the next rule. */
  times?: number;
}

export interface FakeFile {
  content: Buffer;
  mode: number;
  owner: string;
}

export interface FakeFileSpec {
  content: string | Buffer;
  mode?: number;
  owner?: string;
}

export type FakeCall =
  | { op: 'run'; command: string; options: RunOptions }
  | { op: 'readFile'; path: string }
  | { op: 'writeFile'; path: string; content: Buffer; mode: number; owner: string }
  | { op: 'stat'; path: string }
  | { op: 'remove'; path: string }
  | { op: 'close' };

export interface FakeTransportOptions {
  rules?: FakeRule[];
  files?: Record<string, string | Buffer | FakeFileSpec>;
  /** Result for commands no rule matches; by default such a command throws. */
  unmatched?: Partial<CommandResult>;
  /** User and group ids by name for stat(); root is 0. */
  ids?: Record<string, number>;
}

export class FakeTransport implements Transport {
  readonly calls: FakeCall[] = [];
  readonly files = new Map<string, FakeFile>();
  private readonly rules: Array<FakeRule & { used: number }>;
  private readonly unmatched: Partial<CommandResult> | undefined;
  private readonly ids: Record<string, number>;
  closed = false;

  constructor(
    readonly name: string,
    options: FakeTransportOptions = {},
  ) {
    this.rules = (options.rules ?? []).map((r) => ({ ...r, used: 0 }));
    this.unmatched = options.unmatched;
    this.ids = { root: 0, ...options.ids };
    for (const [path, file] of Object.entries(options.files ?? {})) {
      const spec: FakeFileSpec = typeof file === 'string' || Buffer.isBuffer(file) ? { content: file } : file;
      this.files.set(normalize(path), {
        content: Buffer.from(spec.content),
        mode: spec.mode ?? 0o644,
        owner: spec.owner ?? 'root:root',
      });
    }
  }

  /** Adds a rule ahead of the existing ones. */
  on(match: CommandMatcher, result: FakeRule['result'], times?: number): this {
    this.rules.unshift({ match, result, times, used: 0 });
    return this;
  }

  /** The commands run so far, in order. */
  get commands(): string[] {
    return this.calls.flatMap((c) => (c.op === 'run' ? [c.command] : []));
  }

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ op: 'run', command, options });
    const rule = this.rules.find((r) => (r.times === undefined || r.used < r.times) && matches(r.match, command));
    if (!rule) {
      if (this.unmatched) return Promise.resolve(complete(this.unmatched));
      return Promise.reject(new Error(`FakeTransport ${this.name}: no rule for command \`${command}\``));
    }
    rule.used++;
    try {
      const result = typeof rule.result === 'function' ? rule.result(command, options) : rule.result;
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(complete(result));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  readFile(path: string): Promise<Buffer | undefined> {
    this.calls.push({ op: 'readFile', path });
    const file = this.files.get(normalize(path));
    return Promise.resolve(file ? Buffer.from(file.content) : undefined);
  }

  writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    const bytes = Buffer.from(content);
    const owner = options.owner ?? 'root:root';
    this.calls.push({ op: 'writeFile', path, content: bytes, mode: options.mode, owner });
    this.files.set(normalize(path), { content: bytes, mode: options.mode, owner });
    return Promise.resolve();
  }

  stat(path: string): Promise<FileInfo | undefined> {
    this.calls.push({ op: 'stat', path });
    const file = this.files.get(normalize(path));
    if (!file) return Promise.resolve(undefined);
    const ids = ownerIds(file.owner, this.ids);
    if (!ids) return Promise.reject(new Error(`FakeTransport ${this.name}: owner "${file.owner}" of ${path} has no id; pass it in options.ids`));
    return Promise.resolve({
      mode: file.mode,
      size: file.content.length,
      uid: ids.uid,
      gid: ids.gid,
      sha256: sha256Hex(file.content),
    });
  }

  remove(path: string): Promise<void> {
    this.calls.push({ op: 'remove', path });
    const target = normalize(path);
    for (const key of [...this.files.keys()]) if (key === target || key.startsWith(`${target}/`)) this.files.delete(key);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.calls.push({ op: 'close' });
    this.closed = true;
    return Promise.resolve();
  }
}

function matches(matcher: CommandMatcher, command: string): boolean {
  if (typeof matcher === 'string') return command === matcher;
  if (matcher instanceof RegExp) return matcher.test(command);
  return matcher(command);
}

function complete(result: Partial<CommandResult>): CommandResult {
  return { code: 0, stdout: '', stderr: '', ...result };
}
