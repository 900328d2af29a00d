/**
 * kbuild reset's phase tree, named after kubeadm reset's: preflight (what will be removed, and the
 * etcd-data question), remove-etcd-member (one member at a time), cleanup-node, and for the fleet
 * form purge-state.
 */
import type { Phase } from '../../workflow/types.js';
import { forEachHost } from '../../transport/fleet.js';
import { cleanupNode, hasEntries } from './cleanup.js';
import { etcdDataDirOf } from './etcd-data.js';
import type { ResetContext } from './context.js';
import { remainingMembersHealthy, removeEtcdMember } from './etcd-member.js';

const MINUTE = 60_000;

async function preflight(ctx: ResetContext): Promise<{ changed: string[] }> {
  const found = await forEachHost('preflight', ctx.targets, ctx.concurrency, async (h) => {
    const transport = await ctx.transport(h);
    const dir = await etcdDataDirOf(ctx, h, transport);
    return dir !== undefined && (await hasEntries(transport, dir)) ? `${h.name} (${dir})` : undefined;
  });
  const withData = found.filter((f): f is string => f !== undefined);
  if (withData.length === 0) return { changed: [] };
  ctx.etcdData = await ctx.decideEtcdData(withData);
  ctx.reporter.event({
    type: ctx.etcdData.remove ? 'info' : 'warn',
    message: `etcd data on ${withData.join(', ')} will be ${ctx.etcdData.remove ? 'removed' : 'kept'} (${ctx.etcdData.reason})`,
  });
  return { changed: [] };
}

async function purgeState(ctx: ResetContext): Promise<{ changed: string[] }> {
  const state = ctx.stateDir;
  if (!state) return { changed: [] };
  const present = (await state.transport.stat(state.path)) !== undefined;
  if (!state.purge) {
    if (present) ctx.reporter.event({ type: 'info', message: `state directory ${state.path} kept (--purge-state removes it)` });
    return { changed: [] };
  }
  if (!present) return { changed: [] };
  await state.transport.remove(state.path);
  return { changed: [`removed state directory ${state.path}`] };
}

export const RESET_PHASES: readonly Phase<ResetContext>[] = [
  {
    name: 'preflight',
    description: 'find etcd data on the hosts and decide about it: --force, a y/N prompt on a terminal, else keep it',
    runOnce: preflight,
  },
  {
    name: 'remove-etcd-member',
    description: 'remove this host from the etcd cluster through another member, unless it is the last; one host at a time',
    targets: (ctx) => [...ctx.targets],
    serial: true,
    run: removeEtcdMember,
    gate: { name: 'remaining etcd members healthy', timeoutMs: 2 * MINUTE, intervalMs: 1000, check: remainingMembersHealthy },
  },
  {
    name: 'cleanup-node',
    description: 'stop the kubelet and load-balancer services, remove manifests, PKI, kubeconfigs, kubelet and load-balancer files (etcd data only if decided)',
    targets: (ctx) => [...ctx.targets],
    run: cleanupNode,
  },
  {
    name: 'purge-state',
    description: 'remove the local state directory (fleet form, only with --purge-state)',
    runOnce: purgeState,
  },
];
