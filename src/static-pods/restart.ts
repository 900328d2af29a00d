/**
 * Restarts. A static pod the kubeadm way: move its manifest out of the kubelet's directory, wait
 * (bounded) until the component stops answering, move it back. The content is never edited, so
 * what runs afterwards is exactly the manifest that was there. One shell script, one round trip.
 * The kubelet itself through systemd, after its files changed.
 */
import { shCommand, shellQuote } from '../transport/quote.js';
import { runChecked } from '../transport/run.js';
import type { Transport } from '../transport/transport.js';
import { manifestPath, type StaticPod } from '../kubeadm/files.js';

export interface RestartOptions {
  /** Where the manifest waits while the pod is down (outside the manifest directory). */
  parkDir: string;
  /** host:port the component listens on; curl exit 7 (connection refused) there means it is down. */
  listen: string;
  downTimeoutMs: number;
}

export function restartScript(pod: StaticPod, options: RestartOptions): string {
  const manifest = shellQuote(manifestPath(pod));
  const parked = shellQuote(`${options.parkDir}/${pod}.yaml`);
  const polls = Math.max(1, Math.ceil(options.downTimeoutMs / 500));
  return [
    `mkdir -p -m 0700 ${shellQuote(options.parkDir)}`,
    `[ -f ${manifest} ] || { echo ${shellQuote(`${manifestPath(pod)} is missing: ${pod} is not a static pod on this host`)} >&2; exit 2; }`,
    `mv -f ${manifest} ${parked}`,
    'n=0',
    'while :; do',
    `  curl -sk --max-time 1 -o /dev/null ${shellQuote(`https://${options.listen}/`)}; rc=$?`,
    '  [ "$rc" -eq 7 ] && break',
    '  n=$((n+1))',
    `  if [ "$n" -ge ${polls} ]; then mv -f ${parked} ${manifest}; echo ${shellQuote(`${pod} still answered on ${options.listen} ${Math.round(options.downTimeoutMs / 1000)}s after its manifest was moved out; manifest put back`)} "(curl exit $rc)" >&2; exit 3; fi`,
    '  sleep 0.5',
    'done',
    `mv -f ${parked} ${manifest}`,
  ].join('\n');
}

export async function restartStaticPod(transport: Transport, pod: StaticPod, options: RestartOptions): Promise<{ ok: true } | { ok: false; error: string }> {
  const result = await transport.run(shCommand(restartScript(pod, options)), { timeoutMs: options.downTimeoutMs + 30_000 });
  if (result.code === 0) return { ok: true };
  const why = result.timedOut ? 'the restart script timed out' : result.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${result.code ?? 'signal'}`;
  return { ok: false, error: `restart of ${pod} failed: ${why}` };
}

export const RESTART_KUBELET = 'systemctl daemon-reload && systemctl enable kubelet && systemctl restart kubelet';

/** (Re)starts the kubelet with its current files; fails naming the host and systemd's error. */
export const restartKubelet = (transport: Transport): Promise<string> => runChecked(transport, RESTART_KUBELET);
