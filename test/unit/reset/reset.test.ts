import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Cluster, Host } from '../../../src/config/model.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { runPhases } from '../../../src/workflow/engine.js';
import { selectPhases } from '../../../src/workflow/select.js';
import { renderCluster, type RenderedCluster } from '../../../src/render/cluster.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { recordingReporter, type ReportEvent } from '../../../src/report/reporter.js';
import { etcdDataDecider } from '../../../src/operations/reset/confirm.js';
import { terminalYesNo, type YesNoPrompt } from '../../../src/report/prompts.js';
import type { ResetContext } from '../../../src/operations/reset/context.js';
import { KBUILD_PATHS, removedByReset } from '../../../src/operations/reset/paths.js';
import { RESET_PHASES } from '../../../src/operations/reset/phases.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { example, START, removeDir, tempDir as makeTempDir, testOptions } from '../../support/pki.js';
import { fakeHost, hostFiles, SimEtcd, type FakeHost } from './fake-cluster.js';

const made: string[] = [];
const tempDir = async (prefix: string) => {
  const dir = await makeTempDir(prefix);
  made.push(dir);
  return dir;
};
afterAll(() => Promise.all(made.map(removeDir)));

async function renderExample(name: string): Promise<{ cluster: Cluster; rendered: RenderedCluster }> {
  const cluster = await example(name);
  const state = await StateDir.open(await tempDir('kbuild-reset-'));
  const pki = await ensureClusterPki(cluster, state, testOptions());
  const secrets = await loadRenderSecrets(state, { now: () => START });
  return { cluster, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }) };
}

const stacked = renderExample('ha-stacked');

interface Run {
  fakes: Map<string, FakeHost>;
  etcd: SimEtcd;
  events: ReportEvent[];
  changed: Map<string, string[]>;
  prompts: string[];
}

const neverAnswered: YesNoPrompt = () => Promise.resolve(undefined);

async function setUp(cluster: Cluster, rendered: RenderedCluster, targets: string[], etcd = new SimEtcd(cluster.etcdMembers)) {
  const fakes = new Map(cluster.hosts.map((h) => [h.name, fakeHost(h, hostFiles(cluster, h, rendered.hosts), etcd)]));
  return { fakes, etcd, hosts: targets.map((n) => cluster.hosts.find((h) => h.name === n)!) };
}

async function reset(fakes: Map<string, FakeHost>, etcd: SimEtcd, hosts: Host[], options: { force: boolean; prompt?: YesNoPrompt; cluster?: Cluster }): Promise<Run> {
  const reporter = recordingReporter();
  const prompts: string[] = [];
  const prompt = options.prompt ?? neverAnswered;
  const ctx: ResetContext = {
    targets: hosts,
    reporter,
    concurrency: 4,
    transport: async (h) => fakes.get(h.name)!,
    decideEtcdData: etcdDataDecider({ force: options.force, dryRun: false, prompt: (q) => (prompts.push(q), prompt(q)) }),
    removedMembers: new Map(),
    // As the fleet reset: the cluster file's directory for its etcd members only.
    etcdDataDir: (h) => (options.cluster?.etcdMembers.some((m) => m.name === h.name) ? options.cluster.etcd.dataDir : '/var/lib/etcd'),
    etcdDataDirs: new Map(),
  };
  const records = await runPhases(selectPhases(RESET_PHASES), ctx, { concurrency: 4, reporter, delay: async () => {} });
  const changed = new Map<string, string[]>();
  for (const r of records) for (const [host, c] of r.changed) changed.set(host, [...(changed.get(host) ?? []), ...c]);
  return { fakes, etcd, events: reporter.events, changed, prompts };
}

const opIndex = (fake: FakeHost, predicate: (c: FakeHost['calls'][number]) => boolean) => fake.calls.findIndex(predicate);
const messages = (events: ReportEvent[]) => events.flatMap((e) => (e.type === 'info' || e.type === 'warn' ? [`${e.host ?? ''}: ${e.message}`] : []));

describe('reset covers what kbuild creates', () => {
  it.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('every rendered file of %s is removed by reset', async (name) => {
    const { rendered } = await renderExample(name);
    const left = [...rendered.hosts].flatMap(([host, files]) => files.filter((f) => !removedByReset(f.path)).map((f) => `${host}:${f.path}`));
    expect(left).toEqual([]);
  });
});

describe('kbuild reset phases over scripted hosts', () => {
  it('a stacked member leaves etcd through another member, then the kubelet stops, then files and (with --force) etcd data go', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp3']);
    const run = await reset(fakes, etcd, hosts, { force: true });
    const cp3 = run.fakes.get('cp3')!;
    expect(etcd.members.map((m) => m.name)).toEqual(['cp1', 'cp2']);
    expect(etcd.removals).toHaveLength(1);
    expect(etcd.removals[0]).toMatch(/^cp3 asked https:\/\/192\.168\.10\.1[12]:2382 to remove cp3$/);
    const removeMember = opIndex(cp3, (c) => c.op === 'run' && c.command.includes('/v3/cluster/member/remove'));
    const stopKubelet = opIndex(cp3, (c) => c.op === 'run' && c.command === 'systemctl stop kubelet');
    const firstRemove = opIndex(cp3, (c) => c.op === 'remove');
    const etcdData = opIndex(cp3, (c) => c.op === 'run' && c.command.startsWith("find /var/lib/etcd -mindepth 1 -maxdepth 1 -exec rm -rf"));
    expect(removeMember).toBeGreaterThan(-1);
    expect(removeMember).toBeLessThan(stopKubelet);
    expect(stopKubelet).toBeLessThan(firstRemove);
    expect(firstRemove).toBeLessThan(etcdData);
    // Removals follow the catalogue order: static pods first.
    const removed = cp3.calls.flatMap((c) => (c.op === 'remove' && !c.path.startsWith('/var/lib/etcd/') ? [c.path] : []));
    expect(removed).toEqual(KBUILD_PATHS.filter((p) => removed.includes(p)));
    expect(removed[0]).toBe('/etc/kubernetes/manifests/etcd.yaml');
    expect([...cp3.files.keys()]).toEqual([]);
    expect(cp3.commands).toContain('systemctl daemon-reload');
    expect(run.changed.get('cp3')).toEqual(expect.arrayContaining([expect.stringMatching(/^removed etcd member cp3 /), 'stopped kubelet', 'removed /etc/kubernetes/pki', 'removed etcd data in /var/lib/etcd']));
    expect(run.prompts).toEqual([]);
    // Other hosts were not touched.
    for (const name of ['cp1', 'cp2', 'worker1']) expect(run.fakes.get(name)!.calls).toEqual([]);
  });

  it('etcd data goes in one find -exec: an entry whose name holds a line break never becomes a path of its own', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp3']);
    const cp3 = fakes.get('cp3')!;
    cp3.files.set('/var/lib/etcd/x\netc/passwd', { content: Buffer.from('crafted'), mode: 0o600, owner: 'root:root' });
    await reset(fakes, etcd, hosts, { force: true });
    // Split on lines, `x\netc` would have been removed as "etc": relative to the remote shell's directory.
    const outside = cp3.calls.filter((c) => c.op === 'remove' && !c.path.startsWith('/'));
    expect(outside).toEqual([]);
    expect(cp3.commands).toContain('find /var/lib/etcd -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +');
    expect([...cp3.files.keys()]).toEqual([]);
  });

  it('the last member is not removed from etcd; it just stops with the kubelet', async () => {
    const { cluster, rendered } = await stacked;
    const cp1 = cluster.hosts.find((h) => h.name === 'cp1')!;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp1'], new SimEtcd([cp1]));
    const run = await reset(fakes, etcd, hosts, { force: true });
    expect(etcd.members.map((m) => m.name)).toEqual(['cp1']);
    expect(run.fakes.get('cp1')!.commands.filter((c) => c.includes('member/remove'))).toEqual([]);
    expect(messages(run.events)).toContain('cp1: "cp1" is the last etcd member: not removed; it stops with the kubelet');
    expect(run.fakes.get('cp1')!.commands).toContain('systemctl stop kubelet');
  });

  it('a fleet reset removes members one at a time, each through a remaining member, and the last one stays', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, cluster.hosts.map((h) => h.name));
    const run = await reset(fakes, etcd, hosts, { force: true });
    expect(etcd.removals.map((r) => r.replace(/ asked \S+/, ''))).toEqual(['cp1 to remove cp1', 'cp2 to remove cp2']);
    expect(etcd.removals[0]).toMatch(/asked https:\/\/192\.168\.10\.1[23]:2382/);
    expect(etcd.removals[1]).toMatch(/asked https:\/\/192\.168\.10\.13:2382/);
    expect(etcd.members.map((m) => m.name)).toEqual(['cp3']);
    for (const [name, fake] of run.fakes) expect([...fake.files.keys()], name).toEqual([]);
    // The load balancers' services stop only where kbuild's config is, and only when running.
    expect(run.fakes.get('lb1')!.commands).not.toContain('systemctl stop haproxy');
  });

  it('external etcd hosts leave the cluster the same way', async () => {
    const { cluster, rendered } = await renderExample('ha-external-etcd');
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, cluster.hosts.map((h) => h.name));
    await reset(fakes, etcd, hosts, { force: true });
    const members = cluster.etcdMembers.map((m) => m.name);
    expect(etcd.removals.map((r) => r.replace(/ asked \S+/, ''))).toEqual(members.slice(0, -1).map((m) => `${m} to remove ${m}`));
    expect(etcd.members.map((m) => m.name)).toEqual(members.slice(-1));
    for (const [name, fake] of fakes) expect([...fake.files.keys()], name).toEqual([]);
  });

  it('stops haproxy and keepalived where kbuild configured them and they run', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['lb1']);
    fakes.get('lb1')!.active.add('haproxy');
    const run = await reset(fakes, etcd, hosts, { force: false });
    const lb1 = run.fakes.get('lb1')!;
    expect(lb1.commands).toContain('systemctl stop haproxy');
    expect(lb1.commands).not.toContain('systemctl stop keepalived');
    expect(lb1.commands.indexOf('systemctl stop haproxy')).toBeLessThan(opIndex(lb1, (c) => c.op === 'remove'));
    expect(lb1.files.has('/etc/haproxy/haproxy.cfg')).toBe(false);
  });

  it('leaves a haproxy.cfg kbuild did not write, and its running service, alone', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['worker1']);
    const worker = fakes.get('worker1')!;
    worker.files.set('/etc/haproxy/haproxy.cfg', { content: Buffer.from('global\n\tlog /dev/log local0\n'), mode: 0o644, owner: 'root:root' });
    worker.active.add('haproxy');
    const run = await reset(fakes, etcd, hosts, { force: false });
    expect(worker.files.has('/etc/haproxy/haproxy.cfg')).toBe(true);
    expect(worker.commands).not.toContain('systemctl stop haproxy');
    expect(messages(run.events)).toContain('worker1: /etc/haproxy/haproxy.cfg kept: not written by kbuild');
  });

  it('without --force and without a terminal, etcd data is kept, the run says so and asks nothing it cannot', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp2']);
    const run = await reset(fakes, etcd, hosts, { force: false });
    const cp2 = run.fakes.get('cp2')!;
    expect([...cp2.files.keys()].sort()).toEqual(['/var/lib/etcd/member/snap/db', '/var/lib/etcd/member/wal/0.wal']);
    expect(messages(run.events)).toContain(': etcd data on cp2 (/var/lib/etcd) will be kept (no terminal to confirm on; pass --force to remove it)');
    expect(messages(run.events)).toContain('cp2: etcd data in /var/lib/etcd kept: no terminal to confirm on; pass --force to remove it');
    expect(run.changed.get('cp2')).not.toContain('removed etcd data in /var/lib/etcd');
  });

  it('on a terminal, a "y" removes etcd data and anything else keeps it', async () => {
    const { cluster, rendered } = await stacked;
    for (const [answer, kept] of [[true, false], [false, true]] as const) {
      const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp1']);
      const run = await reset(fakes, etcd, hosts, { force: false, prompt: () => Promise.resolve(answer) });
      expect(run.prompts).toEqual(['Remove etcd data on cp1 (/var/lib/etcd)? On the last member this is the cluster\'s data. [y/N] ']);
      expect(run.fakes.get('cp1')!.files.has('/var/lib/etcd/member/snap/db')).toBe(kept);
    }
  });

  it("empties the data directory the host's etcd manifest names (spec.etcd.dataDir), not kubeadm's default", async () => {
    const { cluster: base } = await stacked;
    const cluster = { ...base, etcd: { ...base.etcd, dataDir: '/data/etcd' } };
    const { fakes, etcd, hosts } = await setUp(cluster, (await stacked).rendered, ['cp2']);
    // The reset context's own fallback stays kubeadm's /var/lib/etcd: the manifest decides.
    const run = await reset(fakes, etcd, hosts, { force: true });
    expect([...run.fakes.get('cp2')!.files.keys()].filter((p) => p.includes('etcd/member'))).toEqual([]);
    expect(run.changed.get('cp2')).toContain('removed etcd data in /data/etcd');
  });

  it("a custom dataDir is an etcd member's only: a worker's files there stay, a member without its manifest still has it emptied", async () => {
    const { cluster: base, rendered } = await stacked;
    const cluster = { ...base, etcd: { ...base.etcd, dataDir: '/data/etcd' } };
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp2', 'worker1']);
    fakes.get('worker1')!.files.set('/data/etcd/photos.tar', { content: Buffer.from('not etcd'), mode: 0o644, owner: 'root:root' });
    fakes.get('cp2')!.files.delete('/etc/kubernetes/manifests/etcd.yaml');
    const run = await reset(fakes, etcd, hosts, { force: true, cluster });
    expect(run.fakes.get('worker1')!.files.has('/data/etcd/photos.tar')).toBe(true);
    expect(run.changed.get('cp2')).toContain('removed etcd data in /data/etcd');
  });

  it("leaves alone a data directory the manifest names that reset must not empty", async () => {
    const { cluster: base } = await stacked;
    const cluster = { ...base, etcd: { ...base.etcd, dataDir: '/var/lib' } };
    const { fakes, etcd, hosts } = await setUp(cluster, (await stacked).rendered, ['cp2']);
    const run = await reset(fakes, etcd, hosts, { force: true });
    expect(run.fakes.get('cp2')!.files.has('/var/lib/member/snap/db')).toBe(true);
    expect(messages(run.events)).toContain("cp2: etcd's data directory /var/lib is a system directory, whose contents kbuild reset would remove: reset leaves it alone");
  });

  it('resetting a clean host changes nothing and says so', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp3', 'worker1']);
    await reset(fakes, etcd, hosts, { force: true });
    for (const f of fakes.values()) f.calls.length = 0;
    const again = await reset(fakes, etcd, hosts, { force: true });
    for (const name of ['cp3', 'worker1']) {
      const fake = again.fakes.get(name)!;
      expect(again.changed.get(name), name).toEqual([]);
      expect(fake.calls.filter((c) => c.op === 'remove' || c.op === 'writeFile'), name).toEqual([]);
      expect(fake.calls.filter((c) => c.op === 'run' && !c.options.readOnly), name).toEqual([]);
    }
    expect(messages(again.events)).toContain('cp3: no /etc/kubernetes/manifests/etcd.yaml: not an etcd member, nothing to remove');
    expect(etcd.members.map((m) => m.name)).toEqual(['cp1', 'cp2']);
  });

  it('when no etcd member answers, warns with the manual command and still cleans the node', async () => {
    const { cluster, rendered } = await stacked;
    const { fakes, etcd, hosts } = await setUp(cluster, rendered, ['cp2']);
    for (const m of etcd.members) etcd.down.add(m.apiURL);
    const run = await reset(fakes, etcd, hosts, { force: true });
    expect(run.events.some((e) => e.type === 'warn' && e.host === 'cp2' && e.message.includes('etcdctl member remove'))).toBe(true);
    expect(etcd.members).toHaveLength(3);
    expect(run.fakes.get('cp2')!.files.size).toBe(0);
  });
});

describe('etcd data decision', () => {
  it('--force removes without asking; a dry run does not ask', async () => {
    const asked: string[] = [];
    const prompt: YesNoPrompt = (q) => (asked.push(q), Promise.resolve(true));
    expect(await etcdDataDecider({ force: true, dryRun: false, prompt })(['cp1'])).toEqual({ remove: true, reason: '--force' });
    expect((await etcdDataDecider({ force: false, dryRun: true, prompt })(['cp1'])).remove).toBe(false);
    expect(asked).toEqual([]);
  });

  it('the terminal prompt answers "no terminal" at once when stdin is not a TTY', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: false });
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    expect(await terminalYesNo({ stdin, stderr, stdout: new PassThrough() })('continue? [y/N] ')).toBeUndefined();
  });
});
