// One `kbuild render` in its own process, so its peak memory (RSS high-water mark) is its own.
// Usage: node bench/render-child.mjs RESULT.json -- <kbuild arguments>. Runs the built CLI's main()
// exactly as bin/kbuild.js does, then records exit code, in-process time and maxRSS at exit.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [resultPath, separator, ...args] = process.argv.slice(2);
if (!resultPath || separator !== '--') throw new Error('usage: render-child.mjs RESULT.json -- <kbuild args>');

// As bin/kbuild.js: the thread pool sized for this command before anything starts it.
const { configureThreadPool } = await import('../dist/threadpool.js');
configureThreadPool(args);
const loaded = performance.now();
const { main, processIo } = await import('../dist/cli.js');
const start = performance.now();
const code = await main(args, processIo());
const ms = performance.now() - start;
process.exitCode = code;
process.on('exit', () => {
  // maxRSS is in KiB; it is the high-water mark over the whole process, module loading included.
  const usage = process.resourceUsage();
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
  writeFileSync(resultPath, JSON.stringify({ code, ms, importMs: start - loaded, cpuMs, maxRssKiB: usage.maxRSS }));
});
