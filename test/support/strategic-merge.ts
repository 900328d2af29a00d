/**
 * Kubernetes' own strategic merge patch as a program (test/support/strategic-merge/main.go), built
 * with the go tool against the lab version's k8s.io/api, apimachinery and kubelet modules (in the
 * module cache once scripts/ensure-kube-lab.mjs has built the lab) and cached in the lab's cache by
 * the source's hash, so a warm run does not build it again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_CACHE, LAB_KUBERNETES_VERSION } from './kube-lab.js';

const SOURCE = join(import.meta.dirname, 'strategic-merge/main.go');

/** The go tool: on PATH, else where these machines install it (as scripts/lib/go-build.mjs). */
export const GO = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 ? 'go' : '/usr/local/go/bin/go';

export function strategicMergeReference(): string {
  const staging = `v0.${LAB_KUBERNETES_VERSION.replace(/^v1\./, '')}`;
  const source = readFileSync(SOURCE, 'utf8');
  const goMod = ['module kbuild.local/strategic-merge', '', 'go 1.23', '', 'require (', ...['api', 'apimachinery', 'kubelet'].map((m) => `\tk8s.io/${m} ${staging}`), ')', ''].join('\n');
  const key = createHash('sha256').update(source).update(goMod).digest('hex').slice(0, 16);
  const binary = join(LAB_CACHE, 'strategic-merge', key, 'strategic-merge');
  if (existsSync(binary)) return binary;
  const dir = join(LAB_CACHE, 'build', `strategic-merge-${key}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.go'), source);
  writeFileSync(join(dir, 'go.mod'), goMod);
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' };
  const go = (args: string[]) => {
    const r = spawnSync(GO, args, { cwd: dir, env, encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`go ${args.join(' ')} in ${dir} failed (${r.status ?? r.signal}):\n${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n')}`);
  };
  go(['mod', 'tidy']);
  go(['build', '-o', 'strategic-merge', '.']);
  mkdirSync(join(binary, '..'), { recursive: true });
  renameSync(join(dir, 'strategic-merge'), binary);
  rmSync(dir, { recursive: true, force: true });
  return binary;
}

export interface ReferenceCase {
  type: 'Pod' | 'Deployment' | 'KubeletConfiguration';
  original: unknown;
  patch: unknown;
}

/** Kubernetes' answer to each case, in order: the merged object, or that it refused the patch. */
export function referenceMerges(cases: readonly ReferenceCase[]): Array<{ result?: unknown; error?: string }> {
  const input = cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const output = execFileSync(strategicMergeReference(), { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return output.trim().split('\n').map((line) => JSON.parse(line) as { result?: unknown; error?: string });
}
