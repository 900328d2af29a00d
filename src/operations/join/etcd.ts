/**
 * Stacked etcd join through etcd's own client (kubeadm-spec §4): `etcdctl` with the
 * healthcheck-client certificate against the existing members adds this host as a learner, and
 * promotes it once its etcd has caught up. Commands are built here; the phase runs them on the host.
 */
import { type Cluster, type Host } from '../../config/model.js';
import { etcdClientUrl, etcdPeerUrl } from '../../render/etcd.js';
import { PATHS } from '../../kubeadm/constants.js';
import { shellQuote } from '../../transport/quote.js';


/** Client URLs of the cluster file's other etcd members: the existing cluster. */
export const existingEndpoints = (cluster: Cluster, host: Host): string[] => cluster.etcdMembers.filter((m) => m.name !== host.name).map(etcdClientUrl);

export function etcdctl(endpoints: readonly string[], ...args: string[]): string {
  return [
    'ETCDCTL_API=3',
    'etcdctl',
    `--endpoints=${endpoints.join(',')}`,
    `--cacert=${PATHS.etcdPki}/ca.crt`,
    `--cert=${PATHS.etcdPki}/healthcheck-client.crt`,
    `--key=${PATHS.etcdPki}/healthcheck-client.key`,
    '--dial-timeout=5s',
    '--command-timeout=15s',
    ...args,
  ]
    .map((a, i) => (i === 0 ? a : shellQuote(a)))
    .join(' ');
}

export interface EtcdMember {
  id: string;
  started: boolean;
  name: string;
  peerUrls: string[];
  learner: boolean;
}

/** `member list -w simple`: "id, started|unstarted, name, peerURLs, clientURLs, isLearner" per line. */
export function parseMemberList(text: string): EtcdMember[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', status = '', name = '', peers = '', , learner = ''] = line.split(', ');
      return { id, started: status === 'started', name, peerUrls: peers.split(',').filter(Boolean), learner: learner === 'true' };
    })
    .filter((m) => /^[0-9a-f]+$/.test(m.id));
}

/** `--initial-cluster` for this host: every listed member (the new one is still unnamed) and this host. */
export function joiningInitialCluster(members: readonly EtcdMember[], cluster: Cluster, host: Host): string {
  const ours = etcdPeerUrl(host);
  const known = members.length > 0 ? members : cluster.etcdMembers.filter((m) => m.name !== host.name).map((m) => ({ id: '', started: true, name: m.name, peerUrls: [etcdPeerUrl(m)], learner: false }));
  const entries = known.filter((m) => !m.peerUrls.includes(ours)).flatMap((m) => m.peerUrls.map((url) => `${m.name}=${url}`));
  return [...entries, `${host.name}=${ours}`].join(',');
}

/** Adds this host as a learner unless a member with its peer URL exists (a re-run). */
export function addLearnerCommand(cluster: Cluster, host: Host): string {
  const endpoints = existingEndpoints(cluster, host);
  const url = etcdPeerUrl(host);
  return `${etcdctl(endpoints, 'member', 'list', '-w', 'simple')} | grep -qF ${shellQuote(`, ${url}, `)} || ${etcdctl(endpoints, 'member', 'add', host.name, `--peer-urls=${url}`, '--learner')}`;
}

/** Promotes the learner with this host's peer URL; etcd refuses until it has caught up with the leader, so the caller retries. */
export function promoteCommand(cluster: Cluster, host: Host): string {
  const endpoints = existingEndpoints(cluster, host);
  const url = etcdPeerUrl(host);
  const list = etcdctl(endpoints, 'member', 'list', '-w', 'simple');
  // The list's own exit status must count: an unreachable cluster is not "already promoted".
  return `members=$(${list}) && id=$(printf '%s\\n' "$members" | awk -F', ' -v url=${shellQuote(url)} '$4 == url && $6 == "true" { print $1 }') && { [ -z "$id" ] || ${etcdctl(endpoints, 'member', 'promote')} "$id"; }`;
}
