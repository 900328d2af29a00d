/**
 * Whether etcd's data goes: --force says yes; otherwise a y/N question on an interactive terminal;
 * without a terminal the data is kept and the run says so, never waiting for an answer. A dry run
 * does not ask (nothing is removed anyway) and says what --force would do.
 */
import type { YesNoPrompt } from '../../report/prompts.js';
import type { EtcdDataDecision } from './context.js';


export interface EtcdDataPolicy {
  force: boolean;
  dryRun: boolean;
  prompt: YesNoPrompt;
}

export function etcdDataDecider(policy: EtcdDataPolicy): (hostsWithData: readonly string[]) => Promise<EtcdDataDecision> {
  return async (hosts) => {
    if (policy.force) return { remove: true, reason: '--force' };
    if (policy.dryRun) return { remove: false, reason: 'a dry run does not ask; with --force it would be removed' };
    const answer = await policy.prompt(`Remove etcd data on ${hosts.join(', ')}? On the last member this is the cluster's data. [y/N] `);
    if (answer === undefined) return { remove: false, reason: 'no terminal to confirm on; pass --force to remove it' };
    return answer ? { remove: true, reason: 'confirmed' } : { remove: false, reason: 'not confirmed' };
  };
}
