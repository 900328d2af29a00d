/**
 * A joining control plane's own files (kubeadm join control-plane-prepare): the shared CAs and sa
 * keys from kube-system/kubeadm-certs, and this host's leaves and kubeconfigs issued by the PKI code
 * (`ensureClusterPki`) with those CAs, for this host alone. Its static pods are render's
 * (render/host.ts); etcd's gets the existing members and `--initial-cluster-state=existing`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withHosts, type Cluster, type Host } from '../../config/model.js';
import { StateError } from '../../errors/index.js';
import type { InitPhase, RenderedFile } from '../../kubeadm/files.js';
import { ensureClusterPki, type PkiOptions } from '../../pki/ensure.js';
import { StateDir } from '../../state/state-dir.js';

const EXTERNAL_ETCD_CLIENT = new Set(['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']);

/** Joined nodes never get super-admin.conf (kubeadm-spec §2). */
const NOT_ON_JOINED_NODES: readonly InitPhase[] = ['kubeconfig/super-admin'];

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
    const pki = await ensureClusterPki(withHosts(cluster, [host]), state, options);
    const created = pki.actions.filter((a) => a.host === undefined && a.outcome === 'created');
    if (created.length > 0) throw new StateError(`the downloaded certificates lack ${created.map((a) => a.name).join(', ')}; kbuild would have made a new one`);
    return pki.filesForHost(host).filter((f) => !NOT_ON_JOINED_NODES.includes(f.phase));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
