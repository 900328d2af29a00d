/**
 * Pushes files to a host, writing only those whose content or mode differ: a second run writes
 * nothing. Over SSH the whole list is one exec channel (Transport.syncFiles); other transports
 * stat and write file by file.
 */
import type { RenderedFile } from '../kubeadm/files.js';
import { syncFiles } from '../ssh/sync.js';
import type { Transport } from '../ssh/transport.js';
import { RemoteCommandError } from '../errors/index.js';

/** Returns the paths written. */
export async function pushFiles(transport: Transport, files: readonly RenderedFile[]): Promise<string[]> {
  return (await syncFiles(transport, files)).written;
}

/** Runs a command that must succeed; the error names host, command, exit code and stderr. */
export async function runChecked(transport: Transport, command: string, timeoutMs = 120_000): Promise<string> {
  const result = await transport.run(command, { timeoutMs });
  if (result.code !== 0) throw new RemoteCommandError(transport.name, command, result.code, result.timedOut ? `timed out after ${timeoutMs} ms` : result.stderr);
  return result.stdout;
}
