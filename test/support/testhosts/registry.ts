/**
 * Who owns which test-host resources. Every run writes an owner file (pid + start time) before
 * creating anything, so a later run can tell a live parallel lab from a leftover of a crashed one
 * and sweep only the leftovers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nthAddress, overlaps, parseCidr, type Cidr } from '../../../src/net/cidr.js';
import { isRunning, processStartTicks, runSync, signal } from './processes.js';

/** Every namespace, link and run directory of the harness starts with this. */
export const NAME_PREFIX = 'kbt';
export const REGISTRY_DIR = '/tmp/kbuild-testhosts';
/** Test-only /24s are carved from here, one per run. */
const SUBNET_BASE = '10.250';

const RUN_ID = /^kbt[0-9a-f]{6}$/;

export function newRunId(): string {
  return `${NAME_PREFIX}${randomBytes(3).toString('hex')}`;
}

/** The run id a namespace or link name belongs to, if it is one of ours. */
export function runIdOf(name: string): string | undefined {
  const match = /^(kbt[0-9a-f]{6})/.exec(name);
  return match?.[1];
}

export function runDir(runId: string): string {
  return join(REGISTRY_DIR, runId);
}

export function registerOwner(runId: string): string {
  const dir = runDir(runId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid) }));
  return dir;
}

/** The run's owner process (pid + start time in owner.json) still runs. */
export function ownerAlive(runId: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(join(runDir(runId), 'owner.json'), 'utf8')) as { pid: number; startTicks?: string };
    return isRunning(owner.pid) && processStartTicks(owner.pid) === owner.startTicks;
  } catch {
    return false;
  }
}

export function listNetns(): string[] {
  return runSync(['ip', 'netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

export function listLinks(): string[] {
  const result = runSync(['ip', '-j', 'link', 'show']);
  const links = JSON.parse(result.stdout || '[]') as { ifname: string }[];
  return links.map((link) => link.ifname);
}

/** Kills everything inside a network namespace and deletes it. */
export function destroyNetns(name: string): void {
  for (const pid of runSync(['ip', 'netns', 'pids', name]).stdout.split(/\s+/).filter(Boolean)) {
    signal(Number(pid), 'SIGKILL');
  }
  runSync(['ip', 'netns', 'delete', name]);
}

/** Removes namespaces, links, claims and directories of runs whose owner process is gone. */
export function sweepStaleRuns(): string[] {
  const swept = new Set<string>();
  const stale = (name: string): string | undefined => {
    const id = runIdOf(name);
    return id !== undefined && !ownerAlive(id) ? id : undefined;
  };
  for (const ns of listNetns()) {
    const id = stale(ns);
    if (id) {
      destroyNetns(ns);
      swept.add(id);
    }
  }
  for (const link of listLinks()) {
    const id = stale(link);
    if (id) {
      runSync(['ip', 'link', 'delete', link]);
      swept.add(id);
    }
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(REGISTRY_DIR);
  } catch {
    return [...swept];
  }
  for (const entry of entries) {
    const claimOwner = /^subnet-\d+$/.test(entry) ? readClaim(join(REGISTRY_DIR, entry)) : undefined;
    const id = RUN_ID.test(entry) ? entry : claimOwner;
    if (id !== undefined && !ownerAlive(id)) {
      rmSync(join(REGISTRY_DIR, entry), { recursive: true, force: true });
      swept.add(id);
    }
  }
  return [...swept];
}

function readClaim(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** IPv4 networks this machine is attached to or routes to (default route excepted). */
function networksInUse(): Cidr[] {
  const found: Cidr[] = [];
  const routes = JSON.parse(runSync(['ip', '-j', '-4', 'route', 'show', 'table', 'all']).stdout || '[]') as { dst?: string }[];
  for (const { dst } of routes) {
    if (!dst || dst === 'default') continue;
    const cidr = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
    if (cidr) found.push(cidr);
  }
  const links = JSON.parse(runSync(['ip', '-j', '-4', 'addr', 'show']).stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
  for (const link of links) {
    for (const info of link.addr_info ?? []) {
      const cidr = parseCidr(`${info.local}/${info.prefixlen}`);
      if (cidr) found.push(cidr);
    }
  }
  return found;
}

export interface SubnetClaim {
  cidr: Cidr;
  /** The root namespace's address on the bridge. */
  gateway: string;
  claimFile: string;
  /** The address for host number `index` (0-based): .11, .12, ... */
  hostAddress(index: number): string;
}

/**
 * Claims a free 10.250.N.0/24: free of every route and address on this machine and of every other
 * live run (claim files are created exclusively, so two runs never get the same N).
 */
export function claimSubnet(runId: string): SubnetClaim {
  mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o700 });
  const inUse = networksInUse();
  const start = randomBytes(1)[0] ?? 0;
  for (let step = 0; step < 256; step++) {
    const n = (start + step) % 256;
    const cidr = parseCidr(`${SUBNET_BASE}.${n}.0/24`)!;
    if (inUse.some((other) => overlaps(cidr, other))) continue;
    const claimFile = join(REGISTRY_DIR, `subnet-${n}`);
    try {
      writeFileSync(claimFile, runId, { flag: 'wx' });
    } catch {
      continue; // another live run holds it
    }
    return { cidr, gateway: nthAddress(cidr, 1), claimFile, hostAddress: (index) => nthAddress(cidr, 11 + index) };
  }
  throw new Error(`no free /24 in ${SUBNET_BASE}.0.0/16 for test hosts: every one overlaps a route or is claimed in ${REGISTRY_DIR}`);
}
