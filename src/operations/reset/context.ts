/** What the reset phases share: the hosts being reset, one connection each, and decisions made on the way. */
import type { Host } from '../../config/model.js';
import type { Reporter } from '../../report/reporter.js';
import type { Transport } from '../../transport/transport.js';

/** Whether etcd's data is removed, and why, so the run can say so. */
export interface EtcdDataDecision {
  remove: boolean;
  reason: string;
}

/** A member this run removed from the etcd cluster, and the member it asked. */
export interface RemovedMember {
  id: string;
  name: string;
  via: string;
}

export interface ResetContext {
  targets: readonly Host[];
  reporter: Reporter;
  concurrency: number;
  transport(host: Host): Promise<Transport>;
  /** Asked once, in preflight, when some target holds etcd data: --force, a y/N prompt, or keep. */
  decideEtcdData(hostsWithData: readonly string[]): Promise<EtcdDataDecision>;
  /** Set by preflight; unset (preflight skipped) keeps the data. */
  etcdData?: EtcdDataDecision;
  /** etcd's data directory where a host's manifest names none: the cluster file's for its etcd members, kubeadm's default elsewhere. */
  etcdDataDir(host: Host): string;
  /** Each host's etcd data directory once read (etcd-data.ts); undefined: one reset must not empty. */
  etcdDataDirs: Map<string, string | undefined>;
  /** Filled by remove-etcd-member, read by its gate. */
  removedMembers: Map<string, RemovedMember>;
  /** The fleet form's local state directory; `transport` is this machine (a recording one in a dry-run). */
  stateDir?: { path: string; purge: boolean; transport: Transport };
}
