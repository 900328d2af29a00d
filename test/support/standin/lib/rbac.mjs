// RBAC as the real apiserver evaluates it, enough for kbuild: the built-in bootstrap policy
// (cluster-admin for system:masters, discovery and health for everyone) plus the Roles, ClusterRoles
// and bindings stored in etcd. Service-account subjects are not modelled.
const rule = (verbs, apiGroups, resources, extra = {}) => ({ verbs, apiGroups, resources, ...extra });

const BUILT_IN_CLUSTER_ROLES = {
  'cluster-admin': [rule(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }],
  'system:discovery': [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] }],
  'system:public-info-viewer': [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }],
};

const BUILT_IN_BINDINGS = [
  { roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:masters' }] },
  { roleRef: { kind: 'ClusterRole', name: 'system:discovery' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { roleRef: { kind: 'ClusterRole', name: 'system:public-info-viewer' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }] },
];

const has = (list, value) => (list ?? []).includes('*') || (list ?? []).includes(value);

function ruleAllows(r, attrs) {
  if (!has(r.verbs, attrs.verb)) return false;
  if (attrs.nonResourcePath !== undefined) {
    return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === attrs.nonResourcePath || (u.endsWith('*') && attrs.nonResourcePath.startsWith(u.slice(0, -1))));
  }
  if (!has(r.apiGroups, attrs.group) || !has(r.resources, attrs.resource)) return false;
  return !r.resourceNames?.length || (attrs.name !== undefined && r.resourceNames.includes(attrs.name));
}

const bindsUser = (binding, user) =>
  (binding.subjects ?? []).some((s) => (s.kind === 'User' && s.name === user.name) || (s.kind === 'Group' && user.groups.includes(s.name)));

/**
 * @param objects async (resource, namespace?) => stored objects of a resource (etcd)
 * @returns whether `user` may do `attrs` ({ verb, group, resource, namespace, name } or { verb, nonResourcePath })
 */
export async function authorize(objects, user, attrs) {
  const clusterRoles = new Map(Object.entries(BUILT_IN_CLUSTER_ROLES));
  // The bootstrap policy needs no storage, so system:masters and health checks work with etcd down.
  for (const binding of BUILT_IN_BINDINGS) {
    if (bindsUser(binding, user) && clusterRoles.get(binding.roleRef.name).some((r) => ruleAllows(r, attrs))) return true;
  }
  for (const role of await objects('clusterroles')) clusterRoles.set(role.metadata.name, role.rules ?? []);
  const rulesOf = async (roleRef, namespace) => {
    if (roleRef.kind === 'ClusterRole') return clusterRoles.get(roleRef.name) ?? [];
    const role = (await objects('roles', namespace)).find((r) => r.metadata.name === roleRef.name);
    return role?.rules ?? [];
  };
  for (const binding of await objects('clusterrolebindings')) {
    if (bindsUser(binding, user) && (await rulesOf(binding.roleRef)).some((r) => ruleAllows(r, attrs))) return true;
  }
  if (attrs.namespace === undefined) return false;
  for (const binding of await objects('rolebindings', attrs.namespace)) {
    if (bindsUser(binding, user) && (await rulesOf(binding.roleRef, attrs.namespace)).some((r) => ruleAllows(r, attrs))) return true;
  }
  return false;
}
