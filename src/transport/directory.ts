/**
 * The dry-run and `render` target: a host's filesystem mirrored under `<root>/<absolute path>`.
 * Files land there with their mode (the owner is recorded, not applied); commands are recorded,
 * never executed. `actions` is the ordered "would write / would run / would remove" list.
 */
import { sha256Hex } from '../util/sha256.js';
import { readFile, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../util/atomic-write.js';
import { ownerIds } from './owner.js';
import type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from './transport.js';

export type RecordedAction =
  | { kind: 'write'; path: string; mode: number; owner: string; size: number; sha256: string }
  | { kind: 'run'; command: string }
  | { kind: 'remove'; path: string };

export class DirectoryTransport implements Transport {
  private readonly recorded: RecordedAction[] = [];
  /** Paths removed during this run, so reads afterwards see them as gone. */
  private readonly removed = new Set<string>();
  /** The root made 0700, once per transport. */
  private madePrivate?: Promise<void>;

  constructor(
    readonly root: string,
    readonly name: string,
  ) {}

  /** Every recorded action in order. */
  get actions(): readonly RecordedAction[] {
    return this.recorded;
  }

  get commands(): string[] {
    return this.recorded.flatMap((a) => (a.kind === 'run' ? [a.command] : []));
  }

  get writtenFiles(): Array<Extract<RecordedAction, { kind: 'write' }>> {
    return this.recorded.flatMap((a) => (a.kind === 'write' ? [a] : []));
  }

  /** Where a host path lands under the root. */
  localPath(path: string): string {
    if (!isAbsolute(path)) throw new Error(`paths given to a transport must be absolute, got "${path}"`);
    return join(this.root, normalize(path));
  }

  /** Whether this run wrote or removed the path (a dry-run then reads it from here). */
  touched(path: string): boolean {
    const normal = normalize(path);
    return this.removed.has(normal) || this.recorded.some((a) => a.kind === 'write' && a.path === normal);
  }

  run(command: string, _options?: RunOptions): Promise<CommandResult> {
    this.recorded.push({ kind: 'run', command });
    return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    if (this.removed.has(normalize(path))) return undefined;
    try {
      return await readFile(this.localPath(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    // Keys land here (init/apply --dry-run -o DIR): the tree is the owner's only, as render's is.
    this.madePrivate ??= ensurePrivateDir(this.root);
    await this.madePrivate;
    await writeFileAtomic(this.localPath(path), bytes, options.mode, 0o700);
    const normal = normalize(path);
    this.removed.delete(normal);
    this.recorded.push({
      kind: 'write',
      path: normal,
      mode: options.mode,
      owner: options.owner ?? 'root:root',
      size: bytes.length,
      sha256: sha256Hex(bytes),
    });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const normal = normalize(path);
    if (this.removed.has(normal)) return undefined;
    try {
      const info = await stat(this.localPath(path));
      const content = info.isFile() ? await readFile(this.localPath(path)) : undefined;
      const written = this.writtenFiles.findLast((w) => w.path === normal);
      // The recorded owner, when its ids are known without the host's passwd file.
      const owner = written && ownerIds(written.owner);
      return {
        mode: info.mode & 0o7777,
        size: info.size,
        uid: owner?.uid ?? info.uid,
        gid: owner?.gid ?? info.gid,
        sha256: content ? sha256Hex(content) : '',
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(path: string): Promise<void> {
    const normal = normalize(path);
    this.recorded.push({ kind: 'remove', path: normal });
    this.removed.add(normal);
    await rm(this.localPath(path), { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}
