/** Pushes files to a host, writing only those whose content or mode differ: a second run writes nothing. */
import { createHash } from 'node:crypto';
import type { RenderedFile } from '../render/types.js';
import type { Transport } from '../ssh/transport.js';
import { RemoteCommandError } from '../errors/index.js';

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

/** Returns the paths written. */
export async function pushFiles(transport: Transport, files: readonly RenderedFile[]): Promise<string[]> {
  const changed: string[] = [];
  for (const file of files) {
    const current = await transport.stat(file.path);
    if (current && current.sha256 === sha256(file.content) && (current.mode & 0o7777) === file.mode) continue;
    await transport.writeFile(file.path, file.content, { mode: file.mode, owner: file.owner });
    changed.push(file.path);
  }
  return changed;
}

/** Runs a command that must succeed; the error names host, command, exit code and stderr. */
export async function runChecked(transport: Transport, command: string, timeoutMs = 120_000): Promise<string> {
  const result = await transport.run(command, { timeoutMs });
  if (result.code !== 0) throw new RemoteCommandError(transport.name, command, result.code, result.timedOut ? `timed out after ${timeoutMs} ms` : result.stderr);
  return result.stdout;
}
