import type { Argv, CommandModule } from 'yargs';
import { loadClusterFile } from '../config/load.js';
import { hostsWithRole, type Cluster } from '../config/model.js';
import { checkPatchesApply } from '../render/host.js';
import type { Io } from '../report/output.js';
import { inventoryOption, type InventoryArgs } from './options.js';

export function summarize(cluster: Cluster): string {
  const cps = cluster.controlPlanes.length;
  const workers = hostsWithRole(cluster, 'worker').length;
  const lbs = hostsWithRole(cluster, 'load-balancer').length;
  const etcd = `${cluster.etcd.topology} etcd, ${cluster.etcdMembers.length} member${cluster.etcdMembers.length === 1 ? '' : 's'}`;
  const lb =
    cluster.loadBalancer.placement === 'none'
      ? 'no load balancer'
      : cluster.loadBalancer.placement === 'hosts'
        ? `${lbs} load balancer${lbs === 1 ? '' : 's'}`
        : 'HAProxy on the control planes';
  const vip = cluster.loadBalancer.vip ? ` (VIP ${cluster.loadBalancer.vip})` : '';
  const pods = cluster.networking.podSubnet ? `pods ${cluster.networking.podSubnet}, ` : '';
  return (
    `cluster ${cluster.name}, Kubernetes ${cluster.kubernetesVersion}: ${cps} control plane${cps === 1 ? '' : 's'} (${etcd}), ` +
    `${workers} worker${workers === 1 ? '' : 's'}, ${lb}${vip}; ${pods}services ${cluster.networking.serviceSubnet}` +
    (cluster.patches.length > 0 ? `; ${cluster.patches.length} patch file${cluster.patches.length === 1 ? '' : 's'}` : '')
  );
}

export const validateCommand = (io: Io): CommandModule<object, InventoryArgs> => ({
  command: 'validate',
  describe: 'Check a cluster file: schema, networks (no overlaps), addresses and topology',
  builder: (yargs: Argv) => inventoryOption(yargs),
  handler: async (args) => {
    const { path, cluster } = await loadClusterFile(args.inventory);
    checkPatchesApply(cluster);
    io.print(`${path}: valid: ${summarize(cluster)}`);
  },
});
