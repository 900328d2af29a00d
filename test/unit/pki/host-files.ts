/** Writes a host's RenderedFiles under a temp root, mirroring its filesystem, for real-tool checks. */
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../../../src/render/types.js';

export async function materialize(root: string, files: readonly RenderedFile[]): Promise<void> {
  for (const f of files) {
    const path = join(root, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content, { mode: f.mode });
    await chmod(path, f.mode);
  }
}
