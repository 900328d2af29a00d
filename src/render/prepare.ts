/**
 * The one path from a cluster file to every host's files, shared by `render`, `apply` and the
 * commands built on them: load and validate, open the state directory, reuse or create the PKI and
 * secrets, render.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadClusterFile } from '../config/load.js';
import { FileError } from '../errors/index.js';
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
  const podNetworkManifest = await readPodNetworkManifest(path, cluster);
  const state = await StateDir.open(options.stateDir ?? StateDir.defaultPath(path, cluster.name));
  const templates = await loadTemplates(options.templates);
  const pki = await ensureClusterPki(cluster, state, options.pki);
  const secrets = await loadRenderSecrets(state);
  return { path, cluster, state, pki, secrets, rendered: renderCluster({ cluster, pki, secrets, templates, podNetworkManifest }) };
}

/** spec.networking.cni.manifest, relative to the cluster file. */
async function readPodNetworkManifest(clusterFile: string, cluster: Cluster): Promise<string | undefined> {
  const cni = cluster.networking.cni;
  if (cni.type !== 'manifest') return undefined;
  const file = resolve(dirname(clusterFile), cni.manifest);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new FileError(file, `cannot read the pod network manifest named by spec.networking.cni.manifest (${(error as Error).message}); the path is relative to ${clusterFile}`, { cause: error });
  }
}
