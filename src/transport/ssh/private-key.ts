/**
 * Private key files for SSH authentication (OpenSSH and PEM formats, as ssh2 parses them).
 * Encrypted keys take their passphrase from KBUILD_SSH_PASSPHRASE or, on a terminal, a prompt.
 * A run reads and decrypts each file once (SshSession).
 */
import { readFile, stat } from 'node:fs/promises';
import { ConnectionError } from '../../errors/index.js';

export const PASSPHRASE_ENV = 'KBUILD_SSH_PASSPHRASE';

/** Asks for a passphrase; undefined when no one can be asked (not a terminal). */
export type PassphrasePrompt = (question: string) => Promise<string | undefined>;

export interface KeySources {
  env?: NodeJS.ProcessEnv;
  prompt?: PassphrasePrompt;
  /** Hears what is wrong but not fatal about an identity file (readable by others). */
  warn?: (message: string) => void;
}

export interface LoadedKey {
  privateKey: Buffer;
  passphrase?: string;
}

/** Loads and checks a key; a missing/wrong passphrase or unreadable file is a ConnectionError for `host`. */
export async function loadPrivateKey(path: string, host: string, sources: KeySources = {}): Promise<LoadedKey> {
  let privateKey: Buffer;
  try {
    privateKey = await readFile(path);
    // OpenSSH refuses such a key ("UNPROTECTED PRIVATE KEY FILE"); kbuild says so and goes on.
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      sources.warn?.(`SSH identity file ${path} is readable by others (mode 0${mode.toString(8)}): whoever reads it logs in to the cluster's hosts. chmod 600 ${path}`);
    }
  } catch (error) {
    throw new ConnectionError(host, `cannot read SSH identity file ${path}: ${(error as Error).message}. Fix ssh.identityFile in the cluster file.`, {
      cause: error,
    });
  }
  // ssh2 is loaded on first use: commands that never connect should not pay for it.
  const { default: ssh2 } = await import('ssh2');
  const plain = ssh2.utils.parseKey(privateKey);
  if (!(plain instanceof Error)) return { privateKey };
  if (!/passphrase/i.test(plain.message)) {
    throw new ConnectionError(host, `SSH identity file ${path} is not a private key ssh2 can read (${plain.message}). Use an OpenSSH or PEM private key.`);
  }
  const env = sources.env ?? process.env;
  const fromEnv = env[PASSPHRASE_ENV];
  const passphrase = fromEnv !== undefined && fromEnv !== '' ? fromEnv : await sources.prompt?.(`Passphrase for ${path}: `);
  if (passphrase === undefined || passphrase === '') {
    throw new ConnectionError(
      host,
      `SSH identity file ${path} is encrypted and no passphrase was given. Set ${PASSPHRASE_ENV}, run kbuild on a terminal to be asked, or load the key into ssh-agent and drop ssh.identityFile.`,
    );
  }
  const decrypted = ssh2.utils.parseKey(privateKey, passphrase);
  if (decrypted instanceof Error) {
    const source = fromEnv ? `the passphrase in ${PASSPHRASE_ENV}` : 'the passphrase entered';
    throw new ConnectionError(host, `cannot decrypt SSH identity file ${path} with ${source}: it is wrong.`);
  }
  return { privateKey, passphrase };
}
