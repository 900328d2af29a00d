/**
 * Golden-file normalisation: what differs between runs (keys, certificates, serials, dates, tokens,
 * keepalived secrets) becomes a readable placeholder; everything else stays byte for byte.
 */
import { X509Certificate } from 'node:crypto';
import type { RenderSecrets } from '../../../src/render/context.js';

const PEM = /-----BEGIN ([A-Z ]+)-----\n[\s\S]*?-----END \1-----\n?/g;

function pemPlaceholder(block: string, label: string): string {
  if (label !== 'CERTIFICATE') return `<${label}>\n`;
  const cert = new X509Certificate(block);
  const cn = (dn: string) => /CN=([^\n]*)/.exec(dn)?.[1] ?? '?';
  const org = /O=([^\n]*)/.exec(cert.subject)?.[1];
  return `<CERTIFICATE cn=${cn(cert.subject)}${org ? ` o=${org}` : ''} issuer=${cn(cert.issuer)}${cert.subjectAltName ? ` san=${cert.subjectAltName}` : ''}>\n`;
}

const normalisePem = (text: string): string => text.replace(PEM, (block, label: string) => pemPlaceholder(block, label));

/** Replaces each known secret, in clear and base64, by its name. */
function secretReplacements(secrets: RenderSecrets): Array<[string, string]> {
  const [id, secret] = secrets.bootstrapToken.split('.') as [string, string];
  const clear: Array<[string, string]> = [
    [secrets.bootstrapToken, '<BOOTSTRAP-TOKEN>'],
    [secrets.bootstrapTokenExpires, '<TOKEN-EXPIRES>'],
    [`bootstrap-token-${id}`, 'bootstrap-token-<TOKEN-ID>'],
    [`auth_pass ${secrets.keepalived.authPass}`, 'auth_pass <AUTH-PASS>'],
    [`virtual_router_id ${secrets.keepalived.routerId}`, 'virtual_router_id <ROUTER-ID>'],
  ];
  const encoded: Array<[string, string]> = [
    [id, '<TOKEN-ID>'],
    [secret, '<TOKEN-SECRET>'],
    [secrets.bootstrapTokenExpires, '<TOKEN-EXPIRES>'],
  ].map(([value, name]) => [Buffer.from(value!).toString('base64'), `<base64 ${name}>`]);
  return [...clear, ...encoded];
}

/** Long base64 values (kubeconfig *-data): decoded, normalised, shown as <base64 ...>. */
function normaliseBase64(text: string): string {
  return text.replace(/([:=]\s*)([A-Za-z0-9+/]{40,}={0,2})$/gm, (whole, prefix: string, value: string) => {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    if (!decoded.includes('-----BEGIN ')) return whole;
    return `${prefix}<base64 ${normalisePem(decoded).trim().replace(/\n/g, ' ')}>`;
  });
}

/**
 * Inside JSON-escaped strings (recorded API requests) a kubeconfig's CA data is not at a line end, and
 * cluster-info carries a JWS keyed by the token id: both change with every run.
 */
function normaliseEmbedded(text: string): string {
  return text
    .replace(/jws-kubeconfig-[a-z0-9]{6}/g, 'jws-kubeconfig-<TOKEN-ID>')
    .replace(/eyJ[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+/g, '<JWS>')
    .replace(/(certificate-authority-data: )([A-Za-z0-9+/]{40,}={0,2})/g, (whole, prefix: string, value: string) => {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return decoded.includes('-----BEGIN ') ? `${prefix}<base64 ${normalisePem(decoded).trim().replace(/\n/g, ' ')}>` : whole;
    });
}

export function normalise(content: string | Buffer, secrets: RenderSecrets): string {
  let text = String(content);
  for (const [value, placeholder] of secretReplacements(secrets)) text = text.split(value).join(placeholder);
  return normaliseEmbedded(normaliseBase64(normalisePem(text)));
}
