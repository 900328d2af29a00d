/**
 * etcd's data directory (kubeadm's etcd.local.dataDir): reset removes what is in it, so a path that
 * is a system directory (or not a plain absolute path) is refused wherever it comes from — the cluster
 * file, or the etcd manifest on a host.
 */
import { posix } from 'node:path';

const SYSTEM_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/log']);
const UNDER_SYSTEM = ['/proc/', '/sys/', '/dev/', '/etc/kubernetes/', '/usr/'];

/** Why `path` cannot be etcd's data directory; undefined when it can. */
export function unsafeDataDir(path: string): string | undefined {
  if (!path.startsWith('/')) return 'is not an absolute path';
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith('/'))) return `is not a plain path (write ${posix.normalize(path).replace(/(.)\/$/, '$1')})`;
  if (SYSTEM_DIRS.has(path)) return 'is a system directory, whose contents kbuild reset would remove';
  if (UNDER_SYSTEM.some((dir) => path === dir.slice(0, -1) || path.startsWith(dir))) return `is under ${UNDER_SYSTEM.find((dir) => path.startsWith(dir)) ?? path}, which is not for data`;
  return undefined;
}
