#!/usr/bin/env node
// Builds the real Kubernetes components the end-to-end tests run (kube-apiserver, controller-manager,
// scheduler, kubelet, kube-proxy, kubeadm, kubectl; etcd, etcdctl, etcdutl; CoreDNS; pause) from their
// Go modules, and kubeadm alone for every other supported minor, once per machine, into $KBUILD_LAB_CACHE
// (default /var/cache/kbuild-lab), and packs each as the image kbuild's manifests name. `npm test` calls it
// after ensure-system-deps.mjs.
// Warm: a few file checks. Cold: ~20 min on 2 CPUs (DEVELOPERS.md has the measured figures).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CACHE, ensureKubeLab } from './lib/kube-lab.mjs';
import { componentVersions, kubernetesMinor, SUPPORTED_MINORS } from '../dist/kubeadm/versions.js';
import { DEFAULTS } from '../dist/config/defaults.js';

/** The Kubernetes versions the e2e tests bring up: kbuild's default. */
const LAB_KUBERNETES_VERSIONS = [DEFAULTS.kubernetesVersion];
/**
 * kubeadm alone for every other supported minor, which the kubeadm reference test compares kbuild's
 * render with: the newest patch kbuild's version table was read from whose modules the Go module proxy
 * serves (v1.31.14 needs k8s.io/kube-proxy v0.31.14, which it refuses, as it does k8s.io/kubernetes
 * v1.31.10 and v1.31.11: v1.31.9).
 */
const REFERENCE_KUBEADM_VERSIONS = { 30: 'v1.30.14', 31: 'v1.31.9', 33: 'v1.33.13' };
const kubeadmVersions = SUPPORTED_MINORS.filter((minor) => !LAB_KUBERNETES_VERSIONS.some((v) => kubernetesMinor(v) === minor)).map((minor) => {
  const version = REFERENCE_KUBEADM_VERSIONS[minor];
  if (!version) throw new Error(`kbuild supports v1.${minor}, which has no kubeadm in REFERENCE_KUBEADM_VERSIONS (scripts/ensure-kube-lab.mjs): add one`);
  return version;
});

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
    kubeadmVersions,
    pauseSource: fileURLToPath(new URL('./pause', import.meta.url)),
    log: { say: (line) => console.log(`ensure-kube-lab: ${line}`) },
  });
} catch (error) {
  console.error(`ensure-kube-lab: ${error instanceof Error ? error.message : String(error)}`);
  console.error('The e2e tests need these components. Fix the problem above (Go on PATH, the module proxy reachable, disk space) and run: node scripts/ensure-kube-lab.mjs');
  process.exit(1);
}
