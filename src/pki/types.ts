/**
 * The contract between the PKI (src/pki) and everything that places its files on hosts
 * (renderers, phases). The PKI master copy lives in the state directory; this is the view of it.
 */
import type { Host } from '../config/model.js';
import type { RenderedFile } from '../kubeadm/files.js';

/** Where the PKI master copy is kept (the state directory): text files by relative path. */
export interface PkiStore {
  read(relative: string): Promise<string | undefined>;
  /** Each file atomic, mode 0600 unless given. */
  writeMany(files: ReadonlyArray<{ path: string; content: string; mode?: number }>): Promise<void>;
  /** The absolute path of a relative one, for messages. */
  path(relative: string): string;
}

/** What happened to one certificate, key pair or kubeconfig during a PKI run. */
export interface PkiAction {
  /** Table name, e.g. "apiserver", "etcd/server", "admin.conf", "sa". */
  name: string;
  /** Host the item belongs to, or undefined for cluster-wide items (CAs, sa). */
  host?: string;
  outcome: 'created' | 'reused' | 're-issued' | 'external';
  /** Why it was re-issued (SAN drift, expiry, algorithm change...). */
  reason?: string;
}

export interface ClusterPki {
  /** PEM of the cluster CA (kubernetes), for kubeconfigs, bootstrap and load-balancer checks. */
  readonly caCertPem: string;
  readonly frontProxyCaCertPem: string;
  /** Undefined for external etcd managed outside kbuild; kbuild generates it for its own etcd hosts. */
  readonly etcdCaCertPem?: string;
  /**
   * Every PKI file and kubeconfig this host needs, at kubeadm's paths and modes:
   * /etc/kubernetes/pki/** (keys 0600, certs 0644) and /etc/kubernetes/{admin,super-admin,
   * controller-manager,scheduler,kubelet}.conf (0600) for control planes; etcd certs for etcd hosts.
   */
  filesForHost(host: Host): RenderedFile[];
  /** What this run created, reused or re-issued, in table order. */
  readonly actions: readonly PkiAction[];
}

/** One line per action: `created   apiserver (cp1)`, `re-issued apiserver (cp1): SANs changed: …`. */
export function describePkiAction(a: PkiAction): string {
  const what = a.host ? `${a.name} (${a.host})` : a.name;
  return `${a.outcome.padEnd(9)} ${what}${a.reason ? `: ${a.reason}` : ''}`;
}

/** `3 created, 40 reused, 1 re-issued[, 2 external]`. */
export function summarizePkiActions(actions: readonly PkiAction[]): string {
  const count = (o: PkiAction['outcome']) => actions.filter((a) => a.outcome === o).length;
  const parts = [`${count('created')} created`, `${count('reused')} reused`, `${count('re-issued')} re-issued`];
  if (count('external') > 0) parts.push(`${count('external')} external`);
  return parts.join(', ');
}
