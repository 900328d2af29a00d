/** kubeadm-certs: AES-256-GCM nonce‖ciphertext‖tag under the hex key, decrypted here with node:crypto directly. */
import { createDecipheriv } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { certsSecret, decodeCertificateKey, decryptCertsSecret, newCertificateKey, ownerReferenceTo, sharedCertFiles } from '../../../src/kube/upload-certs.js';

const KEY_HEX = 'a'.repeat(62) + '01';

function openByHand(value: string, keyHex: string): string {
  const data = Buffer.from(value, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString();
}

describe('upload-certs', () => {
  const files = new Map(sharedCertFiles(true).map((f) => [f, Buffer.from(`content of ${f}\n`)] as const));
  const owner = ownerReferenceTo({ metadata: { name: 'bootstrap-token-abcdef', uid: 'u-1' } });
  const secret = certsSecret(files, decodeCertificateKey(KEY_HEX), owner);

  test('key names, owner and layout', () => {
    expect(Object.keys(secret.data!).sort()).toEqual(['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
    expect(secret.metadata).toEqual({ name: 'kubeadm-certs', namespace: 'kube-system', ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'bootstrap-token-abcdef', uid: 'u-1', controller: true, blockOwnerDeletion: true }] });
    for (const [name, content] of files) {
      const stored = secret.data![name.replace('/', '-')]!;
      expect(Buffer.from(stored, 'base64')).toHaveLength(12 + content.length + 16);
      expect(openByHand(stored, KEY_HEX)).toBe(content.toString());
    }
  });

  test('decrypt round trip; a wrong key is refused as a whole', () => {
    const out = decryptCertsSecret(secret, decodeCertificateKey(KEY_HEX), sharedCertFiles(true));
    expect([...out.entries()].map(([k, v]) => [k, v.toString()])).toEqual([...files.entries()].map(([k, v]) => [k, v.toString()]));
    expect(() => decryptCertsSecret(secret, decodeCertificateKey('b'.repeat(64)), sharedCertFiles(true))).toThrow(/cannot decrypt ca\.crt .*--certificate-key/);
  });

  test('nonces differ per entry; keys are 32 random bytes in hex', () => {
    const nonces = Object.values(secret.data!).map((v) => Buffer.from(v, 'base64').subarray(0, 12).toString('hex'));
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(newCertificateKey()).toMatch(/^[0-9a-f]{64}$/);
    expect(() => decodeCertificateKey('abc')).toThrow(/64 hexadecimal/);
  });
});
