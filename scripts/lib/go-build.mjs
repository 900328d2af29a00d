// Builds Go programs from their published modules with the go tool and the module proxy (no git
// clones, no prebuilt downloads). Kubernetes and etcd cannot be `go install`ed (their go.mod replace
// their own sub-modules by relative paths), so each build gets a small wrapper module that requires
// the program's module and pins every such sub-module to its published version, as their release
// tags do; the wrapper takes the upstream go.mod's `go` and `godebug` lines, so the runtime
// defaults (TLS, x509) are those of the upstream build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The go tool: on PATH, else where these machines install it. */
const GO = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 ? 'go' : '/usr/local/go/bin/go';

/** @param {string[]} argv @param {{ cwd?: string, env?: NodeJS.ProcessEnv, label: string }} options */
export function go(argv, { cwd, env, label }) {
  const result = spawnSync(GO, argv, { cwd, env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`${label}: cannot run ${GO} (${result.error.message}); install Go ≥ 1.23 on PATH or at /usr/local/go`);
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${label}: \`go ${argv.join(' ')}\` exited ${result.status ?? result.signal} in ${cwd ?? '.'}:\n${tail}`);
  }
  return result.stdout;
}

/** The go.mod of `module@version` from the module proxy (downloaded into the module cache). @param {string} module @param {string} version */
export function upstreamGoMod(module, version) {
  const info = JSON.parse(go(['mod', 'download', '-json', `${module}@${version}`], { label: `${module}@${version}` }));
  if (info.Error) throw new Error(`${module}@${version}: ${info.Error}`);
  return readFileSync(info.GoMod, 'utf8');
}

/** Module paths an upstream go.mod replaces by a relative directory (its own sub-modules). @param {string} goMod @returns {string[]} */
export function locallyReplaced(goMod) {
  return [...goMod.matchAll(/^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+\.{1,2}\/\S+\s*$/gm)].map((m) => m[1] ?? '').filter((path) => !path.includes('FORBIDDEN'));
}

/**
 * @typedef {object} GoBuild
 * @property {string} label         names the build in messages, e.g. "kubernetes v1.32.4"
 * @property {string} workDir       the wrapper module's directory (rewritten on every call)
 * @property {string} upstreamGoModText  the go.mod whose `go`/`godebug` lines the wrapper takes
 * @property {Array<[string, string]>} require   [module, version]
 * @property {Array<[string, string]>} [pin]     [module, version]: sub-modules replaced by their published version
 * @property {Array<string | [string, string]>} packages  main packages to build: a package (the binary takes
 *   its last path element) or [package, binary name] (etcd's are all named …/v3)
 * @property {string} [ldflags]
 * @property {string} outDir        where the binaries go
 */

/** Writes the wrapper module, resolves it (go mod tidy) and builds `packages` into `outDir`. @param {GoBuild} build */
export function buildGoPrograms(build) {
  rmSync(build.workDir, { recursive: true, force: true });
  mkdirSync(build.workDir, { recursive: true });
  const goLine = /^go\s+(\S+)\s*$/m.exec(build.upstreamGoModText)?.[1] ?? '1.22';
  const godebug = [...build.upstreamGoModText.matchAll(/^godebug\s+.+$/gm)].map((m) => m[0]);
  const lines = [
    'module kbuild.local/lab-build',
    '',
    `go ${goLine}`,
    '',
    ...godebug,
    '',
    'require (',
    ...build.require.map(([module, version]) => `\t${module} ${version}`),
    ')',
  ];
  if (build.pin && build.pin.length > 0) lines.push('', 'replace (', ...build.pin.map(([module, version]) => `\t${module} => ${module} ${version}`), ')');
  writeFileSync(join(build.workDir, 'go.mod'), `${lines.join('\n')}\n`);
  // A tools file keeps the main packages in the module graph (tidy reads it; builds never compile it).
  const packages = build.packages.map((p) => (typeof p === 'string' ? p : p[0]));
  writeFileSync(join(build.workDir, 'tools.go'), ['//go:build tools', '', 'package tools', '', 'import (', ...packages.map((p) => `\t_ "${p}"`), ')', ''].join('\n'));
  go(['mod', 'tidy'], { cwd: build.workDir, label: build.label });
  mkdirSync(build.outDir, { recursive: true });
  const flags = ['-trimpath', ...(build.ldflags ? ['-ldflags', build.ldflags] : [])];
  // Packages named as their binary build in one go command (compiled in parallel); renamed ones one by one.
  const plain = build.packages.filter((p) => typeof p === 'string');
  if (plain.length > 0) go(['build', ...flags, '-o', `${build.outDir}/`, ...plain], { cwd: build.workDir, label: build.label });
  for (const p of build.packages) if (typeof p !== 'string') go(['build', ...flags, '-o', join(build.outDir, p[1]), p[0]], { cwd: build.workDir, label: build.label });
}
