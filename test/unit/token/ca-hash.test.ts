/** The printed pin equals the openssl pipeline from the issue, for RSA and ECDSA CAs. */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { caCertHash } from '../../../src/pki/ca-hash.js';
import { makeTlsFixture, opensslCaHash } from '../join/tls-fixture.js';

describe('CA hash', () => {
  test('ECDSA CA: equals openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum', () => {
    const { caCertPem } = makeTlsFixture();
    expect(caCertHash(caCertPem)).toBe(opensslCaHash(caCertPem));
  });

  test('RSA CA', () => {
    const cert = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-days', '1', '-subj', '/CN=kubernetes'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(caCertHash(cert)).toBe(opensslCaHash(cert));
  });
});
