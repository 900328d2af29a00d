#!/usr/bin/env node
// Installs the system tools the tests need (Debian packages) when any is missing.
// `npm test` calls this before vitest; CI is a fresh Debian 12 machine, as root.
// Fast path: only PATH look-ups, no subprocess, so it is a no-op in well under a second.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tool → Debian package that ships it; `null` means it must already be on the machine. */
/** @type {Record<string, string | null>} */
const TOOLS = {
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'ssh-agent': 'openssh-client',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  haproxy: 'haproxy',
  openssl: 'openssl',
  ip: 'iproute2',
  sudo: 'sudo',
  curl: 'curl',
  // kbuild's preflight requires these on every kubelet host, test hosts included.
  conntrack: 'conntrack',
  iptables: 'iptables',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  flock: 'util-linux',
  setpriv: 'util-linux',
  kubectl: null,
};

/** Daemons a package's maintainer script may start; none may keep a default port busy. */
const DAEMONS = ['etcd', 'haproxy', 'sshd'];
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const LOCK_FILE = '/tmp/kbuild-ensure-system-deps.lock';
const LOCKED_ENV = 'KBUILD_SYSTEM_DEPS_LOCKED';
const PREFIX = 'ensure-system-deps:';

// sbin directories are searched too: a non-root PATH often lacks them, and sshd lives there.
const SEARCH_DIRS = [...new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'])].filter(Boolean);

/** @param {string} name @returns {string | null} */
function findTool(name) {
  for (const dir of SEARCH_DIRS) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** @returns {string[]} */
function missingTools() {
  return Object.keys(TOOLS).filter((tool) => findTool(tool) === null);
}

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`${PREFIX} ${message}`);
  process.exit(1);
}

/** @param {string[]} argv @param {NodeJS.ProcessEnv} env */
function run(argv, env) {
  const [command = '', ...args] = argv;
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`\`${argv.join(' ')}\` exited ${result.status ?? result.signal}:\n${tail}`);
  }
}

/** Processes named like our daemons, running in this network namespace. @returns {Map<number, {comm: string, ppid: number}>} */
function daemonPids() {
  const ownNet = readlinkSync('/proc/self/ns/net');
  /** @type {Map<number, {comm: string, ppid: number}>} */
  const found = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (!DAEMONS.includes(comm)) continue;
      if (readlinkSync(`/proc/${entry}/ns/net`) !== ownNet) continue;
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      found.set(Number(entry), { comm, ppid });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/**
 * Stops daemons that appeared during the install: new, in the root network namespace and
 * daemonized (parent is init) — that is how an init script starts them. Test-harness daemons
 * run in their own namespaces under the test runner, so they are never matched.
 */
/** @param {Map<number, unknown>} before @returns {string[]} */
function stopNewDaemons(before) {
  const stopped = [];
  for (const [pid, { comm, ppid }] of daemonPids()) {
    if (before.has(pid) || ppid !== 1) continue;
    try {
      process.kill(pid, 'SIGTERM');
      stopped.push(`${comm}(${pid})`);
    } catch {
      // already gone
    }
  }
  return stopped;
}

/** Blocks daemon start-up during install; puts back whatever was there before, even on failure. */
/** @param {() => void} action */
function withPolicyRcD(action) {
  const backup = `${POLICY_RC_D}.kbuild-backup-${process.pid}`;
  const hadOne = existsSync(POLICY_RC_D);
  if (hadOne) renameSync(POLICY_RC_D, backup);
  try {
    writeFileSync(POLICY_RC_D, '#!/bin/sh\n# Written by kbuild scripts/ensure-system-deps.mjs during apt-get install.\nexit 101\n', { mode: 0o755 });
    action();
  } finally {
    rmSync(POLICY_RC_D, { force: true });
    if (hadOne) renameSync(backup, POLICY_RC_D);
  }
}

/** @param {string[]} missing */
function install(missing) {
  const withoutPackage = missing.filter((tool) => TOOLS[tool] === null);
  if (withoutPackage.length > 0) {
    fail(`${withoutPackage.join(', ')} not found on PATH (${SEARCH_DIRS.join(':')}). It is not installed by this script: install kubectl on this machine (it is expected to be present) and run again.`);
  }
  const packages = [...new Set(missing.map((tool) => TOOLS[tool] ?? ''))];
  if (process.getuid?.() !== 0) {
    fail(`missing ${missing.join(', ')}. Run as root, or install them yourself: sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`);
  }
  if (!existsSync('/usr/bin/apt-get')) {
    fail(`missing ${missing.join(', ')} and apt-get is not available: install the packages ${packages.join(', ')} with this system's package manager.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt user (e.g. unattended upgrades) may hold the lock: wait for it rather than fail.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  const daemonsBefore = daemonPids();
  let stopped = [];
  try {
    withPolicyRcD(() => {
      run(['apt-get', ...lockWait, 'update', '-q'], env);
      run(['apt-get', ...lockWait, 'install', '-y', '-q', '--no-install-recommends', ...packages], env);
    });
  } catch (error) {
    fail(`installing ${packages.join(' ')} failed: ${error instanceof Error ? error.message : String(error)}\nFix the apt problem above (network, sources, dpkg lock) and run again: node scripts/ensure-system-deps.mjs`);
  } finally {
    stopped = stopNewDaemons(daemonsBefore);
  }
  const still = missingTools();
  if (still.length > 0) fail(`installed ${packages.join(' ')} but still missing ${still.join(', ')}; check the packages' contents (dpkg -L).`);
  const stoppedNote = stopped.length > 0 ? `; stopped daemons the packages started: ${stopped.join(', ')}` : '';
  console.log(`${PREFIX} installed ${packages.join(' ')} (for ${missing.join(', ')})${stoppedNote}`);
}

const missing = missingTools();
if (missing.length === 0) {
  console.log(`${PREFIX} all ${Object.keys(TOOLS).length} system tools present, nothing to do`);
} else if (process.env[LOCKED_ENV] === '1' || findTool('flock') === null || process.getuid?.() !== 0) {
  install(missing);
} else {
  // Serialize concurrent runs: two installs would fight over policy-rc.d. Re-run under flock;
  // the locked run checks again, so a waiting run finds the work already done.
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(findTool('flock') ?? 'flock', ['-w', '900', LOCK_FILE, process.execPath, self], {
    stdio: 'inherit',
    env: { ...process.env, [LOCKED_ENV]: '1' },
  });
  process.exit(result.status ?? 1);
}
