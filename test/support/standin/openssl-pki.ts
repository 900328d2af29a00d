/**
 * Small certificates for stand-in tests, made with the openssl CLI (P-256 keys: fast). Independent
 * of kbuild's PKI on purpose: the stand-in is proved without kbuild's render.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../testhosts.js';

export interface CertPair {
  cert: string;
  key: string;
}

export interface LeafRequest {
  cn: string;
  o?: string;
  /** `IP:10.0.0.1`, `DNS:localhost`, ... */
  sans?: readonly string[];
  usage: 'server' | 'client' | 'both';
}

const openssl = (args: readonly string[]) => run(['openssl', ...args], { timeoutMs: 30_000, label: 'openssl' });

export async function makeCa(dir: string, name: string, cn: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', '-keyout', pair.key, '-out', pair.cert]);
  return pair;
}

export async function makeLeaf(dir: string, name: string, ca: CertPair, request: LeafRequest): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const usages = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[request.usage];
  writeFileSync(ext, [`basicConstraints=CA:FALSE`, `keyUsage=critical,digitalSignature,keyEncipherment`, `extendedKeyUsage=${usages}`, ...(request.sans?.length ? [`subjectAltName=${request.sans.join(',')}`] : [])].join('\n'));
  const subject = `/CN=${request.cn}${request.o ? `/O=${request.o}` : ''}`;
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', pair.key, '-out', csr]);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', pair.cert]);
  return pair;
}
