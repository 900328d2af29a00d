/**
 * SAN drift (or any certificate change) during `kbuild apply`: a static pod whose manifest did not
 * change does not restart by itself when the files it reads change — the kubelet only watches the
 * manifest. Such a host gets the roll-out treatment (back up, write, restart the kubeadm way, gate,
 * restore on failure), one host at a time per component, while first installs and manifest changes
 * keep the phase's ordinary parallel push.
 */
import { randomBytes } from 'node:crypto';
import type { Host } from '../config/model.js';
import type { ApplyContext } from '../apply/context.js';
import { pushFiles } from '../transport/sync.js';
import { manifestPath, type RenderedFile, type StaticPod } from '../kubeadm/files.js';
import { needsWrite, statFiles } from '../transport/sync.js';
import { hostBackupDir } from './backup.js';
import { executeStep } from './rollout.js';
import { manifestReads } from './static-pods.js';

interface RunState {
  backupDir: string;
  /** One restart at a time per component, across the phase's parallel hosts. */
  queues: Map<StaticPod, Promise<unknown>>;
}
const runs = new WeakMap<ApplyContext, RunState>();

function runState(ctx: ApplyContext): RunState {
  let state = runs.get(ctx);
  if (!state) {
    state = { backupDir: hostBackupDir(new Date(), randomBytes(2).toString('hex')), queues: new Map() };
    runs.set(ctx, state);
  }
  return state;
}

/** Pushes a static pod component's files; returns the paths written. */
export async function pushStaticPodFiles(ctx: ApplyContext, host: Host, pod: StaticPod, files: readonly RenderedFile[]): Promise<string[]> {
  const transport = await ctx.transport(host);
  // One round trip for every stat over SSH; a missing file always counts as changed.
  const current = await statFiles(transport, files.map((f) => f.path));
  const changed = files.filter((file, i) => needsWrite(current[i], file));
  const manifest = files.find((f) => f.path === manifestPath(pod));
  const runningUnchanged = manifest !== undefined && !changed.includes(manifest);
  const read = manifest ? changed.filter((f) => manifestReads(manifest.content.toString(), f.path)) : [];
  if (!runningUnchanged || read.length === 0) return pushFiles(transport, changed);

  const state = runState(ctx);
  const previous = state.queues.get(pod) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => executeStep({ host, pod, files: changed, restart: true }, { cluster: ctx.cluster, transport: (h) => ctx.transport(h), reporter: ctx.reporter, backupDir: state.backupDir }));
  state.queues.set(pod, mine);
  await mine;
  return changed.map((f) => f.path);
}
