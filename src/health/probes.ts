/**
 * Health probes as curl commands run on a host through its transport, and the interpretation of
 * their output. Running on the host means probes work through bastions and NAT and check TLS the way
 * the components themselves see it. Pure: building a command and reading a result do no I/O.
 */
import type { Cluster, Host } from '../config/model.js';
import { endpointUrl, hostPort, hostsWithRole } from '../config/model.js';
import type { CommandResult, Transport } from '../transport/transport.js';
import { isIP } from 'node:net';
import { shCommand, shellQuote } from '../transport/quote.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';

/** curl that fails on HTTP errors, prints the body, and gives up quickly so the gate can retry. */
const curl = (...args: string[]) => ['curl', '-sS', '--fail-with-body', '--max-time', '5', ...args].map(shellQuote).join(' ');

/** One look at a component's health: healthy, or what was seen instead. */
export type GateCheck = { ok: true } | { ok: false; seen: string };

export interface Probe {
  command: string;
  interpret(result: CommandResult): GateCheck;
}

const seen = (result: CommandResult): string => {
  const text = `${result.stderr.trim()} ${result.stdout.trim()}`.trim().replace(/\s+/g, ' ');
  return result.timedOut ? 'probe timed out' : text.slice(0, 300) || `curl exited with ${result.code ?? 'a signal'}`;
};

const expectBody = (pattern: RegExp, what: string) => (result: CommandResult): GateCheck => {
  if (result.code !== 0) return { ok: false, seen: seen(result) };
  return pattern.test(result.stdout) ? { ok: true } : { ok: false, seen: `${what}: ${result.stdout.trim().slice(0, 200)}` };
};

const etcdClientArgs = [`--cacert`, `${PATHS.etcdPki}/ca.crt`, `--cert`, `${PATHS.etcdPki}/healthcheck-client.crt`, `--key`, `${PATHS.etcdPki}/healthcheck-client.key`];
const loopback = (host: Host) => (host.address.includes(':') ? '[::1]' : '127.0.0.1');

/** etcd's /health on this member over TLS with the healthcheck-client certificate; true needs a leader. */
export function etcdHealth(host: Host): Probe {
  return { command: curl(...etcdClientArgs, `https://${loopback(host)}:${PORTS.etcdClientHttp}/health`), interpret: expectBody(/"health"\s*:\s*"true"/, 'etcd /health answered') };
}

/** Quorum: the member list seen from this member has every expected member, all started. */
export function etcdMembers(host: Host, expected: readonly string[]): Probe {
  return {
    command: curl(...etcdClientArgs, '-X', 'POST', '-d', '{}', `https://${loopback(host)}:${PORTS.etcdClientHttp}/v3/cluster/member/list`),
    interpret(result) {
      if (result.code !== 0) return { ok: false, seen: seen(result) };
      let names: string[];
      try {
        names = ((JSON.parse(result.stdout) as { members?: Array<{ name?: string }> }).members ?? []).map((m) => m.name ?? '');
      } catch {
        return { ok: false, seen: `member list is not JSON: ${result.stdout.slice(0, 100)}` };
      }
      const missing = expected.filter((n) => !names.includes(n));
      return missing.length === 0 ? { ok: true } : { ok: false, seen: `members ${names.join(',') || 'none'}; not yet started: ${missing.join(',')}` };
    },
  };
}

/** /readyz on the host's own address, verified against the cluster CA: the SAN for that address must match. */
export function apiserverReady(cluster: Cluster, host: Host): Probe {
  return {
    command: curl('--cacert', `${PATHS.pki}/ca.crt`, `https://${hostPort(host.address, cluster.apiServer.bindPort)}/readyz`),
    interpret: expectBody(/^ok/m, '/readyz answered'),
  };
}

/** /readyz through the load balancer, by the endpoint's name (resolved to the VIP or a load-balancer host). */
export function apiserverViaEndpoint(cluster: Cluster): Probe {
  const { host, port } = cluster.endpoint;
  const target = cluster.loadBalancer.vip ?? hostsWithRole(cluster, 'load-balancer')[0]?.address;
  const resolve = target && !/^[0-9.]+$|:/.test(host) ? ['--resolve', `${host}:${port}:${target.includes(':') ? `[${target}]` : target}`] : [];
  return { command: curl('--cacert', `${PATHS.pki}/ca.crt`, ...resolve, `${endpointUrl(cluster)}/readyz`), interpret: expectBody(/^ok/m, '/readyz answered') };
}

/**
 * controller-manager and scheduler serve /healthz with a self-signed certificate they generate
 * themselves (kubeadm does not give them one), so there is no CA to verify against: -k.
 */
export function componentHealthz(port: typeof PORTS.controllerManager | typeof PORTS.scheduler): Probe {
  return { command: curl('-k', `https://127.0.0.1:${port}/healthz`), interpret: expectBody(/^ok/m, '/healthz answered') };
}

export function kubeletHealthz(): Probe {
  return { command: curl(`http://127.0.0.1:${PORTS.kubeletHealthz}/healthz`), interpret: expectBody(/^ok/m, '/healthz answered') };
}

/**
 * On a load-balancer host: its own frontend, addressed by the endpoint's name or IP (so TLS checks the
 * SAN clients use) but connected to locally, verified against the CA file HAProxy ships.
 */
export function loadBalancerFrontend(cluster: Cluster, caFile: string): Probe {
  const { host, port } = cluster.endpoint;
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const connectTo = `${bracket(host)}:${port}:127.0.0.1:${cluster.loadBalancer.port}`;
  return { command: curl('--cacert', caFile, '--connect-to', connectTo, `${endpointUrl(cluster)}/readyz`), interpret: expectBody(/^ok/m, '/readyz answered') };
}

export interface ServedCertificateCheck {
  /** host:port to connect to. */
  connect: string;
  /** The address (or name) the served certificate must be valid for: the one clients use. */
  address: string;
  /** The CA file on the host the chain must lead to. */
  caFile: string;
  /** The client certificate and key to present (etcd requires one on every port); none for a server that asks for none. */
  client?: { cert: string; key: string };
  /** The certificate file on the host that must be the one served. */
  file: string;
}

/**
 * A new TLS connection is served exactly the certificate in `file` (same SHA-256), valid for the
 * address clients use and signed by the CA: for a server that reads its certificate files again per
 * handshake (etcd) or reloads them when they change (kube-apiserver's serving certificate) this is
 * "loaded the new certificate", checked the way a new client or peer sees it.
 */
export function servesCertificateFile(check: ServedCertificateCheck): Probe {
  const { connect, address, caFile, client, file } = check;
  const fingerprint = 'openssl x509 -noout -fingerprint -sha256';
  const name = isIP(address) === 0 ? ['-verify_hostname', address] : ['-verify_ip', address];
  const identity = client ? ['-cert', client.cert, '-key', client.key] : [];
  const handshake = ['timeout', '10', 'openssl', 's_client', '-connect', connect, '-CAfile', caFile, '-verify_return_error', ...name, ...identity].map(shellQuote).join(' ');
  return {
    // s_client's own words when no certificate came back (refused, an alert, a failed verification).
    command: shCommand(
      `o=$(${handshake} </dev/null 2>&1); s=$(printf '%s\n' "$o" | ${fingerprint} 2>/dev/null); e=$(printf '%s\n' "$o" | grep -iE 'errno|error|alert|refused' | head -n 1); ` +
        `d=$(${fingerprint} -in ${shellQuote(file)} 2>&1); printf 'served %s\nerror %s\ndisk %s\n' "$s" "$e" "$d"`,
    ),
    interpret(result) {
      const line = (key: string) => result.stdout.split('\n').find((l) => l.startsWith(`${key} `))?.slice(key.length + 1).trim() ?? '';
      const [served, disk] = [line('served'), line('disk')].map((l) => /Fingerprint=([0-9A-F:]+)/i.exec(l)?.[1]?.toUpperCase());
      if (result.code !== 0 || result.timedOut) return { ok: false, seen: seen(result) };
      if (disk === undefined) return { ok: false, seen: `${file}: ${line('disk').slice(0, 200) || 'not a certificate'}` };
      if (served === undefined) return { ok: false, seen: `no verified certificate from ${connect} for ${address}: ${line('error').slice(0, 200) || 'no TLS handshake'}` };
      return served === disk ? { ok: true } : { ok: false, seen: `${connect} serves a certificate other than ${file} (SHA-256 ${served.slice(0, 23)}… instead of ${disk.slice(0, 23)}…)` };
    },
  };
}

/** Runs a probe on the host it is about (read-only, bounded) and reads the result. */
export async function runProbe(transport: Transport, probe: Probe): Promise<GateCheck> {
  return probe.interpret(await transport.run(probe.command, { timeoutMs: 15_000, readOnly: true }));
}

/** Named probes in order; the first unhealthy one is what was seen. */
export async function probeAll(transport: Transport, probes: ReadonlyArray<[name: string, probe: Probe]>): Promise<GateCheck> {
  for (const [name, probe] of probes) {
    const result = await runProbe(transport, probe);
    if (!result.ok) return { ok: false, seen: `${name}: ${result.seen}` };
  }
  return { ok: true };
}

/** A control plane's components on its own host, in startup order: kubeadm's wait-control-plane. */
export function controlPlaneProbes(cluster: Cluster, host: Host): Array<[string, Probe]> {
  return [
    ['kubelet', kubeletHealthz()],
    ...(cluster.etcd.topology === 'stacked' ? [['etcd', etcdHealth(host)] as [string, Probe]] : []),
    ['kube-apiserver', apiserverReady(cluster, host)],
    ['kube-controller-manager', componentHealthz(PORTS.controllerManager)],
    ['kube-scheduler', componentHealthz(PORTS.scheduler)],
  ];
}
