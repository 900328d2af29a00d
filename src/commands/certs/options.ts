import type { Argv } from 'yargs';
import { HOST_KUBECONFIG_DIR, HOST_PKI_DIR } from '../../pki/layout.js';

export interface HostDirArgs {
  'cert-dir': string;
  'kubeconfig-dir': string;
}

export const hostDirOptions = <T>(yargs: Argv<T>) =>
  yargs
    .option('cert-dir', { type: 'string', default: HOST_PKI_DIR, normalize: true, describe: 'Certificate directory on this machine' })
    .option('kubeconfig-dir', { type: 'string', default: HOST_KUBECONFIG_DIR, normalize: true, describe: 'kubeconfig directory on this machine' });
