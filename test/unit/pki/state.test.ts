/** The master copy across runs: reuse, no writes on a second run, SAN drift, BYO CA, external CA. */
import yaml from 'js-yaml';
import { chmod, chown, cp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpointUrl, withHosts, type Cluster } from '../../../src/config/model.js';
import { parseKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { FileError, PkiError } from '../../../src/errors/index.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { START, example, openssl, removeDir, repoRoot, snapshot, tempDir, testOptions } from '../../support/pki.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => removeDir(dir));

const run = async (cluster: Cluster, start = START) => ensureClusterPki(cluster, await StateDir.open(dir), testOptions(start));
const withCertSans = (cluster: Cluster, sans: string[]): Cluster => ({ ...cluster, apiServer: { ...cluster.apiServer, certSANs: sans } });

describe('PKI state directory', () => {
  it('a second run reuses everything and writes no file (same bytes, same mtimes)', async () => {
    const cluster = await example('ha-stacked');
    await run(cluster);
    const before = await snapshot(dir);
    expect(before.get('pki/ca.key')!.mode).toBe(0o600);
    expect(before.get('pki/ca.crt')!.mode).toBe(0o644);
    expect(before.get('hosts/cp1/admin.conf')!.mode).toBe(0o600);
    const second = await run(cluster, new Date(START.getTime() + 3_600_000));
    expect(second.actions.filter((a) => a.outcome !== 'reused')).toEqual([]);
    expect(second.actions).toHaveLength(38);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a new certSANs entry re-issues only the apiserver certificates, naming the SAN; the CA stays byte-identical', async () => {
    const cluster = await example('ha-stacked');
    await run(cluster);
    const before = await snapshot(dir);
    const after = await run(withCertSans(cluster, [...cluster.apiServer.certSANs, '10.1.2.3', 'extra.example.com']));
    const changed = after.actions.filter((a) => a.outcome !== 'reused');
    expect(changed).toEqual(
      ['cp1', 'cp2', 'cp3'].map((host) => ({ name: 'apiserver', host, outcome: 're-issued', reason: 'SANs changed: added DNS:extra.example.com, IP:10.1.2.3' })),
    );
    const now = await snapshot(dir);
    const differing = [...now.keys()].filter((k) => now.get(k)!.content !== before.get(k)?.content).sort();
    expect(differing).toEqual(['cp1', 'cp2', 'cp3'].flatMap((h) => [`hosts/${h}/pki/apiserver.crt`, `hosts/${h}/pki/apiserver.key`]));
    expect(openssl(['x509', '-in', join(dir, 'hosts/cp2/pki/apiserver.crt'), '-noout', '-ext', 'subjectAltName'])).toContain('DNS:extra.example.com');
  });

  it('a VIP change and a host address change are reported as SAN drift on exactly the affected certificates', async () => {
    const cluster = await example('ha-stacked');
    await run(cluster);
    const moved: Cluster = withHosts({ ...cluster, loadBalancer: { ...cluster.loadBalancer, vip: '192.168.10.101' } }, cluster.hosts.map((h) => (h.name === 'cp3' ? { ...h, address: '192.168.10.23' } : h)));
    const changed = (await run(moved)).actions.filter((a) => a.outcome !== 'reused').map((a) => `${a.name} ${a.host}: ${a.reason}`);
    expect(changed).toEqual([
      'apiserver cp1: SANs changed: added IP:192.168.10.101; removed IP:192.168.10.100',
      'apiserver cp2: SANs changed: added IP:192.168.10.101; removed IP:192.168.10.100',
      'apiserver cp3: SANs changed: added IP:192.168.10.23, IP:192.168.10.101; removed IP:192.168.10.13, IP:192.168.10.100',
      'etcd/server cp3: SANs changed: added IP:192.168.10.23; removed IP:192.168.10.13',
      'etcd/peer cp3: SANs changed: added IP:192.168.10.23; removed IP:192.168.10.13',
      'controller-manager.conf cp3: server changed: https://192.168.10.13:6443 → https://192.168.10.23:6443',
      'scheduler.conf cp3: server changed: https://192.168.10.13:6443 → https://192.168.10.23:6443',
    ]);
  });

  it('changing the algorithm re-issues leaves with the new one but never replaces the CA', async () => {
    const cluster = await example('single-node');
    await run(cluster);
    const ca = await readFile(join(dir, 'pki/ca.crt'));
    const after = await run({ ...cluster, certificates: { ...cluster.certificates, encryptionAlgorithm: 'ECDSA-P256' } });
    expect(await readFile(join(dir, 'pki/ca.crt'))).toEqual(ca);
    expect(after.actions.find((a) => a.name === 'ca')!.outcome).toBe('reused');
    expect(after.actions.find((a) => a.name === 'apiserver')).toMatchObject({ outcome: 're-issued', reason: 'key algorithm changed: RSA-2048 → ECDSA-P256' });
    expect(openssl(['x509', '-in', join(dir, 'hosts/node1/pki/apiserver.crt'), '-noout', '-text'])).toContain('prime256v1');
  });

  it('uses a CA placed in the state directory before the first run (bring your own CA)', async () => {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/O=Example Corp/CN=example-root', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature']);
    await StateDir.open(dir);
    await cp(join(dir, 'ca.crt'), join(dir, 'pki/ca.crt'));
    await cp(join(dir, 'ca.key'), join(dir, 'pki/ca.key'));
    const byo = await readFile(join(dir, 'pki/ca.crt'));
    // The CA was made now, so this run starts now as well.
    const pki = await run(await example('single-node'), new Date());
    expect(pki.actions.find((a) => a.name === 'ca')!.outcome).toBe('reused');
    expect(await readFile(join(dir, 'pki/ca.crt'))).toEqual(byo);
    const verify = openssl(['verify', '-CAfile', join(dir, 'pki/ca.crt'), join(dir, 'hosts/node1/pki/apiserver.crt')]);
    expect(verify.trim()).toBe(`${join(dir, 'hosts/node1/pki/apiserver.crt')}: OK`);
    expect(openssl(['x509', '-in', join(dir, 'hosts/node1/pki/apiserver.crt'), '-noout', '-issuer', '-nameopt', 'RFC2253']).trim()).toBe('issuer=CN=example-root,O=Example Corp');
  });

  it('external-CA mode: with ca.crt but no ca.key, valid leaves are accepted and nothing is signed', async () => {
    const cluster = await example('single-node');
    await run(cluster);
    await rm(join(dir, 'pki/ca.key'));
    const before = await snapshot(dir);
    const pki = await run(cluster);
    const kubeCaSigned = ['ca', 'apiserver', 'apiserver-kubelet-client', 'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf'];
    for (const name of kubeCaSigned) expect(pki.actions.find((a) => a.name === name)!.outcome, name).toBe('external');
    expect(pki.actions.find((a) => a.name === 'front-proxy-client')!.outcome).toBe('reused');
    expect(await snapshot(dir)).toEqual(before);
    expect(pki.filesForHost(cluster.hosts[0]!).some((f) => f.path === '/etc/kubernetes/pki/ca.key')).toBe(false);
  });

  it('external-CA mode: a missing or drifted leaf is an error naming the file and what to do, and nothing is written', async () => {
    const cluster = await example('single-node');
    await run(cluster);
    await rm(join(dir, 'pki/ca.key'));
    await rm(join(dir, 'hosts/node1/admin.conf'));
    const before = await snapshot(dir);
    const error = await run(withCertSans(cluster, ['new.example.com'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PkiError);
    const message = (error as PkiError).message;
    expect(message).toContain(`${join(dir, 'hosts/node1/admin.conf')} is missing`);
    expect(message).toContain(`${join(dir, 'hosts/node1/pki/apiserver.crt')} cannot be used: SANs changed: added DNS:new.example.com`);
    expect(message).toContain('put the CA key beside its certificate');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('kubelet.conf of a control plane: the endpoint up to v1.32, its own apiserver from v1.33 (ControlPlaneKubeletLocalMode); changing the version re-issues it', async () => {
    const cluster = await example('ha-stacked');
    const server = async (host: string) => parseKubeconfig(await readFile(join(dir, `hosts/${host}/kubelet.conf`), 'utf8')).server;
    const address = (name: string) => cluster.hosts.find((h) => h.name === name)!.address;
    await run(cluster);
    expect(cluster.kubernetesVersion).toMatch(/^v1\.32\./);
    expect(await server('cp2')).toBe(endpointUrl(cluster));
    const v133 = { ...cluster, kubernetesVersion: 'v1.33.1' };
    const pki = await run(v133);
    for (const cp of ['cp1', 'cp2', 'cp3']) expect(await server(cp), cp).toBe(`https://${address(cp)}:6443`);
    expect(pki.actions.filter((a) => a.name === 'kubelet.conf').map((a) => a.outcome)).toEqual(['re-issued', 're-issued', 're-issued']);
    // admin.conf keeps the endpoint.
    expect(parseKubeconfig(await readFile(join(dir, 'hosts/cp2/admin.conf'), 'utf8')).server).toBe(endpointUrl(cluster));
    expect((await run(v133)).actions.filter((a) => a.name === 'kubelet.conf').map((a) => a.outcome)).toEqual(['reused', 'reused', 'reused']);
    // spec.featureGates sets it either way, as kubeadm's featureGates.
    await run({ ...v133, featureGates: { ControlPlaneKubeletLocalMode: false } });
    expect(await server('cp2')).toBe(endpointUrl(cluster));
    await run({ ...cluster, featureGates: { ControlPlaneKubeletLocalMode: true } });
    expect(await server('cp2')).toBe(`https://${address('cp2')}:6443`);
  });

  it('spec.clusterName names every kubeconfig\'s cluster and context; changing it re-issues them', async () => {
    const cluster = await example('ha-stacked');
    await run(cluster);
    const names = async (file: string) => {
      const doc = yaml.load(await readFile(join(dir, file), 'utf8')) as { clusters: Array<{ name: string }>; 'current-context': string };
      return [doc.clusters.map((c) => c.name), doc['current-context']];
    };
    expect(await names('hosts/cp1/admin.conf')).toEqual([['kubernetes'], 'kubernetes-admin@kubernetes']);
    const pki = await run({ ...cluster, clusterName: 'prod-eu' });
    expect(await names('hosts/cp1/admin.conf')).toEqual([['prod-eu'], 'kubernetes-admin@prod-eu']);
    expect(await names('hosts/cp2/kubelet.conf')).toEqual([['prod-eu'], 'system:node:cp2@prod-eu']);
    expect(pki.actions.find((a) => a.name === 'scheduler.conf' && a.host === 'cp3')).toMatchObject({ outcome: 're-issued', reason: expect.stringContaining('cluster name changed: kubernetes → prod-eu') as string });
  });

  it('spec.etcd.serverCertSANs and peerCertSANs go into etcd/server and etcd/peer only; a new one re-issues just that certificate', async () => {
    const cluster = await example('ha-stacked');
    await run(cluster);
    const sans = (rel: string) => openssl(['x509', '-in', join(dir, rel), '-noout', '-ext', 'subjectAltName']).split('\n')[1]!.trim();
    const withEtcd = { ...cluster, etcd: { ...cluster.etcd, serverCertSANs: ['etcd.example.com', '10.9.9.9'], peerCertSANs: ['peer.example.com'] } };
    const pki = await run(withEtcd);
    expect(sans('hosts/cp2/pki/etcd/server.crt')).toBe('DNS:cp2, DNS:etcd.example.com, DNS:localhost, IP Address:192.168.10.12, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.9.9.9');
    expect(sans('hosts/cp2/pki/etcd/peer.crt')).toBe('DNS:cp2, DNS:localhost, DNS:peer.example.com, IP Address:192.168.10.12, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const reissued = new Set(pki.actions.filter((a) => a.outcome === 're-issued').map((a) => a.name));
    expect(reissued).toEqual(new Set(['etcd/server', 'etcd/peer']));
  });

  it('refuses a CA key that does not belong to the CA certificate instead of replacing anything', async () => {
    const cluster = await example('single-node');
    await run(cluster);
    await writeFile(join(dir, 'pki/ca.key'), await readFile(join(dir, 'pki/front-proxy-ca.key')));
    const ca = await readFile(join(dir, 'pki/ca.crt'));
    await expect(run(cluster)).rejects.toThrow(/pki\/ca.key does not belong to pki\/ca.crt/);
    expect(await readFile(join(dir, 'pki/ca.crt'))).toEqual(ca);
  });
});

/**
 * A state directory someone else could write: a CA planted there would be reused by a root run and
 * sign the whole cluster. As root the other user is uid 65534 (chown); without root, kbuild is told it
 * runs as a uid that does not own the test's files.
 */
describe('a state directory someone else could have written', () => {
  const isRoot = process.getuid?.() === 0;
  const other = 65534;
  const me = isRoot ? { uid: 0 } : { uid: process.getuid!() + 1 };
  const plantCa = async (pkiDir: string) => {
    await mkdir(pkiDir, { recursive: true });
    const key = join(repoRoot, 'test/fixtures/keys/rsa-2048-01.key');
    openssl(['req', '-x509', '-key', key, '-out', join(pkiDir, 'ca.crt'), '-subj', '/CN=planted', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature']);
    await cp(key, join(pkiDir, 'ca.key'));
    await chmod(join(pkiDir, 'ca.key'), 0o644);
  };
  const giveAway = async (...paths: string[]) => {
    if (isRoot) for (const p of paths) await chown(p, other, other);
  };

  it('a CA planted by another user beside the cluster file is refused, not reused; its files are left alone', async () => {
    const clusterDir = join(dir, 'cluster');
    const state = join(clusterDir, '.kbuild', 'single-node');
    await plantCa(join(state, 'pki'));
    await giveAway(clusterDir, join(clusterDir, '.kbuild'), state, join(state, 'pki'), join(state, 'pki/ca.crt'), join(state, 'pki/ca.key'));
    const planted = await readFile(join(state, 'pki/ca.key'));
    const error = await (async () => ensureClusterPki(await example('single-node'), await StateDir.open(state, me), testOptions(new Date())))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileError);
    expect((error as Error).message).toMatch(/refusing this state directory: its parent .*cluster: it is owned by uid \d+, not by you/);
    expect((error as Error).message).toContain('--state-dir');
    expect(await readFile(join(state, 'pki/ca.key'))).toEqual(planted);
    expect((await stat(join(state, 'pki/ca.key'))).mode & 0o777).toBe(0o644);
  });

  it('a parent writable by group or others is refused (not sticky), naming it; a root-owned sticky /tmp is fine', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    await expect(StateDir.open(join(shared, '.kbuild', 'c'))).rejects.toThrow(new RegExp(`its parent ${shared}: it is writable by its group \\(mode 0777\\)`));
    await chmod(shared, 0o1777); // sticky, but not root's (unless we are root): still only fine when root owns it
    if (!isRoot) await expect(StateDir.open(join(shared, '.kbuild', 'c'))).rejects.toThrow(/writable by its group/);
    expect((await stat(tmpdir())).mode & 0o1777).toBe(0o1777);
    await expect(StateDir.open(join(dir, 'mine'))).resolves.toBeInstanceOf(StateDir);
  });

  it('a state directory that is a symlink, or a file in it owned by another user, is refused', async () => {
    const real = join(dir, 'real');
    await mkdir(real, { mode: 0o700 });
    await symlink(real, join(dir, 'link'));
    await expect(StateDir.open(join(dir, 'link'))).rejects.toThrow(/it is a symlink/);
    const state = await StateDir.open(join(dir, 'own'));
    await plantCa(state.path('pki'));
    await chmod(state.path('pki/ca.key'), 0o600);
    await symlink(state.path('pki/ca.key'), state.path('pki/front-proxy-ca.key'));
    await expect(state.read('pki/front-proxy-ca.key')).rejects.toThrow(/is a symlink inside the state directory/);
    if (isRoot) {
      await chown(state.path('pki/ca.crt'), other, other);
      await expect(state.read('pki/ca.crt')).rejects.toThrow(/owned by uid 65534, not by you \(uid 0\) or root/);
    }
  });

  it('its own CA key readable by others is refused with how to fix it; at 0600 it is used', async () => {
    const state = await StateDir.open(join(dir, 'own'));
    await plantCa(state.path('pki'));
    const error = await ensureClusterPki(await example('single-node'), state, testOptions(new Date())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileError);
    expect((error as Error).message).toBe(
      `${state.path('pki/ca.key')}: holds a secret (a private key, a kubeconfig or a token) but has mode 0644: it must be readable by its owner only. Check that nobody else placed or read it, then chmod 600 ${state.path('pki/ca.key')}.`,
    );
    await chmod(state.path('pki/ca.key'), 0o600);
    const pki = await ensureClusterPki(await example('single-node'), state, testOptions(new Date()));
    expect(pki.actions.find((a) => a.name === 'ca')!.outcome).toBe('reused');
  });
});
