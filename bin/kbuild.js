#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
// Key generation and the fsyncs of atomic writes share libuv's thread pool; its default of 4 threads
// queues them. The size is read when the pool first starts, so it is set before anything is loaded.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { run } = await import('../dist/cli.js');

await run();
