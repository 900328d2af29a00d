/** Local atomic file writes: a reader sees the old file or the new one, never half of either. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, chmod } from 'node:fs/promises';
import { dirname, posix } from 'node:path';

export async function writeFileAtomic(path: string, content: string | Buffer, mode: number, dirMode = 0o755): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: dirMode });
  const temp = await writeSyncedTemp(path, content, mode);
  await renameInto(temp, path);
  await syncDirectory(dirname(path));
}

/**
 * Many files at once, each still replaced atomically: every temp file is written and fsynced
 * concurrently, then renamed into place, then each distinct directory is fsynced once (rather than
 * once per file) to make the renames durable.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ path: string; content: string | Buffer; mode: number }>, dirMode = 0o755): Promise<void> {
  const dirs = [...new Set(files.map((f) => dirname(f.path)))];
  for (const dir of dirs) await mkdir(dir, { recursive: true, mode: dirMode });
  const written = await Promise.allSettled(files.map((f) => writeSyncedTemp(f.path, f.content, f.mode)));
  const failed = written.find((r) => r.status === 'rejected');
  if (failed) {
    // Nothing was renamed yet: drop every temp file so no target changed and nothing is left behind.
    await Promise.all(written.flatMap((r) => (r.status === 'fulfilled' ? [rm(r.value, { force: true })] : [])));
    throw failed.reason;
  }
  const temps = written.map((r) => (r as PromiseFulfilledResult<string>).value);
  await Promise.all(files.map((f, i) => renameInto(temps[i]!, f.path)));
  await Promise.all(dirs.map(syncDirectory));
}

/**
 * The temp file beside `path` that an atomic write renames into place: `.NAME.kbuild-SUFFIX`, hidden
 * (the kubelet skips dot-files in its manifest directory) and recognisable, so leftovers of a dead
 * session can be found and removed. Local, remote and render writes all use it.
 */
export function tempPathBeside(path: string, suffix: string = randomBytes(6).toString('hex')): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.kbuild-${suffix}`);
}

/** Writes `content` to a fresh temp file beside `path`, with the exact mode, fsynced. */
async function writeSyncedTemp(path: string, content: string | Buffer, mode: number): Promise<string> {
  const temp = tempPathBeside(path);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // open() honours the umask; the mode must be exact (keys 0600).
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

async function renameInto(temp: string, path: string): Promise<void> {
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Makes renames in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}
