/**
 * A Node's labels and taints, set through the API: kubeadm's mark-control-plane (two labels and, by
 * default, a NoSchedule taint) and the cluster file's own labels and taints for a host. Only adds and
 * updates, never removes: other labels and taints on the Node are someone else's.
 */
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { ApiError, StateError } from '../errors/index.js';
import { CONTROL_PLANE_LABELS, type Taint } from '../kubeadm/constants.js';
import { nodeTaints, taintText, type Host } from '../config/model.js';
import type { ApiClient } from './client.js';
import { retrying, type RetryOptions } from './retry.js';

/** What a Node must carry. */
export interface NodeMarks {
  labels: Readonly<Record<string, string>>;
  taints: readonly Taint[];
}

export interface MarkPatch {
  metadata?: { labels: Record<string, string> };
  spec?: { taints: V1Taint[] };
}

/** kubeadm's marks for a control plane: its two labels and the host's taints, with the host's own labels. */
export const controlPlaneMarks = (host: Host): NodeMarks => ({ labels: { ...host.labels, ...CONTROL_PLANE_LABELS }, taints: nodeTaints(host) });
/** A worker's marks: the cluster file's labels and taints (none by default). */
export const workerMarks = (host: Host): NodeMarks => ({ labels: { ...host.labels }, taints: nodeTaints(host) });
export const hasMarks = (marks: NodeMarks): boolean => Object.keys(marks.labels).length > 0 || marks.taints.length > 0;

const sameTaint = (a: { key: string; effect: string }, b: { key: string; effect: string }) => a.key === b.key && a.effect === b.effect;

/**
 * The merge patch that gives the Node its marks, keeping its other labels and taints (a taint with the
 * same key and effect is updated in place); undefined when it has them already. A merge patch replaces
 * the taint list whole, so the patch carries the Node's current taints too.
 */
export function markPatch(node: V1Node | undefined, marks: NodeMarks): MarkPatch | undefined {
  const labels = node?.metadata?.labels ?? {};
  const taints = node?.spec?.taints ?? [];
  const labelChanges = Object.fromEntries(Object.entries(marks.labels).filter(([k, v]) => labels[k] !== v));
  const taintChanges = marks.taints.filter((t) => !taints.some((have) => sameTaint(have, t) && (have.value ?? '') === (t.value ?? '')));
  if (node && Object.keys(labelChanges).length === 0 && taintChanges.length === 0) return undefined;
  const asApi = (t: Taint): V1Taint => ({ key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) });
  const newTaints = [...taints.filter((have) => !taintChanges.some((t) => sameTaint(have, t))), ...taintChanges.map(asApi)];
  return {
    ...(Object.keys(labelChanges).length > 0 || !node ? { metadata: { labels: { ...marks.labels } } } : {}),
    ...(taintChanges.length > 0 ? { spec: { taints: newTaints } } : {}),
  };
}

/** What the patch changed, as a phase reports it. */
function describePatch(name: string, patch: MarkPatch): string {
  const parts = [
    ...(patch.metadata ? [`labels ${Object.entries(patch.metadata.labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(', ')}`] : []),
    ...(patch.spec ? [`taints ${patch.spec.taints.map(taintText).join(', ')}`] : []),
  ];
  return `Node/${name}: ${parts.join('; ')}`;
}

/**
 * Gives Node `name` its marks; returns what changed (nothing when it had them). The kubelet registers
 * its Node a little after it starts, so a Node that is not there yet is waited for within `wait` (the
 * API's retry window, as kubeadm waits), then reported.
 */
export async function markNode(api: ApiClient, name: string, marks: NodeMarks, wait?: RetryOptions): Promise<string[]> {
  const notRegistered = (error: unknown) => error instanceof ApiError && error.status === 404;
  let patch: MarkPatch | undefined;
  try {
    patch = await retrying(
      async () => {
        const wanted = markPatch(await api.read('v1', 'Node', undefined, name), marks);
        if (wanted) await api.mergePatch('v1', 'Node', undefined, name, wanted);
        return wanted;
      },
      wait,
      notRegistered,
    );
  } catch (error) {
    if (notRegistered(error)) throw new StateError(`Node ${name} is not registered (is the kubelet running?): ${(error as Error).message}`, { cause: error });
    throw error;
  }
  return patch ? [describePatch(name, patch)] : [];
}
