/**
 * The state directory (default `.kbuild/<cluster name>/` beside the cluster file, 0700) holds what
 * must survive between runs: the PKI master copy, the bootstrap token, keepalived's shared secret.
 * A CA found there is reused, so the directory is trusted only when nobody else could have written it.
 */
import { dirname, join, resolve } from 'node:path';
import { ensurePrivateDir, writeFileAtomic, writeFilesAtomic } from '../util/atomic-write.js';
import { checkParents, checkRoot, currentOwner, readStateFile, type Owner } from './safe-path.js';

export class StateDir {
  private constructor(
    readonly root: string,
    private readonly owner: Owner,
  ) {}

  /** Refuses a directory someone else could have written (safe-path.ts), then makes it 0700. */
  static async open(root: string, owner: Owner = currentOwner()): Promise<StateDir> {
    await checkParents(root, owner);
    await checkRoot(root, owner, false);
    await ensurePrivateDir(root);
    await checkRoot(root, owner, true);
    return new StateDir(root, owner);
  }

  /** Default location for a cluster file: `.kbuild/<name>/` next to it. */
  static defaultPath(clusterFilePath: string, clusterName: string): string {
    return resolve(dirname(clusterFilePath), '.kbuild', clusterName);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** A file as written by this user or root; symlinks, others' files and readable secrets are refused. */
  async read(relative: string): Promise<string | undefined> {
    return (await readStateFile(this.root, this.path(relative), this.owner))?.toString('utf8');
  }

  /** Writes with mode 0600 (state is private) unless told otherwise. */
  async write(relative: string, content: string | Buffer, mode = 0o600): Promise<void> {
    await writeFileAtomic(this.path(relative), content, mode, 0o700);
  }

  /** Writes many files at once (each atomic, mode 0600 unless given), with one directory sync per directory. */
  async writeMany(files: ReadonlyArray<{ path: string; content: string | Buffer; mode?: number }>): Promise<void> {
    await writeFilesAtomic(files.map((f) => ({ path: this.path(f.path), content: f.content, mode: f.mode ?? 0o600 })), 0o700);
  }

  /** Returns the stored secret, generating and storing it on first use; it never changes after. */
  async secret(relative: string, generate: () => string): Promise<string> {
    const existing = await this.read(relative);
    if (existing !== undefined) return existing.trim();
    const value = generate();
    await this.write(relative, `${value}\n`);
    return value;
  }
}
