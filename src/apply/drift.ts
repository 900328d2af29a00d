/**
 * Drift: a file on a host whose content differs from the rendered one when apply is about to
 * replace it (hand-edited, or the cluster file changed since the last apply). The wrapper notes
 * every stat and reports each such replacement, so the run says what it put back.
 */
import { createHash } from 'node:crypto';
import type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from '../ssh/transport.js';

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

export class DriftReportingTransport implements Transport {
  readonly name: string;
  /** The content hash last seen per path, from stat. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly inner: Transport,
    private readonly onDrift: (path: string) => void,
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
    if (before !== undefined && before !== sha256(content)) this.onDrift(path);
  }

  async remove(path: string): Promise<void> {
    this.seen.delete(path);
    await this.inner.remove(path);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
