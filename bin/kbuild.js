#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
// The thread-pool size depends on the command and must be set before anything starts the pool.
const { configureThreadPool } = await import('../dist/threadpool.js');
configureThreadPool(process.argv.slice(2));
const { run } = await import('../dist/cli.js');

await run();
