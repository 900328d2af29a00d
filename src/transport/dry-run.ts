/**
 * Dry runs (apply, init, join, reset): reads and read-only commands go to the real host, every
 * change goes to a DirectoryTransport, which records it. Files this run already "wrote" are read
 * back from the directory, so later steps see the state the run would have produced.
 */
import { join } from 'node:path';
import { DirectoryTransport, type RecordedAction } from './directory.js';
import type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from './transport.js';

export class DryRunTransport implements Transport {
  readonly name: string;

  /** `real` should be connected read-only (see readOnlyTransport) so a slip cannot change the host. */
  constructor(
    private readonly real: Transport,
    readonly directory: DirectoryTransport,
  ) {
    this.name = real.name;
  }

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    return options.readOnly ? this.real.run(command, options) : this.directory.run(command, options);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return this.directory.touched(path) ? this.directory.readFile(path) : this.real.readFile(path);
  }

  writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    return this.directory.writeFile(path, content, options);
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.directory.touched(path) ? this.directory.stat(path) : this.real.stat(path);
  }

  remove(path: string): Promise<void> {
    return this.directory.remove(path);
  }

  async close(): Promise<void> {
    await this.real.close();
  }
}

/** Refuses every change: the connection a dry-run reads through. A refusal here is a kbuild bug. */
export function readOnlyTransport(inner: Transport): Transport {
  const refuse = (what: string): Promise<never> =>
    Promise.reject(new Error(`${inner.name}: ${what} attempted on a read-only (dry-run) connection; this is a bug in kbuild`));
  return {
    name: inner.name,
    run: (command, options = {}) => (options.readOnly ? inner.run(command, options) : refuse(`command \`${command}\``)),
    readFile: (path) => inner.readFile(path),
    stat: (path) => inner.stat(path),
    writeFile: (path) => refuse(`write of ${path}`),
    remove: (path) => refuse(`removal of ${path}`),
    close: () => inner.close(),
  };
}

/** The one dry-run stack: reads from `real` (which then refuses every change), changes recorded under `root` as host `name`. */
export function dryRunTransport(real: Transport, root: string, name: string = real.name): DryRunTransport {
  return new DryRunTransport(readOnlyTransport(real), new DirectoryTransport(root, name));
}

/** One dry run over several hosts: each host's record under `<root>/<host>`. */
export class DryRunRecorder {
  readonly directories = new Map<string, DirectoryTransport>();
  constructor(readonly root: string) {}

  wrap(name: string, real: Transport): DryRunTransport {
    const transport = dryRunTransport(real, join(this.root, name), name);
    this.directories.set(name, transport.directory);
    return transport;
  }

  /** Per host, what would have been written, run and removed, in order. */
  actions(): Map<string, readonly RecordedAction[]> {
    return new Map([...this.directories].map(([name, d]) => [name, d.actions]));
  }
}
