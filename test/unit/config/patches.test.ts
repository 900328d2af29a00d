/** spec.patches.directory: kubeadm's file names, documents and shapes; every problem with its file and line. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClusterFile } from '../../../src/config/load.js';
import { parsePatchFileName, patchDocuments, readPatchDirectory } from '../../../src/config/patches.js';
import { ConfigError, FileError } from '../../../src/errors/index.js';
import { checkPatchesApply, hostRenderer } from '../../../src/render/host.js';
import { parseEtcdManifest } from '../../../src/static-pods/etcd-api.js';
import { fixtureContext } from '../render/fixture.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-patches-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function directory(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const messageOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof FileError) return error.message;
    throw error;
  }
  throw new Error('expected an error');
};

describe('patch file names, as kubeadm parses them', () => {
  it.each([
    ['etcd.yaml', 'etcd', 'strategic'],
    ['kube-apiserver0+json.json', 'kube-apiserver', 'json'],
    ['kube-controller-manager-ha+merge.yaml', 'kube-controller-manager', 'merge'],
    ['kube-scheduler+strategic.yaml', 'kube-scheduler', 'strategic'],
    ['kubeletconfiguration.yaml', 'kubeletconfiguration', 'strategic'],
    ['corednsdeployment1.json', 'corednsdeployment', 'strategic'],
  ])('%s patches %s (%s)', (name, target, type) => {
    expect(parsePatchFileName(name)).toEqual({ target, type });
  });

  it('ignores what is neither .yaml nor .json, as kubeadm', () => {
    expect(parsePatchFileName('README.md')).toBeUndefined();
    expect(parsePatchFileName('etcd.yml')).toBeUndefined();
  });

  it('refuses a .yaml named for no target, with the target meant', () => {
    expect(parsePatchFileName('kube-apiservr.yaml')).toHaveProperty('problem', expect.stringContaining('did you mean kube-apiserver?') as string);
    expect(parsePatchFileName('kube-apiserver+jsn.yaml')).toHaveProperty('problem', expect.stringContaining('did you mean +json?') as string);
  });
});

describe('patch documents', () => {
  it('splits on --- lines as Kubernetes does and keeps each first line', () => {
    const docs = patchDocuments('# one\na: 1\n--- # two\n\nb: 2\n---\n---\nc: [3]\n', 'f.yaml');
    expect(docs).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 5, value: { b: 2 } },
      { line: 8, value: { c: [3] } },
    ]);
  });

  it('reads YAML as kubeadm does (YAML 1.1): yes/no/on/off are booleans, 0644 octal, 1_000 a number', () => {
    const [doc] = patchDocuments('failSwapOn: no\nserializeImagePulls: On\ndefaultMode: 0644\nmaxPods: 1_000\nhex: 0x1F\nquoted: "0644"\nplain: foo\n', 'k.yaml');
    expect(doc!.value).toEqual({ failSwapOn: false, serializeImagePulls: true, defaultMode: 420, maxPods: 1000, hex: 31, quoted: '0644', plain: 'foo' });
  });

  it('names the file and line of a syntax error', () => {
    expect(() => patchDocuments('a: 1\n---\nb: [\n', '/p/etcd.yaml')).toThrow(/^\/p\/etcd\.yaml:\d+: YAML syntax error/);
  });
});

describe('reading a patches directory', () => {
  it('reads every file below it in lexical path order and skips empty files', async () => {
    const dir = directory('order', { 'kube-apiserver1.yaml': 'a: 1\n', 'kube-apiserver+merge.yaml': 'b: 2\n', 'sub/etcd.yaml': 'c: 3\n', 'etcd0.yaml': '', 'notes.txt': 'x' });
    const files = await readPatchDirectory(dir);
    expect(files.map((f) => f.file.slice(dir.length + 1))).toEqual(['kube-apiserver+merge.yaml', 'kube-apiserver1.yaml', 'sub/etcd.yaml']);
  });

  it('refuses a list for a strategic patch, a mapping for a json patch and a malformed operation, each with its line', async () => {
    const dir = directory('shapes', { 'etcd.yaml': '- op: add\n', 'kube-scheduler+json.yaml': 'a: 1\n', 'kube-apiserver+json.yaml': '- op: add\n  path: /a\n' });
    const message = await messageOf(readPatchDirectory(dir));
    expect(message).toContain('etcd.yaml:1: a strategic patch is a mapping of the fields it sets (a list of operations is a +json patch');
    expect(message).toContain('kube-scheduler+json.yaml:1: a +json patch is a list of operations');
    expect(message).toContain('kube-apiserver+json.yaml:1: operation 0: Operation `value` property is not present');
  });

  it('refuses a __proto__ key, which would reach JavaScript prototypes', async () => {
    const dir = directory('proto', { 'etcd.yaml': 'spec:\n  __proto__: {polluted: yes}\n' });
    await expect(messageOf(readPatchDirectory(dir))).resolves.toMatch(/etcd\.yaml:1: \/spec\/__proto__: a key named __proto__ is no field/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('names the directory the cluster file points at when it is missing', async () => {
    await expect(messageOf(readPatchDirectory(join(work, 'nowhere')))).resolves.toMatch(/nowhere: cannot read the patches directory named by spec.patches.directory \(no such directory\)/);
  });

  it('refuses a CoreDNS patch when the cluster switches CoreDNS off', async () => {
    directory('dns-off/patches', { 'corednsdeployment.yaml': 'spec: {replicas: 1}\n' });
    writeFileSync(join(work, 'dns-off/cluster.yaml'), 'apiVersion: kbuild.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  patches: {directory: patches}\n  dns: {disabled: true}\n  hosts:\n    - {name: n1, address: 10.0.0.1, roles: [control-plane, worker]}\n');
    await expect(messageOf(loadClusterFile(join(work, 'dns-off/cluster.yaml')))).resolves.toMatch(/corednsdeployment\.yaml: patches the CoreDNS Deployment, which .* switches off/);
  });
});

describe('patches in a render', () => {
  it('say which file and document cannot apply', async () => {
    const ctx = await fixtureContext('single-node');
    const dir = directory('bad-op', { 'kube-scheduler+json.yaml': '- {op: replace, path: /spec/nothing/here, value: 1}\n' });
    const render = hostRenderer({ ...ctx, cluster: { ...ctx.cluster, patches: await readPatchDirectory(dir) } });
    expect(() => render(ctx.cluster.hosts[0]!)).toThrow(/kube-scheduler\+json\.yaml:1: this json patch cannot be applied to kube-scheduler's static pod: operation 0 \(replace \/spec\/nothing\/here\): Cannot perform the operation at a path that does not exist/);
  });

  it('are tried on every host by validate, without a render', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const dir = directory('validate', { 'kubeletconfiguration+json.yaml': '- {op: remove, path: /nothing}\n' });
    expect(() => checkPatchesApply({ ...ctx.cluster, patches: [] })).not.toThrow();
    const patches = await readPatchDirectory(dir);
    expect(() => checkPatchesApply({ ...ctx.cluster, patches })).toThrow(/kubeletconfiguration\+json\.yaml:1: this json patch cannot be applied to the kubelet's configuration/);
  });

  it('refuse a patched pod kubeadm could not decode (a value of the wrong type)', async () => {
    const ctx = await fixtureContext('single-node');
    const dir = directory('wrong-type', { 'kube-scheduler.yaml': 'spec:\n  containers:\n    - name: kube-scheduler\n      env: [{name: A, value: 2}]\n' });
    const render = hostRenderer({ ...ctx, cluster: { ...ctx.cluster, patches: await readPatchDirectory(dir) } });
    expect(() => render(ctx.cluster.hosts[0]!)).toThrow(/kube-scheduler\.yaml: after the patches for it .* kube-scheduler's static pod is no valid Pod: spec\/containers\/0\/env\/0\/value must be string/);
  });

  it('may add a sidecar, which the merge puts first: kbuild still reads the component container', async () => {
    const ctx = await fixtureContext('single-node');
    const dir = directory('sidecar', { 'etcd.yaml': 'spec:\n  containers:\n    - name: backup\n      image: example.com/backup:1\n      command: [backup, --every=1h]\n' });
    const files = hostRenderer({ ...ctx, cluster: { ...ctx.cluster, patches: await readPatchDirectory(dir) } })(ctx.cluster.hosts[0]!);
    const etcd = files.find((f) => f.path === '/etc/kubernetes/manifests/etcd.yaml')!.content.toString();
    expect((yaml.load(etcd) as { spec: { containers: Array<{ name: string }> } }).spec.containers.map((c) => c.name)).toEqual(['backup', 'etcd']);
    expect(parseEtcdManifest(etcd, 'etcd.yaml').name).toBe('node1');
  });

  it('refuse a patch that renames the pod kbuild watches', async () => {
    const ctx = await fixtureContext('single-node');
    const dir = directory('rename', { 'etcd+merge.yaml': 'metadata: {name: other}\n' });
    const render = hostRenderer({ ...ctx, cluster: { ...ctx.cluster, patches: await readPatchDirectory(dir) } });
    expect(() => render(ctx.cluster.hosts[0]!)).toThrow(/etcd\+merge\.yaml: after this file's patches etcd's static pod is v1 Pod kube-system\/other, not v1 Pod kube-system\/etcd/);
  });

  it('change only their target, and a null field leaves the manifest', async () => {
    const ctx = await fixtureContext('single-node');
    const before = hostRenderer(ctx)(ctx.cluster.hosts[0]!);
    const dir = directory('apply', { 'kube-scheduler.yaml': 'spec:\n  priorityClassName: null\n  containers:\n    - name: kube-scheduler\n      env: [{name: A, value: "1"}]\n' });
    const after = hostRenderer({ ...ctx, cluster: { ...ctx.cluster, patches: await readPatchDirectory(dir) } })(ctx.cluster.hosts[0]!);
    const changed = after.filter((f, i) => f.content.toString() !== before[i]!.content.toString()).map((f) => f.path);
    expect(changed).toEqual(['/etc/kubernetes/manifests/kube-scheduler.yaml']);
    const scheduler = after.find((f) => f.path === '/etc/kubernetes/manifests/kube-scheduler.yaml')!.content.toString();
    expect(scheduler).toContain('env:\n        - name: A');
    expect(scheduler).not.toContain('priorityClassName');
  });
});
