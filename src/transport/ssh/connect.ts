/**
 * The connection factory: a cluster file host → a ready Transport. Host keys are verified for the
 * bastion and the target alike; transient failures are retried with exponential backoff up to a
 * bound, authentication and host key failures never.
 */
import type { Client } from 'ssh2';
import type { Host } from '../../config/model.js';
import { ConnectionError } from '../../errors/index.js';
import { readOnlyTransport } from '../dry-run.js';
import { SshSession } from './session.js';
import type { KeySources, PassphrasePrompt } from './private-key.js';
import { forwardThrough, openClient, TransientConnectionError, type ClientOptions, type SshEndpoint } from './client.js';
import { ReconnectingTransport, withoutHost } from '../reconnecting.js';
import { SshTransport } from './ssh.js';
import type { Transport } from '../transport.js';

export interface ConnectOptions {
  /** `--accept-new-host-keys`: record unknown host keys (trust on first use). Changed keys are refused regardless. */
  acceptNewHostKeys: boolean;
  /** Refuse every write and non-read-only command (the dry-run connection). */
  readOnly?: boolean;
  /** Per attempt: TCP connect + SSH handshake + authentication (default: the host's `connectTimeout`). */
  connectTimeoutMs?: number;
  /** Attempts in all, for transient failures (refused, unreachable, timeout). */
  attempts?: number;
  /** Delay before the second attempt; doubles after each. */
  backoffMs?: number;
  /** Default: the host's `serverAliveInterval`. */
  keepaliveIntervalMs?: number;
  /** ssh-agent socket when a host has no identityFile; defaults to SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** Shared by the connections of one run (known_hosts files, decrypted keys); without it, a session of its own with `keySources`. */
  session?: SshSession;
  /** Where an encrypted key's passphrase comes from: KBUILD_SSH_PASSPHRASE, else the command's prompt (none: no prompt). */
  keySources?: KeySources;
  onHostKeyRecorded?: ClientOptions['onHostKeyRecorded'];
  /** Injected for tests of the backoff. */
  sleep?: (ms: number) => Promise<void>;
}

export const CONNECT_DEFAULTS = { attempts: 4, backoffMs: 500 } as const;

export async function connect(host: Host, options: ConnectOptions): Promise<Transport> {
  const attempts = Math.max(1, options.attempts ?? CONNECT_DEFAULTS.attempts);
  const backoffMs = options.backoffMs ?? CONNECT_DEFAULTS.backoffMs;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ssh = host.ssh;
  const route = `${ssh.user}@${ssh.address}:${ssh.port}${ssh.bastion ? ` via bastion ${ssh.bastion.user}@${ssh.bastion.address}:${ssh.bastion.port}` : ''}`;
  const session = options.session ?? new SshSession(options.keySources);
  let last: TransientConnectionError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2));
    try {
      const transport = await connectOnce(host, options, session);
      return options.readOnly ? readOnlyTransport(transport) : transport;
    } catch (error) {
      if (!(error instanceof TransientConnectionError)) throw error;
      last = error;
    }
  }
  throw new ConnectionError(
    host.name,
    `cannot connect to ${route} after ${attempts} attempt${attempts === 1 ? '' : 's'}; last error: ${last?.message ?? 'unknown'}. ` +
      `Check that the host is up, sshd listens on port ${ssh.port} and the address in the cluster file is right.`,
    { cause: last },
  );
}

async function connectOnce(host: Host, options: ConnectOptions, session: SshSession): Promise<SshTransport> {
  const ssh = host.ssh;
  const clientOptions: ClientOptions = {
    session,
    knownHostsFile: ssh.knownHostsFile,
    acceptNewHostKeys: options.acceptNewHostKeys,
    connectTimeoutMs: options.connectTimeoutMs ?? ssh.connectTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? ssh.serverAliveIntervalMs,
    agentSocket: options.agentSocket ?? process.env.SSH_AUTH_SOCK,
    onHostKeyRecorded: options.onHostKeyRecorded,
  };
  const target: SshEndpoint = { label: host.name, address: ssh.address, port: ssh.port, user: ssh.user, identityFile: ssh.identityFile };
  let bastion: Client | undefined;
  try {
    let sock;
    if (ssh.bastion) {
      const bastionLabel = `${host.name} (bastion ${ssh.bastion.address})`;
      bastion = await openClient({ label: bastionLabel, ...ssh.bastion }, clientOptions);
      sock = await forwardThrough(bastion, bastionLabel, ssh.address, ssh.port);
    }
    const client = await openClient(target, clientOptions, sock);
    const transport = new SshTransport(client, { name: host.name, user: ssh.user, sudo: ssh.sudo, bastion });
    try {
      await transport.checkSudo();
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  } catch (error) {
    bastion?.end();
    throw error;
  }
}

/**
 * Reconnecting after a drop mid-run: two attempts a second apart (an sshd restart or a reset session
 * is back by then), at most 10 s each, so a host that stays unreachable fails within ~21 s more.
 */
const RECONNECT = { attempts: 2, backoffMs: 1000, maxConnectTimeoutMs: 10_000 } as const;

/**
 * connect(), wrapped so that a connection dropped mid-run is re-opened (host key verified again)
 * and safe operations are repeated; see reconnecting.ts. `onReconnect` hears each reconnect.
 */
export async function connectResilient(host: Host, options: ConnectOptions, onReconnect?: (cause: string) => void): Promise<Transport> {
  const session = options.session ?? new SshSession(options.keySources);
  const first = await connect(host, { ...options, session });
  return new ReconnectingTransport(first, {
    reconnect: () => connect(host, { ...options, session, attempts: RECONNECT.attempts, backoffMs: RECONNECT.backoffMs, connectTimeoutMs: Math.min(RECONNECT.maxConnectTimeoutMs, options.connectTimeoutMs ?? host.ssh.connectTimeoutMs) }),
    onReconnect: (cause) => onReconnect?.(withoutHost(host.name, cause)),
  });
}

export interface FleetConnectOptions {
  acceptNewHostKeys: boolean;
  readOnly?: boolean;
  /** Asks for an encrypted identity's passphrase (the command's terminal). */
  passphrase?: PassphrasePrompt;
  /** Hears each reconnect after a drop, with what was lost. */
  onReconnect?: (host: Host, cause: string) => void;
  /** Hears a warning about an identity file (readable by others), once per file. */
  onKeyWarning?: (message: string) => void;
}

/** How one run connects to its hosts: connectResilient for each, sharing one SshSession. */
export function sshConnector(options: FleetConnectOptions): (host: Host) => Promise<Transport> {
  const session = new SshSession({ prompt: options.passphrase, warn: options.onKeyWarning });
  return (host) => connectResilient(host, { acceptNewHostKeys: options.acceptNewHostKeys, readOnly: options.readOnly, session }, options.onReconnect && ((cause) => options.onReconnect!(host, cause)));
}
