/** Every Kubernetes object kbuild renders validates against the Kubernetes OpenAPI schema (kubernetes-models). */
import yaml from 'js-yaml';
import { describe, expect, test } from 'vitest';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { renderCluster } from '../../../src/render/cluster.js';
import { fixtureContext } from './fixture.js';

interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const MODELS: Record<string, Model> = {
  'v1/Pod': Pod,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** Component configs kubernetes-models has no schema for; they are checked field by field elsewhere. */
const COMPONENT_CONFIGS = new Set(['kubelet.config.k8s.io/v1beta1/KubeletConfiguration']);

describe.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('%s', (example) => {
  test('every rendered Kubernetes object validates against its schema', async () => {
    const rendered = renderCluster(await fixtureContext(example));
    const seen = new Set<string>();
    let checked = 0;
    for (const [host, files] of rendered.hosts) {
      for (const file of files.filter((f) => f.path.endsWith('.yaml'))) {
        for (const document of yaml.loadAll(String(file.content)) as { apiVersion: string; kind: string }[]) {
          const key = `${document.apiVersion}/${document.kind}`;
          if (COMPONENT_CONFIGS.has(key)) continue;
          const model = MODELS[key];
          expect(model, `${host}:${file.path}: no schema model for ${key}`).toBeDefined();
          expect(() => new model!(document as never).validate(), `${host}:${file.path} ${key}`).not.toThrow();
          seen.add(key);
          checked += 1;
        }
      }
    }
    // The first control plane carries every addon kind: all models were exercised.
    expect([...seen].sort()).toEqual(Object.keys(MODELS).sort());
    expect(checked).toBeGreaterThan(20);
  });
});

test('the validator rejects a malformed object (the check above is live)', () => {
  expect(() => new Pod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 'http' }] }] } } as never).validate()).toThrow();
});
