/**
 * kubeadm reset's remove-etcd-member: a stacked (or kbuild-managed external) etcd member leaves the
 * cluster before its files go, asked of ANOTHER member, unless it is the last one, which simply
 * stops with its kubelet. Run one host at a time, each gated on the rest being healthy, so a fleet
 * reset shrinks the cluster member by member and never removes two at once.
 */
import type { Host } from '../../config/model.js';
import { RemoteCommandError } from '../../errors/index.js';
import type { GateCheck } from '../../health/probes.js';
import type { StepOutcome } from '../../workflow/types.js';
import type { Transport } from '../../transport/transport.js';
import type { ResetContext } from './context.js';
import { apiUrlsOf, healthCommand, memberListCommand, memberRemoveCommand, parseEtcdManifest, parseMemberList, type EtcdMember, type LocalMember } from '../../static-pods/etcd-api.js';
import { ETCD_MANIFEST } from './paths.js';

const TIMEOUT_MS = 20_000;

async function listMembers(transport: Transport, endpoints: readonly string[]): Promise<{ endpoint: string; members: EtcdMember[] } | undefined> {
  for (const endpoint of endpoints) {
    const result = await transport.run(memberListCommand(endpoint), { readOnly: true, timeoutMs: TIMEOUT_MS });
    if (result.code !== 0) continue;
    try {
      return { endpoint, members: parseMemberList(result.stdout) };
    } catch {
      continue;
    }
  }
  return undefined;
}

const isSelf = (local: LocalMember) => (m: EtcdMember) => m.name === local.name || m.peerURLs.some((u) => local.peerURLs.includes(u));

export async function removeEtcdMember(ctx: ResetContext, host: Host): Promise<StepOutcome> {
  const transport = await ctx.transport(host);
  const info = (message: string) => ctx.reporter.event({ type: 'info', host: host.name, message });
  const manifest = await transport.readFile(ETCD_MANIFEST);
  if (!manifest) {
    info(`no ${ETCD_MANIFEST}: not an etcd member, nothing to remove`);
    return { changed: [] };
  }
  const local = parseEtcdManifest(manifest.toString(), `${host.name}:${ETCD_MANIFEST}`);
  const seen = await listMembers(transport, local.endpoints);
  if (!seen) {
    ctx.reporter.event({
      type: 'warn',
      host: host.name,
      message: `no etcd member answered (${local.endpoints.join(', ')}), so member "${local.name}" was not removed; if the cluster lives on, remove it there with \`etcdctl member remove <id>\``,
    });
    return { changed: [] };
  }
  const self = seen.members.find(isSelf(local));
  if (!self) {
    info(`etcd member "${local.name}" is not in the member list (already removed)`);
    return { changed: [] };
  }
  const others = seen.members.filter((m) => m.id !== self.id);
  if (others.length === 0) {
    info(`"${local.name}" is the last etcd member: not removed; it stops with the kubelet`);
    return { changed: [] };
  }
  let failure: RemoteCommandError | undefined;
  for (const endpoint of others.flatMap((m) => apiUrlsOf(m, local))) {
    const command = memberRemoveCommand(endpoint, self.id);
    const result = await transport.run(command, { timeoutMs: TIMEOUT_MS });
    if (result.code === 0) {
      ctx.removedMembers.set(host.name, { id: self.id, name: self.name, via: endpoint });
      return { changed: [`removed etcd member ${self.name} (${self.id}) via ${endpoint}`] };
    }
    failure = new RemoteCommandError(host.name, command, result.code, result.timedOut ? `timed out after ${TIMEOUT_MS} ms` : `${result.stderr}\n${result.stdout}`);
  }
  throw failure ?? new RemoteCommandError(host.name, `etcd member remove ${self.id}`, null, 'no other member advertises a client URL');
}

/** After a removal: the member that was asked is healthy and no longer lists the removed one. */
export async function remainingMembersHealthy(ctx: ResetContext, host: Host): Promise<GateCheck> {
  const removed = ctx.removedMembers.get(host.name);
  if (!removed) return { ok: true };
  const transport = await ctx.transport(host);
  const health = await transport.run(healthCommand(removed.via), { readOnly: true, timeoutMs: TIMEOUT_MS });
  if (health.code !== 0 || !/"health"\s*:\s*"true"/.test(health.stdout)) return { ok: false, seen: `${removed.via}/health: ${(health.stderr || health.stdout).trim().slice(0, 200)}` };
  const list = await listMembers(transport, [removed.via]);
  if (!list) return { ok: false, seen: `${removed.via}: member list unavailable` };
  return list.members.some((m) => m.id === removed.id) ? { ok: false, seen: `${removed.name} still listed by ${removed.via}` } : { ok: true };
}
