/** The discovery pin of a CA: `sha256:` + hex SHA-256 of its DER SubjectPublicKeyInfo, as kubeadm. */
import { createHash, X509Certificate } from 'node:crypto';

export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
