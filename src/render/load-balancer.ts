/**
 * The API load balancer (kubeadm HA guide, §10): HAProxy, plus keepalived when a VIP is set,
 * either on dedicated load-balancer hosts or as static pods on every control plane.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { hasRole, hostPort, runsLoadBalancer, type Cluster, type Host } from '../config/model.js';
import { PATHS } from '../kubeadm/constants.js';
import { HAPROXY_IMAGE, KEEPALIVED_IMAGE } from '../kubeadm/versions.js';
import type { RenderContext } from './context.js';
import { isIpv6 } from './etcd.js';
import { staticPod } from './static-pod.js';
import { manifestPath, type FileOwner, type RenderedFile } from '../kubeadm/files.js';
import { yamlFile } from './yaml.js';

/** A DNS name every apiserver certificate carries (kubeadm's fixed SANs): SNI and verifyhost of the checks. */
export const APISERVER_CHECK_NAME = 'kubernetes';
/** HAProxy's backend of apiservers; its servers are named after the control-plane hosts. */
export const HAPROXY_BACKEND = 'apiserverbackend';

const LOAD_BALANCER: FileOwner = { component: 'load-balancer', phase: 'load-balancer' };

export function haproxyConfig(ctx: RenderContext): string {
  const { cluster } = ctx;
  const cps = cluster.controlPlanes;
  const ipv6 = cps.some((h) => isIpv6(h.address)) || (cluster.loadBalancer.vip !== undefined && isIpv6(cluster.loadBalancer.vip));
  return ctx.templates.render('haproxy.cfg.hbs', {
    bind: ipv6 ? `:::${cluster.loadBalancer.port} v4v6` : `*:${cluster.loadBalancer.port}`,
    caFile: PATHS.haproxyCa,
    checkName: APISERVER_CHECK_NAME,
    backend: HAPROXY_BACKEND,
    // On load-balancer hosts only: in a static pod the socket would be inside the container.
    adminSocket: cluster.loadBalancer.placement === 'hosts' ? PATHS.haproxyAdminSocket : undefined,
    servers: cps.map((h) => ({ name: h.name, address: hostPort(h.address, cluster.apiServer.bindPort) })),
  });
}

function keepalivedFiles(ctx: RenderContext, host: Host): RenderedFile[] {
  const { cluster, secrets, templates } = ctx;
  const vip = cluster.loadBalancer.vip;
  if (vip === undefined) return [];
  const peers = cluster.loadBalancers;
  const index = peers.findIndex((h) => h.name === host.name);
  const conf = templates.render('keepalived.conf.hbs', {
    hostName: host.name,
    checkScript: PATHS.keepalivedCheck,
    state: index === 0 ? 'MASTER' : 'BACKUP',
    interface: cluster.loadBalancer.interface,
    routerId: secrets.keepalived.routerId,
    priority: 101 - index,
    weight: Math.max(2, peers.length),
    authPass: secrets.keepalived.authPass,
    vip,
  });
  const check = templates.render('check_apiserver.sh.hbs', {
    caFile: PATHS.haproxyCa,
    endpointAuthority: hostPort(cluster.endpoint.host, cluster.endpoint.port),
    frontendPort: cluster.loadBalancer.port,
  });
  return [
    { path: PATHS.keepalivedConf, mode: 0o600, secret: true, content: conf, ...LOAD_BALANCER },
    { path: PATHS.keepalivedCheck, mode: 0o755, content: check, ...LOAD_BALANCER },
  ];
}

export function haproxyPod(cluster: Cluster): V1Pod {
  return staticPod({
    name: 'haproxy',
    container: {
      image: HAPROXY_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      livenessProbe: {
        failureThreshold: 8,
        httpGet: { host: 'localhost', path: '/healthz', port: cluster.loadBalancer.port, scheme: 'HTTPS' },
      },
      name: 'haproxy',
    },
    volumes: [
      { name: 'haproxyconf', path: PATHS.haproxyCfg, mountPath: '/usr/local/etc/haproxy/haproxy.cfg', type: 'FileOrCreate', readOnly: true },
      { name: 'kbuild-ca', path: PATHS.haproxyCa, type: 'File', readOnly: true },
    ],
    controlPlaneLabels: false,
    critical: false,
  });
}

export function keepalivedPod(): V1Pod {
  return staticPod({
    name: 'keepalived',
    container: {
      image: KEEPALIVED_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      name: 'keepalived',
      resources: {},
      securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } },
    },
    volumes: [
      { name: 'config', path: PATHS.keepalivedConf, mountPath: '/usr/local/etc/keepalived/keepalived.conf', type: 'File', readOnly: false },
      { name: 'check', path: PATHS.keepalivedCheck, type: 'File', readOnly: false },
      { name: 'kbuild-ca', path: PATHS.haproxyCa, type: 'File', readOnly: true },
    ],
    controlPlaneLabels: false,
    critical: false,
  });
}

/** Everything a load-balancer host (or, with placement control-plane, every control plane) gets. */
export function loadBalancerFiles(ctx: RenderContext, host: Host): RenderedFile[] {
  const { cluster } = ctx;
  if (!runsLoadBalancer(cluster, host)) return [];
  const files: RenderedFile[] = [
    { path: PATHS.haproxyCfg, mode: 0o644, content: haproxyConfig(ctx), ...LOAD_BALANCER },
    { path: PATHS.haproxyCa, mode: 0o644, content: ctx.pki.caCertPem, ...LOAD_BALANCER },
    ...keepalivedFiles(ctx, host),
  ];
  if (cluster.loadBalancer.placement === 'control-plane' && hasRole(host, 'control-plane')) {
    files.push({ path: manifestPath('haproxy'), mode: 0o600, content: yamlFile('render/load-balancer.ts: haproxy', [haproxyPod(cluster)]), ...LOAD_BALANCER });
    if (cluster.loadBalancer.vip !== undefined) {
      files.push({ path: manifestPath('keepalived'), mode: 0o600, content: yamlFile('render/load-balancer.ts: keepalived', [keepalivedPod()]), ...LOAD_BALANCER });
    }
  }
  return files;
}
