/**
 * The etcd v3 cluster API (etcd's JSON gateway) as curl commands run on a control-plane host with the
 * healthcheck-client certificate — the host being reset, or the one joining — and the reading of
 * their JSON. No etcdctl: like kubeadm, kbuild needs no etcd client on the node. etcd's gateway writes
 * uint64 ids as strings; they stay strings here so no id loses precision in a JavaScript number.
 */
import yaml from 'js-yaml';
import { FileError, StateError } from '../errors/index.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { componentContainer } from '../kubeadm/files.js';
import { shellQuote } from '../transport/quote.js';

const CLIENT_CERT = ['--cacert', `${PATHS.etcdPki}/ca.crt`, '--cert', `${PATHS.etcdPki}/healthcheck-client.crt`, '--key', `${PATHS.etcdPki}/healthcheck-client.key`];
const curl = (...args: string[]) => ['curl', '-sS', '--fail-with-body', '--max-time', '10', ...CLIENT_CERT, ...args].map(shellQuote).join(' ');

export const memberListCommand = (endpoint: string): string => curl('-X', 'POST', '-d', '{}', `${endpoint}/v3/cluster/member/list`);
export const memberRemoveCommand = (endpoint: string, id: string): string => curl('-X', 'POST', '-d', JSON.stringify({ ID: id }), `${endpoint}/v3/cluster/member/remove`);
export const memberAddLearnerCommand = (endpoint: string, peerUrl: string): string => curl('-X', 'POST', '-d', JSON.stringify({ peerURLs: [peerUrl], isLearner: true }), `${endpoint}/v3/cluster/member/add`);
export const memberPromoteCommand = (endpoint: string, id: string): string => curl('-X', 'POST', '-d', JSON.stringify({ ID: id }), `${endpoint}/v3/cluster/member/promote`);
export const healthCommand = (endpoint: string): string => curl(`${endpoint}/health`);
export const statusCommand = (endpoint: string): string => curl('-X', 'POST', '-d', '{}', `${endpoint}/v3/maintenance/status`);
/** etcdctl move-leader: only the leader accepts it. */
export const moveLeaderCommand = (endpoint: string, targetId: string): string => curl('-X', 'POST', '-d', JSON.stringify({ targetID: targetId }), `${endpoint}/v3/maintenance/transfer-leadership`);

/** Who answered and whom it follows, from /v3/maintenance/status. */
export function parseStatus(stdout: string): { memberId: string; leader: string } {
  let parsed: { header?: { member_id?: string | number }; leader?: string | number };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new StateError(`etcd's status is not the JSON etcd answers: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  }
  const memberId = String(parsed.header?.member_id ?? '');
  if (!memberId) throw new StateError(`etcd's status names no member: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  return { memberId, leader: String(parsed.leader ?? '') };
}

/** The same request to each endpoint in turn until one answers: what a multi-endpoint etcd client does. */
export const toFirstAnswering = (endpoints: readonly string[], command: (endpoint: string) => string): string => `{ ${endpoints.map((e) => command(e)).join(' || ')}; }`;

export interface EtcdMember {
  id: string;
  /** Empty for a member added but not started yet. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** The member list as one member sees it. */
export function parseMemberList(stdout: string): EtcdMember[] {
  let parsed: { members?: Array<{ ID?: string | number; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }> };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    // Something between us and etcd (a proxy, a wrong port) answered instead.
    throw new StateError(`etcd's member list is not the JSON etcd answers: ${JSON.stringify(stdout.trim().slice(0, 200))}; check the etcd endpoints and that etcd 3.5 or later serves /v3/cluster/member/list`);
  }
  return (parsed.members ?? []).map((m) => ({ id: String(m.ID ?? ''), name: m.name ?? '', peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: m.isLearner === true }));
}

/** This host's member, from the flags of its etcd static pod. */
export interface LocalMember {
  name: string;
  peerURLs: string[];
  /** Where to ask for the member list: this member first, then the others it was started with. */
  endpoints: string[];
  /** The members serve their HTTP API apart from gRPC, on this port (--listen-client-http-urls); else on their client URLs. */
  httpApiPort?: number;
}

/** Where another member of this host's cluster answers kbuild's HTTP calls. */
export const apiUrlsOf = (member: EtcdMember, local: LocalMember): string[] =>
  local.httpApiPort === undefined ? member.clientURLs : member.peerURLs.map((peer) => onPort(peer, local.httpApiPort!));

export function parseEtcdManifest(text: string, where: string): LocalMember {
  let command: unknown;
  try {
    command = componentContainer(yaml.load(text) as Parameters<typeof componentContainer>[0])?.command;
  } catch (error) {
    throw new FileError(where, `is not valid YAML (${(error as Error).message}); fix or remove it, then run reset again`, { cause: error });
  }
  if (!Array.isArray(command)) throw new FileError(where, 'has no etcd command (the etcd container\'s command); fix or remove it, then run reset again');
  const flags = new Map<string, string>();
  for (const arg of command) {
    const match = typeof arg === 'string' ? /^--([^=]+)=(.*)$/.exec(arg) : null;
    if (match) flags.set(match[1]!, match[2]!);
  }
  const list = (flag: string) => (flags.get(flag) ?? '').split(',').filter(Boolean);
  const name = flags.get('name');
  if (!name) throw new FileError(where, 'has no --name flag, so the etcd member cannot be identified; remove the member by hand (etcdctl member remove) and the file, then run reset again');
  const peerURLs = list('initial-advertise-peer-urls');
  // The HTTP API is where --listen-client-http-urls puts it (kbuild's members), else on the client
  // URLs (kubeadm's, or an older kbuild's). The others serve it on their peer address at the same port.
  const http = list('listen-client-http-urls');
  const own = http.length > 0 ? http : [...list('listen-client-urls'), ...list('advertise-client-urls')];
  const port = http.length > 0 ? PORTS.etcdClientHttp : PORTS.etcdClient;
  const others = list('initial-cluster')
    .map((entry) => entry.slice(entry.indexOf('=') + 1))
    .filter((peer) => !peerURLs.includes(peer))
    .map((peer) => onPort(peer, port));
  return { name, peerURLs, endpoints: [...new Set([...own, ...others])], ...(http.length > 0 ? { httpApiPort: port } : {}) };
}

function onPort(peer: string, port: number): string {
  const url = new URL(peer);
  url.port = String(port);
  return url.origin;
}
