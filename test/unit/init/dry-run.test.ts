/**
 * `kbuild init --dry-run -o DIR`: the same phases against a directory and a recording API client.
 * Its files are exactly `kbuild render`'s for the host (bytes and modes) given the machine's facts,
 * the API requests and commands match the golden list (test/golden/init/, UPDATE_GOLDEN=1 rewrites),
 * Secrets are masked, and the join command's hash equals the openssl computation.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runInit } from '../../../src/operations/init/run.js';
import { INIT_PHASES } from '../../../src/operations/init/phases.js';
import { phasePaths } from '../../../src/workflow/select.js';
import { describeRequest, printResult } from '../../../src/commands/init.js';
import { loadClusterFile } from '../../../src/config/load.js';
import { firstControlPlane } from '../../../src/config/model.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { renderCluster } from '../../../src/render/cluster.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { captureOutput } from '../../../src/report/output.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { DirectoryTransport } from '../../../src/transport/directory.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { opensslCaHash } from '../join/tls-fixture.js';
import { testOptions } from '../../support/pki.js';
import { examplePath } from '../render/fixture.js';
import { normalise } from '../render/normalise.js';
import { answeringFacts, factsOutput } from '../../support/facts.js';
import type { HostEnvironment } from '../../../src/kubeadm/host-environment.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-init-dry-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const GOLDEN = join(import.meta.dirname, '../../golden/init');

async function renderFor(example: string, stateDir: string, environment?: HostEnvironment) {
  const { cluster } = await loadClusterFile(examplePath(example));
  const state = await StateDir.open(stateDir);
  const pki = await ensureClusterPki(cluster, state, testOptions());
  const secrets = await loadRenderSecrets(state);
  const host = firstControlPlane(cluster);
  const hostEnvironments = environment && new Map([[host.name, environment]]);
  return { host, secrets, files: renderCluster({ cluster, pki, secrets, templates: await loadTemplates(), hostEnvironments }).hosts.get(host.name)! };
}

describe.each([
  ['single-node', false],
  ['ha-stacked', true],
  ['ha-external-etcd', false],
])('%s', (example, uploadCerts) => {
  test('dry-run writes exactly render\'s files for the host, lists the API requests; golden', async () => {
    const stateDir = join(work, example, 'state');
    const out = join(work, example, 'out');
    const rendered = await renderFor(example, stateDir);
    const machine = new DirectoryTransport(join(work, example, 'empty-machine'), 'machine');
    // No systemd-resolved, none of the optional CA directories: render's own assumption.
    const facts = answeringFacts(machine, factsOutput());
    const result = await runInit({
      config: examplePath(example),
      nodeName: rendered.host.name,
      stateDir,
      skipPhases: ['preflight'],
      uploadCerts,
      certificateKey: uploadCerts ? 'c'.repeat(64) : undefined,
      dryRunDir: out,
      reporter: recordingReporter(),
      machine: facts.transport,
      pki: testOptions(),
      random: (() => {
        let i = 0;
        return (n: number) => i++ % n;
      })(),
    });
    expect(machine.actions).toEqual([]); // the machine itself was only read
    expect(facts.asked()).toBe(1); // its facts, once, though preflight was skipped
    const written = result.directory!.writtenFiles.map((w) => w.path).sort();
    expect(written).toEqual(rendered.files.map((f) => f.path).sort());
    for (const file of rendered.files) {
      const written = readFileSync(join(out, file.path), 'utf8');
      expect(statSync(join(out, file.path)).mode & 0o7777, file.path).toBe(file.mode);
      if (file.path === '/etc/kubernetes/manifests/etcd.yaml' && example === 'ha-stacked') {
        // Stacked HA: init starts etcd alone, as kubeadm; the other members join. Nothing else differs.
        const only = (text: string) => text.split('\n').filter((l) => !l.includes('--initial-cluster='));
        expect(only(written)).toEqual(only(file.content.toString()));
        const self = rendered.host;
        expect(written).toContain(`--initial-cluster=${self.name}=https://${self.address}:2380'`);
        expect(file.content.toString()).toMatch(/--initial-cluster=cp1=[^,]+,cp2=[^,]+,cp3=/);
        continue;
      }
      expect(written === file.content.toString(), file.path).toBe(true);
    }
    // Secrets never leave masked form in the request list.
    const secretRequests = result.requests!.filter((r) => r.kind === 'Secret');
    expect(secretRequests.length).toBeGreaterThan(0);
    for (const r of secretRequests) expect(Object.values((r.body as { data: Record<string, string> }).data).every((v) => v === '<masked>')).toBe(true);
    expect(result.requests!.some((r) => r.name === 'kubeadm-certs')).toBe(uploadCerts);

    const hash = opensslCaHash(readFileSync(join(stateDir, 'pki/ca.crt'), 'utf8'));
    expect(result.joinCommands!.worker).toContain(`--discovery-token-ca-cert-hash ${hash}`);
    expect(result.joinCommands!.worker).toContain(`--token ${rendered.secrets.bootstrapToken}`);
    if (uploadCerts) expect(result.joinCommands!.controlPlane).toContain(`--control-plane --certificate-key ${'c'.repeat(64)}`);

    const output = captureOutput();
    printResult(output, result);
    const text = normalise(output.stdout.join('\n'), rendered.secrets).split(out).join('<DIR>').split(stateDir).join('<STATE>').split(hash).join('sha256:<CA-HASH>');
    const requests = result.requests!.map((r) => `${describeRequest(r)}${r.body ? `\n${JSON.stringify(r.body, null, 1).replace(/\n\s*/g, ' ')}` : ''}`).join('\n');
    const golden = { 'output.txt': `${text}\n`, 'requests.txt': `${normalise(requests, rendered.secrets)}\n` };
    for (const [name, content] of Object.entries(golden)) {
      const path = join(GOLDEN, example, name);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(join(GOLDEN, example), { recursive: true });
        writeFileSync(path, content);
      }
      expect(content, path).toBe(readFileSync(path, 'utf8'));
    }
  }, 60_000);
});

describe('init renders the machine it runs on from its facts, whatever phases run', () => {
  test('systemd-resolved active and two CA directories: resolvConf and the two volumes, the rest as render', async () => {
    const stateDir = join(work, 'facts', 'state');
    const out = join(work, 'facts', 'out');
    const environment = { systemdResolved: true, caDirs: ['/etc/pki/ca-trust', '/usr/share/ca-certificates'] };
    const expected = await renderFor('single-node', stateDir, environment);
    const plain = await renderFor('single-node', stateDir);
    const machine = new DirectoryTransport(join(work, 'facts', 'empty-machine'), 'machine');
    const facts = answeringFacts(machine, factsOutput({ resolved: 'systemd\nactive', ca_dirs: '/etc/pki/ca-trust\n/usr/share/ca-certificates' }));
    const result = await runInit({
      config: examplePath('single-node'),
      nodeName: expected.host.name,
      stateDir,
      only: 'kubelet-start',
      dryRunDir: out,
      reporter: recordingReporter(),
      machine: facts.transport,
      pki: testOptions(),
    });
    expect(facts.asked()).toBe(1);
    expect(result.files.map((f) => [f.path, f.content.toString()])).toEqual(expected.files.map((f) => [f.path, f.content.toString()]));
    expect(readFileSync(join(out, '/var/lib/kubelet/config.yaml'), 'utf8')).toContain('\nresolvConf: /run/systemd/resolve/resolv.conf\n');
    // Only what the facts decide differs from a render that asked no host.
    const differing = expected.files.filter((f, i) => f.content.toString() !== plain.files[i]!.content.toString()).map((f) => f.path);
    expect(differing).toEqual(['/etc/kubernetes/manifests/kube-apiserver.yaml', '/etc/kubernetes/manifests/kube-controller-manager.yaml', '/var/lib/kubelet/config.yaml']);
  }, 60_000);
});

describe('every rendered file of an init host belongs to one init phase', () => {
  test.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('%s', async (example) => {
    const { files } = await renderFor(example, join(work, `phases-${example}`));
    expect(files.filter((f) => !phasePaths(INIT_PHASES).includes(f.phase)).map((f) => f.path)).toEqual([]);
  }, 60_000);
});
