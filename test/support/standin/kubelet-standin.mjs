#!/usr/bin/env node
// The kubelet stand-in of one test host (see index.ts and DEVELOPERS.md "Test hosts"): watches the
// static pod directory like the kubelet and plays each pod with what can run here — a real etcd, a
// real haproxy, an HTTPS kube-apiserver backed by that etcd, /healthz servers — and serves the
// kubelet's own /healthz. Started (setsid) by the stand-in systemctl; stops every pod on SIGTERM.
//
//   node kubelet-standin.mjs --state-dir DIR --pid-file FILE
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { ApiServerPod } from './lib/apiserver.mjs';
import { etcdPod, FatalPodError } from './lib/etcd-pod.mjs';
import { ComponentHealthzPod, KubeletHealthzPod } from './lib/healthz.mjs';
import { log, Status } from './lib/log.mjs';
import { containerArgv, contentHash, readPod } from './lib/manifest.mjs';
import { ProcessPod } from './lib/process-pod.mjs';

const POLL_MS = 300;
const RETRY_MS = 2_000;
const STOP_ALL_MS = 15_000;
const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';
const DEFAULT_MANIFESTS = '/etc/kubernetes/manifests';
// A stand-in nobody stops still ends: the lab's teardown removes the state dir, and lifetime is capped.
const MAX_LIFETIME_MS = Number(process.env.STANDIN_MAX_LIFETIME_MS ?? 6 * 3600_000);

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' }, 'pid-file': { type: 'string' } } });
const stateDir = values['state-dir'];
if (!stateDir || !existsSync(stateDir)) {
  process.stderr.write(`kubelet-standin: --state-dir ${stateDir ?? '(missing)'} does not exist\n`);
  process.exit(2);
}
const pidFile = values['pid-file'];
const kubernetesVersion = process.env.STANDIN_KUBERNETES_VERSION ?? 'v1.32.0';
const status = new Status(stateDir);
/** file → { hash, pod?, retryAt?, component } */
const running = new Map();
const noted = new Set();

function componentOf(pod, container) {
  return container.name ?? pod.metadata?.name ?? 'unknown';
}

/** The pod that plays a manifest, or undefined for a manifest the stand-in does not play. */
function podFor(file, { pod, container }) {
  const component = componentOf(pod, container);
  const argv = containerArgv(pod, container);
  const logFile = join(stateDir, `${component}.log`);
  switch (component) {
    case 'etcd':
      return etcdPod({ argv, file, logFile, status });
    case 'kube-apiserver':
      return new ApiServerPod({ argv, file, stateDir, status, kubernetesVersion });
    case 'kube-controller-manager':
      return new ComponentHealthzPod({ name: component, argv, file, stateDir, status, defaultPort: 10257 });
    case 'kube-scheduler':
      return new ComponentHealthzPod({ name: component, argv, file, stateDir, status, defaultPort: 10259 });
    case 'haproxy':
      return new ProcessPod({ name: 'haproxy', argv: ['haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg'], logFile, status });
    case 'keepalived':
      if (!noted.has(file)) log(`keepalived (${file}): not played by the stand-in (no VIP is assigned); skipped`);
      noted.add(file);
      status.set('keepalived', { state: 'skipped', file });
      return undefined;
    default:
      if (!noted.has(file)) log(`${file}: unknown static pod (container ${component}); ignored`);
      noted.add(file);
      return undefined;
  }
}

async function stopEntry(file) {
  const entry = running.get(file);
  running.delete(file);
  if (entry?.pod) {
    log(`${entry.component}: stopping (${file})`);
    await entry.pod.stop();
  }
}

/** Brings one source file (manifest or kubelet config) to its wanted state. */
async function sync(file, text, identify) {
  const hash = contentHash(text);
  const entry = running.get(file);
  if (entry && entry.hash === hash && (entry.retryAt === undefined || Date.now() < entry.retryAt)) return;
  if (entry) await stopEntry(file);
  let pod;
  let component = basename(file);
  try {
    const identified = identify();
    component = identified.component;
    pod = identified.build();
    running.set(file, { hash, pod, component });
    if (pod) {
      log(`${component}: starting from ${file} (content ${hash})`);
      await pod.start();
    }
  } catch (error) {
    const fatal = error instanceof FatalPodError;
    log(`${component}: ${fatal ? 'FATAL: ' : ''}cannot start from ${file}: ${error.message}${fatal ? '' : `; retrying in ${RETRY_MS} ms`}`);
    status.set(component, { state: 'failed', pid: undefined, error: error.message, file });
    if (pod) await pod.stop().catch(() => undefined);
    running.set(file, { hash, component, retryAt: fatal ? Number.POSITIVE_INFINITY : Date.now() + RETRY_MS });
  }
}

function staticPodPath() {
  try {
    return yaml.load(readFileSync(KUBELET_CONFIG, 'utf8'))?.staticPodPath ?? DEFAULT_MANIFESTS;
  } catch {
    return DEFAULT_MANIFESTS;
  }
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function tick() {
  const dir = staticPodPath();
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch {
    // No manifest directory yet: no static pods.
  }
  const wanted = new Map();
  for (const name of names) {
    const text = readText(join(dir, name));
    if (text !== undefined) wanted.set(join(dir, name), text);
  }
  const configText = readText(KUBELET_CONFIG);
  if (configText !== undefined) wanted.set(KUBELET_CONFIG, configText);
  for (const file of [...running.keys()]) {
    if (!wanted.has(file)) {
      const component = running.get(file)?.component;
      await stopEntry(file);
      if (component) status.set(component, { state: 'stopped', pid: undefined, file });
    }
  }
  for (const [file, text] of wanted) {
    if (file === KUBELET_CONFIG) await sync(file, text, () => ({ component: 'kubelet', build: () => new KubeletHealthzPod({ configFile: file, status }) }));
    else await sync(file, text, () => {
      const parsed = readPod(file);
      return { component: componentOf(parsed.pod, parsed.container), build: () => podFor(file, parsed) };
    });
  }
}

let stopping = false;
async function shutdown(reason) {
  if (stopping) return;
  stopping = true;
  log(`stand-in stopping: ${reason}`);
  const all = Promise.all([...running.keys()].map((file) => stopEntry(file).catch((error) => log(`stop ${file}: ${error.message}`))));
  await Promise.race([all, sleep(STOP_ALL_MS)]);
  if (pidFile && readText(pidFile)?.trim() === String(process.pid)) rmSync(pidFile, { force: true });
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('exit', () => {
  for (const entry of running.values()) entry.pod?.killNow();
});

if (pidFile) writeFileSync(pidFile, `${process.pid}\n`);
log(`stand-in started: pid ${process.pid}, state dir ${stateDir}, Kubernetes ${kubernetesVersion}`);
const deadline = Date.now() + MAX_LIFETIME_MS;
while (!stopping) {
  if (!existsSync(stateDir)) await shutdown(`state dir ${stateDir} is gone`);
  else if (Date.now() > deadline) await shutdown(`lifetime of ${MAX_LIFETIME_MS} ms reached`);
  else {
    try {
      await tick();
    } catch (error) {
      log(`poll failed: ${error.stack ?? error.message}`);
    }
    await sleep(POLL_MS);
  }
}
