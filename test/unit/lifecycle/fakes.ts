/** Scripted hosts for lifecycle tests: backups, restarts and health probes answered like a healthy cluster. */
import type { Cluster } from '../../../src/config/model.js';
import { FakeTransport, type FakeRule } from '../../support/fake-transport.js';

/** Gate timing for scripted hosts: short bounds, no real waiting. */
export const FAST_GATES = { gateTimeoutMs: 50, gateIntervalMs: 10, downTimeoutMs: 1000, delay: async () => {} };

/** HAProxy's CSV statistics with every control plane of the apiserver backend in `state`. */
export const haproxyCsv = (cluster: Cluster, state: (server: string) => string = () => 'UP'): string =>
  ['# pxname,svname,qcur,status', 'apiserver,FRONTEND,0,OPEN', ...cluster.controlPlanes.map((h) => `apiserverbackend,${h.name},0,${state(h.name)}`), 'apiserverbackend,BACKEND,0,UP', ''].join('\n');

/**
 * Rules for a healthy host; `unhealthy(command)` may turn a probe into a failure. etcd member ids are
 * 1, 2, … in cluster order; the first member leads (a leadership hand-off does not change that here).
 * Load-balancer hosts answer HAProxy's admin socket with every apiserver UP; a handshake is served the
 * certificate file on disk.
 */
export function healthyRules(cluster: Cluster, unhealthy: (command: string) => string | undefined = () => undefined, host?: string): FakeRule[] {
  const ids = new Map(cluster.etcdMembers.map((m, i) => [m.name, String(i + 1)]));
  const members = JSON.stringify({ members: cluster.etcdMembers.map((m) => ({ ID: ids.get(m.name), name: m.name })) });
  const status = JSON.stringify({ header: { member_id: ids.get(host ?? '') ?? '0' }, leader: '1' });
  return [
    {
      match: (c) => c.startsWith('curl '),
      result: (c) => {
        const bad = unhealthy(c);
        if (bad !== undefined) return { code: 22, stderr: bad };
        if (c.includes('--unix-socket') && c.includes('action=')) return { stdout: 'http://localhost/;st=DONE' };
        if (c.includes('--unix-socket')) return { stdout: haproxyCsv(cluster) };
        if (c.includes('/health') && c.includes(':2382/health')) return { stdout: '{"health":"true"}' };
        if (c.includes('/v3/cluster/member/list')) return { stdout: members };
        if (c.includes('/v3/maintenance/status')) return { stdout: status };
        if (c.includes('/v3/maintenance/transfer-leadership')) return { stdout: '{}' };
        return { stdout: 'ok' };
      },
    },
    // A new TLS connection is served the certificate file on disk (etcd reads its files per handshake).
    { match: (c) => c.startsWith('sh -c') && c.includes('s_client'), result: (c) => (unhealthy(c) !== undefined ? { stdout: `served \nerror ${unhealthy(c)}\ndisk sha256 Fingerprint=AA:BB\n` } : { stdout: 'served sha256 Fingerprint=AA:BB\ndisk sha256 Fingerprint=AA:BB\n' }) },
    { match: (c) => c.startsWith('sh -c') && c.includes('umask 077'), result: { stdout: '' } },
    { match: (c) => c.startsWith('sh -c') && c.includes('parked-manifests'), result: { code: 0 } },
    { match: (c) => c.startsWith('sh -c') && c.includes('kbuild-restore'), result: { code: 0 } },
    { match: /^systemctl /, result: { code: 0 } },
    { match: /^test -S /, result: { code: 0 } },
  ];
}

export function fakeFleet(cluster: Cluster, unhealthy?: (host: string, command: string) => string | undefined): Map<string, FakeTransport> {
  return new Map(cluster.hosts.map((h) => [h.name, new FakeTransport(h.name, { rules: healthyRules(cluster, unhealthy ? (c) => unhealthy(h.name, c) : undefined, h.name) })]));
}

/** Every host's commands in one global order, tagged with the host. */
export function globalLog(fakes: Map<string, FakeTransport>, order: Array<{ host: string; command: string }>): void {
  for (const [host, fake] of fakes) {
    const run = fake.run.bind(fake);
    fake.run = (command, options) => {
      order.push({ host, command });
      return run(command, options);
    };
  }
}
