/**
 * Drift: a file on a host whose content differs from the rendered one when apply is about to
 * replace it (hand-edited, or the cluster file changed since the last apply; push-record.ts tells
 * which). The wrapper notes every stat and reports each such replacement (and each `differed` of a
 * batch sync) with the new content's hash, and every file the host now holds as rendered.
 */
import { statFiles, syncFiles } from '../../transport/sync.js';
import { sha256Hex } from '../../util/sha256.js';
import type { CommandResult, FileInfo, RunOptions, SyncFile, SyncResult, Transport, WriteOptions } from '../../transport/transport.js';

export interface DriftListener {
  /** The host's copy of `path` (hash `previous`, when known) differed and was replaced with content of hash `sha256`. */
  replaced(path: string, sha256: string, previous?: string): void;
  /** The host holds content of this hash at `path` (written, or already identical). */
  inSync?(path: string, sha256: string): void;
}

export class DriftReportingTransport implements Transport {
  readonly name: string;
  /** The content hash last seen per path, from stat. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly inner: Transport,
    private readonly listener: DriftListener,
  ) {
    this.name = inner.name;
  }

  run(command: string, options?: RunOptions): Promise<CommandResult> {
    return this.inner.run(command, options);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return this.inner.readFile(path);
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const info = await this.inner.stat(path);
    if (info?.sha256) this.seen.set(path, info.sha256);
    else this.seen.delete(path);
    return info;
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    const before = this.seen.get(path);
    await this.inner.writeFile(path, content, options);
    this.seen.delete(path);
    const after = sha256Hex(content);
    this.listener.inSync?.(path, after);
    if (before !== undefined && before !== after) this.listener.replaced(path, after, before);
  }

  /** The inner transport's batch (or the file-by-file fallback); `differed` is the drift. */
  async syncFiles(files: readonly SyncFile[]): Promise<SyncResult> {
    const result = await syncFiles(this.inner, files);
    const hashes = new Map(files.map((f) => [f.path, sha256Hex(f.content)]));
    for (const [path, hash] of hashes) {
      this.seen.delete(path);
      this.listener.inSync?.(path, hash);
    }
    for (const path of result.differed) this.listener.replaced(path, hashes.get(path)!, result.previous?.[path]);
    return result;
  }

  async statFiles(paths: readonly string[]): Promise<Array<FileInfo | undefined>> {
    const infos = await statFiles(this.inner, paths);
    paths.forEach((path, i) => {
      const sha = infos[i]?.sha256;
      if (sha) this.seen.set(path, sha);
      else this.seen.delete(path);
    });
    return infos;
  }

  async remove(path: string): Promise<void> {
    this.seen.delete(path);
    await this.inner.remove(path);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
