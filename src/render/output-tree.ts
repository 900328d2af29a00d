/**
 * Writes a rendered cluster as `<out>/<host>/<absolute path>` (each file with its mode) plus
 * `<out>/PLAN.md`, through one DirectoryTransport per host. The only I/O in src/render.
 *
 * Safety: kbuild writes only into an empty or missing directory, or one it created before (marked
 * with `.kbuild-render`), whose old contents it then replaces so the tree is exactly this render.
 * `force` writes into any other directory, over same-named files, and deletes nothing.
 */
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError } from '../errors/index.js';
import { DirectoryTransport } from '../ssh/directory.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { RenderedCluster } from './cluster.js';

export const RENDER_MARKER = '.kbuild-render';
const MARKER_TEXT = 'Written by `kbuild render`. kbuild replaces this directory on the next render; delete it freely.\n';

export interface TreeSummary {
  hosts: number;
  files: number;
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new FileError(dir, 'is a file; pass a directory with -o DIR');
    throw new FileError(dir, `cannot read the output directory: ${(error as Error).message}`, { cause: error });
  }
}

async function prepare(outDir: string, force: boolean): Promise<void> {
  const entries = await entriesOf(outDir);
  if (entries === undefined || entries.length === 0) {
    // Keys land in the tree: only the owner may read it.
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    await chmod(outDir, 0o700);
  } else if (entries.includes(RENDER_MARKER)) {
    await Promise.all(entries.filter((e) => e !== RENDER_MARKER).map((e) => rm(join(outDir, e), { recursive: true, force: true })));
    return;
  } else if (!force) {
    throw new FileError(outDir, 'is not empty and was not written by `kbuild render`; choose an empty or new directory, or pass --force to write into it anyway');
  } else {
    return;
  }
  await writeFile(join(outDir, RENDER_MARKER), MARKER_TEXT, { mode: 0o644 });
}

export async function writeRenderedTree(outDir: string, rendered: RenderedCluster, options: { force?: boolean } = {}): Promise<TreeSummary> {
  await prepare(outDir, options.force ?? false);
  let files = 0;
  for (const [host, hostFiles] of rendered.hosts) {
    const transport = new DirectoryTransport(join(outDir, host), host);
    for (const file of hostFiles) {
      await transport.writeFile(file.path, file.content, { mode: file.mode, owner: file.owner });
      files += 1;
    }
    await transport.close();
  }
  await writeFileAtomic(join(outDir, 'PLAN.md'), rendered.plan, 0o644, 0o700);
  return { hosts: rendered.hosts.size, files };
}
