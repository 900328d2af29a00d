/**
 * The one path from a cluster to its hosts' files, shared by `render`, `apply`, `certs renew` and
 * `init`: load and validate the cluster file (or take the cluster init built), open the state
 * directory, reuse or create the PKI and secrets, load the templates, render. `apply` renders once
 * it has asked its hosts (prepareState, then renderCluster with their environments).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadClusterFile } from '../config/load.js';
import type { Cluster, Host } from '../config/model.js';
import type { ClusterFile } from '../config/schema.js';
import { FileError } from '../errors/index.js';
import { ensureClusterPki, type PkiOptions } from '../pki/ensure.js';
import type { ClusterPki } from '../pki/types.js';
import { renderCluster, type RenderedCluster } from '../render/cluster.js';
import type { RenderContext, RenderSecrets } from '../render/context.js';
import type { HostEnvironment } from '../kubeadm/host-environment.js';
import { loadTemplates } from '../templates/index.js';
import { loadRenderSecrets, type SecretOptions } from './secrets.js';
import { StateDir } from './state-dir.js';

/** A cluster already loaded; `path` is undefined for one that has no file (init's built-in single node). */
export interface LoadedCluster {
  path?: string;
  file: ClusterFile;
  cluster: Cluster;
}

export interface PrepareOptions {
  /** The cluster file to load, or a cluster already loaded. */
  inventory: string | LoadedCluster;
  /** Default: `.kbuild/<name>/` beside the cluster file (required for a cluster without one). */
  stateDir?: string;
  /** A directory of templates replacing the built-in ones. */
  templates?: string;
  pki?: PkiOptions;
  secrets?: SecretOptions;
  /** Render only these hosts (init renders its own); every host by default. */
  hosts?: readonly Host[];
  /** What each host's facts say (init: its own); without one a host is rendered as the cluster file assumes. */
  hostEnvironments?: ReadonlyMap<string, HostEnvironment>;
}

/** Everything a render needs, before rendering. */
export interface PreparedState extends LoadedCluster {
  state: StateDir;
  pki: ClusterPki;
  secrets: RenderSecrets;
  /** The render context, without host environments. */
  context: RenderContext;
}

export interface PreparedCluster extends PreparedState {
  rendered: RenderedCluster;
}

export async function prepareCluster(options: PrepareOptions): Promise<PreparedCluster> {
  const prepared = await prepareState(options);
  return { ...prepared, rendered: renderCluster({ ...prepared.context, hostEnvironments: options.hostEnvironments }, options.hosts) };
}

export async function prepareState(options: Omit<PrepareOptions, 'hosts' | 'hostEnvironments'>): Promise<PreparedState> {
  const loaded = typeof options.inventory === 'string' ? await loadClusterFile(options.inventory) : options.inventory;
  const { path, cluster } = loaded;
  const stateDir = options.stateDir ?? (path === undefined ? undefined : StateDir.defaultPath(path, cluster.name));
  if (stateDir === undefined) throw new Error('prepareCluster: a cluster without a file needs an explicit state directory');
  const podNetworkManifest = await readPodNetworkManifest(path, cluster);
  const state = await StateDir.open(stateDir);
  const templates = await loadTemplates(options.templates);
  const pki = await ensureClusterPki(cluster, state, options.pki);
  const secrets = await loadRenderSecrets(state, options.secrets);
  return { ...loaded, state, pki, secrets, context: { cluster, pki, secrets, templates, podNetworkManifest } };
}

/** spec.networking.cni.manifest, relative to the cluster file (to the working directory for a cluster without one). */
async function readPodNetworkManifest(clusterFile: string | undefined, cluster: Cluster): Promise<string | undefined> {
  const cni = cluster.networking.cni;
  if (cni.type !== 'manifest') return undefined;
  const file = resolve(clusterFile === undefined ? '.' : dirname(clusterFile), cni.manifest);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new FileError(file, `cannot read the pod network manifest named by spec.networking.cni.manifest (${(error as Error).message}); the path is relative to ${clusterFile ?? 'the working directory'}`, { cause: error });
  }
}
