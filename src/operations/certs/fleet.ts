/** How the fleet certs commands reach their hosts: over SSH, every host reached before anything is read or written. */
import type { Host } from '../../config/model.js';
import { connectFleet, type Connections } from '../../transport/fleet.js';
import { sshConnector } from '../../transport/ssh/connect.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import type { Transport } from '../../transport/transport.js';

export function openFleet(hosts: readonly Host[], options: { acceptNewHostKeys: boolean; passphrase?: PassphrasePrompt; connectHost?: (host: Host) => Promise<Transport> }): Promise<Connections> {
  return connectFleet(hosts, options.connectHost ?? sshConnector(options));
}
