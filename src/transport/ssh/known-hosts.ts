/**
 * OpenSSH known_hosts: parsing, host matching and the per-key-type check, following OpenSSH's
 * hostfile.c/sshconnect.c. Pure functions; file access lives in known-hosts-file.ts.
 *
 * Matching rules (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * - the looked-up name is `host` on port 22 and `[host]:port` otherwise;
 * - a host field is either one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`
 *   or a comma list of patterns with `*`/`?` wildcards; a matching `!pattern` excludes the line;
 * - names compare case-insensitively;
 * - keys are checked per type: a host known only by an ed25519 key that presents an RSA key is
 *   "new" (OpenSSH's HOST_NEW, "keys of different type are already known"), not "changed"; but a
 *   known host negotiates only its recorded types (hostKeyAlgorithms) and KnownHostsFile never
 *   records a new type for it, so a man in the middle offering only RSA cannot swap the key;
 * - `@revoked` wins under every name a lookup tries (the port-qualified one and the bare fallback).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type Marker = 'revoked' | 'cert-authority';

export interface KnownHostsEntry {
  /** 1-based line in the file. */
  line: number;
  marker?: Marker;
  /** The host field as written (patterns or one hashed name). */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: Marker | undefined;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'revoked' && name !== 'cert-authority') return; // OpenSSH skips unknown markers.
      marker = name;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    const key = Buffer.from(keyBase64, 'base64');
    // A line whose key does not decode to its declared type is skipped, as OpenSSH does.
    if (key.length === 0 || keyTypeOf(key) !== keyType) return;
    entries.push({ line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** Whether a known_hosts host field covers `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  const lower = name.toLowerCase();
  if (field.startsWith('|1|')) return hashedNameMatches(field, lower);
  let matched = false;
  for (const item of field.split(',')) {
    const negated = item.startsWith('!');
    const pattern = (negated ? item.slice(1) : item).toLowerCase();
    if (!wildcardMatch(pattern, lower)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedNameMatches(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4) return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const expected = Buffer.from(parts[3]!, 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH match_pattern: `*` any run, `?` one character, everything else literal. */
function wildcardMatch(pattern: string, text: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(text);
}

/** `|1|salt|hash`, the form `ssh-keygen -H` and `HashKnownHosts yes` write. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

export function formatEntry(hostField: string, key: Buffer): string {
  return `${hostField} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  if (length > key.length - 4 || length > 64) return '';
  return key.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's default fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyStatus =
  | { status: 'known'; entry: KnownHostsEntry }
  | { status: 'revoked'; entry: KnownHostsEntry }
  /** Same type, different key: never accepted. `entry` is the first conflicting line. */
  | { status: 'changed'; entry: KnownHostsEntry }
  /** No entry of this type. `otherTypes` lists entries of other types for the host. */
  | { status: 'unknown'; otherTypes: KnownHostsEntry[]; certAuthorities: KnownHostsEntry[] };

/**
 * Checks a presented key against the entries for `name`. Precedence as in OpenSSH:
 * revoked, then a matching key, then a same-type mismatch ("changed"), else unknown.
 * `fallbackName` is the bare host for non-22 ports: OpenSSH accepts a key recorded without the
 * port, but only when it matches (a mismatch there is not "changed").
 */
export function checkHostKey(entries: readonly KnownHostsEntry[], name: string, key: Buffer, fallbackName?: string): HostKeyStatus {
  const forName = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const type = keyTypeOf(key);
  const names = fallbackName === undefined ? [name] : [name, fallbackName];
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key) && names.some((n) => hostFieldMatches(e.hosts, n)));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forName.filter((e) => e.marker === undefined);
  const sameType = plain.filter((e) => e.keyType === type);
  const match = sameType.find((e) => e.key.equals(key));
  if (match) return { status: 'known', entry: match };
  if (sameType[0]) return { status: 'changed', entry: sameType[0] };
  if (fallbackName !== undefined) {
    const bare = entries.find((e) => e.marker === undefined && e.key.equals(key) && hostFieldMatches(e.hosts, fallbackName));
    if (bare) return { status: 'known', entry: bare };
  }
  return {
    status: 'unknown',
    otherTypes: plain.filter((e) => e.keyType !== type),
    certAuthorities: forName.filter((e) => e.marker === 'cert-authority'),
  };
}

/**
 * ssh2's host key algorithms, in its order (ssh2 does not export the list). `ssh-rsa` signs with
 * SHA-1: it is offered only for a host whose RSA key is recorded, after the SHA-2 variants, so it is
 * chosen only when the host has nothing better.
 */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host key algorithms in ssh2's names for a known_hosts key type. */
export function algorithmsForKeyType(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/**
 * What to offer a host: with keys recorded for it, only their types (as OpenSSH orders its
 * algorithms by known_hosts; an attacker offering another type then fails the handshake instead of
 * reaching trust on first use); without, every modern algorithm but SHA-1 `ssh-rsa`.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const allowed = new Set(knownTypes.flatMap(algorithmsForKeyType));
  const recorded = HOST_KEY_ALGORITHMS.filter((a) => allowed.has(a));
  return recorded.length > 0 ? recorded : HOST_KEY_ALGORITHMS.filter((a) => a !== 'ssh-rsa');
}
