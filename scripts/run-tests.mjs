#!/usr/bin/env node
/**
 * The whole vitest suite in two lanes side by side (`npm test`'s last step):
 *   clusters: the e2e project — clusters of real kubelets, one file at a time;
 *   rest:     the unit projects, then e2e-tools (openssl, sshd, etcd, haproxy, kubeadm, the binary).
 * One vitest process runs its projects one after another (measured: a one-worker project waits for the
 * other), so the tool files ran after the clusters, adding their minutes to the suite. Here they run
 * beside the cluster files: each lab claims its own subnet and namespaces, and the extra load is the
 * one busy CPU every e2e test must tolerate anyway. Every command runs even after a failure; the exit
 * code is 1 when any failed. Output lines carry their lane's name.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const LANES = {
  clusters: [['--project', 'e2e']],
  rest: [['--project', 'unit', '--project', 'unit-fuzz'], ['--project', 'e2e-tools']],
};

const children = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // vitest tears its labs down on SIGTERM; pass the signal on and let the lanes finish.
    for (const child of children) child.kill('SIGTERM');
  });
}

function run(lane, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
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
  for (const args of commands) results.push(await run(lane, args));
  return results;
}

const started = Date.now();
const results = (await Promise.all(Object.entries(LANES).map(([lane, commands]) => runLane(lane, commands)))).flat();
console.log(`\nsuite: ${Math.round((Date.now() - started) / 1000)} s`);
for (const r of results) console.log(`  [${r.lane}] ${r.command}: ${r.code === 0 ? 'passed' : `failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`} in ${r.seconds} s`);
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
