/**
 * Before an etcd member restarts: if it leads, hand leadership to another started voting member
 * (what `etcdctl move-leader` does) while every member is up. The member that then stops is a
 * follower, so its stop needs no election, and the one leader change of the step happens at a
 * moment kbuild chooses instead of while the leader shuts its client listeners down.
 */
import { describe } from '../errors/index.js';
import { runChecked } from '../transport/run.js';
import type { Transport } from '../transport/transport.js';
import { memberListCommand, moveLeaderCommand, parseMemberList, parseStatus, statusCommand } from './etcd-api.js';

export type HandOff = { moved: false } | { moved: true; to: string } | { moved: false; warning: string };

const TIMEOUT_MS = 20_000;

/** `endpoint`: this member's HTTP API, as reached from the host itself. Never throws: the restart goes on either way. */
export async function handOffLeadership(transport: Transport, endpoint: string): Promise<HandOff> {
  try {
    const status = parseStatus(await runChecked(transport, statusCommand(endpoint), TIMEOUT_MS, true));
    if (status.leader !== status.memberId) return { moved: false };
    const members = parseMemberList(await runChecked(transport, memberListCommand(endpoint), TIMEOUT_MS, true));
    // Started (named) voting members other than this one; a learner cannot lead.
    const target = members.find((m) => m.id !== status.memberId && !m.isLearner && m.name !== '');
    if (!target) return { moved: false };
    await runChecked(transport, moveLeaderCommand(endpoint, target.id), TIMEOUT_MS);
    return { moved: true, to: target.name };
  } catch (error) {
    return { moved: false, warning: `could not hand etcd leadership to another member before the restart (${describe(error)}); etcd hands it over itself as it stops` };
  }
}

/** The name of the member that leads, as this member sees it; undefined when it cannot tell (the roll-out keeps its order). */
export async function leaderName(transport: Transport, endpoint: string): Promise<string | undefined> {
  try {
    const status = parseStatus(await runChecked(transport, statusCommand(endpoint), TIMEOUT_MS, true));
    const members = parseMemberList(await runChecked(transport, memberListCommand(endpoint), TIMEOUT_MS, true));
    return members.find((m) => m.id === status.leader)?.name || undefined;
  } catch {
    return undefined;
  }
}
