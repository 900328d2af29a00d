/** The state of one CA before a run: reuse it (kbuild's or yours), create it, or treat it as external. */
import { PkiError } from '../errors/index.js';
import { keyMatches, readCertificate } from './inspect.js';
import { importPrivateKeyPem, type KeyPair } from './keys.js';
import type { CaRow } from './table.js';

export interface CaState {
  /** reuse: cert and key present; external: cert without key (nothing is signed); create: neither. */
  mode: 'reuse' | 'external' | 'create';
  certPem?: string;
  key?: KeyPair;
}

export async function caPlan(row: CaRow, certPem: string | undefined, keyPem: string | undefined, now: Date): Promise<CaState> {
  const file = `pki/${row.base}`;
  if (certPem === undefined && keyPem === undefined) return { mode: 'create' };
  if (certPem === undefined) {
    throw new PkiError(`${file}.key exists without ${file}.crt in the state directory; put the CA certificate beside its key (kbuild never replaces a CA)`);
  }
  const facts = readCertificate(certPem, `${file}.crt`);
  if (!facts.isCa) throw new PkiError(`${file}.crt is not a CA certificate (basicConstraints CA:FALSE); place the ${row.name} CA there`);
  if (facts.notAfter.getTime() <= now.getTime()) {
    throw new PkiError(`${file}.crt expired on ${facts.notAfter.toISOString()}; kbuild never replaces a CA: rotate it by hand (see docs/pki.md)`);
  }
  if (keyPem === undefined) return { mode: 'external', certPem };
  if (!keyMatches(certPem, keyPem)) throw new PkiError(`${file}.key does not belong to ${file}.crt; put the matching key there (kbuild never replaces a CA)`);
  return { mode: 'reuse', certPem, key: await importPrivateKeyPem(keyPem, `${file}.key`) };
}
