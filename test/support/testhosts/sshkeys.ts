/** Host and client keys for test hosts, made by the real ssh-keygen. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './processes.js';

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';
export const HOST_KEY_TYPES: readonly HostKeyType[] = ['ed25519', 'ecdsa', 'rsa'];

export interface HostKey {
  type: HostKeyType;
  /** The SSH algorithm name as it appears in known_hosts, e.g. `ssh-ed25519`. */
  algorithm: string;
  /** The public key line body: `<algorithm> <base64>`. */
  publicKey: string;
  /** OpenSSH's `SHA256:<base64 without padding>` fingerprint. */
  fingerprint: string;
  privateKeyFile: string;
}

/** The SHA256 fingerprint OpenSSH prints for a public key line (`ssh-keygen -lf`). */
export function fingerprintOf(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key: ${publicKey.slice(0, 40)}`);
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Generates an unencrypted key pair with ssh-keygen; the private key file is 0600. */
export async function generateKey(file: string, type: HostKeyType, comment: string): Promise<string> {
  const size = type === 'rsa' ? ['-b', '2048'] : type === 'ecdsa' ? ['-b', '256'] : [];
  await run(['ssh-keygen', '-q', '-t', type, ...size, '-N', '', '-C', comment, '-f', file], { label: 'ssh-keygen' });
  const [algorithm = '', body = ''] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return `${algorithm} ${body}`;
}

export async function generateHostKeys(dir: string, hostName: string): Promise<HostKey[]> {
  return Promise.all(
    HOST_KEY_TYPES.map(async (type) => {
      const privateKeyFile = join(dir, `ssh_host_${type}_key`);
      const publicKey = await generateKey(privateKeyFile, type, `root@${hostName}`);
      return { type, algorithm: publicKey.split(' ')[0] ?? '', publicKey, fingerprint: fingerprintOf(publicKey), privateKeyFile };
    }),
  );
}

/** known_hosts lines for a host, one per key, the host known by address and name. */
export function knownHostsLines(address: string, name: string, keys: readonly HostKey[], port = 22): string[] {
  const who = port === 22 ? `${address},${name}` : `[${address}]:${port},[${name}]:${port}`;
  return keys.map((key) => `${who} ${key.publicKey}`);
}
