/**
 * Real daemons inside test hosts. A host's paths are its private mounts, so an argv taken from a
 * rendered manifest (certs under /etc/kubernetes/pki, data under /var/lib/etcd) runs unchanged
 * once those files are written into the host.
 */
import type { HostProcess } from './testhosts/host-process.js';
import type { TestLab } from './testhosts/lab.js';
import { labProgram } from './kube-lab.js';
import { waitForTcp } from './wait.js';

export interface Endpoint {
  address: string;
  port: number;
}

/** Starts argv in a host and waits (default 20 s) until `ready` accepts TCP; stops it if it never does. */
export async function startDaemon(lab: TestLab, hostName: string, argv: readonly string[], ready: Endpoint, timeoutMs = 20_000): Promise<HostProcess> {
  const daemon = lab.spawn(hostName, argv);
  try {
    await waitForTcp(ready.address, ready.port, { timeoutMs, abortIf: () => daemon.assertRunning() });
  } catch (error) {
    await daemon.stop();
    const output = daemon.output().trim().split('\n').slice(-20).join('\n');
    throw new Error(`host ${hostName}: ${argv[0]} did not become ready on ${ready.address}:${ready.port}: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return daemon;
}

/** The value of `--flag=value` or `--flag value` in an argv. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    if (arg === flag) return argv[i + 1];
  }
  return undefined;
}

/** Where an etcd argv serves clients: the first non-loopback `--listen-client-urls` entry. */
export function etcdClientEndpoint(argv: readonly string[]): Endpoint {
  const urls = (flagValue(argv, '--listen-client-urls') ?? '').split(',').filter(Boolean).map((url) => new URL(url));
  const url = urls.find((candidate) => !candidate.hostname.startsWith('127.')) ?? urls[0];
  if (!url) throw new Error(`etcd argv has no --listen-client-urls: ${argv.join(' ')}`);
  return { address: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2379) };
}

/**
 * Runs a real etcd in a host with exactly this argv: the one kubeadm's etcd image carries (built by
 * scripts/ensure-kube-lab.mjs) when argv[0] is the manifest's bare `etcd`.
 */
export function startEtcd(lab: TestLab, hostName: string, argv: readonly string[], timeoutMs?: number): Promise<HostProcess> {
  const [program = 'etcd', ...args] = argv;
  const resolved = program === 'etcd' ? [labProgram('etcd'), ...args] : argv;
  return startDaemon(lab, hostName, resolved, etcdClientEndpoint(argv), timeoutMs);
}

/** argv for a plain-HTTP single-member etcd on a host's address, data in its private /var/lib/etcd. */
export function singleMemberEtcdArgv(name: string, address: string, dataDir = '/var/lib/etcd/member-data'): string[] {
  return [
    'etcd',
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://${address}:2379,http://127.0.0.1:2379`,
    `--advertise-client-urls=http://${address}:2379`,
    `--listen-peer-urls=http://${address}:2380`,
    `--initial-advertise-peer-urls=http://${address}:2380`,
    `--initial-cluster=${name}=http://${address}:2380`,
    '--initial-cluster-state=new',
  ];
}

/** Runs a real haproxy in the foreground (`-db`) in a host and waits for its frontend. */
export function startHaproxy(lab: TestLab, hostName: string, configFile: string, frontend: Endpoint, timeoutMs?: number): Promise<HostProcess> {
  return startDaemon(lab, hostName, ['haproxy', '-db', '-f', configFile], frontend, timeoutMs);
}
