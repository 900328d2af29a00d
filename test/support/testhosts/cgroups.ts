/**
 * Each test host gets its own cgroup subtree in every cgroup v1 hierarchy of this machine, below the
 * test runner's own cgroup: `<hierarchy><runner's cgroup>/kbuild-testhosts/<run id>/<host>`. The
 * host's processes start inside it and in a cgroup namespace rooted there, with the hierarchies
 * mounted again inside the host — so its systemd, kubelet and runc see "/" and several kubelets never
 * share a cgroup root.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
const SUBTREE = 'kbuild-testhosts';
const RUN_ID = /^kbt[0-9a-f]{6}$/;

export interface CgroupHierarchy {
  /** Where this machine mounts it, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  /** `mount -o` options that mount the same hierarchy again, e.g. `memory` or `none,name=systemd`. */
  mountOptions: string;
  /** The test runner's cgroup in it, e.g. /process_api/7116f1… or /. */
  runnerPath: string;
}

/** Controllers (and name=) of a cgroup v1 mount's super options, sorted: the key /proc/self/cgroup also gives. */
function controllersOf(superOptions: string): string[] {
  return superOptions
    .split(',')
    .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent=') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr')
    .sort();
}

/** This machine's cgroup v1 hierarchies. A cgroup v2-only machine is not supported (the error says so). */
export function cgroupHierarchies(): CgroupHierarchy[] {
  const runnerPaths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers = '', path = '/'] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers) runnerPaths.set(controllers.split(',').sort().join(','), path);
  }
  const hierarchies: CgroupHierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const [before = '', after = ''] = line.split(' - ');
    const [fsType, , superOptions = ''] = after.split(' ');
    if (fsType !== 'cgroup') continue;
    const mountPoint = before.split(' ')[4] ?? '';
    const controllers = controllersOf(superOptions);
    const runnerPath = runnerPaths.get(controllers.join(','));
    if (!mountPoint.startsWith(`${CGROUP_ROOT}/`) || runnerPath === undefined) continue;
    const named = controllers.filter((c) => c.startsWith('name='));
    hierarchies.push({ mountPoint, mountOptions: named.length > 0 && named.length === controllers.length ? ['none', ...named].join(',') : controllers.join(','), runnerPath });
  }
  if (hierarchies.length === 0) throw new Error(`test hosts need the cgroup v1 hierarchies under ${CGROUP_ROOT} (none found in /proc/self/mountinfo): this harness does not support a cgroup v2-only machine yet`);
  return hierarchies;
}

const runDirIn = (h: CgroupHierarchy, runId: string) => join(h.mountPoint, h.runnerPath, SUBTREE, runId);

/** cgroup v1 cpuset groups start empty; a task can join only once cpus and mems are set. */
function inheritCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = join(dir, file);
    if (existsSync(own) && readFileSync(own, 'utf8').trim() === '') writeFileSync(own, readFileSync(join(dir, '..', file), 'utf8'));
  }
}

/** Creates the host's cgroup in every hierarchy; returns the directories (their cgroup.procs take the host's first process). */
export function createHostCgroups(hierarchies: readonly CgroupHierarchy[], runId: string, host: string): string[] {
  return hierarchies.map((h) => {
    const base = join(h.mountPoint, h.runnerPath);
    let dir = base;
    for (const part of [SUBTREE, runId, host]) {
      dir = join(dir, part);
      mkdirSync(dir, { recursive: true });
      inheritCpuset(dir);
    }
    return dir;
  });
}

/** Removes a cgroup tree bottom-up; a group still holding a process stays (returned, to name it in a message). */
function removeTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const left: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) left.push(...removeTree(join(dir, entry.name)));
  try {
    rmdirSync(dir);
  } catch {
    left.push(dir);
  }
  return left;
}

/** Removes a run's cgroups in every hierarchy; returns those that could not go yet (busy). */
export function removeRunCgroups(hierarchies: readonly CgroupHierarchy[], runId: string): string[] {
  return hierarchies.flatMap((h) => removeTree(runDirIn(h, runId)));
}

/** Run ids with cgroups below this runner (to sweep those of dead runs). */
export function runIdsWithCgroups(hierarchies: readonly CgroupHierarchy[]): string[] {
  const ids = new Set<string>();
  for (const h of hierarchies) {
    const dir = join(h.mountPoint, h.runnerPath, SUBTREE);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory() && RUN_ID.test(entry.name)) ids.add(entry.name);
  }
  return [...ids];
}

/** Shell lines that mount the hierarchies again inside a host (after its cgroup namespace is made). */
export function cgroupMountLines(hierarchies: readonly CgroupHierarchy[]): string[] {
  return [`mount -t tmpfs -o mode=0755 cgroup ${CGROUP_ROOT}`, ...hierarchies.flatMap((h) => [`mkdir -p ${h.mountPoint}`, `mount -t cgroup -o ${h.mountOptions} cgroup ${h.mountPoint}`])];
}
