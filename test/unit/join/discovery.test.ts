/**
 * Token discovery against a local HTTPS server serving a real cluster-info with a real JWS:
 * the right hash succeeds; a wrong hash, a tampered signature and an expired token each stop with
 * their own message; the token never travels before the CA is pinned.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { discoverClusterInfo, parsePins } from '../../../src/kube/cluster-info.js';
import { DiscoveryError } from '../../../src/errors/index.js';
import { renderClusterInfoKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { startClusterInfoServer, type ClusterInfoServer } from './cluster-info-server.js';
import { makeTlsFixture, opensslCaHash, type TlsFixture } from './tls-fixture.js';

const GOOD = { id: 'abcdef', secret: '0123456789abcdef' };
const EXPIRED = { id: 'zzzzzz', secret: 'zzzzzzzzzzzzzzzz' };
let tls: TlsFixture;
let server: ClusterInfoServer;
let hash: string;
let kubeconfig: string;

beforeAll(async () => {
  tls = makeTlsFixture();
  hash = opensslCaHash(tls.caCertPem);
  kubeconfig = renderClusterInfoKubeconfig('https://127.0.0.1:6443', tls.caCertPem);
  server = await startClusterInfoServer(tls, kubeconfig, [
    { ...GOOD, expires: new Date(Date.now() + 3600_000) },
    { ...EXPIRED, expires: new Date(Date.now() - 60_000) },
  ]);
});
afterAll(() => server.close());

const discover = (token: string, pins: string[]) =>
  discoverClusterInfo({ endpoint: server.endpoint, token, caCertHashes: pins, timeoutMs: 300, intervalMs: 100 });

async function failure(promise: Promise<unknown>): Promise<DiscoveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DiscoveryError);
  return error as DiscoveryError;
}

describe('token discovery', () => {
  test('the right hash: the verified kubeconfig, server and CA; token sent only on the verified fetch', async () => {
    const before = server.requests.length;
    const found = await discover(`${GOOD.id}.${GOOD.secret}`, [hash.toUpperCase().replace('SHA256', 'sha256')]);
    expect(found.kubeconfig).toBe(kubeconfig);
    expect(found.server).toBe('https://127.0.0.1:6443');
    expect(found.caCertPem.trim()).toBe(tls.caCertPem.trim());
    const mine = server.requests.slice(before);
    // Untrusted and verified fetches anonymous (RBAC lets only system:anonymous read cluster-info), then the token, verified.
    expect(mine).toHaveLength(3);
    expect(mine[0]!.authorization).toBeUndefined();
    expect(mine[1]!.authorization).toBeUndefined();
    expect(mine[2]!.authorization).toBe(`Bearer ${GOOD.id}.${GOOD.secret}`);
  });

  test('a wrong hash is refused, naming the hash found', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const before = server.requests.length;
    const error = await failure(discover(`${GOOD.id}.${GOOD.secret}`, [wrong]));
    expect(error.reason).toBe('ca-hash-mismatch');
    expect(error.message).toContain(hash);
    expect(error.message).toContain(wrong);
    expect(server.requests.slice(before).every((r) => r.authorization === undefined)).toBe(true);
  });

  test('a tampered signature is refused', async () => {
    const real = server.requests.length;
    server.overrideSignature.set(GOOD.id, 'eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    try {
      const error = await failure(discover(`${GOOD.id}.${GOOD.secret}`, [hash]));
      expect(error.reason).toBe('bad-signature');
      expect(error.message).toMatch(/JWS signature .* does not verify/);
    } finally {
      server.overrideSignature.delete(GOOD.id);
    }
    expect(server.requests.length).toBeGreaterThan(real);
  });

  test('a token with the wrong secret fails the signature check', async () => {
    const error = await failure(discover(`${GOOD.id}.ffffffffffffffff`, [hash]));
    expect(error.reason).toBe('bad-signature');
  });

  test('an expired token: the signer dropped its signature, discovery gives up after its timeout', async () => {
    const error = await failure(discover(`${EXPIRED.id}.${EXPIRED.secret}`, [hash]));
    expect(error.reason).toBe('no-signature');
    expect(error.message).toContain('has expired or does not exist');
    expect(error.message).toContain('kbuild token create');
  });

  test('an expired token whose stale signature is still served is rejected by the API server (401)', async () => {
    server.overrideSignature.set(EXPIRED.id, (await import('./cluster-info-server.js')).jwsByHand(kubeconfig, EXPIRED.id, EXPIRED.secret));
    try {
      const error = await failure(discover(`${EXPIRED.id}.${EXPIRED.secret}`, [hash]));
      expect(error.reason).toBe('token-rejected');
      expect(error.message).toContain('expired or was deleted');
    } finally {
      server.overrideSignature.delete(EXPIRED.id);
    }
  });

  test('an unreachable endpoint names the address', async () => {
    const error = await failure(discoverClusterInfo({ endpoint: '127.0.0.1:1', token: `${GOOD.id}.${GOOD.secret}`, caCertHashes: [hash], timeoutMs: 100, intervalMs: 50 }));
    expect(error.reason).toBe('unreachable');
    expect(error.message).toContain('https://127.0.0.1:1');
  });
});

describe('pins', () => {
  test('normalised to lower case; anything but sha256:<64 hex> is a usage error', () => {
    expect(parsePins([`SHA256:${'AB'.repeat(32)}`])).toEqual([`sha256:${'ab'.repeat(32)}`]);
    expect(() => parsePins(['md5:abc'])).toThrow(/not sha256/);
    expect(() => parsePins([])).toThrow(/required/);
  });
});

describe('a forged cluster-info from a man in the middle', () => {
  // The attacker holds a stolen bootstrap token and serves [real CA, attacker CA] with its own server
  // certificate: one pinned certificate must not make the whole bundle the node's trust.
  test('a bundle with a certificate that matches no pin is refused, naming it', async () => {
    const attacker = makeTlsFixture('kubernetes');
    const forged = renderClusterInfoKubeconfig('https://127.0.0.1:6443', `${tls.caCertPem.trim()}\n${attacker.caCertPem.trim()}\n`);
    const mitm = await startClusterInfoServer(attacker, forged, [{ ...GOOD, expires: new Date(Date.now() + 3600_000) }]);
    try {
      const outcome = await discoverClusterInfo({ endpoint: mitm.endpoint, token: `${GOOD.id}.${GOOD.secret}`, caCertHashes: [hash], timeoutMs: 300, intervalMs: 100 }).then(
        (found) => found,
        (e: unknown) => e,
      );
      expect(outcome).toBeInstanceOf(DiscoveryError);
      const error = outcome as DiscoveryError;
      expect(error.reason).toBe('unpinned-ca');
      expect(error.message).toContain(opensslCaHash(attacker.caCertPem));
      expect(error.message).not.toContain(`${hash},`);
      // The token never reached the attacker's server.
      expect(mitm.requests.every((r) => r.authorization === undefined)).toBe(true);
    } finally {
      await mitm.close();
    }
  });

  test('a bundle whose every certificate is pinned (CA rotation) is trusted whole', async () => {
    const next = makeTlsFixture('kubernetes');
    const both = renderClusterInfoKubeconfig('https://127.0.0.1:6443', `${tls.caCertPem.trim()}\n${next.caCertPem.trim()}\n`);
    const rotating = await startClusterInfoServer(tls, both, [{ ...GOOD, expires: new Date(Date.now() + 3600_000) }]);
    try {
      const found = await discoverClusterInfo({ endpoint: rotating.endpoint, token: `${GOOD.id}.${GOOD.secret}`, caCertHashes: [hash, opensslCaHash(next.caCertPem)], timeoutMs: 300, intervalMs: 100 });
      expect(found.caCertPem).toContain(next.caCertPem.trim());
    } finally {
      await rotating.close();
    }
  });
});
