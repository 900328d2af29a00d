/**
 * The one path from a cluster file to every host's files, shared by `render`, `apply` and the
 * commands built on them: load and validate, open the state directory, reuse or create the PKI and
 * secrets, render.
 */
import { loadClusterFile } from '../config/load.js';
import type { Cluster } from '../config/model.js';
import { ensureClusterPki, type PkiOptions } from '../pki/ensure.js';
import type { ClusterPki } from '../pki/types.js';
import { StateDir } from '../state/state-dir.js';
import { loadTemplates } from '../templates/index.js';
import { renderCluster, type RenderedCluster } from './cluster.js';
import type { RenderSecrets } from './context.js';
import { loadRenderSecrets } from './secrets.js';

export interface PreparedCluster {
  path: string;
  cluster: Cluster;
  state: StateDir;
  pki: ClusterPki;
  secrets: RenderSecrets;
  rendered: RenderedCluster;
}

export async function prepareCluster(options: { inventory: string; stateDir?: string; templates?: string; pki?: PkiOptions }): Promise<PreparedCluster> {
  const { path, cluster } = await loadClusterFile(options.inventory);
  const state = await StateDir.open(options.stateDir ?? StateDir.defaultPath(path, cluster.name));
  const templates = await loadTemplates(options.templates);
  const pki = await ensureClusterPki(cluster, state, options.pki);
  const secrets = await loadRenderSecrets(state);
  return { path, cluster, state, pki, secrets, rendered: renderCluster({ cluster, pki, secrets, templates }) };
}
