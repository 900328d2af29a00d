/**
 * Stacked etcd join through etcd's own cluster API (kubeadm-spec §4), as kubeadm does it with its etcd
 * client and without etcdctl on the node: with the healthcheck-client certificate, against the
 * existing members, add this host as a learner and promote it once its etcd has caught up.
 * Commands are built here; the phase runs them on the host.
 */
import { type Cluster, type Host } from '../../config/model.js';
import { etcdHttpUrl, etcdPeerUrl } from '../../render/etcd.js';
import { memberAddLearnerCommand, memberListCommand, memberPromoteCommand, toFirstAnswering, type EtcdMember } from '../../static-pods/etcd-api.js';

/** HTTP API URLs of the cluster file's other etcd members: the existing cluster. */
export const existingEndpoints = (cluster: Cluster, host: Host): string[] => cluster.etcdMembers.filter((m) => m.name !== host.name).map(etcdHttpUrl);

export const listMembersCommand = (cluster: Cluster, host: Host): string => toFirstAnswering(existingEndpoints(cluster, host), memberListCommand);
export const addLearnerCommand = (cluster: Cluster, host: Host): string => toFirstAnswering(existingEndpoints(cluster, host), (e) => memberAddLearnerCommand(e, etcdPeerUrl(host)));
export const promoteCommand = (cluster: Cluster, host: Host, id: string): string => toFirstAnswering(existingEndpoints(cluster, host), (e) => memberPromoteCommand(e, id));

/** This host's member in a member list (by its peer URL: a member added but not started has no name yet). */
export const ownMember = (members: readonly EtcdMember[], host: Host): EtcdMember | undefined => members.find((m) => m.peerURLs.includes(etcdPeerUrl(host)));

/** `--initial-cluster` for this host: every listed member (the new one is still unnamed) and this host. */
export function joiningInitialCluster(members: readonly EtcdMember[], cluster: Cluster, host: Host): string {
  const ours = etcdPeerUrl(host);
  const known = members.length > 0 ? members : cluster.etcdMembers.filter((m) => m.name !== host.name).map((m) => ({ id: '', name: m.name, peerURLs: [etcdPeerUrl(m)], clientURLs: [], isLearner: false }));
  const entries = known.filter((m) => !m.peerURLs.includes(ours)).flatMap((m) => m.peerURLs.map((url) => `${m.name}=${url}`));
  return [...entries, `${host.name}=${ours}`].join(',');
}
