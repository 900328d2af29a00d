/** kubeadm's mark-control-plane: two labels on the control plane's Node and, unless it also takes workloads, a NoSchedule taint. */
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { ApiError, StateError } from '../errors/index.js';
import type { ApiClient } from './client.js';
import { retrying, type RetryOptions } from './retry.js';

export const CONTROL_PLANE_LABELS = { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } as const;
export const CONTROL_PLANE_TAINT: V1Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

export interface MarkPatch {
  metadata: { labels: Record<string, string> };
  spec?: { taints: V1Taint[] };
}

/** The merge patch that marks a control-plane Node (labels + taint), keeping its other taints; undefined if already marked. */
export function markControlPlanePatch(node: V1Node | undefined, taint = true): MarkPatch | undefined {
  const labels = node?.metadata?.labels ?? {};
  const taints = node?.spec?.taints ?? [];
  const missingLabels = Object.entries(CONTROL_PLANE_LABELS).some(([k, v]) => labels[k] !== v);
  const missingTaint = taint && !taints.some((t) => t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect);
  if (node && !missingLabels && !missingTaint) return undefined;
  return { metadata: { labels: { ...CONTROL_PLANE_LABELS } }, ...(missingTaint ? { spec: { taints: [...taints, CONTROL_PLANE_TAINT] } } : {}) };
}

/**
 * Marks Node `name` as a control plane; returns what changed, as a phase reports it (nothing when
 * it already was). The kubelet registers its Node a little after it starts, so a Node that is not
 * there yet is waited for within `wait` (the API's retry window, as kubeadm waits), then reported.
 */
export async function markControlPlane(api: ApiClient, name: string, taint: boolean, wait?: RetryOptions): Promise<string[]> {
  const notRegistered = (error: unknown) => error instanceof ApiError && error.status === 404;
  let patch: MarkPatch | undefined;
  try {
    patch = await retrying(
      async () => {
        const wanted = markControlPlanePatch((await api.read('v1', 'Node', undefined, name)), taint);
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
  return patch ? [`Node/${name}: ${Object.keys(patch.metadata.labels).join(', ')}${patch.spec ? `, taint ${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}` : ''}`] : [];
}
