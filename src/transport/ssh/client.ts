/**
 * One authenticated ssh2 connection with verified host key, optionally over a stream opened
 * through a bastion. Errors are classified so the caller retries only what can heal by itself.
 */
import type { Duplex } from 'node:stream';
import type { Client as ClientType, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { ConnectionError, HostKeyError } from '../../errors/index.js';
import { fingerprint, hostKeyAlgorithms, keyTypeOf } from './known-hosts.js';
import type { SshSession } from './session.js';

export interface SshEndpoint {
  /** Name in messages: the host's name, or e.g. `cp1 (bastion 10.0.0.1)`. */
  label: string;
  address: string;
  port: number;
  user: string;
  identityFile?: string;
}

export interface ClientOptions {
  session: SshSession;
  knownHostsFile: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** ssh-agent socket, used when the endpoint has no identityFile. */
  agentSocket?: string;
  /** Told when a new host key was recorded (trust on first use). */
  onHostKeyRecorded?: (label: string, keyType: string, fingerprint: string) => void;
}

/** A failure worth retrying: refused, unreachable, timed out, reset. */
export class TransientConnectionError extends ConnectionError {}

export async function openClient(endpoint: SshEndpoint, options: ClientOptions, sock?: Duplex): Promise<ClientType> {
  const auth = await authConfig(endpoint, options);
  const knownHosts = options.session.knownHosts(options.knownHostsFile);
  const recorded = await knownHosts.recorded(endpoint.address, endpoint.port);
  const knownTypes = [...new Set(recorded.map((e) => e.keyType))];
  const where = `${endpoint.user}@${endpoint.address}:${endpoint.port}`;
  // Loaded on first use: commands that never connect should not pay for ssh2.
  const { default: ssh2 } = await import('ssh2');
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyFailure: unknown;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    client.on('ready', () => {
      settled = true;
      resolve(client);
    });
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (hostKeyFailure !== undefined) return fail(hostKeyFailure);
      if (recorded.length > 0 && /no matching host key format/.test(error.message)) return fail(knownHosts.noRecordedTypeError(endpoint, recorded));
      if (error.level === 'client-authentication') {
        const how = endpoint.identityFile ? `the key ${endpoint.identityFile}` : `the keys in ssh-agent (${options.agentSocket})`;
        return fail(new ConnectionError(endpoint.label, `${where} refused ${how}. Check ssh.user and ssh.identityFile, and that the public key is in the user's authorized_keys.`));
      }
      if (error.level === 'client-timeout') {
        return fail(new TransientConnectionError(endpoint.label, `${where}: no SSH handshake within ${options.connectTimeoutMs} ms`, { cause: error }));
      }
      const transient = error.level === 'client-socket' || /ECONNRESET|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE/.test(`${error.code} ${error.message}`);
      const Kind = transient ? TransientConnectionError : ConnectionError;
      fail(new Kind(endpoint.label, `${where}: ${error.message}`, { cause: error }));
    });
    client.on('close', () => fail(new TransientConnectionError(endpoint.label, `${where}: connection closed during the SSH handshake`)));
    const config: ConnectConfig = {
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) as ServerHostKeyAlgorithm[] },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        knownHosts.verify(endpoint, key, options.acceptNewHostKeys).then(
          (outcome) => {
            if (outcome === 'recorded') options.onHostKeyRecorded?.(endpoint.label, keyTypeOf(key), fingerprint(key));
            verify(true);
          },
          (error: unknown) => {
            hostKeyFailure = error instanceof HostKeyError ? error : new HostKeyError(endpoint.label, `cannot check the host key: ${String(error)}`);
            verify(false);
          },
        );
      },
      ...auth,
      ...(sock ? { sock } : {}),
    };
    client.connect(config);
  });
}

async function authConfig(endpoint: SshEndpoint, options: ClientOptions): Promise<Partial<ConnectConfig>> {
  if (endpoint.identityFile) {
    const key = await options.session.privateKey(endpoint.identityFile, endpoint.label);
    return { privateKey: key.privateKey, ...(key.passphrase ? { passphrase: key.passphrase } : {}) };
  }
  if (options.agentSocket) return { agent: options.agentSocket };
  throw new ConnectionError(
    endpoint.label,
    `no way to authenticate as ${endpoint.user}: set ssh.identityFile in the cluster file, or start ssh-agent with the key loaded (SSH_AUTH_SOCK is not set).`,
  );
}

/** A TCP stream from the bastion to the target, for the target's own SSH session. */
export function forwardThrough(bastion: ClientType, bastionLabel: string, address: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    bastion.forwardOut('127.0.0.1', 0, address, port, (error, stream) => {
      if (error) {
        reject(new TransientConnectionError(bastionLabel, `could not open a connection to ${address}:${port} through the bastion: ${error.message}`, { cause: error }));
      } else resolve(stream);
    });
  });
}
