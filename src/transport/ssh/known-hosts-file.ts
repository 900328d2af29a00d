/**
 * Host key verification against one known_hosts file, with trust on first use behind an explicit
 * flag. New keys are appended hashed (`|1|salt|hash`, as `HashKnownHosts yes` / `ssh-keygen -H`
 * write them), so the file does not list the cluster's addresses; `ssh-keygen -F host` finds them.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostKeyError } from '../../errors/index.js';
import { checkHostKey, fingerprint, hostFieldMatches, formatEntry, hashHostName, keyTypeOf, lookupName, parseKnownHosts, type KnownHostsEntry } from './known-hosts.js';

export const ACCEPT_NEW_HOST_KEYS_FLAG = '--accept-new-host-keys';

export interface HostKeyTarget {
  /** The host's name in messages (e.g. `cp1` or `cp1 (bastion)`). */
  label: string;
  address: string;
  port: number;
}

/** One known_hosts file. Verifications through one object are serialised, so parallel connects never append twice (SshSession shares the object per path). */
export class KnownHostsFile {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async entries(): Promise<KnownHostsEntry[]> {
    try {
      return parseKnownHosts(await readFile(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Plain keys recorded for a host's lookup name, to negotiate only their types. */
  async recorded(address: string, port: number): Promise<KnownHostsEntry[]> {
    const name = lookupName(address, port);
    return (await this.entries()).filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  }

  /** The handshake found no algorithm in common with a host offered only its recorded types. */
  noRecordedTypeError(target: HostKeyTarget, recorded: readonly KnownHostsEntry[]): HostKeyError {
    const name = lookupName(target.address, target.port);
    const where = recorded.map((e) => `${e.keyType} at line ${e.line}`).join(', ');
    return new HostKeyError(
      target.label,
      `host key for ${name} is not known: the host offers none of the key types ${this.path} records for it (${where}), and kbuild negotiates only those ` +
        `(as OpenSSH does), with or without ${ACCEPT_NEW_HOST_KEYS_FLAG}: a key of a new type could be someone in the path. If the host really changed ` +
        `its keys, compare its fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host), remove the old entries ` +
        `(ssh-keygen -R '${name}' -f ${this.path}) and run again with ${ACCEPT_NEW_HOST_KEYS_FLAG}.`,
    );
  }

  /**
   * Resolves when the key is known (or newly recorded with acceptNew); throws HostKeyError
   * otherwise. A changed or revoked key is refused whatever acceptNew says.
   */
  verify(target: HostKeyTarget, key: Buffer, acceptNew: boolean): Promise<'known' | 'recorded'> {
    return this.serialised(async () => {
      const name = lookupName(target.address, target.port);
      const fallback = target.port === 22 ? undefined : target.address;
      const result = checkHostKey(await this.entries(), name, key, fallback);
      const type = keyTypeOf(key);
      const print = fingerprint(key);
      switch (result.status) {
        case 'known':
          return 'known';
        case 'revoked':
          throw new HostKeyError(
            target.label,
            `the ${type} host key ${print} presented by ${name} is marked @revoked in ${this.path}:${result.entry.line}; refusing to connect.`,
          );
        case 'changed':
          throw new HostKeyError(
            target.label,
            `HOST KEY CHANGED for ${name}: it presents ${type} ${print}, but ${this.path}:${result.entry.line} ` +
              `records a different ${result.entry.keyType} key (${fingerprint(result.entry.key)}). This can be a ` +
              `man-in-the-middle attack or a reinstalled host; kbuild refuses to connect, with or without ${ACCEPT_NEW_HOST_KEYS_FLAG}. ` +
              `If the change is expected, remove the old entry (ssh-keygen -R '${name}' -f ${this.path}) and run again with ${ACCEPT_NEW_HOST_KEYS_FLAG}.`,
          );
        case 'unknown': {
          if (!acceptNew) throw new HostKeyError(target.label, unknownMessage(this.path, name, type, print, result.otherTypes, result.certAuthorities));
          // A new key type is not a new host: the flag is for first contact only.
          if (result.otherTypes.length > 0) throw new HostKeyError(target.label, newTypeMessage(this.path, name, type, print, result.otherTypes));
          await this.append(name, key);
          return 'recorded';
        }
      }
    });
  }

  private async append(name: string, key: Buffer): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    let prefix = '';
    try {
      const current = await readFile(this.path, 'utf8');
      if (current.length > 0 && !current.endsWith('\n')) prefix = '\n';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // One O_APPEND write per line: concurrent ssh clients appending too cannot interleave it.
    await appendFile(this.path, `${prefix}${formatEntry(hashHostName(name), key)}\n`, { mode: 0o600 });
  }
}

function unknownMessage(
  file: string,
  name: string,
  type: string,
  print: string,
  otherTypes: KnownHostsEntry[],
  certAuthorities: KnownHostsEntry[],
): string {
  const lines = [`host key for ${name} is not known: ${type} key ${print} is not in ${file}.`];
  if (otherTypes.length > 0) {
    const where = otherTypes.map((e) => `${e.keyType} at line ${e.line}`).join(', ');
    lines.push(`Keys of other types are recorded for this host (${where}); the host offered ${type} instead.`);
  }
  if (certAuthorities.length > 0) {
    lines.push(
      `${file}:${certAuthorities[0]!.line} has a @cert-authority line for this host, but kbuild does not verify host certificates; record the host's plain key instead.`,
    );
  }
  lines.push(
    `Compare the fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileStem(type)}_key.pub on the host), ` +
      `then run again with ${ACCEPT_NEW_HOST_KEYS_FLAG} to record it.`,
  );
  return lines.join(' ');
}

function newTypeMessage(file: string, name: string, type: string, print: string, otherTypes: KnownHostsEntry[]): string {
  const where = otherTypes.map((e) => `${e.keyType} at line ${e.line}`).join(', ');
  return (
    `${name} presents a ${type} host key ${print}, but ${file} records it by other key types (${where}): a known host's key of a new type is ` +
    `not recorded as a new key, with or without ${ACCEPT_NEW_HOST_KEYS_FLAG} (someone in the path offering only ${type} could replace the key that way). ` +
    `If the host really changed its keys, compare the fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileStem(type)}_key.pub on the host), ` +
    `remove the old entries (ssh-keygen -R '${name}' -f ${file}) and run again with ${ACCEPT_NEW_HOST_KEYS_FLAG}.`
  );
}

function hostKeyFileStem(type: string): string {
  if (type === 'ssh-ed25519') return 'ed25519';
  if (type === 'ssh-rsa') return 'rsa';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  return type;
}
