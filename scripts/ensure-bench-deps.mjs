#!/usr/bin/env node
// Installs what `npm run bench` needs beyond the test tools (scripts/ensure-system-deps.mjs):
// Debian's `ansible`, the baseline the push benchmark measures kbuild against. Same approach as
// ensure-system-deps: PATH look-ups first (a no-op when present), root + apt-get otherwise,
// serialized under flock so parallel runs do not fight over dpkg.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path → Debian package that ships it. Absolute: a pip or pyenv Ansible earlier on PATH
 * is not the baseline, and the hosts run Ansible's modules with Debian's python3.
 */
const TOOLS = { '/usr/bin/ansible-playbook': 'ansible', '/usr/bin/python3': 'python3' };
const LOCK_FILE = '/tmp/kbuild-ensure-system-deps.lock'; // shared with ensure-system-deps: one apt user at a time
const LOCKED_ENV = 'KBUILD_BENCH_DEPS_LOCKED';
const PREFIX = 'ensure-bench-deps:';
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

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`${PREFIX} ${message}`);
  process.exit(1);
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

const missingTools = () =>
  Object.keys(TOOLS).filter((tool) => {
    try {
      accessSync(tool, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });

/** @param {string[]} missing */
function install(missing) {
  const packages = [...new Set(missing.map((tool) => TOOLS[tool]))];
  if (process.getuid?.() !== 0) fail(`missing ${missing.join(', ')}. Run as root, or install them yourself: sudo apt-get install -y ${packages.join(' ')}`);
  if (!existsSync('/usr/bin/apt-get')) fail(`missing ${missing.join(', ')} and apt-get is not available: install ${packages.join(', ')} with this system's package manager.`);
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  try {
    run(['apt-get', ...lockWait, 'update', '-q']);
    run(['apt-get', ...lockWait, 'install', '-y', '-q', ...packages]);
  } catch (error) {
    fail(`installing ${packages.join(' ')} failed: ${error instanceof Error ? error.message : String(error)}\nFix the apt problem above (network, sources, dpkg lock) and run again: node scripts/ensure-bench-deps.mjs`);
  }
  const still = missingTools();
  if (still.length > 0) fail(`installed ${packages.join(' ')} but still missing ${still.join(', ')}; check the packages' contents (dpkg -L).`);
  console.log(`${PREFIX} installed ${packages.join(' ')} (for ${missing.join(', ')})`);
}

const missing = missingTools();
if (missing.length === 0) {
  console.log(`${PREFIX} ${Object.keys(TOOLS).join(', ')} present, nothing to do`);
} else if (process.env[LOCKED_ENV] === '1' || findTool('flock') === null || process.getuid?.() !== 0) {
  install(missing);
} else {
  // Re-run under flock; the locked run checks again, so a waiting run finds the work done.
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(findTool('flock') ?? 'flock', ['-w', '900', LOCK_FILE, process.execPath, self], { stdio: 'inherit', env: { ...process.env, [LOCKED_ENV]: '1' } });
  process.exit(result.status ?? 1);
}
