import { describe, expect, it } from 'vitest';
import { parseServerStates, serversUp, setStateCommand, stateChangeError } from '../../../src/static-pods/lb-rotation.js';
import { executeStep, leaderLast, type RollStep } from '../../../src/static-pods/rollout.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { example } from '../../support/pki.js';
import { FAST_GATES, fakeFleet, globalLog, haproxyCsv } from './fakes.js';

const file: RenderedFile = { path: '/etc/kubernetes/pki/apiserver.crt', mode: 0o644, content: 'new', component: 'apiserver', phase: 'certs/apiserver' };

describe("HAProxy's admin socket, read and written", () => {
  // A real `show stat` CSV header starts with these columns; status is the 18th.
  const csv = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight\n' +
    'apiserver,FRONTEND,,,0,1,262110,9,0,0,0,0,0,,,,,OPEN,\n' +
    'apiserverbackend,cp1,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,1\n' +
    'apiserverbackend,cp2,0,0,0,1,,3,0,0,,0,,0,0,0,0,DRAIN,1\n' +
    'apiserverbackend,cp3,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1\n' +
    'apiserverbackend,BACKEND,0,0,0,1,26211,6,0,0,0,0,,0,0,0,0,UP,2\n' +
    'kbuild-admin,FRONTEND,,,1,1,262110,2,0,0,0,0,0,,,,,OPEN,\n';

  it('reads the status of every server of the apiserver backend, nothing else', () => {
    expect(Object.fromEntries(parseServerStates(csv))).toEqual({ cp1: 'UP', cp2: 'DRAIN', cp3: 'UP 1/3' });
    expect(() => parseServerStates('<html>not stats</html>')).toThrow(/not HAProxy's CSV/);
  });

  it('a server counts as in rotation only when exactly UP', () => {
    expect(serversUp(['cp1']).interpret({ code: 0, stdout: csv, stderr: '' })).toEqual({ ok: true });
    expect(serversUp(['cp1', 'cp2', 'cp3', 'cp4']).interpret({ code: 0, stdout: csv, stderr: '' })).toEqual({ ok: false, seen: 'cp2 DRAIN, cp3 UP 1/3, cp4 not in the backend' });
    expect(serversUp(['cp1']).interpret({ code: 7, stdout: '', stderr: "curl: (7) Couldn't connect to server" })).toEqual({ ok: false, seen: "curl: (7) Couldn't connect to server" });
  });

  it("a state change is done when HAProxy's redirect says DONE", () => {
    expect(setStateCommand('cp2', 'drain')).toContain("'s=cp2&action=drain&b=apiserverbackend'");
    expect(stateChangeError({ code: 0, stdout: 'http://localhost/;st=DONE', stderr: '' })).toBeUndefined();
    expect(stateChangeError({ code: 0, stdout: 'http://localhost/;st=ERRP', stderr: '' })).toBe('HAProxy answered ERRP (no such server in its backend)');
    expect(stateChangeError({ code: 7, stdout: '', stderr: "curl: (7) Couldn't connect to server" })).toMatch(/Couldn't connect.*\/run\/kbuild-haproxy\.sock in haproxy\.cfg/);
    // A dry run records the command and answers nothing.
    expect(stateChangeError({ code: 0, stdout: '', stderr: '' })).toBeUndefined();
  });
});

describe('the etcd leader restarts last', () => {
  const host = (name: string) => ({ name }) as RollStep['host'];
  const steps = (['etcd', 'etcd', 'etcd', 'kube-apiserver', 'kube-apiserver'] as const).map((pod, i) => ({ host: host(`cp${(i % 3) + 1}`), pod, files: [], load: 'restart' as const }));
  const names = (s: RollStep[]) => s.map((x) => `${x.pod}@${x.host.name}`);

  it('moves only the leading member to the end of the etcd steps', () => {
    expect(names(leaderLast(steps, 'cp1'))).toEqual(['etcd@cp2', 'etcd@cp3', 'etcd@cp1', 'kube-apiserver@cp1', 'kube-apiserver@cp2']);
    expect(names(leaderLast(steps, 'cp2'))).toEqual(['etcd@cp1', 'etcd@cp3', 'etcd@cp2', 'kube-apiserver@cp1', 'kube-apiserver@cp2']);
    expect(names(leaderLast(steps, 'cp3'))).toEqual(names(steps));
  });

  it('keeps the order when the leader is unknown or not among the steps', () => {
    expect(names(leaderLast(steps, undefined))).toEqual(names(steps));
    expect(names(leaderLast(steps, 'etcd9'))).toEqual(names(steps));
  });
});

describe('an apiserver out of rotation while it restarts', () => {
  it('is made ready again on every load balancer when its gate fails, and the failure is what the step reports', async () => {
    const cluster = await example('ha-stacked');
    const fakes = fakeFleet(cluster, (host, c) => (host === 'cp2' && c.includes('/readyz') ? 'curl: (7) Failed to connect' : undefined));
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const cp2 = cluster.controlPlanes.find((h) => h.name === 'cp2')!;
    const error = await executeStep({ host: cp2, pod: 'kube-apiserver', files: [file], load: 'restart' }, { cluster, transport: async (h) => fakes.get(h.name)!, reporter: recordingReporter(), backupDir: '/b', ...FAST_GATES }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/cp2: kube-apiserver did not come back healthy.*Failed to connect/);
    const lb1 = order.filter((o) => o.host === 'lb1' && o.command.includes('action=')).map((o) => /action=([a-z]+)/.exec(o.command)![1]);
    // Drained, made ready after the failure; drained again for the restart with the old files, ready again.
    expect(lb1).toEqual(['drain', 'ready', 'drain', 'ready']);
  });

  it('waits until HAProxy has every other apiserver before draining this one, and names what it saw', async () => {
    const cluster = await example('ha-stacked');
    const fakes = fakeFleet(cluster);
    fakes.get('lb2')!.on((c) => c.includes('--unix-socket') && c.includes(';csv'), () => ({ code: 0, stdout: haproxyCsv(cluster, (s) => (s === 'cp3' ? 'DOWN' : 'UP')) }));
    const cp1 = cluster.controlPlanes.find((h) => h.name === 'cp1')!;
    const error = await executeStep({ host: cp1, pod: 'kube-apiserver', files: [file], load: 'restart' }, { cluster, transport: async (h) => fakes.get(h.name)!, reporter: recordingReporter(), backupDir: '/b', ...FAST_GATES }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/lb2: health gate "HAProxy sends to the other apiservers \(before cp1's kube-apiserver restarts\)" did not pass: last seen: cp3 DOWN/);
    // Nothing was written or restarted on cp1, nothing drained anywhere.
    expect(fakes.get('cp1')!.files.has(file.path)).toBe(false);
    expect([...fakes.values()].some((f) => f.commands.some((c) => c.includes('action=drain') || c.includes('parked-manifests')))).toBe(false);
  });

  it('a load balancer without the admin socket (an older haproxy.cfg) is left alone, with a warning', async () => {
    const cluster = await example('ha-stacked');
    const fakes = fakeFleet(cluster);
    fakes.get('lb1')!.on((c) => c.startsWith('test -S'), () => ({ code: 1 }));
    const reporter = recordingReporter();
    const cp1 = cluster.controlPlanes.find((h) => h.name === 'cp1')!;
    await executeStep({ host: cp1, pod: 'kube-apiserver', files: [file], load: 'restart' }, { cluster, transport: async (h) => fakes.get(h.name)!, reporter, backupDir: '/b', ...FAST_GATES });
    expect(fakes.get('lb1')!.commands.some((c) => c.includes('--unix-socket'))).toBe(false);
    expect(fakes.get('lb2')!.commands.filter((c) => c.includes('action=')).map((c) => /action=([a-z]+)/.exec(c)![1])).toEqual(['drain', 'ready']);
    const warnings = reporter.events.flatMap((e) => (e.type === 'warn' ? [`${e.host}: ${e.message}`] : []));
    expect(warnings).toEqual([expect.stringMatching(/^lb1: HAProxy has no admin socket \/run\/kbuild-haproxy\.sock: cp1's apiserver stays in its rotation/) as string]);
  });

  it('controller-managers are never drained', async () => {
    const cluster = await example('ha-stacked');
    const fakes = fakeFleet(cluster);
    const cp1 = cluster.controlPlanes.find((h) => h.name === 'cp1')!;
    await executeStep({ host: cp1, pod: 'kube-controller-manager', files: [{ ...file, path: '/etc/kubernetes/controller-manager.conf' }], load: 'restart' }, { cluster, transport: async (h) => fakes.get(h.name)!, reporter: recordingReporter(), backupDir: '/b', ...FAST_GATES });
    expect(fakes.get('lb1')!.commands).toEqual([]);
  });
});

describe('a write cut halfway', () => {
  it('puts the old files back before the error goes up: etcd never serves a half-written pair', async () => {
    const cluster = await example('ha-stacked');
    const fakes = fakeFleet(cluster);
    const cp1 = fakes.get('cp1')!;
    const write = cp1.writeFile.bind(cp1);
    cp1.writeFile = async (path, content, options) => {
      if (path.endsWith('/server.crt')) throw new Error('connection lost');
      return write(path, content, options);
    };
    const host = cluster.controlPlanes[0]!;
    const files = ['server.key', 'server.crt'].map((name) => ({ ...file, path: `/etc/kubernetes/pki/etcd/${name}` }));
    const step = { host, pod: 'etcd' as const, files, load: 'handshake' as const, manifest: 'spec:\n  containers:\n  - command: [etcd, --cert-file=/etc/kubernetes/pki/etcd/server.crt, --key-file=/etc/kubernetes/pki/etcd/server.key]\n' };
    await expect(executeStep(step, { cluster, transport: async (h) => fakes.get(h.name)!, reporter: recordingReporter(), backupDir: '/b', ...FAST_GATES })).rejects.toThrow('connection lost');
    expect(cp1.commands.some((c) => c.includes('kbuild-restore'))).toBe(true);
    expect(cp1.commands.some((c) => c.includes('s_client'))).toBe(false);
  });
});
