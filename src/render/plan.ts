/**
 * PLAN.md: the startup order (etcd → kube-apiserver → kube-controller-manager → kube-scheduler →
 * load balancer → kubelet → kube-proxy → CoreDNS) with each step's hosts and the health check
 * that gates the next, then per host the ports it must open and to whom.
 */
import { controlPlanes, dnsServiceIp, endpointUrl, etcdMembers, firstControlPlane, hasRole, hostPort, hostsWithRole, type Cluster, type Host } from '../config/model.js';
import { isEtcdMember, perCluster } from './cluster-facts.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { isIpv6, loopbackFor } from './etcd.js';
import { runsKubelet } from './kubelet.js';
import { loadBalancerHosts, runsLoadBalancer } from './load-balancer.js';

const names = (hosts: readonly Host[]): string => (hosts.length === 0 ? '(none)' : hosts.map((h) => h.name).join(', '));
const url = (address: string, port: number, path: string, scheme = 'https') => `${scheme}://${hostPort(address, port)}${path}`;

interface Step {
  title: string;
  hosts: readonly Host[];
  what: string;
  gate: string;
}

function steps(cluster: Cluster): Step[] {
  const cps = controlPlanes(cluster);
  const members = etcdMembers(cluster);
  const first = firstControlPlane(cluster);
  const lbs = loadBalancerHosts(cluster);
  const kubeletHosts = cluster.hosts.filter(runsKubelet);
  const lbStep: Step =
    lbs.length === 0
      ? { title: 'load balancer', hosts: [], what: `none: clients reach the API directly at ${endpointUrl(cluster)}.`, gate: 'nothing to check.' }
      : {
          title: 'load balancer',
          hosts: lbs,
          what:
            `HAProxy (${PATHS.haproxyCfg}) on frontend port ${cluster.loadBalancer.port}` +
            (cluster.loadBalancer.placement === 'control-plane' ? ' as static pods on the control planes' : '') +
            (cluster.loadBalancer.vip ? `, keepalived holding ${cluster.loadBalancer.vip} (MASTER ${lbs[0]!.name})` : '') +
            '.',
          gate: `on each load balancer, its own frontend answers \`GET ${endpointUrl(cluster)}/readyz\` with 200 and a certificate that verifies against ca.crt for ${cluster.endpoint.host}; then the same through the endpoint from the first control plane.`,
        };
  return [
    {
      title: 'etcd',
      hosts: members,
      what: `static pod ${PATHS.manifests}/etcd.yaml; all members start together with one --initial-cluster.`,
      gate:
        `on each member, \`GET https://127.0.0.1:${PORTS.etcdClient}/health\` with the healthcheck-client certificate ` +
        `(${PATHS.etcdPki}/healthcheck-client.crt, verified against ${PATHS.etcdPki}/ca.crt) reports health true; then the member list ` +
        `seen from ${members[0]?.name ?? 'the first member'} names every member (quorum).`,
    },
    {
      title: 'kube-apiserver',
      hosts: cps,
      what: `static pod ${PATHS.manifests}/kube-apiserver.yaml.`,
      gate: `\`GET /readyz\` answers 200 on each control plane (${cps.map((h) => url(h.address, cluster.apiServer.bindPort, '/readyz')).join(', ')}), then through the endpoint once the load balancer is up.`,
    },
    {
      title: 'kube-controller-manager',
      hosts: cps,
      what: `static pod ${PATHS.manifests}/kube-controller-manager.yaml.`,
      gate: `\`GET https://127.0.0.1:${PORTS.controllerManager}/healthz\` answers 200 on each control plane.`,
    },
    {
      title: 'kube-scheduler',
      hosts: cps,
      what: `static pod ${PATHS.manifests}/kube-scheduler.yaml.`,
      gate: `\`GET https://127.0.0.1:${PORTS.scheduler}/healthz\` answers 200 on each control plane.`,
    },
    lbStep,
    {
      title: 'kubelet',
      hosts: kubeletHosts,
      what:
        `systemd kubelet with ${PATHS.kubeletDropIn}, ${PATHS.kubeletConfig} and ${PATHS.kubeletFlags}. ` +
        `On control planes and etcd hosts it is started first, since it runs the static pods above; here the nodes register. ` +
        `Before workers join, ${first.name} applies ${PATHS.addons}/00-bootstrap-rbac.yaml, 01-bootstrap-token.yaml, 02-cluster-info.yaml and 03-kubelet-config.yaml.`,
      gate: `\`GET http://127.0.0.1:${PORTS.kubeletHealthz}/healthz\` answers 200 on each host.`,
    },
    {
      title: 'kube-proxy',
      hosts: [first],
      what: `DaemonSet from ${PATHS.addons}/10-kube-proxy.yaml, applied on ${first.name}; runs on every node.`,
      gate: 'the API reports the DaemonSet kube-system/kube-proxy ready on every node it is scheduled to (numberReady = desiredNumberScheduled).',
    },
    {
      title: 'CoreDNS',
      hosts: [first],
      what: `Deployment and Service kube-dns (${dnsServiceIp(cluster)}) from ${PATHS.addons}/20-coredns.yaml, applied on ${first.name}.`,
      gate: 'the API reports the Deployment kube-system/coredns available (availableReplicas = replicas).',
    },
  ];
}

interface PortRule {
  port: string;
  protocol: string;
  component: string;
  from: string;
}

function portsFor(cluster: Cluster, host: Host): PortRule[] {
  const rules: PortRule[] = [];
  const cpNames = perCluster(cluster, 'control-plane-names', () => names(controlPlanes(cluster)));
  const isMember = isEtcdMember(cluster, host);
  const etcdNames = isMember ? names(etcdMembers(cluster).filter((m) => m.name !== host.name)) : '';
  const isNode = hasRole(host, 'control-plane') || hasRole(host, 'worker');
  if (runsLoadBalancer(cluster, host)) {
    rules.push({ port: String(cluster.loadBalancer.port), protocol: 'TCP', component: 'HAProxy frontend (Kubernetes API)', from: 'every node and kubectl clients' });
    if (cluster.loadBalancer.vip !== undefined) {
      const peers = names(loadBalancerHosts(cluster).filter((h) => h.name !== host.name));
      rules.push({ port: '-', protocol: 'VRRP (IP protocol 112)', component: 'keepalived', from: `the other load balancers: ${peers}` });
    }
  }
  if (hasRole(host, 'control-plane')) {
    const via = cluster.loadBalancer.placement === 'hosts' ? `, load balancers ${names(hostsWithRole(cluster, 'load-balancer'))}` : '';
    rules.push({ port: String(cluster.apiServer.bindPort), protocol: 'TCP', component: 'kube-apiserver', from: `every node and kubectl clients${via}` });
  }
  if (isMember) {
    const clients = cluster.etcd.topology === 'stacked' ? 'local kube-apiserver; the other members for health checks' : `control planes ${cpNames}`;
    rules.push({ port: String(PORTS.etcdClient), protocol: 'TCP', component: 'etcd client', from: clients });
    rules.push({ port: String(PORTS.etcdPeer), protocol: 'TCP', component: 'etcd peer', from: `the other etcd members: ${etcdNames}` });
    rules.push({ port: String(PORTS.etcdMetrics), protocol: 'HTTP', component: 'etcd metrics/health', from: `nobody: local only (${loopbackFor(host.address)})` });
  }
  if (hasRole(host, 'control-plane')) {
    rules.push({ port: String(PORTS.controllerManager), protocol: 'TCP', component: 'kube-controller-manager', from: 'nobody: local only (bind-address 127.0.0.1)' });
    rules.push({ port: String(PORTS.scheduler), protocol: 'TCP', component: 'kube-scheduler', from: 'nobody: local only (bind-address 127.0.0.1)' });
  }
  if (isNode) {
    rules.push({ port: String(PORTS.kubelet), protocol: 'TCP', component: 'kubelet API', from: `control planes ${cpNames}` });
  } else if (runsKubelet(host)) {
    rules.push({ port: String(PORTS.kubelet), protocol: 'TCP', component: 'kubelet API (standalone)', from: 'nobody: keep closed' });
  }
  if (runsKubelet(host)) rules.push({ port: String(PORTS.kubeletHealthz), protocol: 'HTTP', component: 'kubelet healthz', from: 'nobody: local only (127.0.0.1)' });
  if (isNode) {
    rules.push({ port: String(PORTS.kubeProxyHealthz), protocol: 'HTTP', component: 'kube-proxy healthz', from: 'nobody: local only' });
    rules.push({ port: '30000-32767', protocol: 'TCP/UDP', component: 'NodePort Services', from: 'external clients of NodePort Services' });
  }
  return rules;
}

export function renderPlan(cluster: Cluster): string {
  const lines: string[] = [
    '<!-- Generated by kbuild (render/plan.ts). -->',
    `# Startup plan: cluster ${cluster.name}`,
    '',
    `Kubernetes ${cluster.kubernetesVersion}, ${cluster.etcd.topology} etcd, API endpoint ${endpointUrl(cluster)}` +
      (cluster.networking.podSubnet ? `, pods ${cluster.networking.podSubnet}` : '') +
      `, services ${cluster.networking.serviceSubnet}` +
      `${cluster.hosts.some((h) => isIpv6(h.address)) ? ' (IPv6 hosts)' : ''}.`,
    '',
    '## Order',
    '',
    'Each step starts only when the gate of the step before it has passed.',
    '',
  ];
  steps(cluster).forEach((step, index) => {
    lines.push(`${index + 1}. **${step.title}** on ${names(step.hosts)}: ${step.what}`, `   - Gate: ${step.gate}`);
  });
  lines.push('', '## Ports per host', '');
  for (const host of cluster.hosts) {
    lines.push(`### ${host.name} (${host.address}; ${host.roles.join(', ')})`, '', '| Port | Protocol | Component | Open to |', '|---|---|---|---|');
    for (const rule of portsFor(cluster, host)) lines.push(`| ${rule.port} | ${rule.protocol} | ${rule.component} | ${rule.from} |`);
    lines.push('');
  }
  return lines.join('\n');
}
