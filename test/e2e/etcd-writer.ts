/**
 * A client that keeps writing to etcd during a roll-out: one put every `intervalMs` through the v3
 * HTTP gateway with the apiserver-etcd-client certificate. Like any HA etcd client it fails over to
 * the next member when one does not answer; a write counts as failed only when no member accepted
 * it within `budgetMs`. Bounded in time.
 */
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WriterStats {
  ok: number;
  failed: Array<{ at: string; errors: string[] }>;
}

function put(address: string, tls: { ca: string; cert: string; key: string }, key: string, value: string, timeoutMs: number): Promise<void> {
  const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 2382, path: '/v3/kv/put', method: 'POST', ...tls, timeout: timeoutMs, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 && text.includes('"revision"') ? resolve() : reject(new Error(`${address}: HTTP ${res.statusCode}: ${text.slice(0, 120)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${address}: timed out`)));
    req.on('error', (e) => reject(new Error(`${address}: ${e.message}`)));
    req.end(body);
  });
}

export function startEtcdWriter(members: string[], tls: { ca: string; cert: string; key: string }, options: { intervalMs: number; budgetMs: number; maxMs: number }) {
  const stats: WriterStats = { ok: 0, failed: [] };
  let stopped = false;
  const done = (async () => {
    const end = Date.now() + options.maxMs;
    for (let i = 0; !stopped && Date.now() < end; i++) {
      const deadline = Date.now() + options.budgetMs;
      const errors: string[] = [];
      let written = false;
      for (let attempt = 0; !written && Date.now() < deadline; attempt++) {
        const member = members[(i + attempt) % members.length]!;
        try {
          await put(member, tls, `/kbuild-e2e/writer/${i}`, new Date().toISOString(), Math.min(1000, Math.max(50, deadline - Date.now())));
          written = true;
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
      if (written) stats.ok++;
      else stats.failed.push({ at: new Date().toISOString(), errors });
      await sleep(options.intervalMs);
    }
  })();
  return {
    stats,
    async stop(): Promise<WriterStats> {
      stopped = true;
      await done;
      return stats;
    },
  };
}
