/**
 * What the SSH connections of one run share, kept on the run rather than in module state: each
 * known_hosts file (one object per path, so verifications of the same file are serialised and
 * parallel connects never append a key twice) and each identity file, read and decrypted once
 * however many hosts use it.
 */
import { KnownHostsFile } from './known-hosts-file.js';
import { loadPrivateKey, type KeySources, type LoadedKey } from './private-key.js';

export class SshSession {
  private readonly knownHostsFiles = new Map<string, KnownHostsFile>();
  private readonly keys = new Map<string, Promise<LoadedKey>>();

  constructor(private readonly keySources: KeySources = {}) {}

  knownHosts(path: string): KnownHostsFile {
    let file = this.knownHostsFiles.get(path);
    if (!file) this.knownHostsFiles.set(path, (file = new KnownHostsFile(path)));
    return file;
  }

  /** The identity file's key; a failure is not kept, so a later connect may ask again. */
  privateKey(path: string, host: string): Promise<LoadedKey> {
    let loaded = this.keys.get(path);
    if (!loaded) {
      loaded = loadPrivateKey(path, host, this.keySources);
      this.keys.set(path, loaded);
      loaded.catch(() => this.keys.delete(path));
    }
    return loaded;
  }
}
