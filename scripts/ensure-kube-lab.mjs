#!/usr/bin/env node
// Builds the real Kubernetes components the end-to-end tests run (kube-apiserver, controller-manager,
// scheduler, kubelet, kube-proxy, kubeadm, kubectl; etcd, etcdctl, etcdutl; CoreDNS; pause) from their
// Go modules, once per machine, into $KBUILD_LAB_CACHE (default /var/cache/kbuild-lab), and packs
// each as the image kbuild's manifests name. `npm test` calls it after ensure-system-deps.mjs.
// Warm: a few file checks. Cold: ~20 min on 2 CPUs (DEVELOPERS.md has the measured figures).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CACHE, ensureKubeLab } from './lib/kube-lab.mjs';
import { componentVersions } from '../dist/kubeadm/versions.js';
import { DEFAULTS } from '../dist/config/defaults.js';

/** The Kubernetes versions the e2e tests bring up: kbuild's default. */
const LAB_KUBERNETES_VERSIONS = [DEFAULTS.kubernetesVersion];

const LOCK_FILE = '/tmp/kbuild-ensure-kube-lab.lock';
const LOCKED_ENV = 'KBUILD_KUBE_LAB_LOCKED';
const script = fileURLToPath(import.meta.url);

if (process.env[LOCKED_ENV] !== '1') {
  // One build at a time per machine: a second run waits, then finds the work done.
  const result = spawnSync('flock', ['-w', '5400', LOCK_FILE, process.execPath, script, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [LOCKED_ENV]: '1' } });
  process.exit(result.status ?? 1);
}

try {
  ensureKubeLab({
    cache: process.env.KBUILD_LAB_CACHE ?? DEFAULT_CACHE,
    versions: LAB_KUBERNETES_VERSIONS.map((kubernetesVersion) => ({ kubernetesVersion, imageRepository: DEFAULTS.imageRepository, tags: componentVersions(kubernetesVersion) })),
    pauseSource: fileURLToPath(new URL('./pause', import.meta.url)),
    log: { say: (line) => console.log(`ensure-kube-lab: ${line}`) },
  });
} catch (error) {
  console.error(`ensure-kube-lab: ${error instanceof Error ? error.message : String(error)}`);
  console.error('The e2e tests need these components. Fix the problem above (Go on PATH, the module proxy reachable, disk space) and run: node scripts/ensure-kube-lab.mjs');
  process.exit(1);
}
