import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { COMPONENTS } from '../../../src/kubeadm/files.js';
import type { ApplyContext } from '../../../src/operations/apply/context.js';
import { newRestarts } from '../../../src/operations/apply/roll.js';
import { Connections } from '../../../src/transport/fleet.js';
import { ADDON_PHASES, APPLY_PHASES } from '../../../src/operations/apply/phases.js';
import { registersNode, type Cluster } from '../../../src/config/model.js';
import { recordingApiClient } from '../../../src/kube/client.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { runPhases } from '../../../src/workflow/engine.js';
import { selectPhases } from '../../../src/workflow/select.js';
import { renderCluster, type RenderedCluster } from '../../../src/render/cluster.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { exampleFile, START, tempDir, testOptions } from '../../support/pki.js';
import type { ClusterFile } from '../../../src/config/schema.js';

async function renderExample(name: string, change: (c: Cluster) => Cluster = (c) => c): Promise<{ cluster: Cluster; file: ClusterFile; rendered: RenderedCluster }> {
  const loaded = await exampleFile(name);
  const cluster = change(loaded.cluster);
  const state = await StateDir.open(await tempDir('kbuild-apply-'));
  const pki = await ensureClusterPki(cluster, state, testOptions());
  const secrets = await loadRenderSecrets(state, { now: () => START });
  return { cluster, file: loaded.file, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }) };
}

describe('apply components', () => {
  it.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('every rendered file of %s is pushed by exactly one phase', async (name) => {
    const { rendered } = await renderExample(name);
    // A component's phase pushes its files; an addon file, the one API phase that applies its init phase.
    const addonPhases: readonly string[] = Object.values(ADDON_PHASES).flat();
    const pushedOnce = (f: { component: string; phase: string }) => (COMPONENTS as readonly string[]).includes(f.component) && (f.component !== 'addons' || addonPhases.filter((p) => p === f.phase).length === 1);
    const orphans = [...rendered.hosts].flatMap(([host, files]) => files.filter((f) => !pushedOnce(f)).map((f) => `${host}:${f.path}`));
    expect(orphans).toEqual([]);
  });
});

describe('apply phases over a scripted transport', () => {
  it.each(['ha-stacked', 'ha-external-etcd', 'single-node', 'dual-stack'])('%s: pushes every file in startup order, restarts only what changed, and a second run changes nothing', async (name) => {
    const { cluster, file, rendered } = await renderExample(name);
    const fakes = new Map(cluster.hosts.map((h) => [h.name, new FakeTransport(h.name, { rules: [{ match: /^systemctl /, result: { code: 0 } }] })]));
    const api = recordingApiClient();
    // One timeline across hosts: which file was written where, in the order the writes happened.
    const writes: string[] = [];
    const timed = new Map(
      [...fakes].map(([name, fake]) => [name, Object.assign(Object.create(fake) as FakeTransport, {
        writeFile: async (path: string, content: string | Buffer, options: { mode: number; owner?: string }) => {
          writes.push(`${name}:${path}`);
          return fake.writeFile(path, content, options);
        },
      })]),
    );
    const ctx: ApplyContext = {
      cluster,
      file,
      rendered,
      reporter: recordingReporter(),
      concurrency: 20,
      ignorePreflightErrors: [],
      transport: async (h) => timed.get(h.name)!,
      api: async () => api,
      restarts: newRestarts(),
    };
    const phases = selectPhases(APPLY_PHASES, { skip: ['preflight'] });
    const first = await runPhases(phases, ctx, { concurrency: 20, reporter: ctx.reporter, skipGates: true });

    // Every rendered file landed with its content and mode.
    for (const [host, files] of rendered.hosts) {
      for (const file of files) {
        const landed = fakes.get(host)!.files.get(file.path);
        expect(landed, `${host}:${file.path}`).toBeDefined();
        expect(landed!.mode).toBe(file.mode);
        expect(landed!.content.equals(Buffer.from(file.content))).toBe(true);
      }
    }
    // Each etcd member gets its manifest before any kube-apiserver manifest is written anywhere;
    // every kubelet host restarts its kubelet exactly once; load balancers reload HAProxy.
    const firstApiserver = writes.findIndex((w) => w.endsWith('/kube-apiserver.yaml'));
    expect(writes.findLastIndex((w) => w.endsWith('/manifests/etcd.yaml'))).toBeLessThan(firstApiserver);
    for (const host of cluster.hosts) {
      const restarts = fakes.get(host.name)!.calls.filter((c) => c.op === 'run' && c.command.includes('restart kubelet')).length;
      expect(restarts, host.name).toBe(host.roles.some((r) => r !== 'load-balancer') ? 1 : 0);
      if (host.roles.includes('load-balancer')) expect(fakes.get(host.name)!.calls.some((c) => c.op === 'run' && c.command.includes('reload-or-restart haproxy'))).toBe(true);
    }
    expect(first.find((r) => r.path === 'control-plane/apiserver')!.changed.size).toBeGreaterThan(0);
    expect(api.requests.some((r) => r.verb === 'apply' && r.kind === 'Secret' && r.body && JSON.stringify(r.body).includes('<masked>'))).toBe(true);

    // Second run: nothing written, nothing restarted.
    for (const fake of fakes.values()) fake.calls.length = 0;
    const second = await runPhases(phases, ctx, { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    for (const fake of fakes.values()) {
      expect(fake.calls.filter((c) => c.op === 'writeFile' || (c.op === 'run' && /restart/.test(c.command)))).toEqual([]);
    }
    for (const record of second) for (const [host, changed] of record.changed) if (host !== '') expect(changed, `${record.path} ${host}`).toEqual([]);
  });

  it("kubeadm's proxy.disabled and dns.disabled: both addon phases skip, saying why, and nothing of theirs reaches the API", async () => {
    const { cluster, file, rendered } = await renderExample('single-node', (c) => ({ ...c, kubeProxy: { ...c.kubeProxy, disabled: true }, dns: { disabled: true } }));
    const fake = new FakeTransport('node1', { rules: [{ match: /^systemctl /, result: { code: 0 } }] });
    const api = recordingApiClient();
    const reporter = recordingReporter();
    const ctx: ApplyContext = { cluster, file, rendered, reporter, concurrency: 20, ignorePreflightErrors: [], transport: async () => fake, api: async () => api, restarts: newRestarts() };
    await runPhases(selectPhases(APPLY_PHASES, { skip: ['preflight'] }), ctx, { concurrency: 20, reporter, skipGates: true });
    const skips = reporter.events.flatMap((e) => (e.type === 'phase-skip' && e.phase.startsWith('addons/') ? [`${e.phase}: ${e.reason}`] : []));
    expect(skips).toHaveLength(2);
    expect(skips[0]).toMatch(/^addons\/kube-proxy: spec\.kubeProxy\.disabled: /);
    expect(skips[1]).toMatch(/^addons\/coredns: spec\.dns\.disabled: you run the cluster DNS at 10\.96\.0\.10 /);
    const names = api.requests.map((r) => `${r.kind}/${r.name ?? ''}`);
    expect(names.filter((n) => /kube-proxy|coredns|kube-dns/.test(n))).toEqual([]);
    expect(names).toContain('ConfigMap/kubeadm-config');
  });

  it('upload-config: kubeadm-config and kbuild-config once, then nothing while they are unchanged; a changed cluster file uploads again', async () => {
    const { cluster, file, rendered } = await renderExample('ha-stacked');
    const stored = new Map<string, KubernetesObject>();
    const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;
    const base = recordingApiClient();
    const api = {
      ...base,
      read: async (_v: string, kind: string, ns: string | undefined, name: string) => stored.get(key(kind, ns, name)),
      apply: async (objects: readonly KubernetesObject[]) => {
        for (const o of objects) stored.set(key(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? ''), structuredClone(o));
        return base.apply(objects);
      },
    };
    const run = async (c: ApplyContext) => (await runPhases(selectPhases(APPLY_PHASES, { only: 'upload-config' }), c, { concurrency: 1, reporter: recordingReporter(), skipGates: true }))[0]!.changed.get('');
    const ctx: ApplyContext = { cluster, file, rendered, reporter: recordingReporter(), concurrency: 1, ignorePreflightErrors: [], transport: async () => { throw new Error('upload-config needs no host'); }, api: async () => api, restarts: newRestarts() };
    expect(await run(ctx)).toEqual(['ConfigMap/kubeadm-config', 'Role/kubeadm:nodes-kubeadm-config', 'RoleBinding/kubeadm:nodes-kubeadm-config', 'ConfigMap/kbuild-config', 'Role/kbuild:nodes-kbuild-config', 'RoleBinding/kbuild:nodes-kbuild-config']);
    expect(await run(ctx)).toEqual([]);
    const labelled = { ...file, spec: { ...file.spec, hosts: file.spec.hosts.map((h) => (h.name === 'worker1' ? { ...h, labels: { disktype: 'ssd' } } : h)) } };
    expect(await run({ ...ctx, file: labelled })).toEqual(['ConfigMap/kbuild-config']);
  });

  it('removes bootstrap-kubelet.conf from workers once their kubelet has its own credential, and never writes it again', async () => {
    const { cluster, file, rendered } = await renderExample('ha-stacked');
    const workers = cluster.hosts.filter((h) => h.roles.includes('worker') && !h.roles.includes('control-plane'));
    expect(workers.length).toBeGreaterThan(0);
    // The kubelet's TLS bootstrap, as a restart of a worker's kubelet ends it: its own kubelet.conf.
    const kubeletConf = 'apiVersion: v1\nkind: Config\nclusters:\n- name: default-cluster\n  cluster: {server: "https://api.example.internal:6443", certificate-authority: /etc/kubernetes/pki/ca.crt}\n' +
      'contexts:\n- name: default-context\n  context: {cluster: default-cluster, user: default-auth}\ncurrent-context: default-context\n' +
      'users:\n- name: default-auth\n  user: {client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem, client-key: /var/lib/kubelet/pki/kubelet-client-current.pem}\n';
    const fakes = new Map<string, FakeTransport>();
    for (const h of cluster.hosts) {
      const fake: FakeTransport = new FakeTransport(h.name, {
        rules: [
          { match: /restart kubelet/, result: () => (workers.includes(h) && fake.files.set('/etc/kubernetes/kubelet.conf', { content: Buffer.from(kubeletConf), mode: 0o600, owner: 'root:root' }), { code: 0 }) },
          { match: /^systemctl /, result: { code: 0 } },
        ],
      });
      fakes.set(h.name, fake);
    }
    const nodes = new Set(cluster.hosts.filter(registersNode).map((h) => h.name));
    const api = { ...recordingApiClient(), read: async (_v: string, kind: string, _ns: string | undefined, name: string) => (kind === 'Node' && nodes.has(name) ? { metadata: { name } } : undefined) };
    const ctx: ApplyContext = {
      cluster,
      file,
      rendered,
      reporter: recordingReporter(),
      concurrency: 20,
      ignorePreflightErrors: [],
      transport: async (h) => fakes.get(h.name)!,
      api: async () => api,
      restarts: newRestarts(),
    };
    const phases = selectPhases(APPLY_PHASES, { skip: ['preflight'] });
    const first = await runPhases(phases, ctx, { concurrency: 20, reporter: ctx.reporter, skipGates: true });
    for (const w of workers) {
      expect(fakes.get(w.name)!.files.has('/etc/kubernetes/bootstrap-kubelet.conf'), w.name).toBe(false);
      expect(first.find((r) => r.path === 'remove-bootstrap-kubeconfig')!.changed.get(w.name)).toEqual(['removed /etc/kubernetes/bootstrap-kubelet.conf']);
    }
    // Second run: the token is not pushed again, nothing is removed, nothing changes.
    for (const fake of fakes.values()) fake.calls.length = 0;
    const second = await runPhases(phases, ctx, { concurrency: 20, reporter: recordingReporter(), skipGates: true });
    for (const fake of fakes.values()) expect(fake.calls.filter((c) => c.op === 'writeFile' || c.op === 'remove' || (c.op === 'run' && /restart/.test(c.command)))).toEqual([]);
    for (const record of second) for (const [host, changed] of record.changed) if (host !== '') expect(changed, `${record.path} ${host}`).toEqual([]);
  });

  it('shares one connection per host across phases, and retries one that failed', async () => {
    let attempts = 0;
    const connections = new Connections(async (h) => {
      attempts++;
      if (attempts === 1) throw new Error('connection refused');
      return new FakeTransport(h.name);
    });
    const { cluster } = await renderExample('single-node');
    await expect(connections.get(cluster.hosts[0]!)).rejects.toThrow('connection refused');
    const [a, b] = await Promise.all([connections.get(cluster.hosts[0]!), connections.get(cluster.hosts[0]!)]);
    expect(a).toBe(b);
    expect(attempts).toBe(2);
    await connections.closeAll();
    expect((a as FakeTransport).closed).toBe(true);
  });
});
