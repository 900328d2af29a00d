import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClusterFile } from '../../../src/config/load.js';
import { UsageError } from '../../../src/errors/index.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { resetFleet, resetThisHost, THIS_MACHINE } from '../../../src/operations/reset/run.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { removeDir, repoRoot, tempDir as makeTempDir } from '../../support/pki.js';
import { fakeHost, FakeHost, SimEtcd } from './fake-cluster.js';

const made: string[] = [];
const tempDir = async (prefix: string) => {
  const dir = await makeTempDir(prefix);
  made.push(dir);
  return dir;
};
afterAll(() => Promise.all(made.map(removeDir)));

const inventory = join(repoRoot, 'examples/ha-stacked.yaml');
const noPrompt = () => Promise.resolve(undefined);

async function fleet() {
  const { cluster } = await loadClusterFile(inventory);
  const etcd = new SimEtcd(cluster.etcdMembers);
  const fakes = new Map(cluster.hosts.map((h) => [h.name, fakeHost(h, h.name === 'cp2' ? { '/etc/kubernetes/pki/ca.crt': 'ca', '/var/lib/kubelet/config.yaml': 'k' } : {}, etcd)]));
  const stateDir = await tempDir('kbuild-reset-state-');
  const local = new FakeHost(THIS_MACHINE, { files: { [`${stateDir}/pki/ca.key`]: 'key' } });
  const base = {
    inventory,
    hosts: [] as string[],
    stateDir,
    force: true,
    purgeState: false,
    dryRun: false,
    skipPhases: [],
    concurrency: 4,
    acceptNewHostKeys: false,
    prompt: noPrompt,
    connectHost: async (h: { name: string }) => fakes.get(h.name)!,
    local,
  };
  return { fakes, local, stateDir, base };
}

describe('resetFleet', () => {
  it('--hosts picks hosts and names an unknown one with a suggestion', async () => {
    const { fakes, base } = await fleet();
    const result = await resetFleet({ ...base, hosts: ['cp2'], reporter: recordingReporter() });
    expect(result.hosts).toEqual(['cp2']);
    expect(fakes.get('cp2')!.files.size).toBe(0);
    expect(fakes.get('cp1')!.calls).toEqual([]);
    await expect(resetFleet({ ...base, hosts: ['cp4'], reporter: recordingReporter() })).rejects.toThrow(/--hosts: .*ha-stacked\.yaml has no host "cp4"; did you mean "cp1"\?/);
  });

  it('keeps the state directory unless --purge-state, which needs every host', async () => {
    const { local, stateDir, base } = await fleet();
    const reporter = recordingReporter();
    await resetFleet({ ...base, reporter });
    expect(local.files.has(`${stateDir}/pki/ca.key`)).toBe(true);
    expect(reporter.events).toContainEqual({ type: 'info', message: `state directory ${stateDir} kept (--purge-state removes it)` });
    await expect(resetFleet({ ...base, hosts: ['cp1'], purgeState: true, reporter: recordingReporter() })).rejects.toThrow(UsageError);
    expect(local.files.has(`${stateDir}/pki/ca.key`)).toBe(true);
    const purged = await resetFleet({ ...base, purgeState: true, reporter: recordingReporter() });
    expect(local.files.size).toBe(0);
    expect(purged.records.flatMap((r) => r.changed.get('') ?? [])).toEqual([`removed state directory ${stateDir}`]);
  });

  it('a dry run only reads from the hosts and lists every removal and command it would make', async () => {
    const { fakes, local, base } = await fleet();
    const output = await tempDir('kbuild-reset-dry-');
    const result = await resetFleet({ ...base, purgeState: true, dryRun: true, output, reporter: recordingReporter() });
    for (const fake of [...fakes.values(), local]) {
      expect(fake.calls.filter((c) => c.op === 'remove' || c.op === 'writeFile' || (c.op === 'run' && !c.options.readOnly))).toEqual([]);
    }
    expect(fakes.get('cp2')!.files.size).toBe(2);
    const cp2 = result.wouldDo!.get('cp2')!;
    expect(cp2).toEqual(expect.arrayContaining([{ kind: 'run', command: 'systemctl stop kubelet' }, { kind: 'remove', path: '/etc/kubernetes/pki' }, { kind: 'remove', path: '/var/lib/kubelet/config.yaml' }]));
    expect(result.wouldDo!.get(THIS_MACHINE)).toEqual([{ kind: 'remove', path: base.stateDir }]);
    expect(result.wouldDo!.get('worker1')).toEqual([{ kind: 'run', command: 'systemctl stop kubelet' }]);
  });
});

describe('resetThisHost', () => {
  it('refuses to run without root, except as a dry run', async () => {
    const local = new FakeTransport('x', { unmatched: { code: 0 } });
    await expect(resetThisHost({ force: false, dryRun: false, skipPhases: [], reporter: recordingReporter(), prompt: noPrompt, local, isRoot: false })).rejects.toThrow(/run it as root/);
    expect(local.calls).toEqual([]);
  });

  it('a dry run on a clean machine says nothing would change', async () => {
    const { cluster } = await loadClusterFile(inventory);
    const host = cluster.hosts.find((h) => h.name === 'worker1')!;
    const local = fakeHost(host, {}, new SimEtcd([]));
    local.kubeletActive = false;
    const result = await resetThisHost({ force: false, dryRun: true, skipPhases: [], reporter: recordingReporter(), prompt: noPrompt, local, isRoot: false });
    expect(result.hosts).toEqual(['worker1']);
    expect(result.wouldDo!.get('worker1')).toEqual([]);
    expect(result.records.flatMap((r) => [...r.changed.values()].flat())).toEqual([]);
  });
});
