/**
 * Who may have put the state directory's files there, checked before kbuild trusts them (a CA found
 * there is reused and signs everything): OpenSSH's StrictModes / safe_path rules. Every component of
 * the directory's real path is owned by root or the running user and not writable by group or others;
 * the directory itself and every file in it are the user's (or root's), never symlinks, and private
 * files (everything but certificates and public keys) carry no group/other permission bits.
 *
 * One departure from safe_path, on purpose: a root-owned directory with the sticky bit (/tmp) may be
 * world-writable above the state directory, because the sticky bit keeps others from renaming or
 * removing the user's own entry in it; what lies below that entry is checked as usual.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { FileError } from '../errors/index.js';

/** The running user; injected by tests that play another user without root. */
export interface Owner {
  uid: number;
}

export const currentOwner = (): Owner => ({ uid: process.getuid?.() ?? 0 });

const mode = (stats: Stats) => `0${(stats.mode & 0o7777).toString(8)}`;

/** Certificates and public keys may be world-readable; every other state file holds a secret. */
const PUBLIC_FILE = /\.(crt|pub)$/;

function ownerProblem(stats: Stats, owner: Owner): string | undefined {
  if (stats.uid !== owner.uid && stats.uid !== 0) return `it is owned by uid ${stats.uid}, not by you (uid ${owner.uid}) or root`;
  return undefined;
}

/** Checks an existing directory on the way to the state directory (`sticky` allows /tmp). */
function directoryProblem(stats: Stats, owner: Owner, allowSticky: boolean): string | undefined {
  if (!stats.isDirectory()) return 'it is not a directory';
  const problem = ownerProblem(stats, owner);
  if (problem) return problem;
  const sticky = (stats.mode & 0o1000) !== 0 && stats.uid === 0;
  if ((stats.mode & 0o022) !== 0 && !(allowSticky && sticky)) return `it is writable by ${stats.mode & 0o020 ? 'its group' : 'others'} (mode ${mode(stats)})`;
  return undefined;
}

const FIX =
  'Someone else could have placed a CA, keys or tokens there that kbuild would reuse. Check its contents, then fix ownership and modes ' +
  '(chown -R "$(id -un)" DIR; chmod go-w on each parent) or choose another place with --state-dir.';

/** The existing ancestors of `root`, resolved (as safe_path does), outermost first. */
async function existingAncestors(root: string): Promise<string[]> {
  let existing = root;
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(existing) === existing) throw error;
      existing = dirname(existing);
    }
  }
  const parts = existing.split(sep).filter(Boolean);
  return [sep, ...parts.map((_, i) => `${sep}${parts.slice(0, i + 1).join(sep)}`)];
}

/** Before creating the state directory: every existing parent is safe. */
export async function checkParents(root: string, owner: Owner): Promise<void> {
  for (const dir of await existingAncestors(dirname(root))) {
    const problem = directoryProblem(await lstat(dir), owner, true);
    if (problem) throw new FileError(root, `refusing this state directory: its parent ${dir}: ${problem}. ${FIX}`);
  }
}

/**
 * The directory itself is a real directory of the user's (or root's), not a symlink. Before kbuild
 * makes it 0700 (`privateYet` false) only who owns it matters: never fix up someone else's directory.
 */
export async function checkRoot(root: string, owner: Owner, privateYet: boolean): Promise<void> {
  let stats: Stats;
  try {
    stats = await lstat(root);
  } catch (error) {
    if (!privateYet && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (stats.isSymbolicLink()) throw new FileError(root, `refusing this state directory: it is a symlink. ${FIX}`);
  const problem = privateYet ? directoryProblem(stats, owner, false) : stats.isDirectory() ? ownerProblem(stats, owner) : 'it is not a directory';
  if (problem) throw new FileError(root, `refusing this state directory: ${problem}. ${FIX}`);
}

/**
 * Reads a state file without following symlinks (in it or the directories below the root), refusing
 * a file someone else owns or a private one others can read. undefined when it does not exist.
 */
export async function readStateFile(root: string, path: string, owner: Owner): Promise<Buffer | undefined> {
  const inside = relative(root, path).split(sep);
  for (let i = 1; i < inside.length; i++) {
    const dir = join(root, ...inside.slice(0, i));
    let stats: Stats;
    try {
      stats = await lstat(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (stats.isSymbolicLink()) throw new FileError(dir, `is a symlink inside the state directory; kbuild does not follow links there. ${FIX}`);
    const problem = directoryProblem(stats, owner, false);
    if (problem) throw new FileError(dir, `${problem}. ${FIX}`);
  }
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new FileError(path, `is a symlink inside the state directory; kbuild does not follow links there. ${FIX}`, { cause: error });
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileError(path, `is not a regular file. ${FIX}`);
    const problem = ownerProblem(stats, owner);
    if (problem) throw new FileError(path, `${problem}. ${FIX}`);
    if ((stats.mode & 0o022) !== 0) throw new FileError(path, `is writable by group or others (mode ${mode(stats)}). ${FIX}`);
    if (!PUBLIC_FILE.test(path) && (stats.mode & 0o077) !== 0) {
      throw new FileError(
        path,
        `holds a secret (a private key, a kubeconfig or a token) but has mode ${mode(stats)}: it must be readable by its owner only. ` +
          `Check that nobody else placed or read it, then chmod 600 ${path}.`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
