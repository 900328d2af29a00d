/**
 * Everything preflight needs from a host, gathered with one compound command (one round trip)
 * and parsed by pure functions. Missing tools show up as empty sections, never as a failed run.
 */
import { RemoteCommandError } from '../errors/index.js';
import { OPTIONAL_CA_DIRS, type HostEnvironment } from '../kubeadm/host-environment.js';
import type { Transport } from '../transport/transport.js';
import { PATHS } from '../kubeadm/constants.js';
import { shellQuote } from '../transport/quote.js';

export interface HostFacts extends HostEnvironment {
  uid: number | undefined;
  hostname: string;
  /** Host clock, seconds since the epoch. */
  epochSeconds: number | undefined;
  /** Binary name → found on PATH. */
  binaries: Record<string, boolean>;
  /** Paths that exist (files, sockets). */
  existing: Set<string>;
  swapActive: boolean;
  ipv4Forwarding: string;
  ipv6Forwarding: string;
  listeningPorts: Set<number>;
  addresses: Array<{ ifname: string; local: string; prefixlen: number }>;
  routes: Array<{ dst: string; dev?: string; protocol?: string }>;
  caDirs: string[];
  /** The --data-dir of the etcd manifest on the host, when it has one. */
  etcdDataDir?: string;
}

export const REQUIRED_BINARIES = ['kubelet', 'conntrack', 'ip', 'iptables', 'mount', 'nsenter'] as const;
/** Health gates probe from the host itself with curl. */
export const PROBE_BINARY = 'curl';

const SECTION = '@@kbuild:';

/**
 * kubeadm's ServiceIsActive("systemd-resolved") (util/initsystem): with systemctl on PATH, what
 * `systemctl is-active` prints; else with openrc, what `rc-service … status` prints, stderr included.
 */
const RESOLVED =
  'if command -v systemctl >/dev/null 2>&1; then echo systemd; systemctl is-active systemd-resolved; ' +
  'elif command -v openrc >/dev/null 2>&1; then echo openrc; rc-service systemd-resolved status 2>&1; fi; true';

export function factsCommand(pathsToTest: readonly string[]): string {
  const binaries = [...REQUIRED_BINARIES, PROBE_BINARY].map((b) => `command -v ${b} >/dev/null 2>&1 && echo ${b}`).join('; ');
  const paths = pathsToTest.map((p) => `[ -e '${p.replace(/'/g, `'\\''`)}' ] && echo '${p.replace(/'/g, `'\\''`)}'`).join('; ');
  const section = (name: string, body: string) => `echo '${SECTION}${name}'; { ${body}; } 2>/dev/null`;
  return [
    section('uid', 'id -u'),
    section('hostname', 'hostname'),
    section('epoch', 'date +%s'),
    section('binaries', `${binaries || 'true'}; true`),
    section('paths', `${paths || 'true'}; true`),
    section('swaps', 'cat /proc/swaps'),
    section('ip_forward', 'cat /proc/sys/net/ipv4/ip_forward'),
    section('ipv6_forwarding', 'cat /proc/sys/net/ipv6/conf/default/forwarding'),
    section('listen', 'ss -Htln'),
    section('addr', 'ip -j addr'),
    section('route4', 'ip -j -4 route'),
    section('resolved', RESOLVED),
    section('ca_dirs', `for d in ${OPTIONAL_CA_DIRS.join(' ')}; do [ -e "$d" ] && echo "$d"; done; true`),
    // The flag as a YAML list item, quoted or not: - '--data-dir=/var/lib/etcd'
    section('etcd_data_dir', `sed -n -E ${shellQuote(`s/^ *- *["']?--data-dir=([^"']*).*/\\1/p`)} ${PATHS.manifests}/etcd.yaml; true`),
    // Last: its marker shows the command ran to the end (gatherFacts).
    section('route6', 'ip -j -6 route'),
  ].join('; ');
}

const FACTS_TIMEOUT_MS = 30_000;

/**
 * Runs the facts command. Output missing its last section means the command did not run to the end
 * (timed out, killed, no shell): that is one clear error, not a list of tools that seem to be missing.
 */
export async function gatherFacts(transport: Transport, pathsToTest: readonly string[]): Promise<HostFacts> {
  const command = factsCommand(pathsToTest);
  const result = await transport.run(command, { timeoutMs: FACTS_TIMEOUT_MS, readOnly: true });
  if (result.timedOut || !result.stdout.includes(`${SECTION}route6`)) {
    const why = result.timedOut ? `timed out after ${FACTS_TIMEOUT_MS / 1000} s` : `stopped early (exit ${result.code ?? 'by a signal'})`;
    throw new RemoteCommandError(transport.name, 'preflight fact gathering (id, hostname, date, ss, ip …)', result.code, `${why}. ${result.stderr}`);
  }
  return parseFacts(result.stdout);
}

export function parseFacts(stdout: string): HostFacts {
  const sections = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION)) {
      current = line.slice(SECTION.length);
      sections.set(current, '');
    } else if (current !== undefined) {
      sections.set(current, `${sections.get(current)}${line}\n`);
    }
  }
  const text = (name: string) => (sections.get(name) ?? '').trim();
  const lines = (name: string) => text(name).split('\n').filter(Boolean);
  const json = <T>(name: string): T[] => {
    try {
      const value = JSON.parse(text(name) || '[]') as unknown;
      return Array.isArray(value) ? (value as T[]) : [];
    } catch {
      return [];
    }
  };
  const uid = Number.parseInt(text('uid'), 10);
  const epoch = Number.parseInt(text('epoch'), 10);
  const found = new Set(lines('binaries'));
  const ports = new Set<number>();
  for (const line of lines('listen')) {
    // "LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:*" — the local address is the fourth column.
    const local = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  const existingCaDirs = new Set(lines('ca_dirs'));
  type Link = { ifname: string; addr_info?: Array<{ local: string; prefixlen: number; family: string }> };
  return {
    uid: Number.isNaN(uid) ? undefined : uid,
    hostname: text('hostname'),
    epochSeconds: Number.isNaN(epoch) ? undefined : epoch,
    binaries: Object.fromEntries([...REQUIRED_BINARIES, PROBE_BINARY].map((b) => [b, found.has(b)])),
    existing: new Set(lines('paths')),
    swapActive: lines('swaps').length > 1,
    ipv4Forwarding: text('ip_forward'),
    ipv6Forwarding: text('ipv6_forwarding'),
    listeningPorts: ports,
    addresses: json<Link>('addr').flatMap((link) => (link.addr_info ?? []).map((a) => ({ ifname: link.ifname, local: a.local, prefixlen: a.prefixlen }))),
    routes: [...json<{ dst: string; dev?: string; protocol?: string }>('route4'), ...json<{ dst: string; dev?: string; protocol?: string }>('route6')],
    systemdResolved: serviceActive(lines('resolved')),
    caDirs: OPTIONAL_CA_DIRS.filter((d) => existingCaDirs.has(d)),
    ...(lines('etcd_data_dir').length > 0 ? { etcdDataDir: lines('etcd_data_dir')[0]! } : {}),
  };
}

/** kubeadm's reading: systemd's "active" or "activating"; OpenRC's status neither "stopped" nor "does not exist". */
function serviceActive([initSystem, ...output]: string[]): boolean {
  const text = output.join('\n');
  if (initSystem === 'systemd') return text.trim() === 'active' || text.trim() === 'activating';
  if (initSystem === 'openrc') return !text.includes('stopped') && !text.includes('does not exist');
  return false;
}

/** What the renderers take from these facts (src/kubeadm/host-environment.ts): no more than they need. */
export const hostEnvironment = (facts: HostFacts): HostEnvironment => ({ systemdResolved: facts.systemdResolved, caDirs: [...facts.caDirs] });
