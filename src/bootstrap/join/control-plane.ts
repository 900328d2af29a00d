/**
 * A joining control plane's own files (kubeadm join control-plane-prepare): the shared CAs and sa
 * keys from kube-system/kubeadm-certs, and this host's leaves and kubeconfigs issued by the PKI code
 * (`ensureClusterPki`) with those CAs, for this host alone. Static pods come from the same renderers
 * as `kbuild render`; etcd's gets the existing members and `--initial-cluster-state=existing`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Host } from '../../config/model.js';
import { StateError } from '../../errors/index.js';
import { ensureClusterPki, type PkiOptions } from '../../pki/ensure.js';
import { PATHS } from '../../kubeadm/constants.js';
import { apiServerPod, controllerManagerPod, schedulerPod } from '../../render/control-plane.js';
import { etcdPod } from '../../render/etcd.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import { yamlFile } from '../../render/yaml.js';
import { StateDir } from '../../state/state-dir.js';

const EXTERNAL_ETCD_CLIENT = new Set(['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']);

/** Joined nodes never get super-admin.conf (kubeadm-spec §2). */
const NOT_ON_JOINED_NODES = new Set([`${PATHS.kubernetesDir}/super-admin.conf`]);

/** This host's PKI files signed by the downloaded CAs, through a temporary state directory that is removed afterwards. */
export async function joinPkiFiles(cluster: Cluster, host: Host, shared: ReadonlyMap<string, Buffer>, options: PkiOptions = {}): Promise<RenderedFile[]> {
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-join-pki-'));
  try {
    const state = await StateDir.open(dir);
    for (const [name, content] of shared) {
      // The shared external-etcd client certificate is this host's own leaf; the etcd CA comes without its key (signs nothing here).
      const at = EXTERNAL_ETCD_CLIENT.has(name) ? `hosts/${host.name}/pki/${name}` : `pki/${name}`;
      await state.write(at, content, name.endsWith('.key') ? 0o600 : 0o644);
    }
    // Only this host: its own leaves, never anyone else's.
    const pki = await ensureClusterPki({ ...cluster, hosts: [host] }, state, options);
    const created = pki.actions.filter((a) => a.host === undefined && a.outcome === 'created');
    if (created.length > 0) throw new StateError(`the downloaded certificates lack ${created.map((a) => a.name).join(', ')}; kbuild would have made a new one`);
    return pki.filesForHost(host).filter((f) => !NOT_ON_JOINED_NODES.has(f.path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const manifest = (name: string, source: string, pod: unknown): RenderedFile => ({ path: `${PATHS.manifests}/${name}.yaml`, mode: 0o600, content: yamlFile(source, [pod]) });

export function controlPlaneManifests(cluster: Cluster, host: Host): RenderedFile[] {
  return [
    manifest('kube-apiserver', 'render/control-plane.ts: kube-apiserver', apiServerPod(cluster, host)),
    manifest('kube-controller-manager', 'render/control-plane.ts: kube-controller-manager', controllerManagerPod(cluster)),
    manifest('kube-scheduler', 'render/control-plane.ts: kube-scheduler', schedulerPod(cluster)),
  ];
}

/** render's etcd.yaml for this host, joining the existing cluster: every member listed, state existing. */
export function joiningEtcdManifest(cluster: Cluster, host: Host, initialCluster: string): RenderedFile {
  return manifest('etcd', 'render/etcd.ts, joining an existing cluster', etcdPod(cluster, host, { cluster: initialCluster, state: 'existing' }));
}
