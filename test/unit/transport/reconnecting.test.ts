/**
 * ReconnectingTransport: a dropped connection is re-opened and safe operations repeated; a command
 * that was running when it dropped fails (the host may or may not have run it); other errors pass
 * through untouched; reconnects are bounded and shared by concurrent operations.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError, ConnectionLostError, HostKeyError } from '../../../src/errors/index.js';
import { ReconnectingTransport } from '../../../src/transport/reconnecting.js';
import { FakeTransport } from '../../support/fake-transport.js';

const lostDuring = () => new ConnectionLostError('cp1', 'connection lost during `x`: reset', true);
const lostBefore = () => new ConnectionLostError('cp1', 'connection lost before `x`: closed', false);

/** A connection that fails its first `failures` operations with `error`, then works. */
function connection(id: number, error?: () => Error, failures = Infinity) {
  const t = new FakeTransport('cp1', { files: { '/etc/kubernetes/pki/ca.crt': `CA ${id}` }, unmatched: { stdout: `ran on ${id}` } });
  let failed = 0;
  const fail = <T>(ok: () => Promise<T>): Promise<T> => (error && failed++ < failures ? Promise.reject(error()) : ok());
  return Object.assign(t, {
    id,
    run: (command: string, options?: object) => fail(() => FakeTransport.prototype.run.call(t, command, options)),
    readFile: (path: string) => fail(() => FakeTransport.prototype.readFile.call(t, path)),
    writeFile: (path: string, content: string | Buffer, options: { mode: number }) => fail(() => FakeTransport.prototype.writeFile.call(t, path, content, options)),
  });
}

function setup(first: ReturnType<typeof connection>, next: Array<ReturnType<typeof connection> | Error>) {
  const causes: string[] = [];
  let opened = 0;
  const transport = new ReconnectingTransport(first, {
    reconnect: () => {
      const n = next[opened++];
      if (n === undefined) throw new Error('test: no more connections');
      return n instanceof Error ? Promise.reject(n) : Promise.resolve(n);
    },
    onReconnect: (cause) => causes.push(cause),
  });
  return { transport, causes, opened: () => opened };
}

describe('ReconnectingTransport', () => {
  it('repeats a read on a new connection after a drop, and says so once', async () => {
    const { transport, causes, opened } = setup(connection(1, lostDuring), [connection(2)]);
    expect((await transport.readFile('/etc/kubernetes/pki/ca.crt'))?.toString()).toBe('CA 2');
    expect(opened()).toBe(1);
    expect(causes).toEqual(['cp1: connection lost during `x`: reset']);
  });

  it('repeats an atomic write, and a read-only command', async () => {
    const second = connection(2);
    const { transport } = setup(connection(1, lostDuring), [second]);
    await transport.writeFile('/etc/kubernetes/manifests/etcd.yaml', 'etcd', { mode: 0o600 });
    expect(second.files.get('/etc/kubernetes/manifests/etcd.yaml')?.content.toString()).toBe('etcd');
    expect((await transport.run('curl -s https://127.0.0.1:6443/readyz', { readOnly: true })).stdout).toBe('ran on 2');
  });

  it('a command running when the connection dropped fails; the next operation uses the new connection', async () => {
    const { transport, opened } = setup(connection(1, lostDuring), [connection(2)]);
    await expect(transport.run('etcdctl member add cp2')).rejects.toBeInstanceOf(ConnectionLostError);
    expect(opened()).toBe(1);
    expect((await transport.run('true')).stdout).toBe('ran on 2');
  });

  it('a push cut mid-way and repeated counts every file as written (the cut attempt may have replaced them)', async () => {
    const files = [{ path: '/etc/kubernetes/manifests/etcd.yaml', mode: 0o600, content: 'etcd v2' }];
    // The first connection drops during the write; the file had landed, so the retry finds it in place.
    const landed = new FakeTransport('cp1', { files: { '/etc/kubernetes/manifests/etcd.yaml': { content: 'etcd v2', mode: 0o600 } } });
    const { transport } = setup(connection(1, lostDuring), [Object.assign(landed, { id: 2 })]);
    expect(await transport.syncFiles(files)).toEqual({ written: ['/etc/kubernetes/manifests/etcd.yaml'], differed: [] });
    // Without a cut, an identical file is not written.
    expect(await transport.syncFiles(files)).toEqual({ written: [], differed: [] });
  });

  it('a command that was never sent is sent on the new connection', async () => {
    const { transport } = setup(connection(1, lostBefore), [connection(2)]);
    expect((await transport.run('systemctl restart kubelet')).stdout).toBe('ran on 2');
  });

  it('other errors (sudo refusal, a failed command) pass through without reconnecting', async () => {
    const refusal = new ConnectionError('cp1', 'user ops cannot run commands through sudo without a password');
    const { transport, opened } = setup(connection(1, () => refusal), [connection(2)]);
    await expect(transport.readFile('/x')).rejects.toBe(refusal);
    expect(opened()).toBe(0);
  });

  it('a failed reconnect fails the operation naming the host, the drop and the connect error', async () => {
    const cannot = new ConnectionError('cp1', 'cannot connect to root@10.0.0.1:22 after 2 attempts');
    const { transport } = setup(connection(1, lostDuring), [cannot]);
    await expect(transport.readFile('/etc/kubernetes/pki/ca.crt')).rejects.toThrow(
      'cp1: connection lost during `x`: reset; reconnecting failed: cannot connect to root@10.0.0.1:22 after 2 attempts',
    );
  });

  it('a host key that changed between connections is refused as such', async () => {
    const changed = new HostKeyError('cp1', 'the host key changed');
    const { transport } = setup(connection(1, lostDuring), [changed]);
    await expect(transport.readFile('/etc/kubernetes/pki/ca.crt')).rejects.toBe(changed);
  });

  it('is bounded: a host that keeps dropping fails after three reconnects', async () => {
    const { transport, opened } = setup(connection(1, lostDuring), [connection(2, lostDuring), connection(3, lostDuring), connection(4, lostDuring), connection(5)]);
    await expect(transport.readFile('/etc/kubernetes/pki/ca.crt')).rejects.toBeInstanceOf(ConnectionLostError);
    expect(opened()).toBe(3);
  });

  it('concurrent operations that find the same dead connection share one reconnect', async () => {
    const { transport, opened } = setup(connection(1, lostDuring), [connection(2), connection(3)]);
    const reads = await Promise.all([1, 2, 3, 4].map(() => transport.readFile('/etc/kubernetes/pki/ca.crt')));
    expect(reads.map((r) => r?.toString())).toEqual(['CA 2', 'CA 2', 'CA 2', 'CA 2']);
    expect(opened()).toBe(1);
  });
});
