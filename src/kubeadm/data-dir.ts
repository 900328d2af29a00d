/**
 * etcd's data directory (kubeadm's etcd.local.dataDir): reset removes what is in it, so only a plain
 * absolute path of a directory of its own is accepted wherever it comes from — the cluster file, or
 * the etcd manifest on a host. System trees, home directories and the other components' state are
 * refused.
 */
import { posix } from 'node:path';

const PLAIN = /^\/[A-Za-z0-9._/-]+$/;
/** These and everything below them. */
const SYSTEM_TREES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var/lib/kubelet', '/var/lib/containerd', '/var/lib/cni', '/opt/cni', '/var/log', '/tmp'];
/** These themselves (a directory below them may be etcd's own). */
const SYSTEM_DIRS = ['/', '/home', '/media', '/mnt', '/opt', '/srv', '/var', '/var/lib'];

/** Why `path` cannot be etcd's data directory; undefined when it can. */
export function unsafeDataDir(path: string): string | undefined {
  if (!path.startsWith('/')) return 'is not an absolute path';
  if (!PLAIN.test(path) && path !== '/') return 'has characters other than letters, digits, ".", "_", "-" and "/"';
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith('/'))) return `is not a plain path (write ${posix.normalize(path).replace(/(.)\/$/, '$1')})`;
  if (SYSTEM_DIRS.includes(path)) return 'is a system directory, whose contents kbuild reset would remove';
  const tree = SYSTEM_TREES.find((t) => path === t || path.startsWith(`${t}/`));
  if (tree !== undefined) return `is in ${tree}, which is not for etcd's data (kbuild reset would remove what is there)`;
  if (/^\/home\/[^/]+$/.test(path)) return "is a home directory, whose contents kbuild reset would remove";
  return undefined;
}
