// The API resources the stand-in apiserver serves (those kbuild's API phases use) and the
// discovery documents describing them, in the shapes kubectl and @kubernetes/client-node expect.
const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'];

const resource = (group, version, name, kind, namespaced, shortNames) => ({ group, version, name, kind, namespaced, shortNames });

export const RESOURCES = [
  resource('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  resource('', 'v1', 'secrets', 'Secret', true),
  resource('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa']),
  resource('', 'v1', 'services', 'Service', true, ['svc']),
  resource('', 'v1', 'nodes', 'Node', false, ['no']),
  resource('', 'v1', 'namespaces', 'Namespace', false, ['ns']),
  resource('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds']),
  resource('apps', 'v1', 'deployments', 'Deployment', true, ['deploy']),
  resource('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  resource('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  resource('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  resource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

export const groupVersion = (r) => (r.group ? `${r.group}/${r.version}` : r.version);

export function findResource(group, version, name) {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
}

const GROUPS = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];

function resourceList(group, version) {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.map((r) => ({
      name: r.name,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    })),
  };
}

function groupEntry(group) {
  const gv = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [gv], preferredVersion: gv };
}

const apiGroup = (group) => ({ kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) });

/** The discovery document for a path, or undefined when the path is not a discovery path. */
export function discovery(path) {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/api/v1') return resourceList('', 'v1');
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map((g) => groupEntry(g)) };
  const match = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (match && GROUPS.includes(match[1])) return match[2] ? resourceList(match[1], match[2]) : apiGroup(match[1]);
  return undefined;
}
