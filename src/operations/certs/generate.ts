/** `kbuild certs generate`: the PKI master copy in the state directory brought in line with the cluster file. */
import { loadClusterFile } from '../../config/load.js';
import { ensureClusterPki } from '../../pki/ensure.js';
import type { ClusterPki } from '../../pki/types.js';
import { StateDir } from '../../state/state-dir.js';

export async function generateCerts(options: { inventory: string; stateDir?: string }): Promise<{ clusterName: string; stateDir: string; pki: ClusterPki }> {
  const { path, cluster } = await loadClusterFile(options.inventory);
  const stateDir = options.stateDir ?? StateDir.defaultPath(path, cluster.name);
  return { clusterName: cluster.name, stateDir, pki: await ensureClusterPki(cluster, await StateDir.open(stateDir)) };
}
