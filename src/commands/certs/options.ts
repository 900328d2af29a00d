import type { Argv } from 'yargs';
import { PATHS } from '../../kubeadm/constants.js';

export interface HostDirArgs {
  'cert-dir': string;
  'kubeconfig-dir': string;
}

export const hostDirOptions = <T>(yargs: Argv<T>) =>
  yargs
    .option('cert-dir', { type: 'string', default: PATHS.pki, normalize: true, describe: 'Certificate directory on this machine' })
    .option('kubeconfig-dir', { type: 'string', default: PATHS.kubernetesDir, normalize: true, describe: 'kubeconfig directory on this machine' });
