import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/config/model.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { renderCluster, type RenderedCluster } from '../../../src/render/cluster.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { RolloutError } from '../../../src/errors/index.js';
import { reissuedFiles, renewalHosts, rollOutRenewal } from '../../../src/operations/certs/renew.js';
import { executeRollout, planRollout } from '../../../src/static-pods/rollout.js';
import type { PkiAction } from '../../../src/pki/types.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { example, START, tempDir, testOptions } from '../../support/pki.js';
import { FAST_GATES, fakeFleet, globalLog } from './fakes.js';

/** `changed` plus each control plane's etcd/ca.crt, as if that file had changed too. */
function withEtcdCaChanged(changed: Map<string, RenderedFile[]>, rendered: RenderedCluster): Map<string, RenderedFile[]> {
  return new Map([...changed].map(([host, files]) => [host, [...files, ...rendered.hosts.get(host)!.filter((f) => f.path === '/etc/kubernetes/pki/etcd/ca.crt')]]));
}

async function renewed(name: string, names: string[]): Promise<{ cluster: Cluster; rendered: RenderedCluster; actions: readonly PkiAction[] }> {
  const cluster = await example(name);
  const state = await StateDir.open(await tempDir('kbuild-lifecycle-'));
  await ensureClusterPki(cluster, state, testOptions());
  const pki = await ensureClusterPki(cluster, state, { ...testOptions(new Date(START.getTime() + 86_400_000)), renew: names });
  const secrets = await loadRenderSecrets(state, { now: () => START });
  return { cluster, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }), actions: pki.actions };
}


describe('renewal in the state directory', () => {
  it('re-issues every renewable item, never a CA, sa or kubelet.conf', async () => {
    const { actions } = await renewed('ha-stacked', ['all']);
    const reissued = new Set(actions.filter((a) => a.outcome === 're-issued').map((a) => a.name));
    expect([...reissued].sort()).toEqual(
      ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd/healthcheck-client', 'etcd/peer', 'etcd/server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf'].sort(),
    );
    for (const a of actions.filter((x) => ['ca', 'front-proxy-ca', 'etcd/ca', 'sa', 'kubelet.conf'].includes(x.name))) expect(a.outcome, a.name).toBe('reused');
    expect(actions.find((a) => a.name === 'apiserver' && a.host === 'cp1')!.reason).toBe('renewal requested');
  });

  it('renews only the named items', async () => {
    const { actions } = await renewed('ha-stacked', ['apiserver']);
    expect(new Set(actions.filter((a) => a.outcome === 're-issued').map((a) => a.name))).toEqual(new Set(['apiserver']));
  });
});

describe('roll-out plan', () => {
  it('orders steps etcd members, apiservers, controller-managers, schedulers; restarts only pods that read a changed file, etcd none (it reads its certificates per handshake)', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['all']);
    const steps = planRollout(cluster, reissuedFiles(actions, rendered.hosts), rendered.hosts);
    expect(steps.map((s) => `${s.pod}@${s.host.name}:${s.load}`)).toEqual([
      'etcd@cp1:handshake', 'etcd@cp2:handshake', 'etcd@cp3:handshake',
      'kube-apiserver@cp1:restart', 'kube-apiserver@cp2:restart', 'kube-apiserver@cp3:restart',
      'kube-controller-manager@cp1:restart', 'kube-controller-manager@cp2:restart', 'kube-controller-manager@cp3:restart',
      'kube-scheduler@cp1:restart', 'kube-scheduler@cp2:restart', 'kube-scheduler@cp3:restart',
    ]);
    const etcdStep = steps[0]!.files.map((f) => f.path);
    expect(etcdStep).toEqual(expect.arrayContaining(['/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/peer.key', '/etc/kubernetes/pki/etcd/healthcheck-client.crt']));
    expect(steps[3]!.files.map((f) => f.path)).toEqual(expect.arrayContaining(['/etc/kubernetes/pki/apiserver.crt', '/etc/kubernetes/pki/apiserver-etcd-client.key', '/etc/kubernetes/admin.conf']));
  });

  it('reaches the etcd members, the control planes and the load balancers that drain them; no worker', async () => {
    expect(renewalHosts(await example('ha-stacked')).map((h) => h.name)).toEqual(['lb1', 'lb2', 'cp1', 'cp2', 'cp3']);
    expect(renewalHosts(await example('ha-external-etcd')).map((h) => h.name)).toEqual(expect.arrayContaining(['etcd1', 'etcd2', 'etcd3', 'cp1', 'lb1']));
    expect(renewalHosts(await example('single-node')).map((h) => h.roles.includes('worker') && !h.roles.includes('control-plane'))).not.toContain(true);
  });

  it('admin.conf alone is written without restarting anything', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['admin.conf']);
    const steps = planRollout(cluster, reissuedFiles(actions, rendered.hosts), rendered.hosts);
    expect(steps.map((s) => `${s.pod}@${s.host.name}:${s.load}`)).toEqual(['kube-apiserver@cp1:none', 'kube-apiserver@cp2:none', 'kube-apiserver@cp3:none']);
  });

  it('external etcd: the etcd hosts load their new certificates per handshake, the control planes restart their apiservers', async () => {
    const { cluster, rendered, actions } = await renewed('ha-external-etcd', ['etcd-server', 'apiserver-etcd-client']);
    const steps = planRollout(cluster, reissuedFiles(actions, rendered.hosts), rendered.hosts);
    expect(steps.map((s) => `${s.pod}@${s.host.name}:${s.load}`)).toEqual(['etcd@etcd1:handshake', 'etcd@etcd2:handshake', 'etcd@etcd3:handshake', 'kube-apiserver@cp1:restart', 'kube-apiserver@cp2:restart', 'kube-apiserver@cp3:restart']);
  });

  it("kube-apiserver: its serving pair alone loads without a restart (it watches --tls-cert-file and --tls-private-key-file); with any other file it reads, a restart", async () => {
    const serving = await renewed('ha-stacked', ['apiserver']);
    const steps = planRollout(serving.cluster, reissuedFiles(serving.actions, serving.rendered.hosts), serving.rendered.hosts);
    expect(steps.map((s) => `${s.pod}@${s.host.name}:${s.load}`)).toEqual(['kube-apiserver@cp1:handshake', 'kube-apiserver@cp2:handshake', 'kube-apiserver@cp3:handshake']);
    const clients = await renewed('ha-stacked', ['apiserver', 'apiserver-kubelet-client']);
    expect(planRollout(clients.cluster, reissuedFiles(clients.actions, clients.rendered.hosts), clients.rendered.hosts).map((s) => `${s.pod}:${s.load}`)).toEqual(['kube-apiserver:restart', 'kube-apiserver:restart', 'kube-apiserver:restart']);
  });

  it('etcd restarts for any other file its manifest reads (its CA bundle)', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['etcd-server']);
    const changed = withEtcdCaChanged(reissuedFiles(actions, rendered.hosts), rendered);
    expect(planRollout(cluster, changed, rendered.hosts).map((s) => `${s.pod}@${s.host.name}:${s.load}`)).toEqual(['etcd@cp1:restart', 'etcd@cp2:restart', 'etcd@cp3:restart']);
  });
});

describe('roll-out over scripted hosts', () => {
  it('backs up, writes and gates one host at a time in startup order: etcd checked to serve its new certificates (no restart, no drain), each other pod restarted, each apiserver out of HAProxy while it restarts', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['all']);
    const fakes = fakeFleet(cluster);
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const reporter = recordingReporter();
    const result = await rollOutRenewal(cluster, actions, rendered.hosts, { transport: async (h) => fakes.get(h.name)!, reporter, backupDir: '/etc/kubernetes/tmp/kbuild-backup-test', ...FAST_GATES });
    expect(result.records.map((r) => `${r.pod}:${r.loaded}`)).toEqual([...['etcd'].flatMap((p) => [1, 2, 3].map(() => `${p}:handshake`)), ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((p) => [1, 2, 3].map(() => `${p}:restart`))]);

    const restarts = order.filter((o) => o.command.includes('parked-manifests')).map((o) => `${/manifests\/([a-z-]+)\.yaml/.exec(o.command)![1]}@${o.host}`);
    expect(restarts).toEqual(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((p) => ['cp1', 'cp2', 'cp3'].map((h) => `${p}@${h}`)));
    // No etcd member restarts, so none is asked who leads and none hands leadership over: no leader change.
    expect(order.filter((o) => o.command.includes('/v3/maintenance/'))).toEqual([]);
    const kind = (o: { host: string; command: string }) =>
      o.command.includes('action=drain') ? `drain@${o.host}`
      : o.command.includes('action=ready') ? `ready@${o.host}`
      : o.command.includes('--unix-socket') ? `lb-state@${o.host}`
      : o.command.startsWith('test -S') ? `socket@${o.host}`
      : o.command.includes('parked-manifests') ? `restart@${o.host}`
      : o.command.includes('umask 077') ? `backup@${o.host}`
      : o.command.includes('s_client') ? `served@${o.host}`
      : o.command.startsWith('curl') ? `gate@${o.host}`
      : `other@${o.host}`;
    const kinds = order.map(kind);
    const compact = kinds.filter((k, i) => k !== kinds[i - 1]);
    const etcdStep = (h: string) => [`backup@${h}`, `served@${h}`, `gate@${h}`];
    const apiserverStep = (h: string) => ['socket@lb1', 'socket@lb2', 'lb-state@lb1', 'lb-state@lb2', `backup@${h}`, 'drain@lb1', 'drain@lb2', `restart@${h}`, `gate@${h}`, 'ready@lb1', 'ready@lb2', 'lb-state@lb1', 'lb-state@lb2'];
    expect(compact.slice(0, 9 + 39)).toEqual([...['cp1', 'cp2', 'cp3'].flatMap(etcdStep), ...['cp1', 'cp2', 'cp3'].flatMap(apiserverStep)]);
    // Controller-managers and schedulers serve no API traffic: no drain.
    const drains = order.filter((o) => o.command.includes('action=drain') && o.host === 'lb1').map((o) => /s=([a-z0-9]+)/.exec(o.command)![1]);
    expect(drains).toEqual(['cp1', 'cp2', 'cp3']);
    const passes = reporter.events.flatMap((e) => (e.type === 'gate-pass' ? [`${e.gate}@${e.host}`] : []));
    // etcd gates: a new client and a new peer connection to its address get the files on disk (verified), then member health, the member list and its apiserver.
    expect(passes.slice(0, 5)).toEqual(['etcd serves its server certificate file to new clients@cp1', 'etcd serves its peer certificate file to new peers@cp1', 'etcd /health@cp1', 'etcd quorum (member list)@cp1', 'kube-apiserver /readyz@cp1']);
    const served = fakes.get('cp1')!.commands.filter((c) => c.includes('s_client'));
    const cp1 = cluster.controlPlanes[0]!.address;
    expect(served[0]).toContain(`s_client -connect ${cp1}:2379 -CAfile /etc/kubernetes/pki/etcd/ca.crt -verify_return_error -verify_ip ${cp1} -cert /etc/kubernetes/pki/etcd/healthcheck-client.crt`);
    expect(served[0]).toContain('-in /etc/kubernetes/pki/etcd/server.crt ');
    expect(served[1]).toContain(`s_client -connect ${cp1}:2380 -CAfile /etc/kubernetes/pki/etcd/ca.crt -verify_return_error -verify_ip ${cp1} -cert /etc/kubernetes/pki/etcd/peer.crt -key /etc/kubernetes/pki/etcd/peer.key`);
    // New files landed with their modes; the backup covered each replaced path.
    const cp2 = fakes.get('cp2')!;
    const apiserverCrt = rendered.hosts.get('cp2')!.find((f) => f.path === '/etc/kubernetes/pki/apiserver.crt')!;
    expect(cp2.files.get('/etc/kubernetes/pki/apiserver.crt')!.content.toString()).toBe(apiserverCrt.content.toString());
    expect(cp2.files.get('/etc/kubernetes/pki/apiserver.key')!.mode).toBe(0o600);
    expect(cp2.files.get('/etc/kubernetes/pki/etcd/server.key')!.mode).toBe(0o600);
    expect(cp2.commands.find((c) => c.includes('umask 077') && c.includes('apiserver.key'))).toContain('/etc/kubernetes/tmp/kbuild-backup-test/etc/kubernetes/pki/apiserver.key');
  });

  it('etcd members that must restart go leader last, each drained from HAProxy with its apiserver, the leader handing off first', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['etcd-server']);
    const fakes = fakeFleet(cluster);
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const reporter = recordingReporter();
    const steps = planRollout(cluster, withEtcdCaChanged(reissuedFiles(actions, rendered.hosts), rendered), rendered.hosts);
    const records = await executeRollout(steps, { cluster, transport: async (h) => fakes.get(h.name)!, reporter, backupDir: '/etc/kubernetes/tmp/kbuild-backup-test', ...FAST_GATES });
    expect(records.map((r) => `${r.pod}@${r.host}:${r.loaded}`)).toEqual(['etcd@cp2:restart', 'etcd@cp3:restart', 'etcd@cp1:restart']);
    // cp1 leads (the fakes' member 1): its etcd restarts after the others'.
    const restarts = order.filter((o) => o.command.includes('parked-manifests')).map((o) => `${/manifests\/([a-z-]+)\.yaml/.exec(o.command)![1]}@${o.host}`);
    expect(restarts).toEqual(['etcd@cp2', 'etcd@cp3', 'etcd@cp1']);
    const drains = order.filter((o) => o.command.includes('action=drain') && o.host === 'lb1').map((o) => /s=([a-z0-9]+)/.exec(o.command)![1]);
    expect(drains).toEqual(['cp2', 'cp3', 'cp1']);
    // The one hand-off: the leading member (cp1, id 1) gives leadership to a started voting member before it stops; followers keep theirs.
    const handOffs = order.filter((o) => o.command.includes('/v3/maintenance/transfer-leadership'));
    expect(handOffs.map((o) => o.host)).toEqual(['cp1']);
    expect(handOffs[0]!.command).toContain('{"targetID":"2"}');
    expect(reporter.events).toContainEqual(expect.objectContaining({ type: 'info', host: 'cp1', message: 'etcd: leadership handed to cp2 before the restart' }));
    // Each etcd step asks who leads, plus the one question that orders them (asked of the first member).
    expect(order.filter((o) => o.command.includes('/v3/maintenance/status')).map((o) => o.host)).toEqual(['cp1', 'cp2', 'cp3', 'cp1']);
    const passes = reporter.events.flatMap((e) => (e.type === 'gate-pass' ? [`${e.gate}@${e.host}`] : []));
    expect(passes.slice(0, 6)).toEqual(['HAProxy sends to the other apiservers (before cp2\'s etcd restarts)@lb1', 'HAProxy sends to the other apiservers (before cp2\'s etcd restarts)@lb2', 'etcd /health@cp2', 'etcd quorum (member list)@cp2', 'kube-apiserver /readyz@cp2', 'HAProxy sends to cp2 again@lb1']);
  });

  it('a failed gate restores that host, loads the old files again, and stops naming the host and the last error', async () => {
    const { cluster, rendered, actions } = await renewed('ha-stacked', ['all']);
    let restored = false;
    // cp2's etcd never becomes healthy with the new files; with the old ones back it does.
    const fakes = fakeFleet(cluster, (host, c) => (host === 'cp2' && !restored && c.includes(':2382/health') ? 'curl: (60) SSL: no alternative certificate subject name matches' : undefined));
    fakes.get('cp2')!.on((c) => c.includes('kbuild-restore'), () => {
      restored = true;
      return { code: 0 };
    });
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const run = rollOutRenewal(cluster, actions, rendered.hosts, { transport: async (h) => fakes.get(h.name)!, reporter: recordingReporter(), backupDir: '/etc/kubernetes/tmp/kbuild-backup-test', ...FAST_GATES });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutError);
    const rollout = error as RolloutError;
    expect(rollout.host).toBe('cp2');
    expect(rollout.pod).toBe('etcd');
    expect(rollout.message).toMatch(/^cp2: etcd did not come back healthy.*no alternative certificate subject name matches.*restored from \/etc\/kubernetes\/tmp\/kbuild-backup-test on cp2 and etcd serves them again \(it is healthy again\)/);
    const cp2 = order.filter((o) => o.host === 'cp2').map((o) => (o.command.includes('parked-manifests') ? 'restart' : o.command.includes('kbuild-restore') ? 'restore' : o.command.includes('umask 077') ? 'backup' : o.command.includes('/v3/maintenance/') ? 'leader' : 'probe'));
    // etcd never restarts: the old files are served again on the next connections.
    expect(cp2.filter((k, i) => k !== cp2[i - 1])).toEqual(['backup', 'probe', 'restore', 'probe']);
    const restore = fakes.get('cp2')!.commands.find((c) => c.includes('kbuild-restore'))!;
    expect(restore).toContain("cp -p /etc/kubernetes/tmp/kbuild-backup-test/etc/kubernetes/pki/etcd/server.crt /etc/kubernetes/pki/etcd/server.crt.kbuild-restore");
    // The roll stopped: cp3 was never touched, no apiserver restarted anywhere.
    expect(order.some((o) => o.host === 'cp3')).toBe(false);
    expect(order.some((o) => o.command.includes('kube-apiserver.yaml'))).toBe(false);
  });
});
