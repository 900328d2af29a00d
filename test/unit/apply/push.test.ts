/**
 * pushFiles over transports with and without the batch capability: the fallback keeps the
 * stat-then-write sequence (fake, dry-run), a batch-capable transport gets one call, and the drift
 * wrapper reports drift either way.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriftReportingTransport } from '../../../src/operations/apply/drift.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { pushFiles } from '../../../src/transport/sync.js';
import { DirectoryTransport } from '../../../src/transport/directory.js';
import { DryRunTransport, readOnlyTransport } from '../../../src/transport/dry-run.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { statFiles, syncFiles } from '../../../src/transport/sync.js';
import type { FileInfo, SyncFile, SyncResult, Transport } from '../../../src/transport/transport.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const FILES: RenderedFile[] = [
  { path: '/etc/kubernetes/manifests/etcd.yaml', mode: 0o600, content: 'etcd v2', component: 'etcd', phase: 'etcd/local' },
  { path: '/etc/kubernetes/pki/ca.crt', mode: 0o644, content: 'CA', component: 'kubelet', phase: 'certs/ca' },
  { path: '/etc/kubernetes/pki/ca.key', mode: 0o600, content: 'KEY', secret: true, component: 'apiserver', phase: 'certs/ca' },
  { path: '/var/lib/kubelet/config.yaml', mode: 0o644, content: 'cfg', owner: 'kubelet:kubelet', component: 'kubelet', phase: 'kubelet-start' },
];

/** A host holding: etcd.yaml hand-edited, ca.crt identical, ca.key with the wrong mode, no kubelet config. */
const hostFiles = () => ({
  '/etc/kubernetes/manifests/etcd.yaml': { content: 'etcd v1 + hand edit', mode: 0o600 },
  '/etc/kubernetes/pki/ca.crt': { content: 'CA', mode: 0o644 },
  '/etc/kubernetes/pki/ca.key': { content: 'KEY', mode: 0o644 },
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbuild-push-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pushFiles without a batch capability (fallback)', () => {
  it('stats every file and writes only the differing ones, in order, as before', async () => {
    const host = new FakeTransport('cp1', { files: hostFiles(), ids: { kubelet: 990 } });
    expect(await pushFiles(host, FILES)).toEqual(['/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml']);
    expect(host.calls.map((c) => `${c.op} ${'path' in c ? c.path : ''}`)).toEqual([
      'stat /etc/kubernetes/manifests/etcd.yaml',
      'writeFile /etc/kubernetes/manifests/etcd.yaml',
      'stat /etc/kubernetes/pki/ca.crt',
      'stat /etc/kubernetes/pki/ca.key',
      'writeFile /etc/kubernetes/pki/ca.key',
      'stat /var/lib/kubelet/config.yaml',
      'writeFile /var/lib/kubelet/config.yaml',
    ]);
    expect(host.files.get('/var/lib/kubelet/config.yaml')).toMatchObject({ mode: 0o644, owner: 'kubelet:kubelet' });
    host.calls.length = 0;
    expect(await pushFiles(host, FILES)).toEqual([]);
    expect(host.calls.every((c) => c.op === 'stat')).toBe(true);
  });

  it('reports written and differed (content only) paths', async () => {
    const host = new FakeTransport('cp1', { files: hostFiles() });
    expect(await syncFiles(host, FILES)).toEqual({
      written: ['/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml'],
      differed: ['/etc/kubernetes/manifests/etcd.yaml'],
      previous: { '/etc/kubernetes/manifests/etcd.yaml': sha('etcd v1 + hand edit') },
    });
  });

  it('in a dry run, reads the real host read-only and records the writes; nothing runs', async () => {
    const real = new FakeTransport('cp1', { files: hostFiles() });
    const directory = new DirectoryTransport(root, 'cp1');
    const dry = new DryRunTransport(readOnlyTransport(real), directory);
    expect(await pushFiles(dry, FILES)).toEqual(['/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml']);
    expect(real.calls.map((c) => c.op)).toEqual(['stat', 'stat', 'stat', 'stat']);
    expect(real.files.get('/etc/kubernetes/manifests/etcd.yaml')?.content.toString()).toBe('etcd v1 + hand edit');
    expect(directory.actions.map((a) => (a.kind === 'write' ? `${a.path} ${a.mode.toString(8)} ${a.owner}` : a.kind))).toEqual([
      '/etc/kubernetes/manifests/etcd.yaml 600 root:root',
      '/etc/kubernetes/pki/ca.key 600 root:root',
      '/var/lib/kubelet/config.yaml 644 kubelet:kubelet',
    ]);
    expect(directory.commands).toEqual([]);
  });

  it('stats path by path', async () => {
    const host = new FakeTransport('cp1', { files: hostFiles() });
    const infos = await statFiles(host, ['/etc/kubernetes/pki/ca.crt', '/nope']);
    expect(infos).toEqual([{ mode: 0o644, size: 2, uid: 0, gid: 0, sha256: sha('CA') }, undefined]);
    expect(host.calls.map((c) => c.op)).toEqual(['stat', 'stat']);
  });
});

/** A transport whose batch calls are recorded; its single-file operations must not be used. */
class BatchTransport extends FakeTransport implements Transport {
  readonly batches: string[][] = [];

  syncFiles(files: readonly SyncFile[]): Promise<SyncResult> {
    this.batches.push(files.map((f) => f.path));
    const differed = files.filter((f) => {
      const old = this.files.get(f.path);
      return old !== undefined && !old.content.equals(Buffer.from(f.content));
    });
    return Promise.resolve({ written: files.map((f) => f.path), differed: differed.map((f) => f.path) });
  }

  statFiles(paths: readonly string[]): Promise<Array<FileInfo | undefined>> {
    this.batches.push([...paths]);
    return Promise.all(paths.map((p) => super.stat(p)));
  }
}

describe('pushFiles with a batch capability', () => {
  it('hands the whole list to syncFiles once and returns its written paths', async () => {
    const host = new BatchTransport('cp1', { files: hostFiles() });
    expect(await pushFiles(host, FILES)).toEqual(FILES.map((f) => f.path));
    expect(host.batches).toEqual([FILES.map((f) => f.path)]);
    expect(host.calls.filter((c) => c.op === 'writeFile')).toEqual([]);
    expect(await pushFiles(host, [])).toEqual([]);
    expect(host.batches).toHaveLength(1);
  });
});

/** Records what the wrapper reports: replaced paths (with the new hash) and every path now in sync. */
function listener() {
  const replaced: string[] = [];
  const inSync = new Map<string, string>();
  return { replaced, inSync, listener: { replaced: (p: string, h: string) => void replaced.push(`${p} ${h.slice(0, 8)}`), inSync: (p: string, h: string) => void inSync.set(p, h) } };
}
const ETCD_V2 = `/etc/kubernetes/manifests/etcd.yaml ${sha('etcd v2').slice(0, 8)}`;

describe('DriftReportingTransport', () => {
  it('reports drift from the fallback sync, and every file now in sync', async () => {
    const seen = listener();
    const wrapped = new DriftReportingTransport(new FakeTransport('cp1', { files: hostFiles() }), seen.listener);
    await pushFiles(wrapped, FILES);
    expect(seen.replaced).toEqual([ETCD_V2]);
    expect(seen.inSync).toEqual(new Map(FILES.map((f) => [f.path, sha(f.content.toString())])));
  });

  it('forwards batches to a capable transport and reports its differed paths', async () => {
    const seen = listener();
    const inner = new BatchTransport('cp1', { files: hostFiles() });
    const wrapped = new DriftReportingTransport(inner, seen.listener);
    await pushFiles(wrapped, FILES);
    expect(inner.batches).toEqual([FILES.map((f) => f.path)]);
    expect(seen.replaced).toEqual([ETCD_V2]);
    expect(seen.inSync).toEqual(new Map(FILES.map((f) => [f.path, sha(f.content.toString())])));
  });

  it('a batch stat then a single write still reports drift', async () => {
    const seen = listener();
    const inner = new BatchTransport('cp1', { files: hostFiles() });
    const wrapped = new DriftReportingTransport(inner, seen.listener);
    const [etcd] = await wrapped.statFiles(['/etc/kubernetes/manifests/etcd.yaml']);
    expect(etcd?.sha256).toBe(sha('etcd v1 + hand edit'));
    await wrapped.writeFile('/etc/kubernetes/manifests/etcd.yaml', 'etcd v2', { mode: 0o600 });
    await wrapped.writeFile('/etc/kubernetes/pki/ca.crt', 'CA', { mode: 0o644 });
    expect(seen.replaced).toEqual([ETCD_V2]);
  });
});
