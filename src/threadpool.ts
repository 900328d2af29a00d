/**
 * libuv's thread-pool size, chosen per command before the pool starts (libuv reads
 * UV_THREADPOOL_SIZE once, on first use). Key generation and the fsyncs of atomic writes wait on the
 * pool, and 16 threads keep them from queueing. `render` writes thousands of small files without
 * fsync; there more threads only contend: on 2 CPUs, 25,000 file writes took 1.4 s with libuv's
 * default of 4 threads and 2.0 s, with 2.5× the CPU, with 16. So render keeps the default.
 * A UV_THREADPOOL_SIZE the user set wins.
 */
export function configureThreadPool(args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  if (env.UV_THREADPOOL_SIZE !== undefined) return;
  const command = args.find((a) => !a.startsWith('-'));
  if (command === 'render') return;
  env.UV_THREADPOOL_SIZE = '16';
}
