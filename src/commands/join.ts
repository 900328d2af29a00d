/**
 * kbuild join: kubeadm's `join` on this machine, with its phase names. Token discovery with CA
 * pinning comes first; --dry-run writes under -o DIR and lists commands and API requests.
 */
import type { Argv, CommandModule } from 'yargs';
import { JOIN_PHASES } from '../operations/join/phases.js';
import { runJoin, type JoinResult } from '../operations/join/run.js';
import { reporterFor } from '../report/choose.js';
import type { Io, Output } from '../report/output.js';
import { describeRequest } from './init.js';
import { describeAction } from '../report/dry-run.js';
import { withPhases } from './options.js';
import { PATHS } from '../kubeadm/constants.js';

export interface JoinArgs {
  endpoint?: string;
  token?: string;
  discoveryTokenCaCertHash: string[];
  controlPlane: boolean;
  certificateKey?: string;
  nodeName?: string;
  config?: string;
  templates?: string;
  skipPhases: string[];
  dryRun: boolean;
  output?: string;
  ignorePreflightErrors: string[];
  path?: string;
}

const joinOptions = (yargs: Argv) =>
  yargs
    .option('token', { type: 'string', demandOption: true, describe: 'Bootstrap token <id>.<secret> for discovery and TLS bootstrap (kbuild token create)' })
    .option('discovery-token-ca-cert-hash', { type: 'array', string: true, default: [] as string[], describe: 'sha256:<hex> pin of the cluster CA public key (kbuild token ca-hash); repeatable' })
    .option('control-plane', { type: 'boolean', default: false, describe: 'Join as a control plane (needs --certificate-key)' })
    .option('certificate-key', { type: 'string', describe: 'Key that decrypts kube-system/kubeadm-certs (printed by kbuild init --upload-certs)' })
    .option('node-name', { type: 'string', describe: "This node's name (default: the cluster file's host with a local address, else the hostname)" })
    .option('config', { type: 'string', normalize: true, describe: 'Cluster file (kind: Cluster) naming this host (default: the one kbuild init published in kube-system/kbuild-config)' })
    .option('templates', { type: 'string', normalize: true, describe: 'Directory of .hbs files replacing built-in templates' })
    .option('skip-phases', { type: 'array', string: true, default: [] as string[], describe: 'Phases to skip (a parent skips its children)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Change nothing: discovery and reads happen, files go under -o DIR, commands and API writes are listed' })
    .option('output', { alias: 'o', type: 'string', normalize: true, describe: 'Dry-run output directory (required with --dry-run)' })
    .option('ignore-preflight-errors', { type: 'array', string: true, default: [] as string[], describe: 'Preflight checks to report as warnings, e.g. Swap,Port-10250, or all' })
    .check((args) => {
      if (args['dry-run'] && !args.output) throw new Error('--dry-run needs -o DIR for the files it would write');
      if (!args.endpoint) throw new Error('give the API server endpoint, e.g. kbuild join 10.0.0.10:6443 --token ... (as printed by kbuild init)');
      return true;
    });

async function join(io: Io, args: JoinArgs): Promise<void> {
  const reporter = await reporterFor(io, 'text', { live: !args.dryRun });
  try {
    const result = await runJoin({
      endpoint: args.endpoint!,
      token: args.token!,
      caCertHashes: args.discoveryTokenCaCertHash,
      controlPlane: args.controlPlane,
      certificateKey: args.certificateKey,
      nodeName: args.nodeName,
      config: args.config,
      templates: args.templates,
      skipPhases: args.skipPhases,
      only: args.path,
      ignorePreflightErrors: args.ignorePreflightErrors,
      dryRunDir: args.dryRun ? args.output : undefined,
      reporter,
    });
    await reporter.close();
    printJoinResult(io, result);
  } finally {
    await reporter.close();
  }
}

export function printJoinResult(out: Output, result: JoinResult): void {
  out.print('');
  if (result.directory) {
    out.print(`[dryrun] Wrote the files this join would write to the "${result.directory.root}" directory (certificates and kubeconfigs are not printed)`);
    for (const action of result.directory.actions) out.print(`  ${describeAction(action)}`);
    out.print('[dryrun] API requests (reads are sent, writes are not; Secret values masked):');
    for (const r of result.requests ?? []) out.print(`  ${describeRequest(r)}`);
    return;
  }
  if (result.controlPlane) {
    out.print(`This node (${result.host}) has joined the cluster at ${result.server} as a control plane${result.etcdInitialCluster ? `; etcd members: ${result.etcdInitialCluster}` : ''}.`);
    out.print(`The admin kubeconfig is ${PATHS.adminKubeconfig}.`);
  } else {
    out.print(`This node (${result.host}) has joined the cluster at ${result.server}: the kubelet completed its TLS bootstrap (${PATHS.kubeletKubeconfig}).`);
    out.print("Run 'kubectl get nodes' on a control plane to see it.");
  }
}

export const joinCommand = (io: Io): CommandModule<object, JoinArgs> => ({
  command: 'join [endpoint]',
  describe: "Join this machine to a cluster as a worker or control plane, with kubeadm's join phases",
  builder: (yargs: Argv) =>
    withPhases<JoinArgs>(joinOptions(yargs).positional('endpoint', { type: 'string', describe: 'API server host:port, as printed by kbuild init' }), JOIN_PHASES, (args) => join(io, args), '[endpoint]'),
  handler: (args) => join(io, args),
});
