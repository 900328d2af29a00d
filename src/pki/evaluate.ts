/** Decides whether an existing leaf or kubeconfig can be reused, and if not, says why. */
import type { EncryptionAlgorithm } from '../config/schema.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { altNameDrift, isSignedBy, keyMatches, readCertificate } from './inspect.js';
import type { AltNames } from './sans.js';
import type { ExtendedUsage } from './table.js';
import type { Subject } from './issue.js';

export type Verdict = { status: 'valid' } | { status: 'missing'; what: string } | { status: 'stale'; reason: string };

export interface Expected {
  subject: Subject;
  usages: readonly ExtendedUsage[];
  altNames: AltNames;
  caName: string;
  caCertPem: string;
  /** undefined: any algorithm is accepted (external CA: kbuild does not choose the keys). */
  algorithm?: EncryptionAlgorithm;
  now: Date;
}

const describeSubject = (s: Subject) => (s.o === undefined ? `CN=${s.cn}` : `CN=${s.cn}, O=${s.o}`);

export function evaluateCertificate(certPem: string | undefined, keyPem: string | undefined, want: Expected, where: string): Verdict {
  if (certPem === undefined) return { status: 'missing', what: 'certificate' };
  if (keyPem === undefined) return { status: 'stale', reason: 'its private key is missing' };
  let facts;
  try {
    facts = readCertificate(certPem, where);
  } catch {
    return { status: 'stale', reason: 'the certificate is unreadable' };
  }
  if (!isSignedBy(certPem, want.caCertPem)) return { status: 'stale', reason: `not signed by the current ${want.caName} CA` };
  if (facts.notAfter.getTime() <= want.now.getTime()) return { status: 'stale', reason: `expired on ${facts.notAfter.toISOString()}` };
  if (!keyMatches(certPem, keyPem)) return { status: 'stale', reason: 'the private key does not belong to the certificate' };
  const have = { cn: facts.cn, o: facts.o };
  if (have.cn !== want.subject.cn || have.o !== want.subject.o) {
    return { status: 'stale', reason: `subject changed: ${describeSubject(have)} → ${describeSubject(want.subject)}` };
  }
  const drift = altNameDrift(facts.altNames, want.altNames);
  if (drift) return { status: 'stale', reason: drift };
  if ([...facts.usages].sort().join() !== [...want.usages].sort().join()) {
    return { status: 'stale', reason: `extended key usage changed: ${facts.usages.join('+') || 'none'} → ${want.usages.join('+')}` };
  }
  if (want.algorithm !== undefined && facts.algorithm !== want.algorithm) {
    return { status: 'stale', reason: `key algorithm changed: ${facts.algorithm ?? 'other'} → ${want.algorithm}` };
  }
  return { status: 'valid' };
}

export function evaluateKubeconfig(text: string | undefined, server: string, clusterName: string, want: Expected, where: string): Verdict {
  if (text === undefined) return { status: 'missing', what: 'kubeconfig' };
  let parsed;
  try {
    parsed = parseKubeconfig(text);
  } catch {
    return { status: 'stale', reason: 'the kubeconfig is unreadable' };
  }
  if (parsed.caCertPem !== want.caCertPem) return { status: 'stale', reason: 'its CA data differs from the current ca.crt' };
  if (parsed.server !== server) return { status: 'stale', reason: `server changed: ${parsed.server} → ${server}` };
  if (parsed.clusterName !== clusterName) return { status: 'stale', reason: `cluster name changed: ${parsed.clusterName} → ${clusterName}` };
  if (parsed.user !== want.subject.cn) return { status: 'stale', reason: `user changed: ${parsed.user} → ${want.subject.cn}` };
  if (parsed.clientCertPem === undefined) return { status: 'stale', reason: 'it has no embedded client certificate' };
  return evaluateCertificate(parsed.clientCertPem, parsed.clientKeyPem, want, where);
}
