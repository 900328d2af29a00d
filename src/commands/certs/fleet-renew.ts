/** `kbuild certs renew <names> -i FILE`: renew in the state directory, then roll out host by host. */
import { prepareCluster } from '../../state/prepare.js';
import { reporterFor } from '../../report/choose.js';
import type { Io } from '../../report/output.js';
import { terminalSecretPrompt } from '../../report/prompts.js';
import { openFleet } from '../../operations/certs/fleet.js';
import { renewalHosts, rollOutRenewal } from '../../operations/certs/renew-fleet.js';
import { describeAction } from './generate.js';

export interface FleetRenewArgs {
  names: string[];
  inventory: string;
  stateDir?: string;
  acceptNewHostKeys: boolean;
  format: 'text' | 'json';
}

export async function fleetRenew(io: Io, args: FleetRenewArgs): Promise<void> {
  const reporter = await reporterFor(io, args.format);
  const prepared = await prepareCluster({ inventory: args.inventory, stateDir: args.stateDir, pki: { renew: args.names } });
  const { cluster, pki, rendered } = prepared;
  for (const action of pki.actions.filter((a) => a.outcome === 're-issued')) reporter.event({ type: 'info', message: `state dir: ${describeAction(action)}` });
  const connections = await openFleet(renewalHosts(cluster), { acceptNewHostKeys: args.acceptNewHostKeys, passphrase: terminalSecretPrompt(io.streams) });
  try {
    const result = await rollOutRenewal(cluster, pki.actions, rendered.hosts, { transport: (h) => connections.get(h), reporter });
    const restarted = result.records.filter((r) => r.restarted).map((r) => `${r.pod}@${r.host}`);
    reporter.event({
      type: 'info',
      message:
        result.steps.length === 0
          ? 'Nothing was renewed.'
          : `Renewed and rolled out on ${new Set(result.records.map((r) => r.host)).size} hosts; restarted ${restarted.join(', ') || 'nothing'}; old files in ${result.backupDir} on each host`,
    });
    if (pki.actions.some((a) => a.outcome === 're-issued' && (a.name === 'admin.conf' || a.name === 'super-admin.conf'))) {
      reporter.event({ type: 'info', message: `Copy the renewed admin.conf (${prepared.state.path('hosts')}/<host>/admin.conf) to wherever you keep it (e.g. ~/.kube/config).` });
    }
  } finally {
    await reporter.close();
    await connections.closeAll();
  }
}
