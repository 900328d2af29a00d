/**
 * Semantic checks of a schema-valid cluster file: networks, addresses, topology, PKI settings.
 * Every rule returns all the problems it finds; the loader reports them together.
 */
import type { ClusterFile, HostSpec } from './schema.js';
import { DEFAULTS } from './defaults.js';
import { SUPPORTED_MINORS, SUPPORTED_RANGE, kubernetesMinor } from '../kubeadm/versions.js';
import { splitHostPort } from './model.js';
import { containsAddress, hostBits, overlaps, parseAddress, parseCidr, splitList, type Cidr, type ParsedAddress } from '../net/cidr.js';
import type { PathSegment } from './yaml-lines.js';
import { KUBE_PROXY_CONFIGURATION_FIELDS, KUBELET_CONFIGURATION_FIELDS } from './component-config.js';
import { closest } from '../util/suggest.js';
import { KUBELET_LABELS, KUBELET_LABEL_NAMESPACES } from '../kubeadm/constants.js';
import { unsafeDataDir } from '../kubeadm/data-dir.js';

export interface RuleProblem {
  path: PathSegment[];
  message: string;
}

/**
 * What the rules of one validation share: addresses parsed once each (a 5,000-node cluster asks for
 * every host's address several times), for this validation only.
 */
interface RuleContext {
  parseAddress: (text: string) => ParsedAddress | undefined;
}

type Rule = (file: ClusterFile, ctx: RuleContext) => RuleProblem[];

const NET: PathSegment[] = ['spec', 'networking'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;
const WILDCARD_DNS_NAME = /^\*\.(?=.{1,251}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

/** A network range of the cluster file with where it was written. */
interface NamedRange {
  path: PathSegment[];
  list: 'pod' | 'service' | 'node' | 'reserved';
  cidr: Cidr;
}

const fmt = (path: PathSegment[]) =>
  path.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');

/** Parses a CIDR list field; unparsable entries become problems. */
function rangesOf(file: ClusterFile): { ranges: NamedRange[]; problems: RuleProblem[] } {
  const net = file.spec.networking ?? {};
  const ranges: NamedRange[] = [];
  const problems: RuleProblem[] = [];
  const add = (path: PathSegment[], list: NamedRange['list'], text: string) => {
    const cidr = parseCidr(text);
    if (cidr) ranges.push({ path, list, cidr });
    else problems.push({ path, message: `"${text}" is not a valid CIDR; write address/prefix, e.g. 10.244.0.0/16 or fd00:10:244::/56` });
  };
  const addDual = (field: 'podSubnet' | 'serviceSubnet', list: 'pod' | 'service', text: string | undefined) => {
    if (text === undefined) return;
    const parts = splitList(text);
    if (parts.length > 2) {
      problems.push({ path: [...NET, field], message: `lists ${parts.length} ranges; give one, or one IPv4 and one IPv6 range separated by a comma` });
      return;
    }
    for (const part of parts) add([...NET, field], list, part);
  };
  addDual('podSubnet', 'pod', net.podSubnet);
  addDual('serviceSubnet', 'service', net.serviceSubnet ?? DEFAULTS.serviceSubnet);
  (net.nodeSubnets ?? []).forEach((t, i) => add([...NET, 'nodeSubnets', i], 'node', t));
  (net.reservedSubnets ?? []).forEach((t, i) => add([...NET, 'reservedSubnets', i], 'reserved', t));
  return { ranges, problems };
}

const cidrSyntax: Rule = (file) => rangesOf(file).problems;

const dualStack: Rule = (file) => {
  const { ranges } = rangesOf(file);
  const problems: RuleProblem[] = [];
  const familiesOf = (list: 'pod' | 'service') => ranges.filter((r) => r.list === list).map((r) => r.cidr.family);
  for (const [field, list] of [['podSubnet', 'pod'], ['serviceSubnet', 'service']] as const) {
    const families = familiesOf(list);
    if (families.length === 2 && families[0] === families[1]) {
      problems.push({ path: [...NET, field], message: `dual-stack needs one IPv4 and one IPv6 range, got two IPv${families[0]} ranges` });
    }
  }
  const pod = familiesOf('pod');
  const service = familiesOf('service');
  if (pod.length > 0 && service.length > 0 && pod[0] !== service[0]) {
    problems.push({
      path: [...NET, 'podSubnet'],
      message: `is IPv${pod[0]}-first but spec.networking.serviceSubnet is IPv${service[0]}-first; list the families in the same order in both`,
    });
  } else if (pod.length === 2 && service.length === 2 && pod[1] !== service[1]) {
    problems.push({ path: [...NET, 'podSubnet'], message: 'lists its families in a different order from spec.networking.serviceSubnet' });
  }
  return problems;
};

const rangeOverlaps: Rule = (file) => {
  const { ranges } = rangesOf(file);
  const problems: RuleProblem[] = [];
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      // Node subnets may overlap each other, as may reserved ones: only crossings between kinds matter.
      if (a.list === b.list && (a.list === 'node' || a.list === 'reserved')) continue;
      if (!overlaps(a.cidr, b.cidr)) continue;
      const relation =
        a.cidr.start >= b.cidr.start && a.cidr.end <= b.cidr.end
          ? 'lies inside'
          : b.cidr.start >= a.cidr.start && b.cidr.end <= a.cidr.end
            ? 'contains'
            : 'overlaps';
      problems.push({
        path: a.path,
        message: `${a.cidr.text} ${relation} ${fmt(b.path)} ${b.cidr.text}; choose ranges that do not overlap`,
      });
    }
  }
  return problems;
};

const rangeSizes: Rule = (file) => {
  const { ranges } = rangesOf(file);
  const problems: RuleProblem[] = [];
  const nodes = file.spec.hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker')).length;
  for (const r of ranges) {
    const bits = hostBits(r.cidr);
    if (r.list === 'service') {
      if (bits < 4) problems.push({ path: r.path, message: `${r.cidr.text} has fewer than 10 addresses; use a /${r.cidr.family === 4 ? 28 : 124} or larger` });
      if (bits > 20)
        problems.push({
          path: r.path,
          message: `${r.cidr.text} has ${bits} host bits; the apiserver allows at most 20 (IPv4 /12, IPv6 /108)`,
        });
    }
    if (r.list === 'pod') {
      const nodeMask = r.cidr.family === 4 ? 24 : 64;
      const perNode = `/${nodeMask}`;
      if (r.cidr.prefix > nodeMask) {
        problems.push({ path: r.path, message: `${r.cidr.text} is smaller than the ${perNode} each node gets; use a /${nodeMask - 8} or larger` });
      } else if (nodeMask - r.cidr.prefix > 16) {
        problems.push({
          path: r.path,
          message: `${r.cidr.text} is more than 16 bits larger than the per-node ${perNode}; the controller-manager rejects it, use /${nodeMask - 16} or smaller`,
        });
      } else if (2n ** BigInt(nodeMask - r.cidr.prefix) < BigInt(nodes)) {
        problems.push({
          path: r.path,
          message: `${r.cidr.text} holds ${2 ** (nodeMask - r.cidr.prefix)} ${perNode} node ranges but the cluster has ${nodes} nodes; use a larger range`,
        });
      }
    }
  }
  return problems;
};

/** Host addresses, the VIP and an IP endpoint must sit outside pod/service/reserved ranges and inside a node subnet. */
const addressPlacement: Rule = (file, { parseAddress }) => {
  const { ranges } = rangesOf(file);
  const problems: RuleProblem[] = [];
  const nodeSubnets = ranges.filter((r) => r.list === 'node');
  const check = (path: PathSegment[], text: string, what: string) => {
    const address = parseAddress(text);
    if (!address) {
      problems.push({ path, message: `"${text}" is not an IP address; give the ${what}'s IPv4 or IPv6 address` });
      return;
    }
    for (const r of ranges) {
      if (r.list !== 'node' && containsAddress(r.cidr, address)) {
        problems.push({ path, message: `${text} lies inside ${fmt(r.path)} ${r.cidr.text}; the ${what} must be outside the ${r.list} range` });
      }
    }
    if (nodeSubnets.length > 0 && !nodeSubnets.some((r) => containsAddress(r.cidr, address))) {
      problems.push({
        path,
        message: `${text} is in none of spec.networking.nodeSubnets (${nodeSubnets.map((r) => r.cidr.text).join(', ')}); add its network or fix the address`,
      });
    }
  };
  file.spec.hosts.forEach((h, i) => check(['spec', 'hosts', i, 'address'], h.address, 'host address'));
  const vip = file.spec.loadBalancer?.vip;
  if (vip !== undefined) {
    check(['spec', 'loadBalancer', 'vip'], vip, 'virtual IP');
    const owner = file.spec.hosts.find((h) => parseAddress(h.address)?.canonical === parseAddress(vip)?.canonical);
    if (owner) problems.push({ path: ['spec', 'loadBalancer', 'vip'], message: `${vip} is the address of host ${owner.name}; the VIP must be an unused address` });
  }
  const endpoint = file.spec.controlPlaneEndpoint;
  if (endpoint !== undefined) {
    const { host } = splitHostPort(endpoint);
    if (parseAddress(host)) check(['spec', 'controlPlaneEndpoint'], host, 'endpoint');
  }
  return problems;
};

const endpointSyntax: Rule = (file, { parseAddress }) => {
  const endpoint = file.spec.controlPlaneEndpoint;
  if (endpoint === undefined) return [];
  const path: PathSegment[] = ['spec', 'controlPlaneEndpoint'];
  const { host, port } = splitHostPort(endpoint);
  const problems: RuleProblem[] = [];
  if (!parseAddress(host) && !DNS_NAME.test(host)) {
    problems.push({ path, message: `"${endpoint}" is not host[:port]; use a DNS name or IP address, e.g. api.example.internal:6443` });
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push({ path, message: `port in "${endpoint}" must be a number from 1 to 65535` });
  }
  return problems;
};

const topology: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const hosts = file.spec.hosts;
  const withRole = (role: string) => hosts.filter((h) => (h.roles as string[]).includes(role));
  const controlPlanes = withRole('control-plane');
  const etcdHosts = withRole('etcd');
  const topology = file.spec.etcd?.topology ?? DEFAULTS.etcdTopology;
  if (controlPlanes.length === 0) {
    problems.push({ path: ['spec', 'hosts'], message: 'no host has the control-plane role; give at least one host roles: [control-plane]' });
  }
  if (controlPlanes.length > 1 && file.spec.controlPlaneEndpoint === undefined) {
    problems.push({
      path: ['spec', 'controlPlaneEndpoint'],
      message: `is required with ${controlPlanes.length} control-plane hosts; set it to the load balancer's name or VIP, e.g. api.example.internal:6443`,
    });
  }
  if (topology === 'stacked') {
    etcdHosts.forEach((h) =>
      problems.push({
        path: ['spec', 'hosts', hosts.indexOf(h), 'roles'],
        message: `host ${h.name} has the etcd role but spec.etcd.topology is stacked (etcd runs on the control planes); set topology: external or drop the role`,
      }),
    );
  } else if (etcdHosts.length === 0) {
    problems.push({ path: ['spec', 'etcd', 'topology'], message: 'is external but no host has the etcd role; add etcd hosts or use topology: stacked' });
  }
  const members = topology === 'stacked' ? controlPlanes : etcdHosts;
  if (members.length > 0 && members.length % 2 === 0) {
    const quorum = members.length / 2 + 1;
    const source = topology === 'stacked' ? 'control-plane hosts (stacked etcd)' : 'etcd hosts';
    const tolerated = members.length - quorum;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    problems.push({
      path: topology === 'stacked' ? ['spec', 'hosts'] : ['spec', 'etcd', 'topology'],
      message:
        `${members.length} ${source} make an even etcd cluster: quorum is ${quorum} of ${members.length}, so it tolerates ` +
        `${plural(tolerated, 'failure')}, the same as ${plural(members.length - 1, 'member')}; use ${members.length - 1} or ${members.length + 1}`,
    });
  }
  return problems;
};

const loadBalancer: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const lb = file.spec.loadBalancer ?? {};
  const lbHosts = file.spec.hosts.filter((h) => h.roles.includes('load-balancer'));
  const type = lb.type ?? (lbHosts.length > 0 ? 'haproxy' : 'none');
  const port = lb.port ?? DEFAULTS.loadBalancerPort;
  const bindPort = file.spec.apiServer?.bindPort ?? DEFAULTS.bindPort;
  if (type === 'none') {
    lbHosts.forEach((h) =>
      problems.push({
        path: ['spec', 'hosts', file.spec.hosts.indexOf(h), 'roles'],
        message: `host ${h.name} has the load-balancer role but spec.loadBalancer.type is none; set type: haproxy or drop the role`,
      }),
    );
    if (lb.vip !== undefined) problems.push({ path: ['spec', 'loadBalancer', 'vip'], message: 'needs spec.loadBalancer.type: haproxy (keepalived runs beside HAProxy)' });
    return problems;
  }
  // HAProxy on a control plane shares its host network with kube-apiserver: the ports must differ.
  const onControlPlane = lbHosts.length === 0 ? 'on the control-plane hosts (no host has the load-balancer role)' : undefined;
  const sharing = lbHosts.filter((h) => h.roles.includes('control-plane'));
  if (port === bindPort && (onControlPlane || sharing.length > 0)) {
    const where = onControlPlane ?? `on ${sharing.map((h) => h.name).join(', ')}, which also run kube-apiserver`;
    problems.push({
      path: ['spec', 'loadBalancer', 'port'],
      message: `is ${port}, the apiserver's port, but HAProxy runs ${where}; use another frontend port, e.g. 8443`,
    });
  }
  return problems;
};

const hostIdentity: Rule = (file, { parseAddress }) => {
  const problems: RuleProblem[] = [];
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  file.spec.hosts.forEach((h: HostSpec, i) => {
    if (!DNS_LABEL.test(h.name) || h.name.length > 63) {
      problems.push({ path: ['spec', 'hosts', i, 'name'], message: `"${h.name}" is not a DNS label; use lower-case letters, digits and '-', at most 63 characters` });
    }
    const seenName = names.get(h.name);
    if (seenName !== undefined) problems.push({ path: ['spec', 'hosts', i, 'name'], message: `"${h.name}" is already used by spec.hosts[${seenName}]; host names must be unique` });
    else names.set(h.name, i);
    const canonical = parseAddress(h.address)?.canonical ?? h.address;
    const seenAddress = addresses.get(canonical);
    if (seenAddress !== undefined) problems.push({ path: ['spec', 'hosts', i, 'address'], message: `${h.address} is already used by spec.hosts[${seenAddress}]; addresses must be unique` });
    else addresses.set(canonical, i);
    const roles = new Set<string>(h.roles);
    if (roles.size !== h.roles.length) problems.push({ path: ['spec', 'hosts', i, 'roles'], message: 'lists a role twice' });
  });
  return problems;
};

const metadataAndVersion: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const name = file.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    problems.push({ path: ['metadata', 'name'], message: `"${name}" must use lower-case letters, digits and '-' (it names the state directory)` });
  }
  const version = file.spec.kubernetesVersion;
  if (version !== undefined) {
    const m = /^v1\.(\d+)\.(\d+)$/.exec(version);
    if (!m) problems.push({ path: ['spec', 'kubernetesVersion'], message: `"${version}" is not a release such as ${DEFAULTS.kubernetesVersion}` });
    else if (!SUPPORTED_MINORS.includes(Number(m[1]))) {
      problems.push({ path: ['spec', 'kubernetesVersion'], message: `${version} is not supported; kbuild renders ${SUPPORTED_RANGE}` });
    }
  }
  const domain = file.spec.networking?.dnsDomain;
  if (domain !== undefined && !DNS_NAME.test(domain)) {
    problems.push({ path: [...NET, 'dnsDomain'], message: `"${domain}" is not a DNS domain such as cluster.local` });
  }
  return problems;
};

const certificates: Rule = (file, { parseAddress }) => {
  const problems: RuleProblem[] = [];
  const certs = file.spec.certificates ?? {};
  const leaf = certs.validityDays ?? DEFAULTS.validityDays;
  const ca = certs.caValidityDays ?? DEFAULTS.caValidityDays;
  if (leaf >= ca) {
    // Point at the field the user wrote: a lowered caValidityDays against the default leaf validity is the usual case.
    const blameCa = certs.validityDays === undefined && certs.caValidityDays !== undefined;
    problems.push(
      blameCa
        ? {
            path: ['spec', 'certificates', 'caValidityDays'],
            message: `${ca} days must be longer than spec.certificates.validityDays (${leaf} days, the default): a leaf cannot outlive its CA; raise caValidityDays or set a shorter validityDays`,
          }
        : {
            path: ['spec', 'certificates', 'validityDays'],
            message: `${leaf} days must be shorter than spec.certificates.caValidityDays (${ca} days${certs.caValidityDays === undefined ? ', the default' : ''}): a leaf cannot outlive its CA`,
          },
    );
  }
  const sans = [
    [['spec', 'apiServer', 'certSANs'], file.spec.apiServer?.certSANs],
    [['spec', 'etcd', 'serverCertSANs'], file.spec.etcd?.serverCertSANs],
    [['spec', 'etcd', 'peerCertSANs'], file.spec.etcd?.peerCertSANs],
  ] as const;
  for (const [path, list] of sans) {
    (list ?? []).forEach((san, i) => {
      if (!parseAddress(san) && !DNS_NAME.test(san) && !WILDCARD_DNS_NAME.test(san)) {
        problems.push({ path: [...path, i], message: `"${san}" is neither an IP address nor a DNS name (wildcards like *.example.com are allowed)` });
      }
    });
  }
  return problems;
};

/** kubeadm knows ControlPlaneKubeletLocalMode from v1.31 (alpha) on; an older kubeadm rejects the gate. */
const featureGates: Rule = (file) => {
  const gates = file.spec.featureGates ?? {};
  const minor = kubernetesMinor(file.spec.kubernetesVersion ?? DEFAULTS.kubernetesVersion);
  if (gates.ControlPlaneKubeletLocalMode === undefined || !(minor < 31)) return [];
  return [{ path: ['spec', 'featureGates', 'ControlPlaneKubeletLocalMode'], message: `kubeadm has this gate from v1.31 on, not in v1.${minor}: remove it or set spec.kubernetesVersion to v1.31 or later` }];
};

/**
 * kubeadm v1.30 reads only v1beta3 (published-cluster.ts), which has no extraEnvs and no
 * encryptionAlgorithm (RSA-2048, or ECDSA-P256 by its PublicKeysECDSA gate): kubeadm-config could not
 * say so, and kubeadm's own upgrade or renewal would drop them.
 */
const kubeadmV1beta3: Rule = (file) => {
  const minor = kubernetesMinor(file.spec.kubernetesVersion ?? DEFAULTS.kubernetesVersion);
  if (!(minor < 31)) return [];
  const problems: RuleProblem[] = [];
  for (const section of ['apiServer', 'controllerManager', 'scheduler', 'etcd'] as const) {
    if ((file.spec[section]?.extraEnvs ?? []).length > 0) problems.push({ path: ['spec', section, 'extraEnvs'], message: `kubeadm has extraEnvs from v1.31 on (v1beta4), not in v1.${minor}: remove them or set spec.kubernetesVersion to v1.31 or later` });
  }
  const algorithm = file.spec.certificates?.encryptionAlgorithm;
  if (algorithm === 'RSA-3072' || algorithm === 'RSA-4096') problems.push({ path: ['spec', 'certificates', 'encryptionAlgorithm'], message: `kubeadm v1.${minor} knows RSA-2048 and ECDSA-P256 only (encryptionAlgorithm came in v1.31, v1beta4): choose one of those or set spec.kubernetesVersion to v1.31 or later` });
  return problems;
};

/** extraVolumes and extraEnvs: names the API server accepts, absolute paths, one volume per name. */
const componentExtras: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const sections = [
    ['apiServer', file.spec.apiServer],
    ['controllerManager', file.spec.controllerManager],
    ['scheduler', file.spec.scheduler],
    ['etcd', file.spec.etcd],
  ] as const;
  for (const [section, spec] of sections) {
    const volumes = spec && 'extraVolumes' in spec ? (spec.extraVolumes ?? []) : [];
    const seen = new Set<string>();
    volumes.forEach((v, i) => {
      const at = (field: string): PathSegment[] => ['spec', section, 'extraVolumes', i, field];
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v.name)) problems.push({ path: at('name'), message: `"${v.name}" is not a volume name: lower-case letters, digits and '-', at most 63, e.g. audit-log` });
      else if (seen.has(v.name)) problems.push({ path: at('name'), message: `"${v.name}" is named twice in spec.${section}.extraVolumes` });
      seen.add(v.name);
      for (const field of ['hostPath', 'mountPath'] as const) {
        if (!v[field].startsWith('/')) problems.push({ path: at(field), message: `"${v[field]}" is not an absolute path` });
      }
    });
    (spec?.extraEnvs ?? []).forEach((e, i) => {
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) problems.push({ path: ['spec', section, 'extraEnvs', i, 'name'], message: `"${e.name}" is not an environment variable name (letters, digits, '_', '-', '.'; not starting with a digit)` });
    });
  }
  return problems;
};

const extraArgs: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const sections = [
    ['apiServer', file.spec.apiServer?.extraArgs],
    ['controllerManager', file.spec.controllerManager?.extraArgs],
    ['scheduler', file.spec.scheduler?.extraArgs],
    ['kubelet', file.spec.kubelet?.extraArgs],
    ['etcd', file.spec.etcd?.extraArgs],
  ] as const;
  for (const [section, args] of sections) {
    for (const flag of Object.keys(args ?? {})) {
      if (!/^[a-z0-9][a-z0-9.-]*$/i.test(flag)) {
        const bare = flag.replace(/^-+/, '');
        problems.push({ path: ['spec', section, 'extraArgs', flag], message: `"${flag}" is not a flag name; write it without dashes or "=", e.g. ${bare || 'v'}: "2"` });
      }
    }
  }
  return problems;
};

/** Kubernetes' qualified name (label and taint keys): [prefix/]name, the prefix a DNS subdomain. */
const QUALIFIED_NAME_PART = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^((?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const LOWER_DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  const [prefix, name] = parts.length === 2 ? parts : [undefined, key];
  if (parts.length > 2) return 'has more than one "/"';
  if (prefix !== undefined && !LOWER_DNS_NAME.test(prefix)) return `its prefix "${prefix}" is not a lower-case DNS name`;
  if (!QUALIFIED_NAME_PART.test(name)) return 'its name must be 1-63 letters, digits, "-", "_" or "." and start and end with a letter or digit';
  return undefined;
}

/** Labels the kubelet may not give itself (k8s.io/kubelet's IsKubeletLabel): it refuses to start with them. */
function selfLabelRefused(key: string): boolean {
  const namespace = key.includes('/') ? key.split('/')[0]! : '';
  const under = (ns: string) => namespace === ns || namespace.endsWith(`.${ns}`);
  if (!under('kubernetes.io') && !under('k8s.io')) return false;
  return !(KUBELET_LABELS as readonly string[]).includes(key) && !KUBELET_LABEL_NAMESPACES.some(under);
}

/** Node labels and taints: Kubernetes' syntax, the kubelet's limits, one source each (host field or kubelet flag). */
const nodeRegistration: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const flags = file.spec.kubelet?.extraArgs ?? {};
  file.spec.hosts.forEach((h: HostSpec, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['spec', 'hosts', i, ...rest];
    const registers = h.roles.includes('control-plane') || h.roles.includes('worker');
    for (const field of ['labels', 'taints'] as const) {
      if (h[field] !== undefined && !registers) problems.push({ path: at(field), message: `${h.name} registers no Node (only control-plane and worker hosts do); remove ${field}` });
    }
    for (const [key, value] of Object.entries(h.labels ?? {})) {
      const why = qualifiedNameProblem(key);
      if (why) problems.push({ path: at('labels', key), message: `"${key}" is not a label key: ${why}` });
      else if (selfLabelRefused(key)) {
        problems.push({ path: at('labels', key), message: `"${key}" is in a kubernetes.io/k8s.io namespace a kubelet may not label its own Node with (only kubelet.kubernetes.io, node.kubernetes.io and a few names such as topology.kubernetes.io/zone): the kubelet would refuse to start; set it with kubectl label node ${h.name} ${key}=${value}` });
      }
      if (!LABEL_VALUE.test(value)) problems.push({ path: at('labels', key), message: `"${value}" is not a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)` });
    }
    const seen = new Map<string, number>();
    (h.taints ?? []).forEach((t, j) => {
      const why = qualifiedNameProblem(t.key);
      if (why) problems.push({ path: at('taints', j, 'key'), message: `"${t.key}" is not a taint key: ${why}` });
      if (t.value !== undefined && !LABEL_VALUE.test(t.value)) problems.push({ path: at('taints', j, 'value'), message: `"${t.value}" is not a taint value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)` });
      const id = `${t.key}:${t.effect}`;
      const first = seen.get(id);
      if (first !== undefined) problems.push({ path: at('taints', j), message: `repeats spec.hosts[${i}].taints[${first}] (${id}); a Node has one taint per key and effect` });
      else seen.set(id, j);
    });
  });
  const labelled = file.spec.hosts.findIndex((h) => Object.keys(h.labels ?? {}).length > 0);
  if ('node-labels' in flags && labelled >= 0) {
    problems.push({ path: ['spec', 'kubelet', 'extraArgs', 'node-labels'], message: `and spec.hosts[${labelled}].labels both label Nodes; move these labels to the hosts' labels` });
  }
  const tainted = file.spec.hosts.findIndex((h) => h.taints !== undefined && h.roles.includes('worker') && !h.roles.includes('control-plane'));
  if ('register-with-taints' in flags && tainted >= 0) {
    problems.push({ path: ['spec', 'kubelet', 'extraArgs', 'register-with-taints'], message: `and spec.hosts[${tainted}].taints both taint Nodes; move these taints to the hosts' taints` });
  }
  return problems;
};

/** etcd's data directory: reset empties it, so no system directory. */
const etcdDataDir: Rule = (file) => {
  const dir = file.spec.etcd?.dataDir;
  const why = dir === undefined ? undefined : unsafeDataDir(dir);
  const problems: RuleProblem[] = why ? [{ path: ['spec', 'etcd', 'dataDir'], message: `"${dir}" ${why}; give a directory of its own, e.g. /var/lib/etcd` }] : [];
  // The flag alone would move etcd's data off its volume, into the container's own filesystem.
  if ('data-dir' in (file.spec.etcd?.extraArgs ?? {})) problems.push({ path: ['spec', 'etcd', 'extraArgs', 'data-dir'], message: 'is set by spec.etcd.dataDir (the flag and the volume it needs); set that instead' });
  return problems;
};

/** kube-proxy switched off: its configuration would do nothing, and kbuild's builtin network has nothing else to route Services. */
const addonsOff: Rule = (file) => {
  if (file.spec.kubeProxy?.disabled !== true) return [];
  const problems: RuleProblem[] = [];
  if (Object.keys(file.spec.kubeProxy.configuration ?? {}).length > 0) {
    problems.push({ path: ['spec', 'kubeProxy', 'configuration'], message: 'configures kube-proxy, but spec.kubeProxy.disabled installs none; remove one of them' });
  }
  if (file.spec.networking?.cni === 'builtin') {
    problems.push({ path: ['spec', 'kubeProxy', 'disabled'], message: "leaves the builtin pod network with nothing to route Service addresses (pods could not reach the API or DNS through them); keep kube-proxy, or use a pod network that replaces it (cni: { manifest: FILE })" });
  }
  return problems;
};

/** kbuild's builtin pod network routes each node's range to its address: it needs a pod range and nodes that reach each other directly. */
const podNetwork: Rule = (file) => {
  const net = file.spec.networking ?? {};
  if (net.cni !== 'builtin') return [];
  const path: PathSegment[] = [...NET, 'cni'];
  if (net.podSubnet === undefined) return [{ path, message: 'builtin needs spec.networking.podSubnet (each node gets a /24 or /64 of it); set it, e.g. 10.244.0.0/16' }];
  const nodeSubnets = (net.nodeSubnets ?? []).map(parseCidr).filter((c): c is Cidr => c !== undefined);
  if (nodeSubnets.length < 2) return [];
  const nodes = file.spec.hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker'));
  const segmentOf = (h: HostSpec) => nodeSubnets.findIndex((c) => { const a = parseAddress(h.address); return a !== undefined && containsAddress(c, a); });
  const segments = new Set(nodes.map(segmentOf).filter((i) => i >= 0));
  if (segments.size <= 1) return [];
  return [{ path, message: `builtin routes pod traffic straight to each node's address, so every node must be on one network, but the nodes span ${[...segments].map((i) => nodeSubnets[i]!.text).join(', ')}; use your own CNI (cni: { manifest: FILE })` }];
};

/** Component configuration fields the component knows (a typo would be ignored by it); apiVersion and kind are kbuild's. */
const componentConfigurations: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const sections = [
    ['kubelet', 'KubeletConfiguration', file.spec.kubelet?.configuration, KUBELET_CONFIGURATION_FIELDS],
    ['kubeProxy', 'KubeProxyConfiguration', file.spec.kubeProxy?.configuration, KUBE_PROXY_CONFIGURATION_FIELDS],
  ] as const;
  for (const [section, kind, configuration, known] of sections) {
    for (const field of Object.keys(configuration ?? {})) {
      const path: PathSegment[] = ['spec', section, 'configuration', field];
      if (field === 'apiVersion' || field === 'kind') problems.push({ path, message: `is set by kbuild; give only the ${kind} fields to change` });
      else if (!(known as readonly string[]).includes(field)) {
        const guess = closest(field, known);
        problems.push({ path, message: `is not a ${kind} field${guess ? `; did you mean "${guess}"?` : ''}` });
      }
    }
  }
  return problems;
};

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Every string of the file reaches configuration that runs as root (keepalived.conf, which runs
 * scripts; kubeadm-flags.env; static pod manifests; haproxy.cfg) or a command line: a line break
 * there adds lines of its own. Strings are also used as written, so spaces around an address would
 * reach `--advertise-address= 10.0.0.1`. Component configurations are exempt: js-yaml quotes them.
 */
const plainStrings: Rule = (file) => {
  const problems: RuleProblem[] = [];
  const visit = (value: unknown, path: PathSegment[]): void => {
    if (typeof value === 'string') {
      if (CONTROL.test(value)) {
        problems.push({ path, message: `"${value}" contains a line break or control character; kbuild writes this value into configuration run as root, where it could add lines of its own: remove it` });
      } else if (value !== value.trim()) {
        problems.push({ path, message: `"${value}" has spaces around it; write "${value.trim()}"` });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'configuration' && (path.at(-1) === 'kubelet' || path.at(-1) === 'kubeProxy')) continue;
        visit(item, [...path, key]);
      }
    }
  };
  visit(file.metadata, ['metadata']);
  visit(file.spec, ['spec']);
  return problems;
};

/** Linux's limit on interface names (IFNAMSIZ, with its NUL). */
const IFNAMSIZ = 16;

/** keepalived.conf's `interface` takes one word: a Linux interface name (dev_valid_name) that keepalived's syntax keeps whole. */
const interfaceName: Rule = (file) => {
  const name = file.spec.loadBalancer?.interface;
  if (name === undefined || CONTROL.test(name) || name !== name.trim()) return []; // plain-strings reports those
  const path: PathSegment[] = ['spec', 'loadBalancer', 'interface'];
  const invalid = (why: string): RuleProblem[] => [{ path, message: `"${name}" is not a network interface name: ${why}; give the interface that carries the VIP, e.g. eth0` }];
  if (name === '' || name === '.' || name === '..') return invalid('Linux refuses it');
  if (Buffer.byteLength(name) >= IFNAMSIZ) return invalid(`Linux allows at most ${IFNAMSIZ - 1} bytes (IFNAMSIZ), it has ${Buffer.byteLength(name)}`);
  if (/[/:\s]/.test(name)) return invalid(`Linux refuses '/', ':' and spaces in interface names`);
  if (/[#!"{}\\]/.test(name)) return invalid(`keepalived.conf reads # ! " { } and \\ as its own syntax`);
  return [];
};

export const RULES: ReadonlyArray<[name: string, rule: Rule]> = [
  ['plain-strings', plainStrings],
  ['feature-gates', featureGates],
  ['kubeadm-v1beta3', kubeadmV1beta3],
  ['component-extras', componentExtras],
  ['interface-name', interfaceName],
  ['metadata-and-version', metadataAndVersion],
  ['cidr-syntax', cidrSyntax],
  ['dual-stack', dualStack],
  ['range-overlaps', rangeOverlaps],
  ['range-sizes', rangeSizes],
  ['address-placement', addressPlacement],
  ['endpoint', endpointSyntax],
  ['host-identity', hostIdentity],
  ['topology', topology],
  ['load-balancer', loadBalancer],
  ['certificates', certificates],
  ['extra-args', extraArgs],
  ['node-registration', nodeRegistration],
  ['pod-network', podNetwork],
  ['addons-off', addonsOff],
  ['etcd-data-dir', etcdDataDir],
  ['component-configurations', componentConfigurations],
];

/** Every rule's problems; `skip` names rules left out for a partial view of a cluster (see parseClusterFile). */
export function validateCluster(file: ClusterFile, skip: readonly string[] = []): RuleProblem[] {
  const parsed = new Map<string, ParsedAddress | undefined>();
  const ctx: RuleContext = {
    parseAddress: (text) => {
      if (!parsed.has(text)) parsed.set(text, parseAddress(text));
      return parsed.get(text);
    },
  };
  return RULES.filter(([name]) => !skip.includes(name)).flatMap(([, rule]) => rule(file, ctx));
}

