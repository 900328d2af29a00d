/** The discovery pin of a CA: `sha256:` + hex SHA-256 of its DER SubjectPublicKeyInfo, as kubeadm. */
import { X509Certificate } from 'node:crypto';
import { sha256Hex } from '../util/sha256.js';

export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${sha256Hex(spki)}`;
}
