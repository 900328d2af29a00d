/**
 * `kbuild certs renew -i FILE`: renew in the state directory from its CAs (kubeadm semantics: fresh
 * keys, same identity; CAs, sa and kubelet.conf kept), then roll the new files out host by host.
 */
import { randomBytes } from 'node:crypto';
import { type Cluster, type Host } from '../../config/model.js';
import { KUBECONFIG_ROWS, LEAF_ROWS, initPhaseOf } from '../../pki/table.js';
import type { PkiAction } from '../../pki/types.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import { hostBackupDir } from '../../static-pods/backup.js';
import { executeRollout, planRollout, type RolloutOptions, type RollStep, type StepRecord } from '../../static-pods/rollout.js';

/** Per host: the rendered files of every item this PKI run re-issued for it (certificate and key, or the kubeconfig). */
export function reissuedFiles(actions: readonly PkiAction[], rendered: ReadonlyMap<string, readonly RenderedFile[]>): Map<string, RenderedFile[]> {
  const out = new Map<string, RenderedFile[]>();
  for (const action of actions) {
    if (action.outcome !== 're-issued' || action.host === undefined) continue;
    const row = [...LEAF_ROWS, ...KUBECONFIG_ROWS].find((r) => r.name === action.name);
    const files = row ? (rendered.get(action.host) ?? []).filter((f) => f.phase === initPhaseOf(row)) : [];
    out.set(action.host, [...(out.get(action.host) ?? []), ...files]);
  }
  return out;
}

export interface FleetRenewal {
  steps: RollStep[];
  records: StepRecord[];
  backupDir: string;
}

export async function rollOutRenewal(
  cluster: Cluster,
  actions: readonly PkiAction[],
  rendered: ReadonlyMap<string, readonly RenderedFile[]>,
  options: Omit<RolloutOptions, 'backupDir' | 'cluster'> & { now?: () => number; backupDir?: string },
): Promise<FleetRenewal> {
  const steps = planRollout(cluster, reissuedFiles(actions, rendered), rendered);
  const backupDir = options.backupDir ?? hostBackupDir(new Date(options.now?.() ?? Date.now()), randomBytes(2).toString('hex'));
  const records = await executeRollout(steps, { ...options, cluster, backupDir });
  return { steps, records, backupDir };
}

/** Hosts a renewal touches: etcd members and control planes, in cluster-file order. */
export function renewalHosts(cluster: Cluster): Host[] {
  const involved = new Set([...cluster.controlPlanes, ...cluster.etcdMembers].map((h) => h.name));
  return cluster.hosts.filter((h) => involved.has(h.name));
}
