/**
 * The real Kubernetes components built by scripts/ensure-kube-lab.mjs (`npm test` runs it before
 * vitest): per Kubernetes version, the path of every program and image archive, and the kubeadm of
 * every supported minor (the kubeadm reference test's), from the cache's lab.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/defaults.js';
import { kubernetesMinor } from '../../src/kubeadm/versions.js';

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

interface LabManifest {
  versions: Record<string, LabVersion>;
  /** Release → its kubeadm: the lab versions' and the kubeadm-only builds of the other supported minors. */
  kubeadm?: Record<string, string>;
}

const MANIFEST = join(LAB_CACHE, 'lab.json');
const HINT = `run \`node scripts/ensure-kube-lab.mjs\` (npm test does) to build the real components into ${LAB_CACHE}`;

function labManifest(): LabManifest {
  if (!existsSync(MANIFEST)) throw new Error(`${MANIFEST} is missing: ${HINT}`);
  return JSON.parse(readFileSync(MANIFEST, 'utf8')) as LabManifest;
}

/** The built components of one Kubernetes version; a clear error when the build script has not run. */
export function labVersion(kubernetesVersion: string = LAB_KUBERNETES_VERSION): LabVersion {
  const versions = labManifest().versions;
  const version = versions[kubernetesVersion];
  if (!version) throw new Error(`${MANIFEST} has no Kubernetes ${kubernetesVersion} (it has ${Object.keys(versions).join(', ') || 'none'}): ${HINT}`);
  return version;
}

/** A built program's path, e.g. labProgram('kubectl'). */
export function labProgram(program: LabProgram, kubernetesVersion?: string): string {
  return labVersion(kubernetesVersion).programs[program];
}

/**
 * The lab's kubeadm of a minor (e.g. 30): its release and path. The lab version's own where the minor
 * is the lab's, else the kubeadm-only build of that minor; a clear error when the build has not made it.
 */
export function labKubeadm(minor: number): { version: string; path: string } {
  const built = Object.entries(labManifest().kubeadm ?? {}).filter(([version]) => kubernetesMinor(version) === minor);
  const [version, path] = built.find(([v]) => v === LAB_KUBERNETES_VERSION) ?? built.at(-1) ?? [];
  if (!version || !path || !existsSync(path)) {
    throw new Error(`${MANIFEST} has no kubeadm of v1.${minor} (it has ${Object.keys(labManifest().kubeadm ?? {}).join(', ') || 'none'}): ${HINT}`);
  }
  return { version, path };
}
