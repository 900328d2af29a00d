import { defineConfig } from 'vitest/config';

const FUZZ = ['test/unit/fuzz-cli*.test.ts'];
/** The e2e files that bring up a cluster of kubelets (containerd, static pods, CNI): the machine's heavy load. */
const CLUSTERS = ['apply-ssh', 'faults', 'ha-external', 'ha-stacked', 'init-join', 'join-control-plane-external', 'pod-network-none', 'secrets'].map((name) => `test/e2e/${name}.test.ts`);

export default defineConfig({
  test: {
    // Real tools (openssl, etcd, haproxy, sshd) make some tests slow; none is timed for speed.
    testTimeout: 60_000,
    // Each test file's scratch directories are removed when it ends.
    setupFiles: ['test/support/cleanup.ts'],
    hookTimeout: 120_000,
    projects: [
      // vitest's default is one worker per CPU but one: on 2 CPUs that is one. src/ keeps no module state, so
      // the unit files share one module cache per worker (isolate: false) instead of importing all of
      // src/ (and @kubernetes/client-node) again for each file: 75 s became 47 s on 2 CPUs.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: FUZZ, maxWorkers: 2, isolate: false } },
      // The fuzz files mock connections and key generation (vi.mock): isolated, so no mock reaches another file.
      { extends: true, test: { name: 'unit-fuzz', include: FUZZ, maxWorkers: 2 } },
      {
        extends: true,
        // Clusters of real kubelets: one file at a time.
        test: { name: 'e2e', include: CLUSTERS, fileParallelism: false, testTimeout: 300_000 },
      },
      {
        extends: true,
        // The other end-to-end files (real openssl, sshd, etcd, haproxy, kubeadm, the binary; their own network
        // namespaces on claimed subnets): one at a time too (vitest runs them after the cluster files, not beside them).
        test: { name: 'e2e-tools', include: ['test/e2e/**/*.test.ts'], exclude: CLUSTERS, fileParallelism: false, testTimeout: 300_000 },
      },
    ],
  },
});
