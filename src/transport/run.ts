/** Commands that must succeed, over any Transport. */
import { RemoteCommandError } from '../errors/index.js';
import type { Transport } from './transport.js';

/** Runs a command that must succeed; the error names host, command, exit code and stderr. `readOnly`: it changes nothing (dry runs run it). */
export async function runChecked(transport: Transport, command: string, timeoutMs = 120_000, readOnly = false): Promise<string> {
  const result = await transport.run(command, { timeoutMs, ...(readOnly ? { readOnly } : {}) });
  if (result.code !== 0) throw new RemoteCommandError(transport.name, command, result.code, result.timedOut ? `timed out after ${timeoutMs} ms` : result.stderr);
  return result.stdout;
}
