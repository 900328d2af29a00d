/**
 * The patch files of spec.patches.directory over what kbuild renders for their target, as kubeadm's
 * PatchManager applies them: files in directory order, each document in file order, each by its
 * type (strategic: Kubernetes' strategic merge patch; merge: RFC 7386; json: RFC 6902). A static pod
 * or the CoreDNS Deployment is then read back as its API type, so a field set to null is absent; the
 * kubelet's configuration is written as patched, as kubeadm writes it.
 */
import { createRequire } from 'node:module';
import jsonPatch from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import type { PatchFile, PatchTarget, PatchType } from '../config/patches.js';
import { ConfigError } from '../errors/index.js';
import { isMap, strategicMerge, withoutNulls, type ApiType, type Json, type JsonMap } from './strategic-merge.js';

const TARGETS: Record<PatchTarget, { type: ApiType; what: string; typed: boolean }> = {
  etcd: { type: 'Pod', what: "etcd's static pod", typed: true },
  'kube-apiserver': { type: 'Pod', what: "kube-apiserver's static pod", typed: true },
  'kube-controller-manager': { type: 'Pod', what: "kube-controller-manager's static pod", typed: true },
  'kube-scheduler': { type: 'Pod', what: "kube-scheduler's static pod", typed: true },
  kubeletconfiguration: { type: 'KubeletConfiguration', what: "the kubelet's configuration (config.yaml)", typed: false },
  corednsdeployment: { type: 'Deployment', what: 'the CoreDNS Deployment', typed: true },
};

/**
 * kubeadm decodes a patched Pod or Deployment into its API type, which refuses a value of the wrong
 * type (`value: 2` for a string): kbuild checks it against the type's OpenAPI schema (kubernetes-models),
 * loaded only when a cluster has patches (it takes a tenth of a second).
 */
type Validator = (object: unknown) => void;
const require = createRequire(import.meta.url);
const VALIDATORS: Partial<Record<ApiType, () => Validator>> = {
  Pod: () => {
    const { Pod } = require('kubernetes-models/v1/Pod') as { Pod: new (data: unknown) => { validate(): void } };
    return (object) => new Pod(object).validate();
  },
  Deployment: () => {
    const { Deployment } = require('kubernetes-models/apps/v1/Deployment') as { Deployment: new (data: unknown) => { validate(): void } };
    return (object) => new Deployment(object).validate();
  },
};

function applyOne(type: PatchType, target: Json, patch: unknown, apiType: ApiType): Json {
  switch (type) {
    case 'json':
      return jsonPatch.applyPatch(target, patch as jsonPatch.Operation[], true, false).newDocument;
    case 'merge':
      return mergePatch.apply(structuredClone(target), patch) as Json;
    case 'strategic':
      if (!isMap(target)) throw new Error('the object patched so far is no longer a mapping');
      return strategicMerge(target, patch as JsonMap, apiType);
  }
}

/** The kind, apiVersion and name kbuild writes and watches the object by must survive the patches. */
function identityOf(value: unknown): string {
  if (!isMap(value)) return 'no mapping';
  const metadata = isMap(value['metadata']) ? value['metadata'] : {};
  const text = (v: Json | undefined) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return `${text(value['apiVersion'])} ${text(value['kind'])} ${text(metadata['namespace'])}/${text(metadata['name'])}`;
}

/** `object` with every patch for `target` applied; `object` itself when there is none. */
export function withPatches<T>(patches: readonly PatchFile[], target: PatchTarget, object: T): T {
  const files = patches.filter((f) => f.target === target);
  if (files.length === 0) return object;
  const { type: apiType, what, typed } = TARGETS[target];
  // The object as JSON, as kubeadm patches its serialisation (undefined fields are not there).
  let data = JSON.parse(JSON.stringify(object)) as Json;
  const identity = identityOf(data);
  for (const file of files) {
    for (const { line, value } of file.patches) {
      try {
        data = applyOne(file.type, data, value, apiType);
      } catch (error) {
        const { index, operation } = error as { index?: number; operation?: { op?: string; path?: string } };
        const which = file.type === 'json' && index !== undefined ? `operation ${index} (${operation?.op ?? '?'} ${operation?.path ?? '?'}): ` : '';
        const reason = which + (error as Error).message.split('\n')[0];
        throw new ConfigError(file.file, [{ path: '', line, message: `this ${file.type} patch cannot be applied to ${what}: ${reason}` }]);
      }
    }
    if (typed && identityOf(data) !== identity) {
      throw new ConfigError(file.file, [{ path: '', message: `after this file's patches ${what} is ${identityOf(data)}, not ${identity}: a patch may not change the object's apiVersion, kind, namespace or name` }]);
    }
    if (!typed && !isMap(data)) throw new ConfigError(file.file, [{ path: '', message: `after this file's patches ${what} is no longer a mapping` }]);
  }
  if (!typed) return data as T;
  // What a typed decode keeps: a null field is Go's zero value, which the manifest omits (`data` is this call's own copy).
  const result = withoutNulls(data);
  try {
    VALIDATORS[apiType]?.()(result);
  } catch (error) {
    const where = files.map((f) => f.file).join(', ');
    throw new ConfigError(files.at(-1)!.file, [{ path: '', message: `after the patches for it (${where}) ${what} is no valid ${apiType}: ${(error as Error).message.replace(/^data\//, '').split('\n')[0]}; kubeadm would refuse it too` }]);
  }
  return result as T;
}
