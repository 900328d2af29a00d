/**
 * The kubelet stand-in on test hosts. A real kubelet and kube-apiserver cannot run on these
 * machines, so each host gets a stand-in `systemctl` and `kubelet` ahead of the real ones on PATH;
 * `systemctl restart kubelet` starts kubelet-standin.mjs, which plays the static pods in
 * /etc/kubernetes/manifests with real etcd, real haproxy and real TLS (see README.md here).
 *
 *   const lab = await createTestHosts({ names: ['cp1'] });
 *   const standin = await installStandin(lab, 'cp1', { kubernetesVersion: 'v1.32.4' });
 *   // ... kbuild pushes files and runs `systemctl restart kubelet` over ssh ...
 *   readApiRequests(lab, 'cp1'); readApiObjects(lab, 'cp1'); standinLog(lab, 'cp1');
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestLab } from '../testhosts.js';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Where the stand-in executables go inside a host: first on root's, sudo's and users' PATH. */
export const STANDIN_BIN_DIR = '/usr/local/bin';
/** The stand-in systemctl and kubelet read their settings here (inside the host). */
export const STANDIN_ENV_FILE = '/usr/local/lib/kbuild-standin/env';
export const CRI_SOCKET = '/var/run/containerd/containerd.sock';

export interface StandinOptions {
  /** What `kubelet --version` and the apiserver's /version report. Default v1.32.0. */
  kubernetesVersion?: string;
  /** Create the CRI socket file preflight looks for (default true). */
  criSocket?: boolean;
  /** Set net.ipv4.ip_forward=1 (and IPv6 forwarding) in the host's network namespace (default true). */
  ipForward?: boolean;
}

/** Files of one host's stand-in, readable from the test process (the lab dir is shared). */
export interface StandinFiles {
  /** The stand-in's state directory: everything below lives here. */
  dir: string;
  /** The stand-in's own log (pods started, stopped, failed, health failures). */
  log: string;
  /** JSON: `{ pid, updated, components: { etcd: { state, pid, argv, error, ... }, ... } }`. */
  status: string;
  /** One JSON object per apiserver request: `ApiRequestRecord`. */
  apiRequests: string;
  /** JSON array of every object stored through the apiserver stand-in (rewritten on each change). */
  apiObjects: string;
  /** Each `systemctl` invocation, one per line. */
  systemctlLog: string;
  kubeletPid: string;
  haproxyPid: string;
  /** stdout/stderr of a component run as a process (etcd, haproxy static pod). */
  componentLog(component: string): string;
}

export interface Standin {
  host: string;
  files: StandinFiles;
}

export interface ApiRequestRecord {
  time: string;
  method: string;
  path: string;
  query?: string;
  contentType?: string;
  /** Client-certificate CN, `system:bootstrap:<id>`, or `system:anonymous`; absent on a rejected credential (401). */
  user?: string;
  /** Certificate O values (plus system:authenticated / system:unauthenticated). */
  groups?: string[];
  authenticatedBy?: 'x509' | 'bootstrap-token' | 'anonymous';
  status: number;
}

export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ComponentStatus {
  state: 'running' | 'stopped' | 'failed' | 'crash-loop' | 'skipped';
  /** PID inside the host's PID namespace (the stand-in's own for in-process servers). */
  pid?: number;
  argv?: string[];
  error?: string;
  listen?: string;
  since: string;
}

export interface StandinStatus {
  pid: number;
  updated: string;
  components: Record<string, ComponentStatus>;
}

export function standinFiles(lab: TestLab, hostName: string): StandinFiles {
  lab.host(hostName);
  const dir = join(lab.dir, 'standin', hostName);
  return {
    dir,
    log: join(dir, 'kubelet.log'),
    status: join(dir, 'status.json'),
    apiRequests: join(dir, 'api-requests.jsonl'),
    apiObjects: join(dir, 'api-objects.json'),
    systemctlLog: join(dir, 'systemctl.log'),
    kubeletPid: join(dir, 'kubelet.pid'),
    haproxyPid: join(dir, 'haproxy.pid'),
    componentLog: (component) => join(dir, `${component}.log`),
  };
}

const shellWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Puts the stand-in into one host: `systemctl` and `kubelet` in /usr/local/bin (the host's private
 * overlay), their settings, the CRI socket, and IP forwarding. Nothing runs until kbuild (or the
 * test) runs `systemctl restart kubelet` / `systemctl reload-or-restart haproxy` in the host.
 */
export async function installStandin(lab: TestLab, hostName: string, options: StandinOptions = {}): Promise<Standin> {
  const files = standinFiles(lab, hostName);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const env = [
    '# kbuild test stand-in settings (test/support/standin/index.ts)',
    `export STANDIN_NODE=${shellWord(process.execPath)}`,
    `export STANDIN_SCRIPT=${shellWord(join(SOURCE_DIR, 'kubelet-standin.mjs'))}`,
    `export STANDIN_DIR=${shellWord(files.dir)}`,
    `export STANDIN_KUBERNETES_VERSION=${shellWord(options.kubernetesVersion ?? 'v1.32.0')}`,
    '',
  ].join('\n');
  const envSource = join(files.dir, 'env');
  writeFileSync(envSource, env, { mode: 0o644 });
  const steps = [
    'set -eu',
    `mkdir -p ${STANDIN_BIN_DIR} /usr/local/lib/kbuild-standin`,
    `install -m 0644 ${shellWord(envSource)} ${STANDIN_ENV_FILE}`,
    `install -m 0755 ${shellWord(join(SOURCE_DIR, 'systemctl'))} ${STANDIN_BIN_DIR}/systemctl`,
    `install -m 0755 ${shellWord(join(SOURCE_DIR, 'kubelet'))} ${STANDIN_BIN_DIR}/kubelet`,
  ];
  if (options.criSocket ?? true) {
    // A real socket file (nothing listens on it): what preflight's existence check looks for.
    steps.push(`mkdir -p $(dirname ${CRI_SOCKET})`, `${shellWord(process.execPath)} -e 'require("node:net").createServer().listen(process.argv[1], () => process.exit(0))' ${CRI_SOCKET}`, `test -S ${CRI_SOCKET}`);
  }
  if (options.ipForward ?? true) {
    steps.push('echo 1 > /proc/sys/net/ipv4/ip_forward', 'if [ -w /proc/sys/net/ipv6/conf/default/forwarding ]; then echo 1 > /proc/sys/net/ipv6/conf/default/forwarding; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding; fi');
  }
  await lab.exec(hostName, steps.join('\n'), { timeoutMs: 30_000 });
  return { host: hostName, files };
}

/** Every request the host's apiserver stand-in received so far, in order. */
export function readApiRequests(lab: TestLab, hostName: string): ApiRequestRecord[] {
  const file = standinFiles(lab, hostName).apiRequests;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ApiRequestRecord);
}

/** Every object the host's apiserver stand-in holds (as of its last write), optionally one kind. */
export function readApiObjects(lab: TestLab, hostName: string, kind?: string): ApiObject[] {
  const file = standinFiles(lab, hostName).apiObjects;
  if (!existsSync(file)) return [];
  const objects = JSON.parse(readFileSync(file, 'utf8')) as ApiObject[];
  return kind === undefined ? objects : objects.filter((object) => object.kind === kind);
}

export function readStandinStatus(lab: TestLab, hostName: string): StandinStatus | undefined {
  const file = standinFiles(lab, hostName).status;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StandinStatus) : undefined;
}

/** The stand-in's log; with `component`, that component's own output (etcd, haproxy). */
export function standinLog(lab: TestLab, hostName: string, component?: string): string {
  const files = standinFiles(lab, hostName);
  const file = component === undefined ? files.log : files.componentLog(component);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
