/**
 * Where a host keeps etcd's data: the etcd-data volume of the etcd manifest on the host (what actually
 * ran; kubeadm reset reads that volume when it has no configuration), else for an etcd member the
 * cluster file's dataDir, for any other host kubeadm's default. Read once per host, before cleanup
 * removes the manifest.
 */
import yaml from 'js-yaml';
import type { V1Pod } from '@kubernetes/client-node';
import type { Host } from '../../config/model.js';
import { manifestPath } from '../../kubeadm/files.js';
import { unsafeDataDir } from '../../kubeadm/data-dir.js';
import type { Transport } from '../../transport/transport.js';
import type { ResetContext } from './context.js';

const ETCD_DATA_VOLUME = 'etcd-data';

/** The host's etcd data directory; undefined (with a warning) when its manifest names one reset must not empty. */
export async function etcdDataDirOf(ctx: ResetContext, host: Host, transport: Transport): Promise<string | undefined> {
  if (ctx.etcdDataDirs.has(host.name)) return ctx.etcdDataDirs.get(host.name);
  const manifest = await transport.readFile(manifestPath('etcd'));
  let dir = ctx.etcdDataDir(host);
  if (manifest) {
    try {
      const pod = yaml.load(manifest.toString()) as V1Pod | undefined;
      dir = pod?.spec?.volumes?.find((v) => v.name === ETCD_DATA_VOLUME)?.hostPath?.path ?? dir;
    } catch {
      // An unreadable manifest says nothing; the cluster file's directory stands.
    }
  }
  const why = unsafeDataDir(dir);
  const found = why === undefined ? dir : undefined;
  if (why !== undefined) ctx.reporter.event({ type: 'warn', host: host.name, message: `etcd's data directory ${dir} ${why}: reset leaves it alone` });
  ctx.etcdDataDirs.set(host.name, found);
  return found;
}
