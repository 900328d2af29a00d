import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterFile } from '../../src/config/load.js';
import { buildCluster } from '../../src/config/model.js';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { apiserverReady, apiserverViaEndpoint, componentHealthz, etcdHealth, etcdMembers, kubeletHealthz, loadBalancerFrontend, runProbe, servesCertificateFile } from '../../src/health/probes.js';
import { LocalTransport } from '../../src/transport/local.js';
import { tempDir } from '../support/pki.js';
import { makeTlsFixture } from './join/tls-fixture.js';

const load = (name: string) => buildCluster(parseClusterFile(readFileSync(join(import.meta.dirname, '../../examples', name), 'utf8'), name));
const stacked = load('ha-stacked.yaml');
const external = load('ha-external-etcd.yaml');
const cp1 = stacked.hosts.find((h) => h.name === 'cp1')!;
const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });

describe('health probes', () => {
  it('probe etcd with the healthcheck-client certificate and read its verdict', () => {
    const probe = etcdHealth(cp1);
    expect(probe.command).toBe(
      "curl -sS --fail-with-body --max-time 5 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key https://127.0.0.1:2382/health",
    );
    expect(probe.interpret(ok('{"health":"true","reason":""}'))).toEqual({ ok: true });
    expect(probe.interpret(ok('{"health":"false","reason":"RAFT NO LEADER"}'))).toEqual({ ok: false, seen: 'etcd /health answered: {"health":"false","reason":"RAFT NO LEADER"}' });
    expect(probe.interpret({ code: 7, stdout: '', stderr: 'curl: (7) Failed to connect to 127.0.0.1 port 2379: Connection refused' })).toEqual({
      ok: false,
      seen: 'curl: (7) Failed to connect to 127.0.0.1 port 2379: Connection refused',
    });
  });

  it('requires every member in the list for quorum', () => {
    const probe = etcdMembers(cp1, ['cp1', 'cp2', 'cp3']);
    expect(probe.interpret(ok(JSON.stringify({ members: [{ name: 'cp1' }, { name: 'cp2' }, { name: 'cp3' }] })))).toEqual({ ok: true });
    expect(probe.interpret(ok(JSON.stringify({ members: [{ name: 'cp1' }, { name: '' }] })))).toEqual({ ok: false, seen: 'members cp1,; not yet started: cp2,cp3' });
  });

  it('verifies the apiserver against the cluster CA at the host address', () => {
    expect(apiserverReady(stacked, cp1).command).toBe('curl -sS --fail-with-body --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://192.168.10.11:6443/readyz');
    expect(apiserverReady(stacked, cp1).interpret(ok('ok'))).toEqual({ ok: true });
    const x509 = { code: 60, stdout: '', stderr: "curl: (60) SSL: no alternative certificate subject name matches target host name '192.168.10.11'" };
    expect(apiserverReady(stacked, cp1).interpret(x509)).toEqual({ ok: false, seen: x509.stderr });
  });

  it('goes through the load balancer by the endpoint name, resolved to the VIP', () => {
    expect(apiserverViaEndpoint(stacked).command).toBe(
      'curl -sS --fail-with-body --max-time 5 --cacert /etc/kubernetes/pki/ca.crt --resolve api.demo.internal:6443:192.168.10.100 https://api.demo.internal:6443/readyz',
    );
    expect(apiserverViaEndpoint(external).command).toBe('curl -sS --fail-with-body --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://192.168.20.100:6443/readyz');
  });

  it('checks a load balancer\'s own frontend by the endpoint name', () => {
    expect(loadBalancerFrontend(stacked, '/etc/haproxy/kbuild-ca.crt').command).toBe(
      'curl -sS --fail-with-body --max-time 5 --cacert /etc/haproxy/kbuild-ca.crt --connect-to api.demo.internal:6443:127.0.0.1:6443 https://api.demo.internal:6443/readyz',
    );
  });

  it('checks controller-manager, scheduler and kubelet health endpoints', () => {
    expect(componentHealthz(10257).command).toBe('curl -sS --fail-with-body --max-time 5 -k https://127.0.0.1:10257/healthz');
    expect(kubeletHealthz().command).toBe('curl -sS --fail-with-body --max-time 5 http://127.0.0.1:10248/healthz');
    expect(kubeletHealthz().interpret({ code: 0, stdout: 'ok', stderr: '', timedOut: false })).toEqual({ ok: true });
    expect(kubeletHealthz().interpret({ code: null, stdout: '', stderr: '', timedOut: true })).toEqual({ ok: false, seen: 'probe timed out' });
  });
});

describe('a server that reads its certificate per handshake (etcd) serves the file on disk', () => {
  // Real openssl against a local TLS server that requires a client certificate, as etcd does.
  it('passes when a new connection gets the file, verified for the address; names the difference, a failed verification and a refused connection', async () => {
    const [first, second, client] = [makeTlsFixture('first'), makeTlsFixture('second'), makeTlsFixture('client')];
    const dir = await tempDir('kbuild-served-');
    const files = { 'first.crt': first.serverCertPem, 'first-ca.crt': first.caCertPem, 'second.crt': second.serverCertPem, 'second-ca.crt': second.caCertPem, 'client.crt': client.serverCertPem, 'client.key': client.serverKeyPem };
    for (const [name, pem] of Object.entries(files)) writeFileSync(join(dir, name), pem);
    const server = createServer({ cert: first.serverCertPem, key: first.serverKeyPem, requestCert: true, rejectUnauthorized: false }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connect = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const local = new LocalTransport();
    const check = (file: string, ca: string, address = '127.0.0.1') => runProbe(local, servesCertificateFile({ connect, address, caFile: join(dir, ca), client: { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') }, file: join(dir, file) }));
    try {
      expect(await check('first.crt', 'first-ca.crt')).toEqual({ ok: true });
      expect(await check('second.crt', 'first-ca.crt')).toEqual({ ok: false, seen: expect.stringMatching(new RegExp(`^${connect} serves a certificate other than ${join(dir, 'second.crt')} \\(SHA-256 [0-9A-F:]{23}… instead of [0-9A-F:]{23}…\\)$`)) as string });
      // Not valid for the address clients use, or not from this CA: no verified certificate.
      expect(await check('first.crt', 'first-ca.crt', '10.9.9.9')).toEqual({ ok: false, seen: expect.stringMatching(new RegExp(`^no verified certificate from ${connect} for 10\\.9\\.9\\.9: .*(IP address mismatch|verify)`, 'i')) as string });
      expect((await check('first.crt', 'second-ca.crt')).ok).toBe(false);
      // The server's certificate changes under it, as etcd's files do: the next connection gets the new one.
      server.setSecureContext({ cert: second.serverCertPem, key: second.serverKeyPem });
      expect(await check('second.crt', 'second-ca.crt')).toEqual({ ok: true });
      expect((await check('missing.crt', 'second-ca.crt')).ok).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check('first.crt', 'first-ca.crt')).toEqual({ ok: false, seen: expect.stringMatching(new RegExp(`^no verified certificate from ${connect} for 127\\.0\\.0\\.1: .*(errno|refused)`)) as string });
  });
});
