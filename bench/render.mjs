// Dry-run render at scale: `kbuild render` of generated clusters (3 control planes, 2 load
// balancers, 100 / 1,000 / 5,000 workers), each in its own process so its peak RSS is its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { largeClusterYaml } from './cluster-files.mjs';

const CHILD = fileURLToPath(new URL('./render-child.mjs', import.meta.url));
const SIZES = [100, 1000, 5000];
const FIXED_HOSTS = 5; // 3 control planes + 2 load balancers
const TARGET_MS = 5000;
const TARGET_RSS_MIB = 1024;
/** "Flat" time per node: the largest size may cost at most this much more per node than 1,000 workers. */
const FLAT_FACTOR = 1.5;

function runChild(args, resultPath) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const env = { ...process.env };
    // The CLI sizes its thread pool per command unless the user did (see bench/run.mjs).
    if (!env.KBUILD_BENCH_USER_THREADPOOL) delete env.UV_THREADPOOL_SIZE;
    const child = spawn(process.execPath, [CHILD, resultPath, '--', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - start;
      if (code !== 0) return reject(new Error(`kbuild ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-2000)}`));
      resolve({ wallMs, ...JSON.parse(readFileSync(resultPath, 'utf8')) });
    });
  });
}

/** Renders one generated cluster with a fresh state directory (ECDSA-P256 PKI, 3 control planes). */
async function renderSize(workers) {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-bench-render-'));
  try {
    const clusterFile = join(dir, 'cluster.yaml');
    writeFileSync(clusterFile, largeClusterYaml(workers));
    const result = await runChild(['render', '-i', clusterFile, '-o', join(dir, 'out'), '--state-dir', join(dir, 'state')], join(dir, 'result.json'));
    return { workers, hosts: workers + FIXED_HOSTS, ...result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  await renderSize(100); // warm-up: file-system caches and the compiled-code cache, not a figure
  const results = [];
  for (const workers of SIZES) {
    const r = await renderSize(workers);
    results.push(r);
    console.log(
      `render ${String(workers).padStart(5)} workers (${r.hosts} hosts): process ${r.wallMs.toFixed(0)} ms wall ` +
        `(render ${r.ms.toFixed(0)} ms in-process, CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB, ` +
        `${((r.ms / r.hosts) * 1000).toFixed(0)} µs per node`,
    );
  }
  const perNode = (r) => r.ms / r.hosts;
  const [, mid, big] = results;
  const flat = perNode(big) / perNode(mid);
  return [
    ...results.map((r) => ({ figure: `render ${r.workers} workers: wall (process)`, value: `${r.wallMs.toFixed(0)} ms`, target: r.workers === 5000 ? `< ${TARGET_MS} ms` : '-', met: r.workers === 5000 ? r.wallMs < TARGET_MS : undefined })),
    ...results.map((r) => ({ figure: `render ${r.workers} workers: peak RSS`, value: `${(r.maxRssKiB / 1024).toFixed(0)} MiB`, target: r.workers === 5000 ? `< ${TARGET_RSS_MIB} MiB` : '-', met: r.workers === 5000 ? r.maxRssKiB / 1024 < TARGET_RSS_MIB : undefined })),
    ...results.map((r) => ({ figure: `render ${r.workers} workers: time per node`, value: `${(perNode(r) * 1000).toFixed(0)} µs`, target: '-', met: undefined })),
    { figure: 'render per-node time, 5,000 / 1,000 workers', value: `${flat.toFixed(2)}×`, target: `≤ ${FLAT_FACTOR}× (flat)`, met: flat <= FLAT_FACTOR },
  ];
}
