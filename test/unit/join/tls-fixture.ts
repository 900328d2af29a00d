/** A CA and a server certificate for 127.0.0.1 made with the real openssl, for local HTTPS test servers. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFixture {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

export function makeTlsFixture(cn = 'kubernetes'): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-tls-'));
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', `/CN=${cn}`);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=kube-apiserver');
    writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf'));
    const read = (name: string) => readFileSync(p(name), 'utf8');
    return { caCertPem: read('ca.crt'), caKeyPem: read('ca.key'), serverCertPem: read('server.crt'), serverKeyPem: read('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pin as the issue defines it: openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum. */
export function opensslCaHash(caCertPem: string): string {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: caCertPem });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const sum = execFileSync('sha256sum', { input: der }).toString().split(/\s+/)[0]!;
  return `sha256:${sum}`;
}
