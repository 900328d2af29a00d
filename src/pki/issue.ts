/** Building certificates: kubeadm's fields (pki_helpers.go) on @peculiar/x509. */
import { randomBytes } from 'node:crypto';
import { x509 } from './x509.js';
import { signingAlgorithm, type KeyPair } from './keys.js';
import type { AltNames } from './sans.js';
import type { ExtendedUsage } from './table.js';

export const BACKDATE_MS = 5 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;

export interface Subject {
  cn: string;
  o?: string;
}

export interface CertificateSpec {
  subject: Subject;
  isCa: boolean;
  usages: readonly ExtendedUsage[];
  altNames: AltNames;
  notBefore: Date;
  notAfter: Date;
  serial: bigint;
}

/** What every certificate a CA signs repeats: its subject as encoded and its key identifier. */
interface IssuerFacts {
  name: x509.Name;
  authorityKeyIdentifier: Promise<x509.AuthorityKeyIdentifierExtension>;
}

/** The issuing CA: its certificate and key, and (from signerOf) its issuer facts, worked out once for all it signs. */
export interface Signer {
  certPem: string;
  key: KeyPair;
  issuer?: IssuerFacts;
}

const issuerFacts = (certPem: string, key: KeyPair): IssuerFacts => ({
  name: new x509.X509Certificate(certPem).subjectName,
  authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension.create(key.keys.publicKey),
});

/** A signer for a run that issues many certificates with one CA. */
export const signerOf = (certPem: string, key: KeyPair): Signer => ({ certPem, key, issuer: issuerFacts(certPem, key) });

/** kubeadm's serial: uniform in [1, 2^63−1). */
export function randomSerial(): bigint {
  const max = (1n << 63n) - 2n;
  return (randomBytes(8).readBigUInt64BE() % max) + 1n;
}

/** Validity window from one run start, as kubeadm 1.31+: NotBefore = start − 5m, NotAfter = start + days. */
export function validity(start: Date, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(start.getTime() - BACKDATE_MS), notAfter: new Date(start.getTime() + days * DAY_MS) };
}

/** Go's pkix.Name order: O before CN. */
export function subjectName(subject: Subject): x509.JsonName {
  return subject.o === undefined ? [{ CN: [subject.cn] }] : [{ O: [subject.o] }, { CN: [subject.cn] }];
}

const EKU_OIDS: Record<ExtendedUsage, string> = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth };

/** Signs `spec` for `key` with `signer`, or self-signs when there is no signer (a CA). Returns PEM. */
export async function issueCertificate(spec: CertificateSpec, key: KeyPair, signer?: Signer): Promise<string> {
  const { KeyUsageFlags } = x509;
  // As kubeadm v1.32 (pkiutil NewSignedCert / NewSelfSignedCACert): keyEncipherment for every key type.
  // For ECDSA it is unused (nothing is enciphered with the key) but harmless, and certificates stay
  // comparable with kubeadm's; kubeadm sets it regardless of the key, so kbuild does too.
  const usage = KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | (spec.isCa ? KeyUsageFlags.keyCertSign : 0);
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(usage, true),
    new x509.BasicConstraintsExtension(spec.isCa, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
  ];
  if (spec.usages.length > 0) extensions.splice(1, 0, new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => EKU_OIDS[u])));
  const names = [...spec.altNames.dns.map((value) => ({ type: 'dns' as const, value })), ...spec.altNames.ips.map((value) => ({ type: 'ip' as const, value }))];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const common = {
    serialNumber: spec.serial.toString(16),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    subject: subjectName(spec.subject),
  };
  if (!signer) {
    const cert = await x509.X509CertificateGenerator.create({
      ...common,
      issuer: common.subject,
      extensions,
      publicKey: key.keys.publicKey,
      signingKey: key.keys.privateKey,
      signingAlgorithm: signingAlgorithm(key.algorithm),
    });
    return cert.toString('pem') + '\n';
  }
  const issuer = signer.issuer ?? issuerFacts(signer.certPem, signer.key);
  // Go sets AKID from the parent's SKID; self-signed CAs carry none.
  extensions.push(await issuer.authorityKeyIdentifier);
  const cert = await x509.X509CertificateGenerator.create({
    ...common,
    issuer: issuer.name, // the CA subject as encoded, so the chain matches byte for byte
    extensions,
    publicKey: key.keys.publicKey,
    signingKey: signer.key.keys.privateKey,
    signingAlgorithm: signingAlgorithm(signer.key.algorithm),
  });
  return cert.toString('pem') + '\n';
}
