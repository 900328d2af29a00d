/** How a dry-run reports what it would have done on a host: every recorded action, in the order it happened. */
import type { RecordedAction } from '../transport/directory.js';

export function describeAction(action: RecordedAction): string {
  if (action.kind === 'remove') return `would remove ${action.path}`;
  if (action.kind === 'run') return `would run: ${action.command}`;
  return `would write ${action.path} (${action.mode.toString(8).padStart(4, '0')})`;
}
