/**
 * `kbuild certs renew`, kubeadm's semantics (fresh keys, same identity; CAs, sa and kubelet.conf
 * kept; every replaced file backed up on its host first, by the same code either way):
 * - on this machine: from the CAs beside the certificates, through a LocalTransport;
 * - with -i FILE: in the state directory from its CAs, then rolled out host by host, each static
 *   pod that loads a new file restarted behind its health gate (etcd, which reads its certificates
 *   per TLS handshake, checked to serve them instead).
 */
import { join } from 'node:path';
import type { Cluster, Host } from '../../config/model.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import { readHostPkiFiles, type HostPkiDirs } from '../../pki/host-files.js';
import type { KeySource } from '../../pki/keys.js';
import { renewHostFiles, type Renewal } from '../../pki/renew.js';
import { KUBECONFIG_ROWS, LEAF_ROWS, initPhaseOf } from '../../pki/table.js';
import { describePkiAction, type PkiAction } from '../../pki/types.js';
import type { Reporter } from '../../report/reporter.js';
import { prepareCluster, type PreparedCluster } from '../../state/prepare.js';
import { backUp, hostBackupDir } from '../../static-pods/backup.js';
import { executeRollout, planRollout, type RolloutOptions, type RollStep, type StepRecord } from '../../static-pods/rollout.js';
import { LocalTransport } from '../../transport/local.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import type { Transport } from '../../transport/transport.js';
import { openFleet } from './fleet.js';

export interface LocalRenewal extends Renewal {
  /** Where the replaced files were copied to (undefined when nothing was renewed). */
  backupDir?: string;
}

/** Renews on this machine (or `machine`): backs up each file about to change under <kubeconfig dir>/tmp, then replaces it atomically. */
export async function renewHere(options: { dirs: HostPkiDirs; names: readonly string[]; validityDays: number; machine?: Transport; now?: () => Date; keySource?: KeySource }): Promise<LocalRenewal> {
  const machine = options.machine ?? new LocalTransport();
  const renewal = await renewHostFiles(await readHostPkiFiles(machine, options.dirs), options.dirs, options);
  const files = renewal.renewed.flatMap((r) => r.files);
  if (files.length === 0) return renewal;
  const backupDir = hostBackupDir(renewal.start, undefined, join(options.dirs.kubeconfigDir, 'tmp'));
  await backUp(machine, backupDir, files.map((f) => f.path));
  for (const file of files) {
    const mode = file.mode ?? ((await machine.stat(file.path))?.mode ?? 0o600) & 0o777;
    await machine.writeFile(file.path, file.content, { mode });
  }
  return { ...renewal, backupDir };
}

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
  const backupDir = options.backupDir ?? hostBackupDir(new Date(options.now?.() ?? Date.now()));
  const records = await executeRollout(steps, { ...options, cluster, backupDir });
  return { steps, records, backupDir };
}

/** Hosts a renewal touches: etcd members, control planes and the HAProxy hosts that drain their apiservers, in cluster-file order. */
export function renewalHosts(cluster: Cluster): Host[] {
  const involved = new Set([...cluster.controlPlanes, ...cluster.etcdMembers, ...cluster.loadBalancers].map((h) => h.name));
  return cluster.hosts.filter((h) => involved.has(h.name));
}

export interface FleetRenewOptions {
  inventory: string;
  stateDir?: string;
  names: readonly string[];
  acceptNewHostKeys: boolean;
  passphrase?: PassphrasePrompt;
  reporter: Reporter;
}

/** Renews in the state directory, then rolls the re-issued files out to every etcd member and control plane. */
export async function renewFleet(options: FleetRenewOptions): Promise<{ prepared: PreparedCluster; renewal: FleetRenewal }> {
  const { reporter } = options;
  const prepared = await prepareCluster({ inventory: options.inventory, stateDir: options.stateDir, pki: { renew: options.names } });
  const { cluster, pki, rendered } = prepared;
  for (const action of pki.actions.filter((a) => a.outcome === 're-issued')) reporter.event({ type: 'info', message: `state dir: ${describePkiAction(action)}` });
  const connections = await openFleet(renewalHosts(cluster), options);
  try {
    return { prepared, renewal: await rollOutRenewal(cluster, pki.actions, rendered.hosts, { transport: (h) => connections.get(h), reporter }) };
  } finally {
    await connections.closeAll();
  }
}
