/**
 * Faults during `kbuild apply` on test hosts: the SSH connection cut mid-push (sshd killed, link
 * down), sshd restarted mid-run, a full disk, a hand-edited manifest. No host may ever hold a
 * partial file or a leftover temp file; failures name the host; a re-run converges.
 *
 * Real components: the kubelet restarts kube-scheduler from every manifest apply leaves, and apply's
 * gates wait for it. A push is made slow enough to cut on purpose: a ~60 KB kube-scheduler.yaml (one
 * long, harmless path added to --authorization-always-allow-paths) through a 64 kbit/s shaper on the
 * host's link, and the cut happens as soon as kbuild's temp file shows up next to the target. The
 * scheduler, not the apiserver, carries the padding because it restarts in seconds: every fault's
 * re-run waits for the restart.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, kbuild, type CliResult, type ClusterLab } from './cluster-lab.js';

const HOST = 'cp1';
const PADDED = '/etc/kubernetes/manifests/kube-scheduler.yaml';
const DIRS = ['/etc/kubernetes', '/var/lib/kubelet', '/etc/systemd/system/kubelet.service.d', '/etc/cni/net.d'];
const TEMP = /\.kbuild-[0-9a-f]+$/;

let cl: ClusterLab;
let renders = 0;

beforeAll(async () => {
  cl = await createClusterLab('faults', [
    { name: 'cp1', roles: ['control-plane'] },
    { name: 'w1', roles: ['worker'] },
    // A dead link is noticed after three unanswered keepalives 3 s apart (the default waits 45 s).
  ], {}, { ssh: { connectTimeout: 5, serverAliveInterval: 3 } });
});
afterEach(async () => {
  // A failed fault test must not leave the next one a shaped link, a down link or no sshd.
  await unshape().catch(() => undefined);
  await cl.lab.setLinkUp(HOST);
  await ensureSshd();
});
afterAll(async () => {
  await cl?.lab.teardown();
});

const apply = () => kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir], 10 * 60_000);
const output = (r: CliResult) => `${r.stdout}\n${r.stderr}`;

/** Pads kube-scheduler.yaml (changes only cp1's) with a long, harmless flag value and returns the rendered tree for cp1. */
async function setPadding(tag: string, bytes = 60_000): Promise<Map<string, string>> {
  const doc = yaml.load(readFileSync(cl.clusterFile, 'utf8')) as { spec: Record<string, unknown> };
  // The scheduler's default always-allowed paths plus one nobody requests: it serves as before.
  doc.spec.scheduler = { extraArgs: { 'authorization-always-allow-paths': `/healthz,/readyz,/livez,/kbuild-e2e-${tag}-${'x'.repeat(bytes)}` } };
  writeFileSync(cl.clusterFile, yaml.dump(doc, { lineWidth: -1 }));
  const out = join(cl.dir, `render-${++renders}`);
  const r = await kbuild(['render', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  return localSums(join(out, HOST));
}

function localSums(root: string, rel = ''): Map<string, string> {
  const sums = new Map<string, string>();
  for (const name of readdirSync(join(root, rel))) {
    const path = `${rel}/${name}`;
    if (statSync(join(root, path)).isDirectory()) for (const [p, s] of localSums(root, path)) sums.set(p, s);
    else sums.set(path, createHash('sha256').update(readFileSync(join(root, path))).digest('hex'));
  }
  return sums;
}

async function hostSums(host = HOST): Promise<Map<string, string>> {
  const r = await cl.lab.exec(host, `find ${DIRS.join(' ')} -type f -print0 2>/dev/null | xargs -0 -r sha256sum`);
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(66), l.slice(0, 64)] as [string, string]),
  );
}

async function tempFiles(host = HOST): Promise<string[]> {
  const r = await cl.lab.exec(host, `find ${DIRS.join(' ')} -name '.*.kbuild-*' 2>/dev/null || true`);
  return r.stdout.trim().split('\n').filter(Boolean);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const link = () => cl.lab.hosts.find((h) => h.name === HOST)!.link;
/** 64 kbit/s towards the host: a 60 KB file takes ~8 s to arrive. */
const shape = () => execFileSync('tc', ['qdisc', 'replace', 'dev', link(), 'root', 'tbf', 'rate', '64kbit', 'burst', '4kb', 'latency', '60s']);
const unshape = async () => void execFileSync('tc', ['qdisc', 'del', 'dev', link(), 'root'], { stdio: 'ignore' });

/** Kills the host's sshd and every session it forked (each by pid, inside the host's own PID namespace). */
async function killAllSshd(host = HOST): Promise<void> {
  // Sessions first: they hold the listener's log pipe, so the lab's handle only sees it end after them.
  const r = await cl.lab.exec(host, 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sshd ] && echo ${p#/proc/}; done; true');
  const pids = r.stdout.trim().split('\n').filter(Boolean);
  if (pids.length > 0) await cl.lab.exec(host, `kill -KILL ${pids.join(' ')} 2>/dev/null; true`);
  await cl.lab.killSshd(host);
}

/** Drops kbuild's SSH sessions (their per-connection sshd processes) while the listener keeps accepting. */
async function killSshdSessions(host = HOST): Promise<void> {
  const r = await cl.lab.exec(host, 'for p in /proc/[0-9]*; do case "$(tr "\\0" " " < $p/cmdline 2>/dev/null)" in *"[listener]"*) ;; "sshd: "*) echo ${p#/proc/};; esac; done; true');
  const pids = r.stdout.trim().split('\n').filter(Boolean);
  expect(pids.length, 'sshd session processes on the host').toBeGreaterThan(0);
  await cl.lab.exec(host, `kill -KILL ${pids.join(' ')} 2>/dev/null; true`);
}

/** Restores sshd after a test, whatever state the test left it in. */
async function ensureSshd(host = HOST): Promise<void> {
  await cl.lab.startSshd(host).catch((error: Error) => {
    if (!/already running/.test(error.message)) throw error;
  });
}

/** Starts an apply and resolves once kbuild's temp file for kube-scheduler.yaml is on the host. */
async function applyCaughtMidPush(): Promise<{ run: Promise<CliResult> }> {
  shape();
  const run = apply();
  let finished = false;
  void run.then(() => (finished = true));
  await waitFor(
    'the kube-scheduler.yaml temp file',
    async () => {
      if (finished) throw new Error(`apply ended before the push could be cut:\n${output(await run)}`);
      const r = await cl.lab.exec(HOST, 'ls -A /etc/kubernetes/manifests');
      return r.stdout.split('\n').some((n) => n.startsWith('.kube-scheduler.yaml.kbuild-')) ? true : undefined;
    },
    180_000,
  );
  return { run };
}

/**
 * A push of a new kube-scheduler.yaml (padding `tag`) cut by `fault` as soon as its temp file is on
 * the host; the shaper goes right after the fault, `restore` once apply has ended, whatever it did.
 */
async function pushCutBy(tag: string, fault: () => Promise<void>, restore: () => Promise<void> = () => Promise.resolve()) {
  const before = await hostSums();
  const rendered = await setPadding(tag);
  const { run } = await applyCaughtMidPush();
  await fault();
  // The cut is made: the rest of the run (a reconnect, the gates) goes at the link's full speed.
  await unshape();
  try {
    return { before, rendered, r: await run };
  } finally {
    await restore();
  }
}

/**
 * No target file is partial. Temp files go with the session that wrote them; after a link cut the
 * host's sshd may not notice the dead session for minutes, so there (`leftoversAllowed`) a temp file
 * may stay until the next apply, which must remove it (checked in expectConverges).
 */
async function expectNoPartialFile(before: Map<string, string>, rendered: Map<string, string>, leftoversAllowed = false): Promise<void> {
  if (!leftoversAllowed) {
    await waitFor('temp files to be removed', async () => ((await tempFiles()).length === 0 ? true : undefined), 30_000).catch(async () => {
      expect(await tempFiles(), 'temp files left in target directories').toEqual([]);
    });
  }
  const now = await hostSums();
  for (const [path, sum] of now) {
    if (TEMP.test(path)) {
      if (leftoversAllowed && path.startsWith('/etc/kubernetes/manifests/.kube-scheduler.yaml.kbuild-')) continue;
      throw new Error(`temp file ${path} left on ${HOST}`);
    }
    // The kubelet's own files (its state, rotated client certificate, pod volumes) are not kbuild's to push.
    if (!rendered.has(path)) continue;
    expect([before.get(path), rendered.get(path)], `${HOST}:${path} is neither the old nor the rendered version`).toContain(sum);
  }
  expect([before.get(PADDED), rendered.get(PADDED)]).toContain(now.get(PADDED));
}

async function expectConverges(rendered: Map<string, string>): Promise<void> {
  const rerun = await apply();
  expect(rerun.code, output(rerun).slice(-3000)).toBe(0);
  // Converged: a dry run (the same phases, read-only) finds nothing to write or run on either host.
  const second = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--dry-run', '-o', join(cl.dir, `converged-${++renders}`)], 5 * 60_000);
  expect(second.code, output(second).slice(-3000)).toBe(0);
  expect(second.stdout).toMatch(/^cp1: no changes$/m);
  expect(second.stdout).toMatch(/^w1: no changes$/m);
  const now = await hostSums();
  for (const [path, sum] of rendered) expect(now.get(path), `${HOST}:${path}`).toBe(sum);
  expect(await tempFiles()).toEqual([]);
}

describe('kbuild apply under faults', () => {
  it('brings the cluster up (the "previous files" of every later fault)', async () => {
    const r = await apply();
    expect(r.code, output(r).slice(-3000)).toBe(0);
  });

  it('reports a hand-edited manifest as drift, restores it, and a second run is clean', async () => {
    const scheduler = '/etc/kubernetes/manifests/kube-scheduler.yaml';
    const original = (await hostSums()).get(scheduler);
    await cl.lab.exec(HOST, `printf '# hand edit\\n' >> ${scheduler}`);
    expect((await hostSums()).get(scheduler)).not.toBe(original);
    const r = await apply();
    expect(r.code, output(r).slice(-3000)).toBe(0);
    expect(r.stderr).toContain(`cp1: restored drifted file ${scheduler}: it was changed on the host after the last apply`);
    expect((await hostSums()).get(scheduler)).toBe(original);
    const again = await apply();
    expect(again.code).toBe(0);
    expect(output(again)).not.toMatch(/drift/);
    expect(again.stdout).toMatch(/^cp1: no changes$/m);
  });

  it('a cluster-file change is an update, not drift (the push record in the state directory tells them apart)', async () => {
    const padded = PADDED;
    const rendered = await setPadding('update', 100);
    const r = await apply();
    expect(r.code, output(r).slice(-3000)).toBe(0);
    expect(r.stdout).toContain(`cp1: updated ${padded}: the cluster file or a certificate changed since the last apply`);
    expect(output(r)).not.toMatch(/drift/);
    expect((await hostSums()).get(padded)).toBe(rendered.get(padded));
    expect((JSON.parse(readFileSync(join(cl.stateDir, 'hosts/cp1/pushed.json'), 'utf8')) as Record<string, string>)[padded]).toBe(rendered.get(padded));
  });

  it('sshd killed mid-push: no partial file, fails naming the host, a re-run converges', async () => {
    const { before, rendered, r } = await pushCutBy('sshd-killed', () => killAllSshd());
    expect(r.code, output(r)).toBe(1);
    expect(r.stderr).toMatch(/^\s*cp1: .*(connection|closed|lost)/im);
    await expectNoPartialFile(before, rendered);
    await ensureSshd();
    await expectConverges(rendered);
  });

  it('a dropped session mid-push (sshd still listening): kbuild reconnects, finishes the push and says so', async () => {
    const { before, rendered, r } = await pushCutBy('session-dropped', () => killSshdSessions());
    expect(r.code, output(r).slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/^warning: cp1: reconnected after the connection dropped \(connection lost during `write /m);
    expect((await hostSums()).get(PADDED)).toBe(rendered.get(PADDED));
    await expectNoPartialFile(before, rendered);
    await expectConverges(rendered);
  });

  it('link down mid-push: no partial file, fails naming the host, a re-run converges', async () => {
    const { before, rendered, r } = await pushCutBy('link-down', () => cl.lab.setLinkDown(HOST), () => cl.lab.setLinkUp(HOST));
    expect(r.code, output(r)).toBe(1);
    expect(r.stderr).toMatch(/^\s*cp1: /m);
    await expectNoPartialFile(before, rendered, true);
    await expectConverges(rendered);
  });

  it('sshd restarted mid-run: completes or fails naming the host; a re-run converges', async () => {
    const { before, rendered, r } = await pushCutBy('sshd-restarted', async () => {
      await killAllSshd();
      await ensureSshd();
    });
    if (r.code !== 0) {
      expect(r.code, output(r)).toBe(1);
      expect(r.stderr).toMatch(/^\s*cp1: /m);
    } else {
      // The push was cut, so finishing means kbuild reconnected, and said so.
      expect(r.stderr).toMatch(/^warning: cp1: reconnected after the connection dropped/m);
    }
    await expectNoPartialFile(before, rendered);
    await expectConverges(rendered);
  });

  it('a full disk: a clear error naming host and file, the previous files intact', async () => {
    // /etc/kubernetes becomes a small tmpfs holding exactly the current files, with little room to spare.
    const used = Number((await cl.lab.exec(HOST, 'du -sk /etc/kubernetes | cut -f1')).stdout.trim());
    await cl.lab.exec(HOST, `set -e; cp -a /etc/kubernetes /run/k8s-copy; mount -t tmpfs -o size=${used + 48}k,mode=0755 tmpfs /etc/kubernetes; cp -a /run/k8s-copy/. /etc/kubernetes/; rm -rf /run/k8s-copy`);
    const before = await hostSums();
    await setPadding('disk-full', 200_000);
    const r = await apply();
    expect(r.code, output(r).slice(-3000)).toBe(1);
    expect(r.stderr).toMatch(/cp1: .*kube-scheduler\.yaml[\s\S]*no space left on device/i);
    expect(await tempFiles()).toEqual([]);
    const now = await hostSums();
    for (const [path, sum] of before) if (path.startsWith('/etc/kubernetes/')) expect(now.get(path), `${HOST}:${path}`).toBe(sum);
  });
});
