import type { Argv, CommandModule } from 'yargs';
import { RENEWABLE, renewCertificates } from '../../pki/renew.js';
import { terminal } from '../../report/output.js';
import { hostDirOptions, type HostDirArgs } from './options.js';

interface RenewArgs extends HostDirArgs {
  names: string[];
  'validity-days': number;
}

export const renewCommand: CommandModule<object, RenewArgs> = {
  command: 'renew <names..>',
  describe: `Renew certificates on this machine, kubeadm-style, backing up what is replaced (names: all, ${RENEWABLE.map((r) => r.name).join(', ')})`,
  builder: (yargs: Argv) =>
    hostDirOptions(yargs)
      .positional('names', { type: 'string', array: true, describe: '"all" or certificate names', demandOption: true })
      .option('validity-days', { type: 'number', default: 365, describe: 'Validity of the renewed certificates' }),
  handler: async (args) => {
    const result = await renewCertificates({ certDir: args['cert-dir'], kubeconfigDir: args['kubeconfig-dir'], names: args.names, validityDays: args['validity-days'] });
    for (const name of result.renewed) terminal.print(`renewed   ${name}`);
    for (const s of result.skipped) terminal.print(`skipped   ${s.name}: ${s.reason}`);
    if (result.renewed.length === 0) {
      terminal.print('Nothing was renewed.');
      return;
    }
    terminal.print(`Backups of the replaced files: ${result.backupDir}`);
    if (result.restart.length > 0) {
      terminal.print(
        `Restart these static pods so they load the new certificates: ${result.restart.join(', ')} ` +
          '(for example move each manifest out of /etc/kubernetes/manifests, wait 20s, move it back).',
      );
    }
    if (result.renewed.some((n) => n === 'admin.conf' || n === 'super-admin.conf')) {
      terminal.print('Copy the renewed admin.conf to wherever you keep it (e.g. ~/.kube/config).');
    }
  },
};
