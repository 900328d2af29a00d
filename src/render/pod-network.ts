/**
 * kbuild's builtin pod network (spec.networking.cni: builtin): only the standard CNI plugins. Each
 * node bridges its pods on `kbuild0` with addresses from its own block of the pod range (/24 for
 * IPv4, /64 for IPv6; the n-th block for the n-th node in cluster-file order), and reaches every other
 * node's block through a route to that node's address — so the nodes must share one L2 network.
 * Pod traffic leaving the pod range is masqueraded to the node's address; pod-to-pod traffic is not.
 */
import { registersNode, type Cluster, type Host } from '../config/model.js';
import { PATHS, POD_NETWORK } from '../kubeadm/constants.js';
import type { FileOwner, RenderedFile } from '../kubeadm/files.js';
import { nthBlock, type Cidr } from '../net/cidr.js';

const POD_NETWORK_BRIDGE = POD_NETWORK.bridge;
/** Marks the routes to other nodes' ranges, to tell them from the host's own (preflight, the script's clean-up). */
const POD_NETWORK_ROUTE_PROTOCOL = POD_NETWORK.routeProtocol;
const POD_NETWORK_FILE: FileOwner = { component: 'pod-network', phase: 'pod-network' };

/** Per-node block size, as kube-controller-manager's default --node-cidr-mask-size. */
const blockPrefix = (cidr: Cidr): number => (cidr.family === 4 ? 24 : 64);

/** Each node's pod ranges (one per family), by node name, in cluster-file order. */
export function nodePodRanges(cluster: Cluster): Map<string, string[]> {
  const nodes = cluster.hosts.filter(registersNode);
  return new Map(nodes.map((node, index) => [node.name, cluster.networking.podSubnets.map((cidr) => nthBlock(cidr, blockPrefix(cidr), index))]));
}

function conflist(ranges: readonly string[]): string {
  const config = {
    cniVersion: '1.0.0',
    name: 'kbuild',
    plugins: [
      {
        type: 'bridge',
        bridge: POD_NETWORK_BRIDGE,
        isGateway: true,
        // kbuild-pod-network.sh masquerades only what leaves the pod range; the plugin's own rule would also hide pod-to-pod sources.
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: ranges.map((subnet) => [{ subnet }]),
          routes: ranges.map((subnet) => ({ dst: subnet.includes(':') ? '::/0' : '0.0.0.0/0' })),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * Routes to the other nodes' blocks (stale ones inside the pod range removed) and the masquerade rule,
 * idempotent: apply runs it after each change, and the kubelet unit runs it before every kubelet start.
 * `remove` undoes it all (kbuild reset): the routes, the rule and the bridge with its pods' links.
 */
function networkScript(cluster: Cluster, host: Host, ranges: Map<string, string[]>): string {
  const setup: string[] = [];
  const teardown: string[] = [];
  for (const [familyIndex, podCidr] of cluster.networking.podSubnets.entries()) {
    const ip = podCidr.family === 4 ? 'ip -4' : 'ip -6';
    const tables = podCidr.family === 4 ? 'iptables' : 'ip6tables';
    const wanted = cluster.hosts
      .filter((other) => registersNode(other) && other.name !== host.name)
      .map((other) => ({ block: ranges.get(other.name)![familyIndex]!, via: other.address }))
      .filter((route) => route.via.includes(':') === (podCidr.family === 6));
    const own = ranges.get(host.name)![familyIndex]!;
    const keep = [own, ...wanted.map((r) => r.block)].join(' ');
    const masquerade = `POSTROUTING -s ${podCidr.text} ! -d ${podCidr.text} -m comment --comment ${shellWord('kbuild pod network')} -j MASQUERADE`;
    const routesInRange = `$(${ip} route show root ${podCidr.text} proto ${POD_NETWORK_ROUTE_PROTOCOL} | awk '{print $1}')`;
    setup.push(
      ...wanted.map((r) => `  ${ip} route replace ${r.block} via ${r.via} proto ${POD_NETWORK_ROUTE_PROTOCOL}`),
      // A node that left the cluster file leaves a route behind: remove every other route inside the pod range.
      `  for route in ${routesInRange}; do case " ${keep} " in *" $route "*) ;; *) ${ip} route del "$route" ;; esac; done`,
      `  ${tables} -t nat -C ${masquerade} 2>/dev/null || ${tables} -t nat -A ${masquerade}`,
    );
    teardown.push(`  for route in ${routesInRange}; do ${ip} route del "$route"; done`, `  while ${tables} -t nat -D ${masquerade} 2>/dev/null; do :; done`);
  }
  teardown.push(`  ip link delete ${POD_NETWORK_BRIDGE} 2>/dev/null || true`);
  return [
    '#!/bin/sh',
    "# Written by kbuild (render/pod-network.ts): the builtin pod network's routes and masquerading.",
    '# Safe to run again; `remove` undoes it (kbuild reset).',
    'set -eu',
    'if [ "${1:-}" = remove ]; then',
    ...teardown,
    'else',
    ...setup,
    'fi',
    '',
  ].join('\n');
}

/** The builtin network's files on one node: its CNI config and the routes script. */
export function podNetworkFiles(cluster: Cluster, host: Host, ranges: Map<string, string[]>): RenderedFile[] {
  if (cluster.networking.cni.type !== 'builtin' || !registersNode(host)) return [];
  const own = ranges.get(host.name);
  if (!own) return [];
  return [
    { path: PATHS.cniConflist, mode: 0o644, content: conflist(own), ...POD_NETWORK_FILE },
    { path: PATHS.podNetworkScript, mode: 0o755, content: networkScript(cluster, host, ranges), ...POD_NETWORK_FILE },
  ];
}
