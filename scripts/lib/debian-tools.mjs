// The one way kbuild's scripts make sure tools from Debian's packages are present: PATH (or absolute
// path) look-ups first, so a machine that has everything starts no subprocess; otherwise, as root,
// apt-get under one flock shared by every script (two installs would fight over dpkg and policy-rc.d).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const LOCK_FILE = '/tmp/kbuild-ensure-system-deps.lock';
const LOCKED_ENV = 'KBUILD_DEBIAN_TOOLS_LOCKED';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

// sbin directories are searched too: a non-root PATH often lacks them, and sshd lives there.
const SEARCH_DIRS = [...new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'])].filter(Boolean);

/** An absolute path is checked as it is; a bare name is looked up on PATH. @param {string} tool @returns {string | null} */
export function findTool(tool) {
  for (const candidate of tool.startsWith('/') ? [tool] : SEARCH_DIRS.map((dir) => join(dir, tool))) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** @param {string[]} argv */
function run(argv) {
  const [command = '', ...args] = argv;
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`\`${argv.join(' ')}\` exited ${result.status ?? result.signal}:\n${tail}`);
  }
}

/** Processes named like `daemons`, in this network namespace. @param {readonly string[]} daemons @returns {Map<number, {comm: string, ppid: number}>} */
function daemonPids(daemons) {
  const ownNet = readlinkSync('/proc/self/ns/net');
  /** @type {Map<number, {comm: string, ppid: number}>} */
  const found = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (!daemons.includes(comm)) continue;
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
 * @param {readonly string[]} daemons @param {Map<number, unknown>} before @returns {string[]}
 */
function stopNewDaemons(daemons, before) {
  const stopped = [];
  for (const [pid, { comm, ppid }] of daemonPids(daemons)) {
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

/** Blocks daemon start-up during install; puts back whatever was there before, even on failure. @param {() => void} action */
function withPolicyRcD(action) {
  const backup = `${POLICY_RC_D}.kbuild-backup-${process.pid}`;
  const hadOne = existsSync(POLICY_RC_D);
  if (hadOne) renameSync(POLICY_RC_D, backup);
  try {
    writeFileSync(POLICY_RC_D, '#!/bin/sh\n# Written by kbuild scripts/lib/debian-tools.mjs during apt-get install.\nexit 101\n', { mode: 0o755 });
    action();
  } finally {
    rmSync(POLICY_RC_D, { force: true });
    if (hadOne) renameSync(backup, POLICY_RC_D);
  }
}

/**
 * @typedef {object} EnsureOptions
 * @property {string} prefix first word of every line printed, e.g. "ensure-system-deps:"
 * @property {string} script the calling script's path (re-run under flock; named in messages)
 * @property {Record<string, string | null>} tools tool (name or absolute path) → Debian package; null: must already be present
 * @property {readonly string[]} [daemons] daemons the packages may start: blocked during install (policy-rc.d) and stopped if they still appear
 * @property {boolean} [noRecommends] install with --no-install-recommends
 * @property {string} present the line printed when nothing is missing
 */

/** Exits non-zero with an actionable message when tools are missing and cannot be installed. @param {EnsureOptions} options */
export function ensureDebianTools(options) {
  const { prefix, script, tools, daemons = [], noRecommends = false } = options;
  /** @param {string} message @returns {never} */
  const fail = (message) => {
    console.error(`${prefix} ${message}`);
    process.exit(1);
  };
  const missingTools = () => Object.keys(tools).filter((tool) => findTool(tool) === null);

  const missing = missingTools();
  if (missing.length === 0) {
    console.log(`${prefix} ${options.present}`);
    return;
  }
  if (process.env[LOCKED_ENV] !== '1' && findTool('flock') !== null && process.getuid?.() === 0) {
    // Re-run under flock; the locked run checks again, so a waiting run finds the work done.
    const result = spawnSync(findTool('flock') ?? 'flock', ['-w', '900', LOCK_FILE, process.execPath, script], { stdio: 'inherit', env: { ...process.env, [LOCKED_ENV]: '1' } });
    process.exit(result.status ?? 1);
  }

  const withoutPackage = missing.filter((tool) => tools[tool] === null);
  if (withoutPackage.length > 0) {
    fail(`${withoutPackage.join(', ')} not found on PATH (${SEARCH_DIRS.join(':')}). This script does not install it: it is expected to be on this machine already.`);
  }
  const packages = [...new Set(missing.map((tool) => tools[tool] ?? ''))];
  const flags = noRecommends ? ['--no-install-recommends'] : [];
  if (process.getuid?.() !== 0) fail(`missing ${missing.join(', ')}. Run as root, or install them yourself: sudo apt-get install -y ${[...flags, ...packages].join(' ')}`);
  if (!existsSync('/usr/bin/apt-get')) fail(`missing ${missing.join(', ')} and apt-get is not available: install the packages ${packages.join(', ')} with this system's package manager.`);
  // Another apt user (e.g. unattended upgrades) may hold the dpkg lock: wait for it rather than fail.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  const install = () => {
    run(['apt-get', ...lockWait, 'update', '-q']);
    run(['apt-get', ...lockWait, 'install', '-y', '-q', ...flags, ...packages]);
  };
  const daemonsBefore = daemonPids(daemons);
  let stopped = [];
  try {
    if (daemons.length > 0) withPolicyRcD(install);
    else install();
  } catch (error) {
    fail(`installing ${packages.join(' ')} failed: ${error instanceof Error ? error.message : String(error)}\nFix the apt problem above (network, sources, dpkg lock) and run again: node ${script}`);
  } finally {
    stopped = stopNewDaemons(daemons, daemonsBefore);
  }
  const still = missingTools();
  if (still.length > 0) fail(`installed ${packages.join(' ')} but still missing ${still.join(', ')}; check the packages' contents (dpkg -L).`);
  const stoppedNote = stopped.length > 0 ? `; stopped daemons the packages started: ${stopped.join(', ')}` : '';
  console.log(`${prefix} installed ${packages.join(' ')} (for ${missing.join(', ')})${stoppedNote}`);
}
