/** `kbuild certs renew <names>`: on this machine, or with -i FILE in the state directory and then host by host. */
import type { Argv, CommandModule } from 'yargs';
import { PATHS } from '../../kubeadm/constants.js';
import { renewFleet, renewHere } from '../../operations/certs/renew.js';
import { RENEWABLE, selectRenewable } from '../../pki/renew.js';
import type { PodLoad } from '../../static-pods/pods.js';
import { reporterFor } from '../../report/choose.js';
import type { Io } from '../../report/output.js';
import { terminalSecretPrompt } from '../../report/prompts.js';
import { hostDirOptions, type HostDirArgs } from './options.js';

interface RenewArgs extends HostDirArgs {
  names: string[];
  'validity-days': number;
  inventory?: string;
  'state-dir'?: string;
  'accept-new-host-keys': boolean;
  format: 'text' | 'json';
}

const isAdminKubeconfig = (name: string) => name === 'admin.conf' || name === 'super-admin.conf';

async function fleet(io: Io, args: RenewArgs & { inventory: string }): Promise<void> {
  const reporter = await reporterFor(io, args.format);
  try {
    const { prepared, renewal } = await renewFleet({ inventory: args.inventory, stateDir: args['state-dir'], names: args.names, acceptNewHostKeys: args['accept-new-host-keys'], passphrase: terminalSecretPrompt(io.streams), reporter });
    const loaded = (how: PodLoad) => renewal.records.filter((r) => r.loaded === how).map((r) => `${r.pod}@${r.host}`);
    const [restarted, reloaded] = [loaded('restart'), loaded('handshake')];
    reporter.event({
      type: 'info',
      message:
        renewal.steps.length === 0
          ? 'Nothing was renewed.'
          : `Renewed and rolled out on ${new Set(renewal.records.map((r) => r.host)).size} hosts; restarted ${restarted.join(', ') || 'nothing'}${reloaded.length > 0 ? `; serving the new certificates without a restart: ${reloaded.join(', ')}` : ''}; old files in ${renewal.backupDir} on each host`,
    });
    if (prepared.pki.actions.some((a) => a.outcome === 're-issued' && isAdminKubeconfig(a.name))) {
      reporter.event({ type: 'info', message: `Copy the renewed admin.conf (${prepared.state.path('hosts')}/<host>/admin.conf) to wherever you keep it (e.g. ~/.kube/config).` });
    }
  } finally {
    await reporter.close();
  }
}

export const renewCommand = (io: Io): CommandModule<object, RenewArgs> => ({
  command: 'renew <names..>',
  describe:
    'Renew certificates kubeadm-style, backing up what is replaced: with -i in the state directory and on every host, restarting ' +
    `static pods one host at a time in startup order; without -i on this machine (names: all, ${RENEWABLE.map((r) => r.name).join(', ')})`,
  builder: (yargs: Argv) =>
    hostDirOptions(yargs)
      .positional('names', { type: 'string', array: true, describe: '"all" or certificate names', demandOption: true })
      .option('validity-days', { type: 'number', default: 365, describe: 'Without -i: validity of the renewed certificates (with -i the cluster file says)' })
      .option('inventory', { alias: 'i', type: 'string', normalize: true, describe: 'Cluster file: renew in the state directory and roll out to every host over SSH' })
      .option('state-dir', { type: 'string', normalize: true, describe: 'With -i: state directory (default .kbuild/<name>/ beside the cluster file)' })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'With -i: record unknown SSH host keys (trust on first use)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'With -i: progress as text or a JSON event stream' }),
  handler: async (args) => {
    selectRenewable(args.names); // unknown names are a usage error before anything is touched
    if (args.inventory !== undefined) return fleet(io, { ...args, inventory: args.inventory });
    const result = await renewHere({ dirs: { certDir: args['cert-dir'], kubeconfigDir: args['kubeconfig-dir'] }, names: args.names, validityDays: args['validity-days'] });
    for (const { name } of result.renewed) io.print(`renewed   ${name}`);
    for (const s of result.skipped) io.print(`skipped   ${s.name}: ${s.reason}`);
    if (result.renewed.length === 0) {
      io.print('Nothing was renewed.');
      return;
    }
    io.print(`Backups of the replaced files: ${result.backupDir}`);
    // etcd reads its certificate files on each new TLS connection, kube-apiserver reloads its serving
    // certificate (apiserver.crt) when the file changes (what the fleet roll checks): neither restarts for those.
    const podOf = (name: string) => RENEWABLE.find((r) => r.name === name)?.staticPod;
    const servingOnly = result.renewed.filter((r) => podOf(r.name) === 'kube-apiserver').every((r) => r.name === 'apiserver');
    const restart = result.restart.filter((pod) => pod !== 'etcd' && !(pod === 'kube-apiserver' && servingOnly));
    if (restart.length > 0) {
      io.print(
        `Restart these static pods so they load the new certificates: ${restart.join(', ')} ` +
          `(for example move each manifest out of ${PATHS.manifests}, wait 20s, move it back).`,
      );
    }
    if (result.restart.includes('etcd')) io.print('etcd needs no restart: it reads its certificate files on each new TLS connection, so new connections get the renewed ones.');
    if (result.restart.includes('kube-apiserver') && servingOnly) io.print('kube-apiserver needs no restart: it reloads its serving certificate (apiserver.crt) when the file changes, so new connections get the renewed one.');
    if (result.renewed.some((r) => isAdminKubeconfig(r.name))) io.print('Copy the renewed admin.conf to wherever you keep it (e.g. ~/.kube/config).');
  },
});
