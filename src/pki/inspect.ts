/** Reading certificates back: the fields kbuild compares when deciding to reuse, and checks on renewal. */
import { X509Certificate as NodeCertificate, createPrivateKey } from 'node:crypto';
import type { EncryptionAlgorithm } from '../config/schema.js';
import { PkiError } from '../errors/index.js';
import { algorithmOf } from './keys.js';
import { normalizeAltNames, type AltNames } from './sans.js';
import type { ExtendedUsage } from './table.js';
import { x509 } from './x509.js';

export interface CertificateFacts {
  pem: string;
  cn: string;
  o?: string;
  altNames: AltNames;
  usages: ExtendedUsage[];
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
  serial: string;
  /** undefined: a key type kbuild does not issue. */
  algorithm?: EncryptionAlgorithm;
  /** SHA-256 fingerprint, colon-separated hex (as openssl prints it). */
  fingerprint: string;
}

const USAGE_BY_OID: Record<string, ExtendedUsage> = { [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth', [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth' };

/** Decodes one PEM certificate; `where` names its file for the error. */
export function readCertificate(pem: string, where: string): CertificateFacts {
  let cert: x509.X509Certificate;
  let node: NodeCertificate;
  try {
    cert = new x509.X509Certificate(pem);
    node = new NodeCertificate(pem);
  } catch (error) {
    throw new PkiError(`${where}: not a readable PEM certificate; remove it so kbuild issues a new one, or replace it`, { cause: error });
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    pem,
    cn: cert.subjectName.getField('CN')[0] ?? '',
    o: cert.subjectName.getField('O')[0],
    altNames: normalizeAltNames(
      names.filter((n) => n.type === 'dns').map((n) => n.value),
      names.filter((n) => n.type === 'ip').map((n) => n.value),
    ),
    usages: (eku?.usages ?? []).map((u) => USAGE_BY_OID[String(u)]).filter((u): u is ExtendedUsage => u !== undefined),
    isCa: basic?.ca ?? false,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serial: cert.serialNumber,
    algorithm: algorithmOf(node.publicKey),
    fingerprint: node.fingerprint256,
  };
}

/** True when `certPem` is signed by `caCertPem` (issuer name and signature both match). */
export function isSignedBy(certPem: string, caCertPem: string): boolean {
  const cert = new NodeCertificate(certPem);
  const ca = new NodeCertificate(caCertPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** True when the private key belongs to the certificate. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new NodeCertificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

export function formatAltNames(names: AltNames): string[] {
  return [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((i) => `IP:${i}`)];
}

/** What changed between two SAN sets, e.g. "added IP:10.0.0.5; removed DNS:old.example.com". */
export function altNameDrift(have: AltNames, want: AltNames): string | undefined {
  const a = new Set(formatAltNames(have));
  const b = new Set(formatAltNames(want));
  const added = [...b].filter((n) => !a.has(n));
  const removed = [...a].filter((n) => !b.has(n));
  if (added.length === 0 && removed.length === 0) return undefined;
  const parts = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  return `SANs changed: ${parts.join('; ')}`;
}

/** Every PEM certificate block in a text (a bundle, a file, openssl's output), in order. */
export const pemCertificates = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

export const firstPemCertificate = (text: string): string | undefined => pemCertificates(text)[0];
