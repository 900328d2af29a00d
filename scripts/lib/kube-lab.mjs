// The real Kubernetes components the end-to-end tests run: built from their Go modules once per
// machine into a cache outside the repository (keyed by version), and packed as the OCI images
// kbuild's manifests and addons name, for the test hosts' containerd to import.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildGoPrograms, go, locallyReplaced, upstreamGoMod } from './go-build.mjs';
import { writeImageArchive } from './oci-image.mjs';

export const DEFAULT_CACHE = '/var/cache/kbuild-lab';

export const KUBERNETES_PROGRAMS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubeadm', 'kubectl'];
const ETCD_PROGRAMS = ['etcd', 'etcdctl', 'etcdutl'];

/**
 * @typedef {{ etcd: string, pause: string, coredns: string }} ComponentTags  kbuild's image tags for a Kubernetes version
 * @typedef {{ kubernetesVersion: string, imageRepository: string, tags: ComponentTags }} LabVersion
 * @typedef {{ name: string, dir: string, programs: string[], build: (outDir: string) => void }} Component
 * @typedef {{ say: (line: string) => void }} Log
 */

/** Seconds as "4m05s". @param {number} ms */
const took = (ms) => `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;

/** Version ldflags as Kubernetes' hack/lib/version.sh sets them, so `--version` and the API's /version tell the truth. @param {string} version */
function kubernetesLdflags(version) {
  const [major, minor] = version.replace(/^v/, '').split('.');
  const vars = { gitVersion: version, gitMajor: major, gitMinor: minor, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '1970-01-01T00:00:00Z' };
  const pairs = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => Object.entries(vars).map(([name, value]) => `-X ${pkg}.${name}=${value}`));
  return ['-s', '-w', ...pairs].join(' ');
}

/**
 * Builds `programs` of k8s.io/kubernetes `version` (cmd/<program>) with its staging modules pinned.
 * @param {string} cache @param {string} version @param {string[]} programs @param {string} outDir
 */
function buildKubernetes(cache, version, programs, outDir) {
  const goMod = upstreamGoMod('k8s.io/kubernetes', version);
  // Staging modules (k8s.io/api, …) are published as v0.<minor>.<patch> beside each release.
  const staging = `v0.${version.replace(/^v1\./, '')}`;
  const label = programs.length === 1 ? `${programs[0]} ${version}` : `kubernetes ${version}`;
  buildGoPrograms({
    label,
    workDir: join(cache, 'build', label.replace(' ', '-')),
    upstreamGoModText: goMod,
    require: [['k8s.io/kubernetes', version]],
    pin: locallyReplaced(goMod).map((module) => [module, staging]),
    packages: programs.map((program) => `k8s.io/kubernetes/cmd/${program}`),
    ldflags: kubernetesLdflags(version),
    outDir,
  });
}

/** @param {string} cache @param {string} version @returns {Component} */
function kubernetesComponent(cache, version) {
  return { name: `kubernetes ${version}`, dir: join(cache, 'kubernetes', version), programs: KUBERNETES_PROGRAMS, build: (outDir) => buildKubernetes(cache, version, KUBERNETES_PROGRAMS, outDir) };
}

/**
 * kubeadm alone, for a release the lab brings up no cluster of: the kubeadm reference test compares
 * kbuild's render with what that version's kubeadm writes (every supported minor).
 * @param {string} cache @param {string} version @returns {Component}
 */
function kubeadmComponent(cache, version) {
  return { name: `kubeadm ${version}`, dir: join(cache, 'kubeadm', version), programs: ['kubeadm'], build: (outDir) => buildKubernetes(cache, version, ['kubeadm'], outDir) };
}

/** kubeadm's etcd tag "3.5.16-0" is etcd v3.5.16. @param {string} cache @param {string} tag @returns {Component} */
function etcdComponent(cache, tag) {
  const version = `v${tag.replace(/-\d+$/, '')}`;
  return {
    name: `etcd ${version}`,
    dir: join(cache, 'etcd', version),
    programs: ETCD_PROGRAMS,
    build: (outDir) =>
      buildGoPrograms({
        label: `etcd ${version}`,
        workDir: join(cache, 'build', `etcd-${version}`),
        upstreamGoModText: upstreamGoMod('go.etcd.io/etcd/server/v3', version),
        require: ['server', 'etcdctl', 'etcdutl'].map((m) => [`go.etcd.io/etcd/${m}/v3`, version]),
        packages: [['go.etcd.io/etcd/server/v3', 'etcd'], ['go.etcd.io/etcd/etcdctl/v3', 'etcdctl'], ['go.etcd.io/etcd/etcdutl/v3', 'etcdutl']],
        ldflags: '-s -w',
        outDir,
      }),
  };
}

/** @param {string} cache @param {string} tag  e.g. v1.11.3 @returns {Component} */
function corednsComponent(cache, tag) {
  return {
    name: `coredns ${tag}`,
    dir: join(cache, 'coredns', tag),
    programs: ['coredns'],
    build: (outDir) =>
      buildGoPrograms({
        label: `coredns ${tag}`,
        workDir: join(cache, 'build', `coredns-${tag}`),
        upstreamGoModText: upstreamGoMod('github.com/coredns/coredns', tag),
        require: [['github.com/coredns/coredns', tag]],
        packages: [['github.com/coredns/coredns', 'coredns']],
        ldflags: '-s -w',
        outDir,
      }),
  };
}

/**
 * crictl, which kubeadm's packages install beside the kubelet (cri-tools) and `kbuild reset` uses.
 * Its own release line; the module proxy serves v1.34.0 and later, which speak CRI v1 as containerd 1.6 does.
 */
const CRI_TOOLS_VERSION = 'v1.34.0';
/** @param {string} cache @returns {Component} */
function crictlComponent(cache) {
  return {
    name: `cri-tools ${CRI_TOOLS_VERSION}`,
    dir: join(cache, 'cri-tools', CRI_TOOLS_VERSION),
    programs: ['crictl'],
    build: (outDir) =>
      buildGoPrograms({
        label: `cri-tools ${CRI_TOOLS_VERSION}`,
        workDir: join(cache, 'build', `cri-tools-${CRI_TOOLS_VERSION}`),
        upstreamGoModText: upstreamGoMod('sigs.k8s.io/cri-tools', CRI_TOOLS_VERSION),
        require: [['sigs.k8s.io/cri-tools', CRI_TOOLS_VERSION]],
        packages: ['sigs.k8s.io/cri-tools/cmd/crictl'],
        ldflags: `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION}`,
        outDir,
      }),
  };
}

/** The sandbox's pause program (scripts/pause), keyed by its source so an edit rebuilds it. @param {string} cache @param {string} sourceDir @returns {Component} */
function pauseComponent(cache, sourceDir) {
  const hash = createHash('sha256');
  for (const file of readdirSync(sourceDir).sort()) hash.update(file).update(readFileSync(join(sourceDir, file)));
  return {
    name: 'pause',
    dir: join(cache, 'pause', hash.digest('hex').slice(0, 16)),
    programs: ['pause'],
    build: (outDir) => {
      mkdirSync(outDir, { recursive: true });
      go(['build', '-trimpath', '-ldflags', '-s -w', '-o', join(outDir, 'pause'), '.'], { cwd: sourceDir, label: 'pause' });
    },
  };
}

/** Builds a component unless its directory is complete; a build goes to a temp directory renamed into place. @param {Component} component @param {Log} log */
function ensureBuilt(component, log) {
  if (existsSync(join(component.dir, '.complete'))) return false;
  const started = Date.now();
  log.say(`building ${component.name} (${component.programs.join(', ')}) from the Go module proxy…`);
  const temp = `${component.dir}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    component.build(join(temp, 'bin'));
    for (const program of component.programs) if (!existsSync(join(temp, 'bin', program))) throw new Error(`${component.name}: the build did not produce ${program}`);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(join(temp, '.complete'), `${JSON.stringify({ built: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) })}\n`);
  rmSync(component.dir, { recursive: true, force: true });
  mkdirSync(dirname(component.dir), { recursive: true });
  renameSync(temp, component.dir);
  log.say(`built ${component.name} in ${took(Date.now() - started)}`);
  return true;
}

/** Shared libraries a program loads (ldd), so a host program can run inside an image. @param {string} file @returns {string[]} */
function sharedLibraries(file) {
  const result = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (result.status !== 0) return [];
  return [...result.stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] ?? '').filter(Boolean);
}

/**
 * Files for the kube-proxy image beyond kube-proxy: Debian's iptables (nf_tables backend, as this
 * machine's own iptables, so the rules the kubelet's CNI plugins and kube-proxy write agree) and
 * conntrack, with every library and xtables extension they load.
 * @returns {import('./oci-image.mjs').ImageFile[]}
 */
function iptablesFiles() {
  const multi = '/usr/sbin/xtables-nft-multi';
  const extensions = '/usr/lib/x86_64-linux-gnu/xtables';
  for (const needed of [multi, '/usr/sbin/conntrack', extensions]) if (!existsSync(needed)) throw new Error(`kube-proxy image: ${needed} is missing; install Debian's iptables and conntrack (node scripts/ensure-system-deps.mjs)`);
  const programs = [multi, '/usr/sbin/conntrack', ...readdirSync(extensions).filter((f) => f.endsWith('.so')).map((f) => join(extensions, f))];
  const files = new Map(programs.map((p) => [p, p]));
  for (const program of programs) for (const library of sharedLibraries(program)) files.set(library, library);
  /** @type {import('./oci-image.mjs').ImageFile[]} */
  // copyFileSync follows symlinks: each path holds the library itself.
  const out = [...files.keys()].map((path) => ({ path, from: path }));
  for (const name of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore']) out.push({ path: `/usr/sbin/${name}`, linkTo: 'xtables-nft-multi' });
  if (existsSync('/etc/protocols')) out.push({ path: '/etc/protocols', from: '/etc/protocols' });
  return out;
}

/**
 * The images one Kubernetes version's cluster runs, named as kbuild names them.
 * @param {LabVersion} lab @param {{ kubernetes: Component, etcd: Component, coredns: Component, pause: Component }} built
 */
function imagesFor(lab, built) {
  const repo = lab.imageRepository;
  const k8s = (program) => join(built.kubernetes.dir, 'bin', program);
  const bin = (program, from) => ({ path: `/usr/local/bin/${program}`, from });
  /** `files` is computed only when the archive is (re)packed: the iptables files need an ldd per library. */
  const image = (reference, programs, config = {}, extra = () => []) => ({ reference, inputs: programs.map((p) => p.from), files: () => [...programs, ...extra()], config });
  return [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((program) => image(`${repo}/${program}:${lab.kubernetesVersion}`, [bin(program, k8s(program))])),
    image(`${repo}/kube-proxy:${lab.kubernetesVersion}`, [bin('kube-proxy', k8s('kube-proxy'))], {}, iptablesFiles),
    image(`${repo}/etcd:${lab.tags.etcd}`, ETCD_PROGRAMS.map((program) => bin(program, join(built.etcd.dir, 'bin', program)))),
    image(`${repo}/coredns/coredns:${lab.tags.coredns}`, [{ path: '/coredns', from: join(built.coredns.dir, 'bin', 'coredns') }], { entrypoint: ['/coredns'] }),
    image(`${repo}/pause:${lab.tags.pause}`, [{ path: '/pause', from: join(built.pause.dir, 'bin', 'pause') }], { entrypoint: ['/pause'], user: '65535:65535' }),
    // Not one of kbuild's: the image the tests' own pods run (a shell, wget, nc, nslookup in Debian's static busybox).
    image(TEST_POD_IMAGE, [{ path: '/bin/busybox', from: '/bin/busybox' }], { cmd: ['sh'] }, () => BUSYBOX_APPLETS.map((applet) => ({ path: `/bin/${applet}`, linkTo: 'busybox' }))),
  ];
}

export const TEST_POD_IMAGE = 'kbuild.test/busybox:lab';
const BUSYBOX_APPLETS = ['sh', 'cat', 'echo', 'hostname', 'httpd', 'ip', 'nc', 'nslookup', 'ping', 'sleep', 'wget'];

const archiveName = (reference) => `${reference.replace(/[/:@]/g, '_')}.tar`;

/**
 * Makes sure every lab version's binaries and images, and the kubeadm of every `kubeadmVersions`, are in
 * `cache`, then writes `cache/lab.json` (what the tests read: per version, the path of every program and
 * image archive; `kubeadm`, the kubeadm of every version built, the lab versions' included).
 * @param {{ cache: string, versions: LabVersion[], kubeadmVersions?: string[], pauseSource: string, log: Log }} options
 */
export function ensureKubeLab({ cache, versions, kubeadmVersions = [], pauseSource, log }) {
  const started = Date.now();
  mkdirSync(join(cache, 'images'), { recursive: true });
  const pause = pauseComponent(cache, pauseSource);
  const crictl = crictlComponent(cache);
  let builtSomething = ensureBuilt(pause, log);
  builtSomething = ensureBuilt(crictl, log) || builtSomething;
  /** @type {Record<string, { programs: Record<string, string>, images: Array<{ reference: string, archive: string }> }>} */
  const manifest = {};
  for (const lab of versions) {
    const built = { kubernetes: kubernetesComponent(cache, lab.kubernetesVersion), etcd: etcdComponent(cache, lab.tags.etcd), coredns: corednsComponent(cache, lab.tags.coredns), pause };
    for (const component of [built.kubernetes, built.etcd, built.coredns]) builtSomething = ensureBuilt(component, log) || builtSomething;
    const programs = Object.fromEntries([built.kubernetes, built.etcd, built.coredns, pause, crictl].flatMap((c) => c.programs.map((p) => [p, join(c.dir, 'bin', p)])));
    const images = [];
    for (const image of imagesFor(lab, built)) {
      const archive = join(cache, 'images', archiveName(image.reference));
      const newestInput = Math.max(...image.inputs.map((file) => statSync(file).mtimeMs));
      if (!existsSync(archive) || statSync(archive).mtimeMs < newestInput) {
        writeImageArchive({ reference: image.reference, files: image.files(), config: image.config, archive });
        log.say(`packed ${image.reference} (${Math.round(statSync(archive).size / 1e6)} MB)`);
        builtSomething = true;
      }
      images.push({ reference: image.reference, archive });
    }
    manifest[lab.kubernetesVersion] = { programs, images };
  }
  /** @type {Record<string, string>} */
  const kubeadm = Object.fromEntries(Object.entries(manifest).map(([version, { programs }]) => [version, programs.kubeadm ?? '']));
  for (const version of kubeadmVersions.filter((v) => !kubeadm[v])) {
    const component = kubeadmComponent(cache, version);
    builtSomething = ensureBuilt(component, log) || builtSomething;
    kubeadm[version] = join(component.dir, 'bin', 'kubeadm');
  }
  const text = `${JSON.stringify({ versions: manifest, kubeadm }, null, 2)}\n`;
  const manifestFile = join(cache, 'lab.json');
  if (!existsSync(manifestFile) || readFileSync(manifestFile, 'utf8') !== text) {
    writeFileSync(`${manifestFile}.tmp`, text);
    renameSync(`${manifestFile}.tmp`, manifestFile);
  }
  const extra = Object.keys(kubeadm).filter((v) => !manifest[v]);
  const summary = versions.map((v) => v.kubernetesVersion).join(', ') + (extra.length > 0 ? ` (and the kubeadm of ${extra.join(', ')})` : '');
  log.say(builtSomething ? `Kubernetes ${summary} ready in ${cache} (${took(Date.now() - started)})` : `Kubernetes ${summary}: binaries and images cached in ${cache}, nothing to build`);
}
