/** This machine as a Transport: `kbuild init`/`join` run on the host itself. */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import { FileError } from '../errors/index.js';
import type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from './transport.js';
import { tempPathBeside } from '../util/atomic-write.js';

const execFileAsync = promisify(execFile);

export class LocalTransport implements Transport {
  constructor(readonly name: string = 'local') {}

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    return runLocalCommand(command, options);
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new FileError(path, `cannot read: ${(error as Error).message}`, { cause: error });
    }
  }

  async writeFile(path: string, content: string | Buffer, options: WriteOptions): Promise<void> {
    requireAbsolute(path);
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const temp = tempPathBeside(path);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(content);
        await handle.chmod(options.mode); // open() honours the umask; the mode must be exact.
        await handle.sync();
      } finally {
        await handle.close();
      }
      const owner = options.owner ?? (process.getuid?.() === 0 ? 'root:root' : undefined);
      // chown(1) resolves user and group names the same way the host's tools do.
      if (owner !== undefined) await execFileAsync('chown', ['--', owner, temp]);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw new FileError(path, `cannot write: ${(error as Error).message}`, { cause: error });
    }
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync(); // the rename itself must survive a crash
    } finally {
      await dirHandle.close();
    }
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const info = await stat(path);
      return {
        mode: info.mode & 0o7777,
        size: info.size,
        uid: info.uid,
        gid: info.gid,
        sha256: info.isFile() ? await sha256OfFile(path) : '',
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new FileError(path, `cannot stat: ${(error as Error).message}`, { cause: error });
    }
  }

  async remove(path: string): Promise<void> {
    requireAbsolute(path);
    if (path === '/') throw new Error('refusing to remove /');
    await rm(path, { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}

function requireAbsolute(path: string): void {
  if (!isAbsolute(path)) throw new Error(`paths given to a transport must be absolute, got "${path}"`);
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `sh -c command` in its own process group, so a timeout kills everything it started. */
export function runLocalCommand(command: string, options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child.pid);
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // the command may exit without reading its stdin
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: timedOut ? null : code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ...(timedOut ? { timedOut: true } : {}),
      });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
