/**
 * Taking a control plane's apiserver out of HAProxy's rotation while something it needs restarts
 * (the apiserver itself, or in a stacked cluster the etcd member that is its first etcd server), and
 * back once it is ready. Without it HAProxy keeps sending new connections to that apiserver until
 * three health checks failed (6 s), and those requests hang or fail (seen on the test lab: 5 s
 * timeouts through the VIP while a stacked member restarted). Through the admin socket kbuild renders into
 * haproxy.cfg on load-balancer hosts (HAProxy's stats page in admin mode), with curl as the client.
 * Pure commands and readings here; the roll-out runs them on each load-balancer host.
 */
import { shellQuote } from '../transport/quote.js';
import type { CommandResult } from '../transport/transport.js';
import type { Probe } from '../health/probes.js';
import { PATHS } from '../kubeadm/constants.js';
import { HAPROXY_BACKEND } from '../render/load-balancer.js';

const stats = (...args: string[]) => ['curl', '-sS', '--max-time', '5', '--unix-socket', PATHS.haproxyAdminSocket, ...args].map(shellQuote).join(' ');

/** Every server of the apiserver backend with HAProxy's status for it (UP, DOWN, DRAIN, MAINT, "UP 1/3", …). */
export const serverStatesCommand = (): string => stats('http://localhost/;csv');

/** `drain`: no new connections (health checks go on); `ready`: back in rotation once its checks pass. */
export const setStateCommand = (server: string, state: 'drain' | 'ready'): string =>
  // HAProxy answers a POST with a redirect whose ;st= says what happened (DONE, or an error code).
  stats('-o', '/dev/null', '-w', '%{redirect_url}', '-d', `s=${server}&action=${state}&b=${HAPROXY_BACKEND}`, 'http://localhost/');

export function parseServerStates(csv: string): Map<string, string> {
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const [px, sv, status] = ['pxname', 'svname', 'status'].map((c) => header.indexOf(c));
  if (px === -1 || sv === -1 || status === -1) throw new Error(`not HAProxy's CSV statistics: ${JSON.stringify(csv.slice(0, 120))}`);
  const states = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[px!] === HAPROXY_BACKEND && cells[sv!] !== 'BACKEND' && cells[sv!] !== undefined) states.set(cells[sv!]!, cells[status!] ?? '');
  }
  return states;
}

/** What setStateCommand printed: undefined when HAProxy did it (or a dry run only recorded the command), else why not. */
export function stateChangeError(result: CommandResult): string | undefined {
  if (result.code !== 0) return `${result.stderr.trim() || `curl exited with ${result.code ?? 'a signal'}`} (is ${PATHS.haproxyAdminSocket} in haproxy.cfg? kbuild apply puts it there)`;
  if (result.stdout.trim() === '') return undefined;
  const answer = /;st=([A-Z]+)/.exec(result.stdout)?.[1];
  if (answer === 'DONE') return undefined;
  return `HAProxy answered ${answer ?? JSON.stringify(result.stdout.trim().slice(0, 80))}${answer === 'ERRP' || answer === 'NONE' ? ' (no such server in its backend)' : ''}`;
}

/** HAProxy on this host sends new connections to every one of `servers` (status exactly UP: not draining, not half-way). */
export function serversUp(servers: readonly string[]): Probe {
  return {
    command: serverStatesCommand(),
    interpret(result) {
      if (result.code !== 0) return { ok: false, seen: result.stderr.trim().slice(0, 200) || `curl exited with ${result.code ?? 'a signal'}` };
      let states: Map<string, string>;
      try {
        states = parseServerStates(result.stdout);
      } catch (error) {
        return { ok: false, seen: (error as Error).message };
      }
      const notUp = servers.filter((s) => states.get(s) !== 'UP');
      return notUp.length === 0 ? { ok: true } : { ok: false, seen: notUp.map((s) => `${s} ${states.get(s) ?? 'not in the backend'}`).join(', ') };
    },
  };
}
