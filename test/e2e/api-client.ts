/**
 * A client of the API during a roll-out: one GET every `intervalMs` on a fresh connection through
 * the endpoint (the VIP and HAProxy), with the admin's client certificate. A request fails when it
 * errors, times out or answers other than 200. Bounded in time.
 */
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ClientStats {
  ok: number;
  failed: Array<{ at: string; error: string }>;
}

function get(url: string, tls: { ca: string; cert: string; key: string }, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 160)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function startApiClient(url: string, tls: { ca: string; cert: string; key: string }, options: { intervalMs: number; timeoutMs: number; maxMs: number }) {
  const stats: ClientStats = { ok: 0, failed: [] };
  let stopped = false;
  const done = (async () => {
    const end = Date.now() + options.maxMs;
    while (!stopped && Date.now() < end) {
      const started = Date.now();
      try {
        await get(url, tls, options.timeoutMs);
        stats.ok++;
      } catch (error) {
        stats.failed.push({ at: new Date(started).toISOString(), error: (error as Error).message });
      }
      await sleep(Math.max(0, options.intervalMs - (Date.now() - started)));
    }
  })();
  return {
    stats,
    async stop(): Promise<ClientStats> {
      stopped = true;
      await done;
      return stats;
    },
  };
}
