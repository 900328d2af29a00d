// Create, get, list, replace, patch and delete of API objects kept in etcd under /registry/.
// Mirrors the apiserver's observable behaviour kbuild relies on: 201/200/404/409 with Status
// bodies, resourceVersion from etcd's revision, Secret stringData folded into data, and a status
// on DaemonSets and Deployments as if every pod were running (the stand-in plays the kubelets).
import { Buffer } from 'node:buffer';
import { randomUUID, randomBytes } from 'node:crypto';
import { groupVersion, RESOURCES } from './api-resources.mjs';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class ApiError extends Error {
  constructor(code, reason, message) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export function statusBody(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, code };
}

const keyFor = (r, namespace, name) => `/registry/${r.name}/${r.namespaced ? `${namespace}/` : ''}${name ?? ''}`;
const clone = (value) => JSON.parse(JSON.stringify(value));

export function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function jsonPatch(target, operations) {
  const result = clone(target);
  for (const op of operations) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    let parent = result;
    for (const part of parts) {
      parent = parent?.[Array.isArray(parent) ? Number(part) : part];
      if (parent === undefined) throw new ApiError(422, 'Invalid', `json patch: path ${op.path} does not exist`);
    }
    if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new ApiError(422, 'Invalid', `json patch: test of ${op.path} failed`);
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'add' && Array.isArray(parent)) {
      parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
    } else if (op.op === 'add' || op.op === 'replace') {
      parent[Array.isArray(parent) ? Number(last) : last] = op.value;
    } else {
      throw new ApiError(422, 'Invalid', `json patch: operation ${op.op} is not supported by the stand-in`);
    }
  }
  return result;
}

/** What the apiserver does to every object it stores. */
function normalise(r, object) {
  if (r.kind === 'Secret' && object.stringData) {
    object.data = { ...(object.data ?? {}) };
    for (const [key, value] of Object.entries(object.stringData)) object.data[key] = Buffer.from(String(value), 'utf8').toString('base64');
    delete object.stringData;
  }
  if (r.kind === 'Secret' && !object.type) object.type = 'Opaque';
  delete object.metadata.resourceVersion;
  return object;
}

export class ApiObjects {
  /** @param etcd EtcdClient; @param onChange called after every successful write */
  constructor(etcd, onChange) {
    this.etcd = etcd;
    this.onChange = onChange;
  }

  async objects(resourceName, namespace) {
    const r = RESOURCES.find((x) => x.name === resourceName);
    const prefix = r.namespaced && namespace !== undefined ? keyFor(r, namespace) : `/registry/${r.name}/`;
    return (await this.etcd.list(prefix)).items.map((item) => this.present(r, item));
  }

  /** Every stored object, for the JSON dump tests read. */
  async all() {
    const out = [];
    for (const r of RESOURCES) out.push(...(await this.etcd.list(`/registry/${r.name}/`)).items.map((item) => this.present(r, item)));
    return out;
  }

  present(r, { value, revision }) {
    const object = { ...value, metadata: { ...value.metadata, resourceVersion: String(revision) } };
    if (r.kind === 'DaemonSet' || r.kind === 'Deployment') object.status = this.workloadStatus(r, object);
    return object;
  }

  workloadStatus(r, object) {
    const generation = object.metadata.generation ?? 1;
    if (r.kind === 'Deployment') {
      const replicas = object.spec?.replicas ?? 1;
      return {
        observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
      };
    }
    const nodes = Math.max(1, this.nodeCount ?? 1);
    return { observedGeneration: generation, desiredNumberScheduled: nodes, currentNumberScheduled: nodes, updatedNumberScheduled: nodes, numberReady: nodes, numberAvailable: nodes, numberMisscheduled: 0 };
  }

  async ensureDefaultNamespaces() {
    const r = RESOURCES.find((x) => x.kind === 'Namespace');
    for (const name of DEFAULT_NAMESPACES) {
      await this.etcd.create(keyFor(r, undefined, name), { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: randomUUID(), creationTimestamp: new Date().toISOString() }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    }
  }

  async requireNamespace(r, namespace) {
    if (!r.namespaced) return;
    const ns = RESOURCES.find((x) => x.kind === 'Namespace');
    if (!(await this.etcd.get(keyFor(ns, undefined, namespace)))) throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`);
  }

  async load(r, namespace, name) {
    const found = await this.etcd.get(keyFor(r, namespace, name));
    if (!found) throw new ApiError(404, 'NotFound', `${r.name}${r.group ? `.${r.group}` : ''} "${name}" not found`);
    return found;
  }

  checkBody(r, namespace, name, body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'BadRequest', 'the request body is not an object');
    if (body.kind !== undefined && body.kind !== r.kind) throw new ApiError(400, 'BadRequest', `the body's kind ${body.kind} does not match ${r.kind}`);
    if (body.apiVersion !== undefined && body.apiVersion !== groupVersion(r)) throw new ApiError(400, 'BadRequest', `the body's apiVersion ${body.apiVersion} does not match ${groupVersion(r)}`);
    const meta = body.metadata ?? {};
    if (r.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) throw new ApiError(400, 'BadRequest', `the namespace of the provided object (${meta.namespace}) does not match the namespace sent on the request (${namespace})`);
    if (name !== undefined && meta.name !== undefined && meta.name !== name) throw new ApiError(400, 'BadRequest', `the name of the object (${meta.name}) does not match the name on the URL (${name})`);
  }

  async create(r, namespace, body) {
    this.checkBody(r, namespace, undefined, body);
    await this.requireNamespace(r, namespace);
    const meta = { ...(body.metadata ?? {}) };
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    if (!meta.name) throw new ApiError(422, 'Invalid', `${r.kind}: metadata.name: Required value`);
    const object = normalise(r, { ...clone(body), apiVersion: groupVersion(r), kind: r.kind, metadata: { ...meta, ...(r.namespaced ? { namespace } : {}), uid: randomUUID(), creationTimestamp: new Date().toISOString(), ...(r.kind === 'DaemonSet' || r.kind === 'Deployment' ? { generation: 1 } : {}) } });
    delete object.status;
    const revision = await this.etcd.create(keyFor(r, namespace, meta.name), object);
    if (revision === undefined) throw new ApiError(409, 'AlreadyExists', `${r.name}${r.group ? `.${r.group}` : ''} "${meta.name}" already exists`);
    await this.onChange();
    return this.present(r, { value: object, revision });
  }

  async get(r, namespace, name) {
    if (r.kind === 'DaemonSet') this.nodeCount = (await this.objects('nodes')).length;
    return this.present(r, await this.load(r, namespace, name));
  }

  async list(r, namespace, labelSelector) {
    if (r.kind === 'DaemonSet') this.nodeCount = (await this.objects('nodes')).length;
    const { items, revision } = await this.etcd.list(r.namespaced && namespace !== undefined ? keyFor(r, namespace) : `/registry/${r.name}/`);
    const wanted = (labelSelector ?? '').split(',').filter(Boolean).map((term) => term.split('='));
    const matches = (o) => wanted.every(([k, v]) => (o.metadata.labels ?? {})[k] === v);
    return { kind: `${r.kind}List`, apiVersion: groupVersion(r), metadata: { resourceVersion: String(revision ?? '0') }, items: items.map((item) => this.present(r, item)).filter(matches) };
  }

  /** Stores `next` in place of `current` (same uid and creation time; generation bumped on spec change). */
  async store(r, namespace, name, current, next) {
    const object = normalise(r, { ...clone(next), apiVersion: groupVersion(r), kind: r.kind });
    object.metadata = { ...object.metadata, name, ...(r.namespaced ? { namespace } : {}), uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp };
    if (current.metadata.generation !== undefined) {
      const changed = JSON.stringify(current.spec) !== JSON.stringify(object.spec);
      object.metadata.generation = current.metadata.generation + (changed ? 1 : 0);
    }
    delete object.status;
    const revision = await this.etcd.put(keyFor(r, namespace, name), object);
    await this.onChange();
    return this.present(r, { value: object, revision });
  }

  async replace(r, namespace, name, body) {
    this.checkBody(r, namespace, name, body);
    const current = await this.load(r, namespace, name);
    const sent = body.metadata?.resourceVersion;
    if (sent !== undefined && sent !== String(current.revision)) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.name} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    return this.store(r, namespace, name, current.value, body);
  }

  /** PATCH; server-side apply (apply-patch) creates a missing object, the other kinds need one. */
  async patch(r, namespace, name, contentType, body) {
    const type = (contentType ?? '').split(';')[0].trim();
    const existing = await this.etcd.get(keyFor(r, namespace, name));
    if (type === 'application/apply-patch+yaml') {
      this.checkBody(r, namespace, name, body);
      if (!existing) return { created: true, object: await this.create(r, namespace, { ...body, metadata: { ...(body.metadata ?? {}), name } }) };
      return { created: false, object: await this.store(r, namespace, name, existing.value, mergePatch(existing.value, body)) };
    }
    if (!existing) throw new ApiError(404, 'NotFound', `${r.name}${r.group ? `.${r.group}` : ''} "${name}" not found`);
    let next;
    // Strategic merge is approximated by a JSON merge patch: kbuild's patches set fields, not list items.
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') next = mergePatch(existing.value, body);
    else if (type === 'application/json-patch+json') next = jsonPatch(existing.value, body);
    else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    return { created: false, object: await this.store(r, namespace, name, existing.value, next) };
  }

  async delete(r, namespace, name) {
    const current = await this.load(r, namespace, name);
    await this.etcd.delete(keyFor(r, namespace, name));
    await this.onChange();
    return this.present(r, current);
  }
}
