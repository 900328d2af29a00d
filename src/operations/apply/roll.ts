/**
 * SAN drift (or any certificate change) during `kbuild apply`: a static pod whose manifest did not
 * change does not restart by itself when the files it reads change — the kubelet only watches the
 * manifest. Such a host gets the roll-out treatment (back up, write, restart the kubeadm way — or, for
 * the files a pod loads itself, etcd's certificates and kube-apiserver's serving pair, check it serves
 * them — gate, restore on failure), one host at a time per component, while first installs and
 * manifest changes keep the phase's ordinary parallel push.
 */
import { randomBytes } from 'node:crypto';
import type { Host } from '../../config/model.js';
import type { ApplyContext, Restarts } from './context.js';
import { pushFiles } from '../../transport/sync.js';
import { manifestOf, type RenderedFile, type StaticPod } from '../../kubeadm/files.js';
import { needsWrite, statFiles } from '../../transport/sync.js';
import { hostBackupDir } from '../../static-pods/backup.js';
import { executeStep, stepLoad } from '../../static-pods/rollout.js';
import { manifestReads } from '../../static-pods/pods.js';


export const newRestarts = (now = new Date()): Restarts => ({ backupDir: hostBackupDir(now, randomBytes(2).toString('hex')), queues: new Map() });

/** Pushes a static pod component's files; returns the paths written. */
export async function pushStaticPodFiles(ctx: ApplyContext, host: Host, pod: StaticPod, files: readonly RenderedFile[]): Promise<string[]> {
  const transport = await ctx.transport(host);
  // One round trip for every stat over SSH; a missing file always counts as changed.
  const current = await statFiles(transport, files.map((f) => f.path));
  const changed = files.filter((file, i) => needsWrite(current[i], file));
  const manifest = manifestOf(files, pod);
  const runningUnchanged = manifest !== undefined && !changed.includes(manifest);
  const read = manifest ? changed.filter((f) => manifestReads(manifest.content.toString(), f.path)) : [];
  if (!runningUnchanged || read.length === 0) return pushFiles(transport, changed);

  const state = ctx.restarts;
  const previous = state.queues.get(pod) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => executeStep({ host, pod, files: changed, ...stepLoad(pod, manifest.content.toString(), read.map((f) => f.path)) }, { cluster: ctx.cluster, transport: (h) => ctx.transport(h), reporter: ctx.reporter, backupDir: state.backupDir }));
  state.queues.set(pod, mine);
  await mine;
  return changed.map((f) => f.path);
}
