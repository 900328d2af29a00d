#!/usr/bin/env node
/**
 * The whole vitest suite in two lanes side by side (`npm test`'s last step):
 *   clusters: the e2e project — clusters of real kubelets, one file at a time;
 *   rest:     the unit projects, then e2e-tools (openssl, sshd, etcd, haproxy, kubeadm, the binary).
 * One vitest process runs its projects one after another (measured: a one-worker project waits for the
 * other), so the tool files ran after the clusters, adding their minutes to the suite. Here they run
 * beside the cluster files: each lab claims its own subnet and namespaces, and the extra load is the
 * one busy CPU every e2e test must tolerate anyway. Every command runs even after a failure; the exit
 * code is 1 when any failed, 130/143 when interrupted. Output lines carry their lane's name. It takes
 * no arguments: for a subset run vitest itself (`npx vitest run --project e2e test/e2e/faults.test.ts`).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

if (process.argv.length > 2) {
  console.error(`run-tests.mjs takes no arguments (got ${process.argv.slice(2).join(' ')}); run vitest itself for a subset, e.g. npx vitest run --project unit`);
  process.exit(2);
}
const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

const LANES = {
  clusters: [['--project', 'e2e']],
  rest: [['--project', 'unit', '--project', 'unit-fuzz'], ['--project', 'e2e-tools']],
};

const children = new Set();
/** Set by a signal: no further command starts; the running ones get the signal (each lab's exit hook removes it). */
let interrupted;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    interrupted ??= code;
    for (const child of children) child.kill('SIGTERM');
  });
}

function run(lane, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [VITEST, 'run', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      createInterface({ input: stream }).on('line', (line) => out.write(`[${lane}] ${line}\n`));
    }
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ lane, command: `vitest run ${args.join(' ')}`, code: code ?? 1, signal, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

async function runLane(lane, commands) {
  const results = [];
  for (const args of commands) if (interrupted === undefined) results.push(await run(lane, args));
  return results;
}

const started = Date.now();
const results = (await Promise.all(Object.entries(LANES).map(([lane, commands]) => runLane(lane, commands)))).flat();
console.log(`\nsuite: ${Math.round((Date.now() - started) / 1000)} s`);
for (const r of results) console.log(`  [${r.lane}] ${r.command}: ${r.code === 0 ? 'passed' : `failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`} in ${r.seconds} s`);
process.exitCode = interrupted ?? (results.every((r) => r.code === 0) ? 0 : 1);
