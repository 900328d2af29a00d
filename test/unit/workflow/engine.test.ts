import { describe, expect, it } from 'vitest';
import { DEFAULT_SSH_TIMING, type Host } from '../../../src/config/model.js';
import { HealthGateError, MultiHostError, RemoteCommandError, UsageError } from '../../../src/errors/index.js';
import { runPhases } from '../../../src/workflow/engine.js';
import { describePhases, phasePaths, selectPhases } from '../../../src/workflow/select.js';
import type { Phase } from '../../../src/workflow/types.js';
import { recordingReporter } from '../../../src/report/reporter.js';

const host = (name: string): Host => ({ name, address: '127.0.0.1', roles: ['control-plane'], ssh: { address: '127.0.0.1', user: 'root', port: 22, knownHostsFile: '', sudo: false, ...DEFAULT_SSH_TIMING } });
const hosts = ['cp1', 'cp2', 'cp3'].map(host);

interface Ctx {
  log: string[];
}
const leaf = (name: string, extra: Partial<Phase<Ctx>> = {}): Phase<Ctx> => ({
  name,
  description: `the ${name} phase`,
  targets: () => hosts,
  run: async (ctx, h) => {
    ctx.log.push(`${name}@${h.name}`);
    return { changed: [] };
  },
  ...extra,
});

const tree: Phase<Ctx>[] = [
  leaf('preflight'),
  leaf('etcd'),
  { name: 'control-plane', description: 'control plane', children: [leaf('apiserver'), leaf('controller-manager'), leaf('scheduler')] },
  leaf('kubelet'),
  { name: 'addons', description: 'addons', children: [leaf('kube-proxy'), leaf('coredns')] },
];
const paths = (selection: Parameters<typeof selectPhases>[1]) => selectPhases(tree, selection).map((l) => l.path);

describe('phase selection', () => {
  it.each([
    [{}, ['preflight', 'etcd', 'control-plane/apiserver', 'control-plane/controller-manager', 'control-plane/scheduler', 'kubelet', 'addons/kube-proxy', 'addons/coredns']],
    [{ skip: ['control-plane'] }, ['preflight', 'etcd', 'kubelet', 'addons/kube-proxy', 'addons/coredns']],
    [{ skip: ['addons/coredns', 'preflight'] }, ['etcd', 'control-plane/apiserver', 'control-plane/controller-manager', 'control-plane/scheduler', 'kubelet', 'addons/kube-proxy']],
    [{ skip: ['addons/coredns,etcd'] }, ['preflight', 'control-plane/apiserver', 'control-plane/controller-manager', 'control-plane/scheduler', 'kubelet', 'addons/kube-proxy']],
    [{ only: 'control-plane' }, ['control-plane/apiserver', 'control-plane/controller-manager', 'control-plane/scheduler']],
    [{ only: 'control-plane/scheduler' }, ['control-plane/scheduler']],
    [{ only: '/addons/' }, ['addons/kube-proxy', 'addons/coredns']],
    [{ only: 'addons', skip: ['addons/kube-proxy'] }, ['addons/coredns']],
  ])('%j', (selection, expected) => {
    expect(paths(selection)).toEqual(expected);
  });

  it('rejects an unknown phase with a suggestion', () => {
    expect(() => paths({ skip: ['control-plane/apiservr'] })).toThrow(UsageError);
    expect(() => paths({ skip: ['control-plane/apiservr'] })).toThrow(/did you mean "control-plane\/apiserver"/);
    expect(() => paths({ only: 'nope' })).toThrow(/unknown phase "nope"/);
  });

  it('lists every path for --help', () => {
    expect(phasePaths(tree)).toContain('addons/coredns');
    expect(describePhases(tree)).toMatch(/^ {2}apiserver +the apiserver phase$/m);
  });
});

describe('phase engine', () => {
  const fast = { now: () => clock.t, delay: async (ms: number) => void (clock.t += ms) };
  const clock = { t: 0 };

  it('runs phases in tree order and every host of a phase before the next phase', async () => {
    const ctx: Ctx = { log: [] };
    await runPhases(selectPhases(tree), ctx, { concurrency: 2, reporter: recordingReporter(), ...fast });
    const order = ctx.log.map((l) => l.split('@')[0]);
    expect([...new Set(order)]).toEqual(['preflight', 'etcd', 'apiserver', 'controller-manager', 'scheduler', 'kubelet', 'kube-proxy', 'coredns']);
    expect(ctx.log.filter((l) => l.startsWith('etcd@'))).toHaveLength(3);
  });

  it('never runs more hosts at once than the concurrency bound', async () => {
    let inFlight = 0;
    let peak = 0;
    const many = Array.from({ length: 12 }, (_, i) => host(`w${i}`));
    const phase: Phase<Ctx> = {
      name: 'push',
      description: 'push',
      targets: () => many,
      run: async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { changed: [] };
      },
    };
    await runPhases(selectPhases([phase]), { log: [] }, { concurrency: 4, reporter: recordingReporter() });
    expect(peak).toBe(4);
  });

  it('gathers every failed host with its cause, and stops before the next phase', async () => {
    const ctx: Ctx = { log: [] };
    const failing = leaf('etcd', {
      run: async (_c, h) => {
        if (h.name === 'cp1') throw new RemoteCommandError('cp1', 'systemctl restart kubelet', 5, 'Unit kubelet.service not found.');
        if (h.name === 'cp3') throw new Error('disk full');
        return { changed: ['/etc/kubernetes/manifests/etcd.yaml'] };
      },
    });
    const error = await runPhases(selectPhases([failing, leaf('kubelet')]), ctx, { concurrency: 20, reporter: recordingReporter() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultiHostError);
    expect((error as Error).message).toBe(
      'etcd: failed on 2 hosts:\n  cp1: `systemctl restart kubelet` exited with 5:\n    Unit kubelet.service not found.\n  cp3: disk full',
    );
    expect(ctx.log).toEqual([]);
  });

  it('waits for the gate on every host, reporting what it last saw, then gates the cluster', async () => {
    clock.t = 0;
    const attempts = new Map<string, number>();
    const reporter = recordingReporter();
    const phase = leaf('apiserver', {
      gate: {
        name: 'kube-apiserver /readyz',
        timeoutMs: 10_000,
        intervalMs: 1000,
        check: async (_c, h) => {
          const n = (attempts.get(h.name) ?? 0) + 1;
          attempts.set(h.name, n);
          return n < 3 ? { ok: false, seen: `connection refused (attempt ${n})` } : { ok: true };
        },
        afterAll: { name: 'kube-apiserver via load balancer', check: async () => ({ ok: true }) },
      },
    });
    await runPhases(selectPhases([phase]), { log: [] }, { concurrency: 20, reporter, ...fast });
    const gateEvents = reporter.events.filter((e) => e.type === 'gate-pass').map((e) => (e.type === 'gate-pass' ? `${e.gate}@${e.host}` : ''));
    expect(gateEvents.slice(-1)).toEqual(['kube-apiserver via load balancer@cluster']);
    expect(gateEvents).toHaveLength(4);
    expect(reporter.events).toContainEqual({ type: 'gate-wait', phase: 'apiserver', gate: 'kube-apiserver /readyz', host: 'cp2', seen: 'connection refused (attempt 1)' });
  });

  it('fails a gate after its timeout, naming host and the last thing seen', async () => {
    clock.t = 0;
    const phase = leaf('etcd', {
      gate: { name: 'etcd /health', timeoutMs: 5000, intervalMs: 1000, check: async (_c, h) => ({ ok: false, seen: `x509: certificate is valid for cp9, not ${h.name}` }) },
    });
    const error = await runPhases(selectPhases([phase]), { log: [] }, { concurrency: 20, reporter: recordingReporter(), ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultiHostError);
    const failures = (error as MultiHostError).failures;
    expect(failures.map((f) => f.host)).toEqual(['cp1', 'cp2', 'cp3']);
    expect(failures[0]!.error).toBeInstanceOf(HealthGateError);
    expect((error as Error).message).toContain('cp1: health gate "etcd /health" did not pass: last seen: x509: certificate is valid for cp9, not cp1');
    expect(clock.t).toBeLessThanOrEqual(5000 * 3);
  });

  it('serial phases gate each host before starting the next (quorum order)', async () => {
    clock.t = 0;
    const ctx: Ctx = { log: [] };
    const phase = leaf('etcd', {
      serial: true,
      gate: {
        name: 'etcd /health',
        timeoutMs: 1000,
        intervalMs: 100,
        check: async (c, h) => {
          c.log.push(`gate@${h.name}`);
          return { ok: true };
        },
      },
    });
    await runPhases(selectPhases([phase]), ctx, { concurrency: 20, reporter: recordingReporter(), ...fast });
    expect(ctx.log).toEqual(['etcd@cp1', 'gate@cp1', 'etcd@cp2', 'gate@cp2', 'etcd@cp3', 'gate@cp3']);
  });

  it('skips a phase with no targets, with its reason', async () => {
    const reporter = recordingReporter();
    await runPhases(selectPhases([leaf('load-balancer', { targets: () => [], skipReason: 'no load-balancer hosts' })]), { log: [] }, { concurrency: 1, reporter });
    expect(reporter.events).toEqual([{ type: 'phase-skip', phase: 'load-balancer', reason: 'no load-balancer hosts' }]);
  });

  it('skips a phase its skip() turns off for this run, before any step or gate, run-once or per host', async () => {
    const reporter = recordingReporter();
    const ctx: Ctx = { log: [] };
    const gate = { name: 'g', timeoutMs: 10, intervalMs: 1, check: async () => ({ ok: false, seen: 'never' }), afterAll: { name: 'a', check: async () => ({ ok: false, seen: 'never' }) } };
    const once = leaf('addon/kube-proxy', { targets: undefined, runOnce: async (c) => (c.log.push('once'), { changed: [] }), skip: () => 'spec.kubeProxy.disabled', gate });
    const perHost = leaf('per-host', { skip: () => 'off', gate });
    const running = leaf('runs', { skip: () => undefined });
    await runPhases(selectPhases([once, perHost, running]), ctx, { concurrency: 1, reporter, ...fast });
    expect(ctx.log).toEqual(['runs@cp1', 'runs@cp2', 'runs@cp3']);
    expect(reporter.events.filter((e) => e.type === 'phase-skip')).toEqual([
      { type: 'phase-skip', phase: 'addon/kube-proxy', reason: 'spec.kubeProxy.disabled' },
      { type: 'phase-skip', phase: 'per-host', reason: 'off' },
    ]);
  });
});
