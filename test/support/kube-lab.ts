/**
 * The real Kubernetes components built by scripts/ensure-kube-lab.mjs (`npm test` runs it before
 * vitest): per Kubernetes version, the path of every program and image archive, from the cache's
 * lab.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/defaults.js';

export const LAB_CACHE = process.env.KBUILD_LAB_CACHE ?? '/var/cache/kbuild-lab';
export const LAB_KUBERNETES_VERSION: string = DEFAULTS.kubernetesVersion;

export type LabProgram =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'kubeadm'
  | 'kubectl'
  | 'etcd'
  | 'etcdctl'
  | 'etcdutl'
  | 'coredns'
  | 'pause'
  | 'crictl';

/** The image the tests' own pods run: Debian's static busybox (sh, wget, nc, nslookup, httpd). */
export const TEST_POD_IMAGE = 'kbuild.test/busybox:lab';

export interface LabImage {
  reference: string;
  archive: string;
}

export interface LabVersion {
  programs: Record<LabProgram, string>;
  images: LabImage[];
}

/** The built components of one Kubernetes version; a clear error when the build script has not run. */
export function labVersion(kubernetesVersion: string = LAB_KUBERNETES_VERSION): LabVersion {
  const manifest = join(LAB_CACHE, 'lab.json');
  const hint = `run \`node scripts/ensure-kube-lab.mjs\` (npm test does) to build the real components into ${LAB_CACHE}`;
  if (!existsSync(manifest)) throw new Error(`${manifest} is missing: ${hint}`);
  const versions = (JSON.parse(readFileSync(manifest, 'utf8')) as { versions: Record<string, LabVersion> }).versions;
  const version = versions[kubernetesVersion];
  if (!version) throw new Error(`${manifest} has no Kubernetes ${kubernetesVersion} (it has ${Object.keys(versions).join(', ') || 'none'}): ${hint}`);
  return version;
}

/** A built program's path, e.g. labProgram('kubectl'). */
export function labProgram(program: LabProgram, kubernetesVersion?: string): string {
  return labVersion(kubernetesVersion).programs[program];
}
