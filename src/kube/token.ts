/**
 * Bootstrap tokens as kubeadm stores them: Secret kube-system/bootstrap-token-<id>, type
 * bootstrap.kubernetes.io/token, keys token-id, token-secret, description (if any), expiration
 * (RFC 3339 UTC, if the token expires), usage-bootstrap-<usage>: "true", auth-extra-groups.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { UsageError } from '../errors/index.js';
import { randomInt } from 'node:crypto';
import { BOOTSTRAP_TOKEN_PATTERN } from '../kubeadm/constants.js';
import { shortHumanDuration } from '../util/duration.js';

export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const DEFAULT_TOKEN_USAGES = ['signing', 'authentication'] as const;
export const DEFAULT_TOKEN_GROUPS = ['system:bootstrappers:kubeadm:default-node-token'] as const;
/** The token that owns kubeadm-certs, so the Secret is garbage-collected with it. */
export const CERTS_TOKEN_TTL_MS = 2 * 3600_000;
export const CERTS_TOKEN_DESCRIPTION = 'Proxy for managing TTL for the kubeadm-certs secret';

export interface BootstrapToken {
  id: string;
  secret: string;
  description?: string;
  /** Undefined: never expires. */
  expires?: Date;
  usages: string[];
  groups: string[];
}

/** Uniform index in [0, n): node:crypto.randomInt by default, injectable for tests. */
export type RandomInt = (n: number) => number;

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const pick = (alphabet: string, length: number, random: RandomInt): string => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');

/** A new `<id>.<secret>`. */
export const newTokenString = (random: RandomInt = randomInt): string => `${pick(TOKEN_ALPHABET, 6, random)}.${pick(TOKEN_ALPHABET, 16, random)}`;

/** A token's id and secret, or undefined when `text` is not one. */
export function splitToken(text: string): { id: string; secret: string } | undefined {
  const match = BOOTSTRAP_TOKEN_PATTERN.exec(text.trim());
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** A token given on the command line (`flag` names where). */
export function parseToken(text: string, flag = '--token'): { id: string; secret: string } {
  const token = splitToken(text);
  if (!token) throw new UsageError(`${flag}: "${text}" is not a bootstrap token; the format is [a-z0-9]{6}.[a-z0-9]{16}, e.g. abcdef.0123456789abcdef`);
  return token;
}

export const tokenSecretName = (id: string): string => `bootstrap-token-${id}`;

/** RFC 3339 in UTC without fractions, as Go's time.RFC3339 on a UTC time. */
export const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function tokenSecret(token: BootstrapToken): V1Secret {
  const data: Record<string, string> = { 'token-id': token.id, 'token-secret': token.secret };
  if (token.description) data.description = token.description;
  if (token.expires) data.expiration = rfc3339(token.expires);
  for (const usage of token.usages) data[`usage-bootstrap-${usage}`] = 'true';
  if (token.groups.length > 0) data['auth-extra-groups'] = token.groups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: tokenSecretName(token.id), namespace: 'kube-system' },
    type: TOKEN_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

/** Reads a token Secret back; undefined for Secrets that are not bootstrap tokens. */
export function tokenFromSecret(secret: V1Secret): BootstrapToken | undefined {
  if (secret.type !== TOKEN_SECRET_TYPE) return undefined;
  const get = (key: string) => (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString('utf8'));
  const id = get('token-id');
  const value = get('token-secret');
  if (!id || !value) return undefined;
  const expiration = get('expiration');
  const usages = Object.keys(secret.data ?? {})
    .filter((k) => k.startsWith('usage-bootstrap-') && get(k) === 'true')
    .map((k) => k.slice('usage-bootstrap-'.length))
    .sort();
  const groups = get('auth-extra-groups');
  return {
    id,
    secret: value,
    description: get('description'),
    expires: expiration === undefined ? undefined : new Date(expiration),
    usages,
    groups: groups ? groups.split(',') : [],
  };
}

/** `kubeadm token list`'s table: TOKEN, TTL, EXPIRES, USAGES, DESCRIPTION, EXTRA GROUPS (tab-aligned). */
export function tokenTable(tokens: readonly BootstrapToken[], now: Date): string {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const t of tokens) {
    rows.push([
      `${t.id}.${t.secret}`,
      t.expires ? shortHumanDuration((t.expires.getTime() - now.getTime()) / 1000) : '<forever>',
      t.expires ? rfc3339(t.expires) : '<never>',
      t.usages.length > 0 ? t.usages.join(',') : '<none>',
      t.description || '<none>',
      t.groups.length > 0 ? t.groups.join(',') : '<none>',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}

/** Parses a Go-style duration as `--ttl` takes it: 24h, 90m, 1h30m, 0 (never expires). */
export function parseTtl(text: string): number {
  if (text === '0') return 0;
  const pattern = /(\d+(?:\.\d+)?)(h|m|s)/g;
  const units: Record<string, number> = { h: 3600_000, m: 60_000, s: 1000 };
  let total = 0;
  let consumed = '';
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0];
  }
  if (consumed !== text || consumed === '') throw new UsageError(`--ttl: "${text}" is not a duration; use e.g. 24h, 90m, 1h30m, or 0 for a token that never expires`);
  return total;
}

/** The `kbuild join` command for the API server at `server` (a URL or host:port); with a certificate key, the control-plane form. */
export function joinCommand(server: string, token: string, caCertHash: string, certificateKey?: string): string {
  const worker = `kbuild join ${server.replace(/^https:\/\//, '')} --token ${token} --discovery-token-ca-cert-hash ${caCertHash}`;
  return certificateKey === undefined ? worker : `${worker} --control-plane --certificate-key ${certificateKey}`;
}
