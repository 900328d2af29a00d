/**
 * kbuild's strategic merge patch (src/render/strategic-merge.ts) against Kubernetes' own
 * (k8s.io/apimachinery strategicpatch, the code kubeadm applies a patch file with) on thousands of
 * generated cases over the types kubeadm patches: merge keys that collide, $patch delete/replace
 * (and the invalid merge and unknown values), nulls, $retainKeys, $deleteFromPrimitiveList,
 * $setElementOrder, missing merge keys, kinds that differ. Both must agree on the merged object, list
 * order included, or both refuse the patch. STRATEGIES is checked against the lab's OpenAPI document.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STRATEGIES, strategicMerge, StrategicMergeError, type ApiType, type JsonMap } from '../../src/render/strategic-merge.js';
import { LAB_KUBERNETES_VERSION } from '../support/kube-lab.js';
import { GO, referenceMerges, type ReferenceCase } from '../support/strategic-merge.js';

const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;

const key = fc.constantFrom('a', 'b', 'c');
const orNull = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });
const directive = fc.constantFrom('delete', 'replace', 'merge', 'bogus');
const dict = (values: fc.Arbitrary<unknown>) => fc.dictionary(key, values, { maxKeys: 3 });
const some = <T>(a: fc.Arbitrary<T>, maxLength = 3) => fc.array(a, { maxLength });
const uniqueBy = <T>(a: fc.Arbitrary<T>, by: (v: T) => unknown) => fc.uniqueArray(a, { selector: by, maxLength: 3 });
const optional = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T, required: Array<keyof T> = []) => fc.record(shape, { requiredKeys: required as never[] });
const finalizer = fc.constantFrom('f1', 'f2', 'f3');
const mountPath = fc.constantFrom('/a', '/b', '/c');

const env = optional({ name: key, value: fc.constantFrom('1', '2') }, ['name']);
const port = optional({ containerPort: fc.integer({ min: 1, max: 3 }), protocol: fc.constantFrom('TCP', 'UDP') }, ['containerPort']);
const mount = optional({ mountPath, name: key, readOnly: fc.boolean() }, ['mountPath']);
const container = optional({ name: key, image: fc.constantFrom('i1', 'i2'), command: some(fc.constantFrom('x', 'y')), env: uniqueBy(env, (e) => e.name), ports: uniqueBy(port, (p) => p.containerPort), volumeMounts: uniqueBy(mount, (m) => m.mountPath), resources: optional({ limits: dict(fc.constantFrom('1', '2')) }) }, ['name']);
const volume = optional({ name: key, hostPath: optional({ path: fc.constantFrom('/x', '/y'), type: fc.constantFrom('File', '') }), emptyDir: fc.constant({}), configMap: optional({ name: key }) }, ['name']);
const podSpec = optional({ containers: uniqueBy(container, (c) => c.name), initContainers: uniqueBy(container, (c) => c.name), volumes: uniqueBy(volume, (v) => v.name), tolerations: some(optional({ key, operator: fc.constant('Exists') })), dnsPolicy: fc.constantFrom('Default', 'ClusterFirst') });
const meta = optional({ name: fc.constant('p'), labels: dict(fc.constantFrom('v', 'w')), finalizers: fc.uniqueArray(finalizer, { maxLength: 3 }) });
const pod = optional({ metadata: meta, spec: podSpec });

/** A list item of a patch: an item to merge (sometimes without its merge key), or a directive. */
const itemPatch = <T>(item: fc.Arbitrary<T>, mergeKey: string, keyValues: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 8, arbitrary: item },
    { weight: 2, arbitrary: fc.record({ [mergeKey]: keyValues, $patch: directive }) },
    { weight: 1, arbitrary: fc.record({ $patch: fc.constant('replace') }) },
    { weight: 1, arbitrary: fc.constant({ unrelated: 'x' }) },
  );
const order = (mergeKey: string, keyValues: fc.Arbitrary<unknown>) => fc.uniqueArray(fc.record({ [mergeKey]: keyValues }), { selector: (v) => v[mergeKey], maxLength: 3 });
const envPatch = optional({ name: key, value: orNull(fc.constantFrom('1', '3')) }, ['name']);
const containerPatch = optional(
  {
    name: key,
    image: orNull(fc.constantFrom('i2', 'i3')),
    command: orNull(some(fc.constantFrom('x', 'z'))),
    env: some(itemPatch(envPatch, 'name', key)),
    '$setElementOrder/env': order('name', key),
    ports: some(itemPatch(port, 'containerPort', fc.integer({ min: 1, max: 3 }))),
    volumeMounts: some(itemPatch(optional({ mountPath, name: orNull(key) }, ['mountPath']), 'mountPath', mountPath)),
    resources: fc.oneof(orNull(optional({ limits: dict(orNull(fc.constantFrom('3'))) })), fc.record({ $patch: directive, requests: fc.constant({ cpu: '1' }) })),
  },
  ['name'],
);
const volumePatch = optional(
  { name: key, hostPath: orNull(optional({ path: fc.constantFrom('/y', '/z') })), emptyDir: orNull(fc.constant({})), configMap: optional({ name: key }), $retainKeys: fc.subarray(['name', 'hostPath', 'emptyDir', 'configMap']) },
  ['name'],
);
/** $deleteFromPrimitiveList/finalizers beside finalizers would depend on Go's random map order (which key it merges first): one or the other. */
const metaPatch = optional({
  labels: orNull(dict(orNull(fc.constantFrom('v', 'x')))),
  finalizers: orNull(some(finalizer)),
  '$deleteFromPrimitiveList/finalizers': some(finalizer),
  '$setElementOrder/finalizers': fc.uniqueArray(finalizer, { maxLength: 3 }),
  $patch: fc.constantFrom('replace', 'delete'),
});
const podPatch = optional({
  metadata: fc.oneof(metaPatch.map(({ finalizers: _, ...rest }) => rest), metaPatch.map(({ '$deleteFromPrimitiveList/finalizers': _, ...rest }) => rest)),
  spec: optional({
    containers: orNull(some(itemPatch(containerPatch, 'name', key))),
    '$setElementOrder/containers': order('name', key),
    initContainers: some(itemPatch(containerPatch, 'name', key)),
    volumes: some(itemPatch(volumePatch, 'name', key)),
    tolerations: orNull(some(optional({ key }))),
    dnsPolicy: orNull(fc.oneof(fc.constant('None'), fc.constant(7), fc.constant({ x: 1 }))),
  }),
});
const deployment = optional({ metadata: meta, spec: optional({ replicas: fc.integer({ min: 0, max: 3 }), strategy: optional({ type: fc.constantFrom('RollingUpdate', 'Recreate'), rollingUpdate: optional({ maxUnavailable: fc.constantFrom(1, '25%') }) }), template: optional({ metadata: meta, spec: podSpec }) }) });
const deploymentPatch = optional({
  spec: optional({
    replicas: orNull(fc.integer({ min: 0, max: 3 })),
    strategy: optional({ type: fc.constantFrom('Recreate'), rollingUpdate: orNull(optional({ maxSurge: fc.constant(1) })), $retainKeys: fc.subarray(['type', 'rollingUpdate']) }),
    template: optional({ spec: optional({ containers: some(itemPatch(containerPatch, 'name', key)), tolerations: some(optional({ key })) }) }),
  }),
});
const kubelet = optional({ maxPods: fc.integer({ min: 1, max: 200 }), evictionHard: dict(fc.constantFrom('10%', '1Gi')), allowedUnsafeSysctls: some(fc.constantFrom('s1', 's2')), clusterDNS: some(fc.constantFrom('10.0.0.10')) });
const kubeletPatch = optional({ maxPods: orNull(fc.integer({ min: 1, max: 200 })), evictionHard: orNull(dict(orNull(fc.constantFrom('5%')))), allowedUnsafeSysctls: orNull(some(fc.constantFrom('s2', 's3'))), clusterDNS: fc.constant('not a list') });

const cases = (seed: number): ReferenceCase[] => [
  ...fc.sample(fc.record({ type: fc.constant('Pod' as const), original: pod, patch: podPatch }), { numRuns: 4000, seed }),
  ...fc.sample(fc.record({ type: fc.constant('Deployment' as const), original: deployment, patch: deploymentPatch }), { numRuns: 1000, seed: seed + 1 }),
  ...fc.sample(fc.record({ type: fc.constant('KubeletConfiguration' as const), original: kubelet, patch: kubeletPatch }), { numRuns: 500, seed: seed + 2 }),
];

describe("kbuild's strategic merge patch is Kubernetes'", () => {
  it('merges every generated case as k8s.io/apimachinery does, or refuses the same ones', () => {
    const seed = Number(process.env.KBUILD_SMP_SEED ?? Date.now() % 1_000_000);
    const all = cases(seed);
    const answers = referenceMerges(all);
    const disagreements: string[] = [];
    let merged = 0;
    all.forEach((c, i) => {
      const answer = answers[i]!;
      let ours: { result?: unknown; error?: string };
      try {
        ours = { result: strategicMerge(c.original as JsonMap, c.patch as JsonMap, c.type) };
      } catch (error) {
        if (!(error instanceof StrategicMergeError)) throw error;
        ours = { error: error.message };
      }
      if (answer.error === undefined) merged++;
      const agree = answer.error !== undefined ? ours.error !== undefined : JSON.stringify(sorted(ours.result)) === JSON.stringify(sorted(answer.result));
      if (!agree && disagreements.length < 5) {
        disagreements.push(`${c.type}\n  original ${JSON.stringify(c.original)}\n  patch    ${JSON.stringify(c.patch)}\n  kubernetes ${JSON.stringify(answer.error ?? sorted(answer.result))}\n  kbuild     ${JSON.stringify(ours.error ?? sorted(ours.result))}`);
      }
    });
    expect(disagreements, `seed ${seed} (KBUILD_SMP_SEED=${seed} repeats it):\n${disagreements.join('\n')}`).toEqual([]);
    // The generators must mostly make patches that apply, or the merging itself goes untested.
    expect(merged / all.length).toBeGreaterThan(0.3);
  }, 900_000);

  it("has every strategic field of the types kubeadm patches, as the lab's OpenAPI document gives them", () => {
    // The lab's module (the module cache has it once the lab is built; downloaded again if not).
    const module = JSON.parse(execFileSync(GO, ['mod', 'download', '-json', `k8s.io/kubernetes@${LAB_KUBERNETES_VERSION}`], { encoding: 'utf8', timeout: 600_000 })) as { Dir: string };
    const swagger = JSON.parse(readFileSync(join(module.Dir, 'api/openapi-spec/swagger.json'), 'utf8')) as {
      definitions: Record<string, { properties?: Record<string, { $ref?: string; items?: { $ref?: string }; 'x-kubernetes-patch-strategy'?: string; 'x-kubernetes-patch-merge-key'?: string }> }>;
    };
    const upstream = (definition: string, at: string, out: string[], seen: Set<string>) => {
      for (const [name, p] of Object.entries(swagger.definitions[definition]?.properties ?? {})) {
        const strategy = p['x-kubernetes-patch-strategy'];
        if (strategy) out.push(`${at}${name}: ${strategy.split(',').sort().join(',')} ${p['x-kubernetes-patch-merge-key'] ?? ''}`.trim());
        const ref = (p.$ref ?? p.items?.$ref)?.replace('#/definitions/', '');
        if (ref && !seen.has(ref)) upstream(ref, `${at}${name}.`, out, new Set([...seen, ref]));
      }
      return out;
    };
    const ours = (type: ApiType, at: string, out: string[]) => {
      for (const [name, f] of Object.entries(STRATEGIES[type])) {
        const strategies = [...(f.merge ? ['merge'] : []), ...(f.retainKeys ? ['retainKeys'] : [])];
        if (strategies.length > 0) out.push(`${at}${name}: ${strategies.join(',')} ${f.mergeKey ?? ''}`.trim());
        if (f.type) ours(f.type, `${at}${name}.`, out);
      }
      return out;
    };
    for (const [type, definition] of [['Pod', 'io.k8s.api.core.v1.Pod'], ['Deployment', 'io.k8s.api.apps.v1.Deployment']] as const) {
      expect(ours(type, '', []).sort(), type).toEqual(upstream(definition, '', [], new Set([definition])).sort());
    }
  });
});
