/**
 * The one interface every effect goes through (the design's "Host" interface). Implementations:
 * local (this machine), SSH (ssh2) and directory (dry-run target). Phases never ask which one they have.
 */
export interface CommandResult {
  /** Exit code; null when the command died from a signal or timed out. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

export interface RunOptions {
  /** Kill the command after this long; the result then has timedOut set. */
  timeoutMs?: number;
  stdin?: string | Buffer;
  /**
   * The command only reads (e.g. `ip -j addr`, `cat`, `systemctl is-active`). A dry-run sends
   * read-only commands to the real host and records every other command instead of running it.
   */
  readOnly?: boolean;
}

export interface FileInfo {
  mode: number;
  size: number;
  uid: number;
  gid: number;
  sha256: string;
}

export interface WriteOptions {
  mode: number;
  /** "user:group"; root:root when omitted. */
  owner?: string;
}

/** One file of a batch for `syncFiles`. RenderedFile fits as is. */
export interface SyncFile {
  path: string;
  mode: number;
  content: string | Buffer;
  /** "user:group"; root:root when omitted. */
  owner?: string;
}

export interface SyncResult {
  /** Paths written (missing, or content or mode differed), in the order given. */
  written: string[];
  /** Of those, the paths that existed as a regular file with other content (drift). */
  differed: string[];
  /** For differed paths, the SHA-256 the host's copy had before, when the transport knows it. */
  previous?: Record<string, string>;
}

export interface Transport {
  /** The host's name in the cluster file (or "local"), used in every message. */
  readonly name: string;
  /** Runs a shell command as root (through sudo -n where configured). Never throws on a non-zero exit. */
  run(command: string, options?: RunOptions): Promise<CommandResult>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Writes atomically: temp file in the same directory, fsync, chmod/chown, rename. Creates parent directories. */
  writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void>;
  /** Mode, size, owner and content hash, or undefined when missing. */
  stat(path: string): Promise<FileInfo | undefined>;
  /**
   * Optional batch form of stat-then-writeFile for transports where each operation is a round trip
   * (SSH: one exec channel for the whole batch). Writes only files whose content or mode differ,
   * each atomically as writeFile does. Callers go through `syncFiles` in sync.ts, which falls back
   * to stat + writeFile per file when a transport lacks it.
   */
  syncFiles?(files: readonly SyncFile[]): Promise<SyncResult>;
  /** Optional batch form of stat (one round trip); callers use `statFiles` in sync.ts. */
  statFiles?(paths: readonly string[]): Promise<Array<FileInfo | undefined>>;
  /** Removes a file or directory tree; missing is fine. */
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}
