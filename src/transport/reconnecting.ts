/**
 * A transport that survives a dropped connection. When an operation finds the connection lost it
 * reconnects (host key verified again, bounded by connect()'s own attempts) and repeats the
 * operation when repeating is safe: reads, stats, atomic writes and removals always; a command only
 * if it is read-only or was never sent. A command that was running when the connection dropped may
 * or may not have finished on the host, so it fails naming the host, and the next operation
 * reconnects. At most `maxReconnects` reconnects per host and run, so a flapping host fails.
 */
import { ConnectionError, ConnectionLostError, HostKeyError } from '../errors/index.js';
import type { CommandResult, FileInfo, RunOptions, SyncFile, SyncResult, Transport, WriteOptions } from './transport.js';
import { statFiles, syncFiles } from './sync.js';

export interface ReconnectOptions {
  /** Opens a fresh connection to the same host. */
  reconnect(): Promise<Transport>;
  /** Called after each successful reconnect, with what was lost. */
  onReconnect?(cause: string): void;
  maxReconnects?: number;
}

export const MAX_RECONNECTS = 3;

/** A message without the `host: ` prefix every ConnectionError carries, to be set inside another. */
export const withoutHost = (host: string, message: string) => (message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message);

export class ReconnectingTransport implements Transport {
  readonly name: string;
  private current: Transport;
  private pending: Promise<Transport> | undefined;
  private reconnects = 0;

  constructor(
    first: Transport,
    private readonly options: ReconnectOptions,
  ) {
    this.current = first;
    this.name = first.name;
  }

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    return this.attempt((t) => t.run(command, options), options.readOnly === true);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return this.attempt((t) => t.readFile(path), true);
  }

  /** Atomic (temp file + rename), so a repeat after a drop leaves the same file. */
  writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    return this.attempt((t) => t.writeFile(path, content, options), true);
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.attempt((t) => t.stat(path), true);
  }

  syncFiles(files: readonly SyncFile[]): Promise<SyncResult> {
    let cut = false;
    return this.attempt(async (t) => {
      try {
        const result = await syncFiles(t, files);
        // The cut attempt may have replaced files the retry then finds in place: count every file as
        // written, so the restarts and reloads that follow a change still happen.
        return cut ? { ...result, written: files.map((f) => f.path) } : result;
      } catch (error) {
        if (error instanceof ConnectionLostError && error.commandStarted) cut = true;
        throw error;
      }
    }, true);
  }

  statFiles(paths: readonly string[]): Promise<Array<FileInfo | undefined>> {
    return this.attempt((t) => statFiles(t, paths), true);
  }

  remove(path: string): Promise<void> {
    return this.attempt((t) => t.remove(path), true);
  }

  close(): Promise<void> {
    return this.current.close();
  }

  private async attempt<T>(operation: (transport: Transport) => Promise<T>, repeatable: boolean): Promise<T> {
    for (;;) {
      const transport = await (this.pending ?? Promise.resolve(this.current));
      try {
        return await operation(transport);
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
        await this.replace(transport, error);
        // Never sent, or safe to send twice: try again on the new connection.
        if (!repeatable && error.commandStarted) throw error;
      }
    }
  }

  /** One reconnect for every operation that found `lost` dead (concurrent ones share it). */
  private async replace(lost: Transport, cause: ConnectionLostError): Promise<void> {
    if (this.current !== lost) return; // someone else already reconnected
    if (!this.pending) {
      if (this.reconnects >= (this.options.maxReconnects ?? MAX_RECONNECTS)) throw cause;
      this.reconnects++;
      this.pending = (async () => {
        await lost.close().catch(() => undefined);
        return this.options.reconnect();
      })();
      try {
        this.current = await this.pending;
      } catch (error) {
        // A changed host key says so itself; anything else is told together with the drop that led to it.
        if (error instanceof HostKeyError || !(error instanceof Error)) throw error;
        throw new ConnectionError(this.name, `${withoutHost(this.name, cause.message)}; reconnecting failed: ${withoutHost(this.name, error.message)}`, { cause: error });
      } finally {
        this.pending = undefined;
      }
      this.options.onReconnect?.(cause.message);
    } else {
      await this.pending;
    }
  }
}
