/**
 * What apply last put on each host: the sha256 of every file it wrote or found already in sync, kept
 * in the state directory (hosts/<host>/pushed.json). When a host's copy differs from the rendered
 * file, the record tells the two causes apart: if the rendered content is what apply last pushed,
 * someone changed the host (drift, restored); if not, the cluster file (or a certificate) changed
 * since, and the file is simply updated.
 */
import type { StateDir } from '../../state/state-dir.js';

export type Difference =
  /** The host's copy changed after apply last pushed this very content. */
  | 'hand-edit'
  /** The rendered content is new since the last push. */
  | 'update'
  /** No earlier push of this path on record (first apply, or a state directory from before records). */
  | 'unknown';

const recordPath = (host: string) => `hosts/${host}/pushed.json`;

export class PushRecord {
  private readonly noted = new Map<string, string>();

  private constructor(
    private readonly state: StateDir,
    private readonly host: string,
    private readonly previous: ReadonlyMap<string, string>,
  ) {}

  static async load(state: StateDir, host: string): Promise<PushRecord> {
    const text = await state.read(recordPath(host));
    let previous = new Map<string, string>();
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as unknown;
        if (parsed !== null && typeof parsed === 'object') previous = new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
      } catch {
        // A damaged record only costs the distinction; every difference is then reported as unknown.
      }
    }
    return new PushRecord(state, host, previous);
  }

  /**
   * Why the host's copy of `path` (hash `hostSha256`, when known) differs from the rendered content
   * `renderedSha256`. A host copy other than the last push is a hand edit even when the cluster
   * file changed too.
   */
  classify(path: string, renderedSha256: string, hostSha256?: string): Difference {
    const last = this.previous.get(path);
    if (last === undefined) return 'unknown';
    if (hostSha256 !== undefined && hostSha256 !== last) return 'hand-edit';
    return last === renderedSha256 ? 'hand-edit' : 'update';
  }

  /** The host now holds this content at `path` (written, or found identical). */
  note(path: string, sha256: string): void {
    this.noted.set(path, sha256);
  }

  /** Writes the record if this run noted anything new. */
  async save(): Promise<void> {
    const merged = new Map([...this.previous, ...this.noted]);
    if ([...this.noted].every(([path, sha]) => this.previous.get(path) === sha)) return;
    const sorted = Object.fromEntries([...merged].sort(([a], [b]) => a.localeCompare(b)));
    await this.state.write(recordPath(this.host), `${JSON.stringify(sorted, null, 2)}\n`, 0o600);
  }
}

/** The warning or note apply prints for a replaced file. */
export function describeDifference(path: string, difference: Difference): { level: 'warn' | 'info'; message: string } {
  if (difference === 'hand-edit') return { level: 'warn', message: `restored drifted file ${path}: it was changed on the host after the last apply` };
  if (difference === 'update') return { level: 'info', message: `updated ${path}: the cluster file or a certificate changed since the last apply` };
  return { level: 'warn', message: `restored drifted file ${path}: the host's copy differed from the rendered one (no earlier push on record)` };
}
