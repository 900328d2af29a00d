/** The one place that picks a reporter for a command's progress. */
import type { Io } from './output.js';
import { jsonReporter, plainReporter, type Reporter } from './reporter.js';

export type ProgressFormat = 'text' | 'json';

/**
 * JSON events with --format json; listr2 on an interactive terminal unless `live` is off (a
 * dry-run lists what it would do, line by line); plain lines otherwise (CI logs, pipes). listr2 is
 * loaded only when it is used.
 */
export async function reporterFor(io: Io, format: ProgressFormat = 'text', options: { live?: boolean } = {}): Promise<Reporter> {
  if (format === 'json') return jsonReporter(io);
  if (!io.streams.stdout.isTTY || options.live === false) return plainReporter(io);
  const { listrReporter } = await import('./listr.js');
  return listrReporter(io);
}
