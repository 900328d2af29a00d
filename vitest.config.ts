import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real tools (openssl, etcd, haproxy, sshd) make some tests slow; none is timed for speed.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      // vitest's default is one worker per CPU but one: on 2 CPUs that is one. The unit tests share nothing.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], maxWorkers: 2 } },
      {
        extends: true,
        // End-to-end tests build network namespaces and start daemons: one file at a time.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, testTimeout: 300_000 },
      },
    ],
  },
});
