/** Bounded waits for test daemons. */
import { connect } from 'node:net';
import { sleep } from './testhosts/processes.js';

/** Whether a TCP connection to address:port succeeds within `timeoutMs`. */
export function canConnect(address: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitForTcpOptions {
  timeoutMs?: number;
  /** Checked between attempts: throw to stop waiting early (e.g. the daemon exited). */
  abortIf?: () => void;
}

/** Waits until address:port accepts a TCP connection; throws after the deadline (default 10 s). */
export async function waitForTcp(address: string, port: number, options: WaitForTcpOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.abortIf?.();
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`nothing accepted TCP connections on ${address}:${port} within ${timeoutMs} ms`);
    if (await canConnect(address, port, Math.min(1_000, left))) return;
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
  }
}
