/**
 * kbuild init: kubeadm's `init` on this machine, with its phase names. --dry-run writes under -o DIR
 * and lists every file, command and API request it would make (Secret values masked).
 */
import type { Argv, CommandModule } from 'yargs';
import { INIT_PHASES } from '../operations/init/phases.js';
import { runInit, type InitResult } from '../operations/init/run.js';
import type { RecordedRequest } from '../kube/client.js';
import { reporterFor } from '../report/choose.js';
import type { Io, Output } from '../report/output.js';
import { describeAction } from '../report/dry-run.js';
import { withPhases } from './options.js';
import { PATHS } from '../kubeadm/constants.js';

export interface InitArgs {
  config?: string;
  nodeName?: string;
  stateDir?: string;
  templates?: string;
  skipPhases: string[];
  uploadCerts: boolean;
  certificateKey?: string;
  dryRun: boolean;
  output?: string;
  ignorePreflightErrors: string[];
  path?: string;
}

const initOptions = (yargs: Argv) =>
  yargs
    .option('config', { type: 'string', normalize: true, describe: 'Cluster file (kind: Cluster); without it, a single-node cluster with defaults on the default route address' })
    .option('node-name', { type: 'string', describe: "This host's name in the cluster file (default: the host whose address is on this machine)" })
    .option('state-dir', { type: 'string', normalize: true, describe: 'State directory (PKI master copy, token); default as kbuild render, or /var/lib/kbuild/<name> without --config' })
    .option('templates', { type: 'string', normalize: true, describe: 'Directory of .hbs files replacing built-in templates' })
    .option('skip-phases', { type: 'array', string: true, default: [] as string[], describe: 'Phases to skip, e.g. addon/kube-proxy (a parent skips its children)' })
    .option('upload-certs', { type: 'boolean', default: false, describe: 'Upload the shared CA keys to Secret kube-system/kubeadm-certs, encrypted with the certificate key' })
    .option('certificate-key', { type: 'string', describe: '64 hex characters (32 bytes) to encrypt kubeadm-certs with; generated when omitted' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Change nothing: write the files under -o DIR and list the API requests' })
    .option('output', { alias: 'o', type: 'string', normalize: true, describe: 'Dry-run output directory (required with --dry-run)' })
    .option('ignore-preflight-errors', { type: 'array', string: true, default: [] as string[], describe: 'Preflight checks to report as warnings, e.g. Swap,Port-6443, or all' })
    .check((args) => {
      if (args['dry-run'] && !args.output) throw new Error('--dry-run needs -o DIR for the files it would write');
      if (args['certificate-key'] && !args['upload-certs']) throw new Error('--certificate-key is used only with --upload-certs');
      return true;
    });

async function init(io: Io, args: InitArgs): Promise<void> {
  const reporter = await reporterFor(io, 'text', { live: !args.dryRun });
  try {
    const result = await runInit({
      config: args.config,
      nodeName: args.nodeName,
      stateDir: args.stateDir,
      templates: args.templates,
      skipPhases: args.skipPhases,
      only: args.path,
      uploadCerts: args.uploadCerts,
      certificateKey: args.certificateKey,
      ignorePreflightErrors: args.ignorePreflightErrors,
      dryRunDir: args.dryRun ? args.output : undefined,
      reporter,
    });
    await reporter.close();
    printResult(io, result);
  } finally {
    await reporter.close();
  }
}

export function describeRequest(r: RecordedRequest): string {
  const where = r.namespace ? `${r.namespace}/${r.name}` : r.name;
  return `${r.verb.toUpperCase()} ${r.apiVersion} ${r.kind}${where ? ` ${where}` : ''}`;
}

export function printResult(out: Output, result: InitResult): void {
  out.print('');
  if (result.directory) {
    out.print(`[dryrun] Wrote certificates, kubeconfig files and control plane manifests to the "${result.directory.root}" directory (certificates and kubeconfigs are not printed)`);
    for (const action of result.directory.actions) out.print(`  ${describeAction(action)}`);
    out.print('[dryrun] API requests that would be sent (Secret values masked):');
    for (const r of result.requests ?? []) out.print(`  ${describeRequest(r)}`);
    out.print(`[dryrun] PKI and token state: ${result.stateDir}`);
  } else {
    out.print(`Your Kubernetes control plane on ${result.host} has initialized successfully. The admin kubeconfig is ${PATHS.adminKubeconfig}.`);
  }
  if (result.certificateKey && result.joinCommands?.controlPlane) {
    out.print(`\n[upload-certs] Using certificate key:\n${result.certificateKey}\n(kube-system/kubeadm-certs is deleted with its token in two hours; \`kbuild init phase upload-certs --upload-certs\` uploads again)`);
  }
  if (result.joinCommands?.controlPlane) out.print(`\nTo add control-plane nodes, run on each as root:\n\n  ${result.joinCommands.controlPlane}`);
  if (result.joinCommands) out.print(`\nTo join worker nodes, run on each as root:\n\n  ${result.joinCommands.worker}\n`);
}

export const initCommand = (io: Io): CommandModule<object, InitArgs> => ({
  command: 'init',
  describe: "Set up this machine as the cluster's first control plane, with kubeadm's init phases",
  builder: (yargs: Argv) => withPhases<InitArgs>(initOptions(yargs), INIT_PHASES, (args) => init(io, args)),
  handler: (args) => init(io, args),
});
