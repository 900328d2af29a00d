/**
 * Whether etcd's data goes: --force says yes; otherwise a y/N question on an interactive terminal;
 * without a terminal the data is kept and the run says so, never waiting for an answer. A dry run
 * does not ask (nothing is removed anyway) and says what --force would do.
 */
import { createInterface } from 'node:readline';
import { PATHS } from '../render/constants.js';
import type { EtcdDataDecision } from './context.js';

/** Asks a yes/no question; answers undefined when there is no terminal to ask on. */
export type YesNoPrompt = (question: string) => Promise<boolean | undefined>;

export interface EtcdDataPolicy {
  force: boolean;
  dryRun: boolean;
  prompt: YesNoPrompt;
}

export function etcdDataDecider(policy: EtcdDataPolicy): (hostsWithData: readonly string[]) => Promise<EtcdDataDecision> {
  return async (hosts) => {
    if (policy.force) return { remove: true, reason: '--force' };
    if (policy.dryRun) return { remove: false, reason: 'a dry run does not ask; with --force it would be removed' };
    const answer = await policy.prompt(`Remove etcd data (${PATHS.etcdData}) on ${hosts.join(', ')}? On the last member this is the cluster's data. [y/N] `);
    if (answer === undefined) return { remove: false, reason: 'no terminal to confirm on; pass --force to remove it' };
    return answer ? { remove: true, reason: 'confirmed' } : { remove: false, reason: 'not confirmed' };
  };
}

/** The y/N prompt on stdin/stderr; only on an interactive terminal. Kept here because it reads as well as writes. */
export const terminalYesNo: YesNoPrompt = (question) => {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  const reader = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    reader.question(question, (answer) => {
      reader.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
};
