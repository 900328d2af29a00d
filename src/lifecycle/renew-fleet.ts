/**
 * `kbuild certs renew -i FILE`: renew in the state directory from its CAs (kubeadm semantics: fresh
 * keys, same identity; CAs, sa and kubelet.conf kept), then roll the new files out host by host.
 */
import { randomBytes } from 'node:crypto';
import { controlPlanes, etcdMembers, type Cluster, type Host } from '../config/model.js';
import { KUBECONFIG_ROWS, LEAF_ROWS } from '../pki/table.js';
import type { PkiAction } from '../pki/types.js';
import type { RenderedFile } from '../kubeadm/files.js';
import { hostBackupDir } from './backup.js';
import { executeRollout, planRollout, type RolloutOptions, type RollStep, type StepRecord } from './rollout.js';
import { PATHS } from '../kubeadm/constants.js';

/** The host paths a re-issued item occupies: certificate and key, or the kubeconfig. */
export function pathsOfAction(action: PkiAction): string[] {
  const leaf = LEAF_ROWS.find((r) => r.name === action.name);
  if (leaf) return [`${PATHS.pki}/${leaf.base}.crt`, `${PATHS.pki}/${leaf.base}.key`];
  const kubeconfig = KUBECONFIG_ROWS.find((r) => r.name === action.name);
  return kubeconfig ? [`${PATHS.kubernetesDir}/${kubeconfig.name}`] : [];
}

/** Per host: the rendered files of every item this PKI run re-issued for it. */
export function reissuedFiles(actions: readonly PkiAction[], rendered: ReadonlyMap<string, readonly RenderedFile[]>): Map<string, RenderedFile[]> {
  const out = new Map<string, RenderedFile[]>();
  for (const action of actions) {
    if (action.outcome !== 're-issued' || action.host === undefined) continue;
    const paths = pathsOfAction(action);
    const files = (rendered.get(action.host) ?? []).filter((f) => paths.includes(f.path));
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
  const involved = new Set([...controlPlanes(cluster), ...etcdMembers(cluster)].map((h) => h.name));
  return cluster.hosts.filter((h) => involved.has(h.name));
}
