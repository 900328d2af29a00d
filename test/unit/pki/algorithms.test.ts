/** Real key generation (no fixtures): every supported algorithm yields a chain openssl accepts, in kubeadm's PEM formats. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncryptionAlgorithm } from '../../../src/config/schema.js';
import { issueCertificate, validity } from '../../../src/pki/issue.js';
import { publicKeyPem, webCryptoKeySource } from '../../../src/pki/keys.js';
import { openssl, removeDir, tempDir } from '../../support/pki.js';

const cases: Array<[EncryptionAlgorithm, string, RegExp]> = [
  ['RSA-2048', 'RSA PRIVATE KEY', /Public-Key: \(2048 bit\)/],
  ['RSA-3072', 'RSA PRIVATE KEY', /Public-Key: \(3072 bit\)/],
  ['RSA-4096', 'RSA PRIVATE KEY', /Public-Key: \(4096 bit\)/],
  ['ECDSA-P256', 'EC PRIVATE KEY', /ASN1 OID: prime256v1/],
];

describe('key algorithms with real key generation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => removeDir(dir));

  it.each(cases)('%s: CA and leaf keys, PEM formats and an openssl-verified chain', async (algorithm, header, keyText) => {
    const [caKey, leafKey] = await Promise.all([webCryptoKeySource.generate(algorithm), webCryptoKeySource.generate(algorithm)]);
    expect(caKey.privateKeyPem).toMatch(new RegExp(`^-----BEGIN ${header}-----\n`));
    expect(publicKeyPem(leafKey.privateKeyPem)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const window = validity(new Date(), 10);
    const caPem = await issueCertificate({ subject: { cn: 'kubernetes' }, isCa: true, usages: [], altNames: { dns: ['kubernetes'], ips: [] }, serial: 7n, ...window }, caKey);
    const leafPem = await issueCertificate(
      { subject: { cn: 'kube-apiserver' }, isCa: false, usages: ['serverAuth'], altNames: { dns: ['cp1'], ips: ['10.96.0.1', 'fd00::1'] }, serial: (1n << 63n) - 2n, ...window },
      leafKey,
      { certPem: caPem, key: caKey },
    );
    const name = algorithm.toLowerCase();
    await writeFile(join(dir, `${name}-ca.crt`), caPem);
    await writeFile(join(dir, `${name}.crt`), leafPem);
    await writeFile(join(dir, `${name}.key`), leafKey.privateKeyPem);
    expect(openssl(['verify', '-CAfile', join(dir, `${name}-ca.crt`), join(dir, `${name}.crt`)]).trim()).toBe(`${join(dir, `${name}.crt`)}: OK`);
    const text = openssl(['x509', '-in', join(dir, `${name}.crt`), '-noout', '-text']);
    expect(text).toMatch(keyText);
    expect(text).toContain(algorithm === 'ECDSA-P256' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption');
    expect(text).toContain('Serial Number: 9223372036854775806 (0x7ffffffffffffffe)');
    // kubeadm v1.32's NewSignedCert sets keyEncipherment for every key type, ECDSA included; kbuild's leaves match it.
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(openssl(['pkey', '-in', join(dir, `${name}.key`), '-pubout'])).toBe(openssl(['x509', '-in', join(dir, `${name}.crt`), '-noout', '-pubkey']));
  });
});
