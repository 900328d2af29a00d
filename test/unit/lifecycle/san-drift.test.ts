import { describe, expect, it } from 'vitest';
import type { ApplyContext } from '../../../src/operations/apply/context.js';
import { newRestarts } from '../../../src/operations/apply/roll.js';
import { APPLY_PHASES } from '../../../src/operations/apply/phases.js';
import type { Cluster } from '../../../src/config/model.js';
import { recordingApiClient } from '../../../src/kube/client.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { runPhases } from '../../../src/workflow/engine.js';
import { selectPhases } from '../../../src/workflow/select.js';
import { renderCluster } from '../../../src/render/cluster.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { example, exampleFile, START, tempDir, testOptions } from '../../support/pki.js';
import { fakeFleet, globalLog } from './fakes.js';

async function context(cluster: Cluster, state: StateDir, fakes: ReturnType<typeof fakeFleet>): Promise<ApplyContext> {
  const pki = await ensureClusterPki(cluster, state, testOptions());
  const secrets = await loadRenderSecrets(state, { now: () => START });
  const api = recordingApiClient();
  return {
    cluster,
    // Every context here is of the ha-stacked example (drifted or not): the published cluster file is only upload-config's.
    file: (await exampleFile('ha-stacked')).file,
    rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }),
    reporter: recordingReporter(),
    concurrency: 20,
    ignorePreflightErrors: [],
    transport: async (h) => fakes.get(h.name)!,
    api: async () => api,
    restarts: newRestarts(),
  };
}

describe('apply after SAN drift', () => {
  it('first install restarts nothing the kubeadm way; a new certSAN reaches only the apiservers, one host at a time, with no restart (each serves the new certificate); a re-run changes nothing', async () => {
    const cluster = await example('ha-stacked');
    const state = await StateDir.open(await tempDir('kbuild-drift-'));
    const fakes = fakeFleet(cluster);
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const phases = selectPhases(APPLY_PHASES, { only: 'control-plane' }).concat(selectPhases(APPLY_PHASES, { only: 'etcd' }));
    await runPhases(phases, await context(cluster, state, fakes), { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    expect(order.filter((o) => o.command.includes('parked-manifests'))).toEqual([]);

    const drifted: Cluster = { ...cluster, apiServer: { ...cluster.apiServer, certSANs: [...cluster.apiServer.certSANs, 'api.drift.example'] } };
    order.length = 0;
    for (const f of fakes.values()) f.calls.length = 0;
    const ctx = await context(drifted, state, fakes);
    await runPhases(phases, ctx, { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    // kube-apiserver reloads its serving certificate: no restart anywhere.
    expect(order.filter((o) => o.command.includes('parked-manifests'))).toEqual([]);
    // One at a time: each host's backup, then a new connection served the new file, then /readyz, before the next host's backup.
    const kind = (c: string) => (c.includes('umask 077') ? 'backup' : c.includes('s_client') ? 'serves' : c.includes('/readyz') ? 'gate' : undefined);
    const seq = order.filter((o) => kind(o.command) !== undefined).map((o) => `${kind(o.command)!}@${o.host}`);
    const hosts = seq.filter((s) => s.startsWith('backup')).map((s) => s.split('@')[1]);
    expect(hosts.sort()).toEqual(['cp1', 'cp2', 'cp3']);
    expect(seq.filter((s, i) => s !== seq[i - 1])).toEqual(seq.filter((s) => s.startsWith('backup')).map((b) => b.split('@')[1]!).flatMap((h) => [`backup@${h}`, `serves@${h}`, `gate@${h}`]));
    expect(order.find((o) => o.command.includes('s_client'))?.command).toContain(':6443');
    const writes = [...fakes.values()].flatMap((f) => f.calls.flatMap((c) => (c.op === 'writeFile' && c.path.includes('/pki/') ? [c.path] : [])));
    expect(writes.sort()).toEqual(['cp1', 'cp2', 'cp3'].flatMap(() => ['/etc/kubernetes/pki/apiserver.crt', '/etc/kubernetes/pki/apiserver.key']).sort());
    order.length = 0;
    for (const f of fakes.values()) f.calls.length = 0;
    await runPhases(phases, await context(drifted, state, fakes), { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    expect(order.filter((o) => /parked-manifests|umask 077/.test(o.command))).toEqual([]);
    expect([...fakes.values()].flatMap((f) => f.calls.filter((c) => c.op === 'writeFile'))).toEqual([]);
  });
});

describe('apply after etcd SAN drift', () => {
  it('a new serverCertSANs entry re-issues etcd/server and no member restarts: each is checked to serve the new file, one host at a time', async () => {
    const cluster = await example('ha-stacked');
    const state = await StateDir.open(await tempDir('kbuild-drift-'));
    const fakes = fakeFleet(cluster);
    const order: Array<{ host: string; command: string }> = [];
    globalLog(fakes, order);
    const phases = selectPhases(APPLY_PHASES, { only: 'etcd' });
    await runPhases(phases, await context(cluster, state, fakes), { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    const drifted: Cluster = { ...cluster, etcd: { ...cluster.etcd, serverCertSANs: ['etcd.drift.example'] } };
    order.length = 0;
    for (const f of fakes.values()) f.calls.length = 0;
    await runPhases(phases, await context(drifted, state, fakes), { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    expect(order.filter((o) => o.command.includes('parked-manifests') || o.command.includes('/v3/maintenance/'))).toEqual([]);
    const seq = order.filter((o) => o.command.includes('umask 077') || o.command.includes('s_client')).map((o) => `${o.command.includes('umask') ? 'backup' : 'served'}@${o.host}`);
    const hosts = seq.filter((s) => s.startsWith('backup')).map((s) => s.split('@')[1]);
    expect([...hosts].sort()).toEqual(['cp1', 'cp2', 'cp3']);
    expect(seq.filter((s, i) => s !== seq[i - 1])).toEqual(hosts.flatMap((h) => [`backup@${h}`, `served@${h}`]));
    const writes = [...fakes.values()].flatMap((f) => f.calls.flatMap((c) => (c.op === 'writeFile' && c.path.includes('/pki/') ? [c.path] : [])));
    expect(writes.sort()).toEqual(['cp1', 'cp2', 'cp3'].flatMap(() => ['/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/server.key']).sort());
  });
});
