/**
 * `apply --dry-run`: reads and read-only commands go to the real host, every change goes to a
 * DirectoryTransport, which records it. Files this run already "wrote" are read back from the
 * directory, so later steps see the state the run would have produced.
 */
import type { DirectoryTransport } from './directory.js';
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
