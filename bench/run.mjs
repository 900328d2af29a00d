// `npm run bench` (after the build and scripts/ensure-*-deps.mjs): runs every section in turn and
// ends with one table of every figure, its target and whether this run met it. Timing lives here,
// never in tests. A section is a module exporting `run()` that prints its detail lines and returns
// rows `{ figure, value, target, met? }` (`met` undefined: a figure without a target).
// KBUILD_BENCH_SECTIONS=render,push runs a subset.
import 'reflect-metadata';

// In-process sections (PKI) get the thread pool bin/kbuild.js gives such commands. A size the user
// chose is remembered, so that child processes (render) still size their own pool per command.
process.env.KBUILD_BENCH_USER_THREADPOOL ??= process.env.UV_THREADPOOL_SIZE ?? '';
process.env.UV_THREADPOOL_SIZE ??= '16';

const sections = [
  ['PKI', 'pki', () => import('./pki.mjs')],
  ['Render', 'render', () => import('./render.mjs')],
  ['Push', 'push', () => import('./push.mjs')],
];
const wanted = process.env.KBUILD_BENCH_SECTIONS?.split(',');

const rows = [];
const failures = [];
for (const [title, key, load] of sections) {
  if (wanted && !wanted.includes(key)) continue;
  console.log(`\n== ${title}`);
  try {
    const section = await load();
    rows.push(...(await section.run()));
  } catch (error) {
    // A broken section is reported, and the others still run; the exit code says it failed.
    failures.push(title);
    console.log(`${title} section FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    rows.push({ figure: `${title} section`, value: 'failed (see above)', target: 'runs', met: false });
  }
}

const verdict = (met) => (met === undefined ? '' : met ? 'met' : 'MISSED');
const table = [['figure', 'value', 'target', 'result'], ...rows.map((r) => [r.figure, r.value, r.target ?? '-', verdict(r.met)])];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
console.log(`\n== Summary\n${line(table[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const row of table.slice(1)) console.log(line(row));
const missed = rows.filter((r) => r.met === false).length;
const withTarget = rows.filter((r) => r.met !== undefined).length;
console.log(`\n${withTarget - missed} of ${withTarget} targets met${missed > 0 ? `, ${missed} missed` : ''}. Figures are from this machine, this run (load: ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).availableParallelism()} CPUs).`);
if (failures.length > 0) process.exitCode = 1;
