/**
 * Kubernetes' strategic merge patch (k8s.io/apimachinery util/strategicpatch, as kubeadm applies a
 * patch file to a manifest): maps merge; a list merges by its field's merge key where the API type
 * says so (containers by name, volumeMounts by mountPath, …) and is replaced otherwise; null deletes;
 * the directives $patch (replace, delete), $retainKeys, $deleteFromPrimitiveList/<field> and
 * $setElementOrder/<field> do what they do there, and the merged list's order follows the same rules
 * (items the patch names in its order, the others where they were). No maintained JavaScript library
 * does this; the merge keys come from the API types (STRATEGIES, checked against the lab's OpenAPI
 * document by a test).
 */

export type Json = null | boolean | number | string | Json[] | JsonMap;
export type JsonMap = { [key: string]: Json };

/** The API types kbuild patches, and those below them that have strategic fields. */
export type ApiType = 'Pod' | 'Deployment' | 'KubeletConfiguration' | 'DeploymentSpec' | 'DeploymentStatus' | 'PodTemplateSpec' | 'ObjectMeta' | 'PodSpec' | 'Volume' | 'EphemeralVolumeSource' | 'PersistentVolumeClaimTemplate' | 'Container' | 'PodStatus' | 'ContainerStatus';

/** How a field of an API type merges: strategic fields only; any other list is replaced, any other map merged. */
interface FieldStrategy {
  merge?: true;
  retainKeys?: true;
  /** The field that identifies an item of a merged list of objects (none: a list of scalars). */
  mergeKey?: string;
  /** The API type of the field's value (a list's items), when it has strategic fields below it. */
  type?: ApiType;
}

const mergedBy = (mergeKey: string, type?: ApiType): FieldStrategy => ({ merge: true, mergeKey, ...(type ? { type } : {}) });

const CONTAINER: Record<string, FieldStrategy> = { env: mergedBy('name'), ports: mergedBy('containerPort'), volumeDevices: mergedBy('devicePath'), volumeMounts: mergedBy('mountPath') };
const CONTAINER_STATUS: Record<string, FieldStrategy> = { allocatedResourcesStatus: mergedBy('name'), volumeMounts: mergedBy('mountPath') };

/** The patchStrategy/patchMergeKey tags of the types kubeadm patches (v1.Pod, apps/v1.Deployment; KubeletConfiguration has none). */
export const STRATEGIES: Record<ApiType, Record<string, FieldStrategy>> = {
  Pod: { metadata: { type: 'ObjectMeta' }, spec: { type: 'PodSpec' }, status: { type: 'PodStatus' } },
  Deployment: { metadata: { type: 'ObjectMeta' }, spec: { type: 'DeploymentSpec' }, status: { type: 'DeploymentStatus' } },
  KubeletConfiguration: {},
  DeploymentSpec: { strategy: { retainKeys: true }, template: { type: 'PodTemplateSpec' } },
  DeploymentStatus: { conditions: mergedBy('type') },
  PodTemplateSpec: { metadata: { type: 'ObjectMeta' }, spec: { type: 'PodSpec' } },
  ObjectMeta: { finalizers: { merge: true }, ownerReferences: mergedBy('uid') },
  PodSpec: {
    containers: mergedBy('name', 'Container'),
    initContainers: mergedBy('name', 'Container'),
    ephemeralContainers: mergedBy('name', 'Container'),
    hostAliases: mergedBy('ip'),
    imagePullSecrets: mergedBy('name'),
    resourceClaims: { ...mergedBy('name'), retainKeys: true },
    schedulingGates: mergedBy('name'),
    topologySpreadConstraints: mergedBy('topologyKey'),
    volumes: { ...mergedBy('name', 'Volume'), retainKeys: true },
  },
  Volume: { ephemeral: { type: 'EphemeralVolumeSource' } },
  EphemeralVolumeSource: { volumeClaimTemplate: { type: 'PersistentVolumeClaimTemplate' } },
  PersistentVolumeClaimTemplate: { metadata: { type: 'ObjectMeta' } },
  Container: CONTAINER,
  PodStatus: {
    conditions: mergedBy('type'),
    hostIPs: mergedBy('ip'),
    podIPs: mergedBy('ip'),
    resourceClaimStatuses: { ...mergedBy('name'), retainKeys: true },
    containerStatuses: { type: 'ContainerStatus' },
    initContainerStatuses: { type: 'ContainerStatus' },
    ephemeralContainerStatuses: { type: 'ContainerStatus' },
  },
  ContainerStatus: CONTAINER_STATUS,
};


/** A patch that cannot apply (a missing merge key, a bad directive, …), as the API server would refuse it. */
export class StrategicMergeError extends Error {}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

const fieldOf = (type: ApiType | undefined, key: string): FieldStrategy => (type ? (STRATEGIES[type][key] ?? {}) : {});

export const isMap = (v: unknown): v is JsonMap => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Go's reflect kinds of decoded JSON: a value of another kind replaces, never merges. */
const kindOf = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);
const show = (v: Json): string => JSON.stringify(v);

/** Applies `patch` to `original` for a value of API type `type`; neither argument is changed. */
export function strategicMerge(original: JsonMap, patch: JsonMap, type: ApiType): JsonMap {
  return mergeMap(structuredClone(original), structuredClone(patch), type);
}

function mergeMap(original: JsonMap | undefined, patch: JsonMap, type: ApiType | undefined): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return patch;
    }
    if (directive === 'delete') return {};
    throw new StrategicMergeError(`${show(directive ?? null)} is no $patch directive for a map (replace or delete)`);
  }
  const result: JsonMap = original ?? {};
  retainKeys(result, patch);
  setElementOrders(result, patch, type);
  for (const [patchKey, value] of Object.entries(patch)) {
    let key = patchKey;
    const deleteList = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    if (deleteList) key = directiveField(patchKey, DELETE_FROM_PRIMITIVE_LIST);
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (current === undefined || kindOf(current) !== kindOf(value)) {
      if (!deleteList) setWithoutDirectives(result, key, withoutNulls(value));
      continue;
    }
    const field = fieldOf(type, key);
    // No field of these types has the replace strategy: a map always merges.
    if (isMap(current)) result[key] = mergeMap(current, value as JsonMap, field.type);
    else if (Array.isArray(current)) result[key] = field.merge || deleteList ? mergeList(current, value as Json[], field, deleteList).merged : value;
    else setWithoutDirectives(result, key, value);
  }
  return result;
}

function setWithoutDirectives(map: JsonMap, key: string, value: Json): void {
  const [kept, keep] = withoutDirectives(value);
  if (keep) map[key] = kept;
  else delete map[key];
}

/** A map carrying $patch is dropped where there is nothing to merge it with (upstream's removeDirectives). */
function withoutDirectives(value: Json): [Json, boolean] {
  if (isMap(value)) {
    if (Object.hasOwn(value, DIRECTIVE)) return [null, false];
    for (const [k, v] of Object.entries(value)) {
      const [kept, keep] = withoutDirectives(v);
      if (keep) value[k] = kept;
      else delete value[k];
    }
    return [value, true];
  }
  if (Array.isArray(value)) {
    return [value.flatMap((v) => {
      const [kept, keep] = withoutDirectives(v);
      return keep ? [kept] : [];
    }), true];
  }
  return [value, true];
}

/** `value` without its null fields, in place: nulls inside a value that is added, not merged, mean nothing (upstream's discardNullValuesFromPatch). */
export function withoutNulls(value: Json): Json {
  if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete value[k];
      else withoutNulls(v);
    }
  }
  else if (Array.isArray(value)) value.forEach(withoutNulls);
  return value;
}

function directiveField(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new StrategicMergeError(`${key}: a ${prefix} directive is written ${prefix}/<field>`);
  return key.slice(slash + 1);
}

function retainKeys(original: JsonMap, patch: JsonMap): void {
  if (!(Object.hasOwn(patch, RETAIN_KEYS))) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw new StrategicMergeError(`${RETAIN_KEYS} is a list of the fields to keep, not ${show(list ?? null)}`);
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw new StrategicMergeError(`the patch sets ${k}, which its ${RETAIN_KEYS} list does not keep`);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** $setElementOrder/<field>: the merged list in the order given (upstream's mergePatchIntoOriginal). */
function setElementOrders(original: JsonMap, patch: JsonMap, type: ApiType | undefined): void {
  for (const [directiveKey, order] of Object.entries(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw new StrategicMergeError(`${directiveKey} is a list, not ${show(order)}`);
    const key = directiveField(directiveKey, SET_ELEMENT_ORDER);
    const field = fieldOf(type, key);
    const mergeKey = field.mergeKey ?? '';
    const [current, patched] = [original[key], patch[key]];
    if (current !== undefined && !Array.isArray(current)) throw new StrategicMergeError(`${key} is not a list, so ${directiveKey} cannot order it`);
    if (patched !== undefined && !Array.isArray(patched)) throw new StrategicMergeError(`${key} is not a list, so ${directiveKey} cannot order it`);
    checkOrderCoversPatch(patched ?? [], order, mergeKey, directiveKey);
    let merged: Json[];
    let server = current ?? [];
    if (current !== undefined && patched === undefined) merged = current;
    else if (current === undefined && patched !== undefined) merged = withoutDirectives(patched)[0] as Json[];
    else if (current !== undefined && patched !== undefined) {
      if (field.merge) ({ merged, callerView: server } = mergeList(current, patched, field, false));
      else merged = patched;
    } else continue;
    const kind = elementKind(server, patched ?? [], key);
    const [named, others] = partition(merged, order, mergeKey, kind);
    original[key] = normalizedOrder(named, others, order, server, mergeKey, kind);
    delete patch[key];
  }
}

/** The patch's items must appear in $setElementOrder, in the same relative order. */
function checkOrderCoversPatch(patchList: Json[], order: Json[], mergeKey: string, directiveKey: string): void {
  if (patchList.length === 0 || order.length === 0) return;
  const items = mergeKey ? patchList.filter((v) => !(isMap(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let [i, j] = [0, 0];
  while (i < items.length && j < order.length) {
    const item = items[i]!;
    if (isMap(item) && Object.hasOwn(item, DIRECTIVE)) i++;
    else {
      if (sameItem(item, order[j]!, mergeKey)) i++;
      j++;
    }
  }
  if (i < items.length) throw new StrategicMergeError(`the list's items are not in the order ${directiveKey} gives (${show(order)})`);
}

function sameItem(a: Json, b: Json, mergeKey: string): boolean {
  if (!mergeKey) return a === b;
  if (!isMap(a) || !isMap(b)) throw new StrategicMergeError(`${show(isMap(a) ? b : a)} is not an object, but the list merges by ${mergeKey}`);
  if (!(Object.hasOwn(a, mergeKey)) || !(Object.hasOwn(b, mergeKey))) throw new StrategicMergeError(`${show(Object.hasOwn(a, mergeKey) ? b : a)} has no ${mergeKey}, the list's merge key`);
  return a[mergeKey] === b[mergeKey];
}

/** The kind of a list's items: one kind, no lists of lists (upstream's sliceElementType). */
function elementKind(a: Json[], b: Json[], key: string): string {
  let kind: string | undefined;
  for (const v of [...a, ...b]) {
    const k = kindOf(v);
    if (k === 'list') throw new StrategicMergeError(`${key}: a list of lists cannot be merged`);
    if (k === 'null') throw new StrategicMergeError(`${key}: a list item is null`);
    if (kind !== undefined && kind !== k) throw new StrategicMergeError(`${key}: the list mixes ${kind} and ${k} items`);
    kind = k;
  }
  if (kind === undefined) throw new StrategicMergeError(`${key}: no items to merge`);
  return kind;
}

/**
 * A merged list, and the original as the caller's Go slice sees it afterwards: upstream deletes,
 * merges and appends in the caller's backing array (a JSON-decoded slice has a power-of-two capacity),
 * and $setElementOrder then orders by that array, so kbuild keeps the same array to order by.
 */
function mergeList(original: Json[], patch: Json[], field: FieldStrategy, deleteList: boolean): { merged: Json[]; callerView: Json[] } {
  if (original.length === 0 && patch.length === 0) return { merged: original, callerView: original };
  const kind = elementKind(original, patch, 'list');
  const mergeKey = field.mergeKey ?? '';
  if (kind !== 'object') {
    if (deleteList) return { merged: original.filter((v) => !patch.includes(v)), callerView: original };
    const merged = [...new Set([...original, ...patch])];
    const [named, others] = partition(merged, patch, mergeKey, kind);
    return { merged: normalizedOrder(named, others, patch, original, mergeKey, kind), callerView: original };
  }
  if (!mergeKey) throw new StrategicMergeError('a list of objects without a merge key cannot be merged');
  const backing: Json[] = [...original];
  let slice = { array: backing, length: original.length, capacity: goCapacity(original.length) };
  const plain: Json[] = [];
  let replace = false;
  for (const item of patch as JsonMap[]) {
    if (!(Object.hasOwn(item, DIRECTIVE))) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!(Object.hasOwn(item, mergeKey))) throw new StrategicMergeError(`${show(item)}: $patch: delete needs the item's ${mergeKey}`);
      for (let at = findByKey(slice.array, slice.length, mergeKey, item[mergeKey]!); at >= 0; at = findByKey(slice.array, slice.length, mergeKey, item[mergeKey]!)) {
        slice.array.copyWithin(at, at + 1, slice.length);
        slice.length--;
      }
    } else if (directive === 'replace') replace = true;
    else if (directive === 'merge') throw new StrategicMergeError('$patch: merge is not supported in a list');
    else throw new StrategicMergeError(`${show(directive ?? null)} is no $patch directive for a list item (delete or replace)`);
  }
  // $patch: replace makes the patch's other items the list (a new array: the caller's is left as it is).
  if (replace) slice = { array: [...plain], length: plain.length, capacity: goCapacity(plain.length) };
  const patchItems = replace ? [] : plain;
  const server = slice.array.slice(0, slice.length);
  for (const item of patchItems as JsonMap[]) {
    if (!(Object.hasOwn(item, mergeKey))) throw new StrategicMergeError(`${show(item)} has no ${mergeKey}, the list's merge key`);
    const at = findByKey(slice.array, slice.length, mergeKey, item[mergeKey]!);
    if (at >= 0) slice.array[at] = mergeMap(slice.array[at] as JsonMap, item, field.type);
    else if (slice.length < slice.capacity) slice.array[slice.length++] = item;
    else slice = { array: [...slice.array.slice(0, slice.length), item], length: slice.length + 1, capacity: 2 * Math.max(1, slice.capacity) };
  }
  const merged = slice.array.slice(0, slice.length);
  const [named, others] = partition(merged, patchItems, mergeKey, kind);
  return { merged: normalizedOrder(named, others, patchItems, server, mergeKey, kind), callerView: backing.slice(0, original.length) };
}

/** encoding/json grows a decoded slice by appending: its capacity is the next power of two. */
const goCapacity = (length: number): number => (length === 0 ? 0 : 2 ** Math.ceil(Math.log2(length)));

function findByKey(array: readonly Json[], length: number, mergeKey: string, value: Json): number {
  for (let i = 0; i < length; i++) {
    const v = array[i]!;
    if (!isMap(v)) throw new StrategicMergeError(`${show(v)} is not an object, but the list merges by ${mergeKey}`);
    if (v[mergeKey] === value) return i;
  }
  return -1;
}

/** [items `by` names, the rest], each in merged order. */
function partition(merged: Json[], by: Json[], mergeKey: string, kind: string): [Json[], Json[]] {
  const named: Json[] = [];
  const others: Json[] = [];
  for (const v of merged) {
    if (kind === 'object' && !(isMap(v) && Object.hasOwn(v, mergeKey))) throw new StrategicMergeError(`${show(v)} has no ${mergeKey}, the list's merge key`);
    (indexIn(by, v, mergeKey, kind) >= 0 ? named : others).push(v);
  }
  return [named, others];
}

function indexIn(list: Json[], item: Json, mergeKey: string, kind: string): number {
  const value = (v: Json) => (kind === 'object' ? (isMap(v) ? v[mergeKey] : undefined) : v);
  const wanted = value(item);
  return list.findIndex((v) => value(v) === wanted);
}

/**
 * The patch's items in the patch's order, the others in the original's, woven together: an item that
 * was in the original goes before a patch item only when it came before it there (upstream's
 * normalizeElementOrder and mergeSortedSlice: a new item leads).
 */
function normalizedOrder(named: Json[], others: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, kind: string): Json[] {
  const sortBy = (items: Json[], order: Json[]) => {
    const deleting = kind === 'object' ? items.filter((v) => isMap(v) && v[DIRECTIVE] === 'delete') : [];
    const rest = items.filter((v) => !deleting.includes(v));
    if (kind === 'object') for (const v of [...rest, ...order]) if (!isMap(v) || !(Object.hasOwn(v, mergeKey))) throw new StrategicMergeError(`${show(v)} has no ${mergeKey}, the list's merge key`);
    // Upstream's "less" holds for any pair with an item the order lacks (an item $setElementOrder does
    // not name): the result then depends on the sort algorithm, so it is Go's.
    const less = (a: Json, b: Json) => {
      const [ia, ib] = [indexIn(order, a, mergeKey, kind), indexIn(order, b, mergeKey, kind)];
      return ia >= 0 && ib >= 0 ? ia < ib : true;
    };
    return [...goStableSort(rest, less), ...deleting];
  };
  const left = sortBy(others, serverOrder);
  const right = sortBy(named, patchOrder);
  const woven: Json[] = [];
  let [i, j] = [0, 0];
  while (i < left.length || j < right.length) {
    if (j >= right.length) woven.push(left[i++]!);
    else if (i >= left.length) woven.push(right[j++]!);
    else {
      const [li, ri] = [indexIn(serverOrder, left[i]!, mergeKey, kind), indexIn(serverOrder, right[j]!, mergeKey, kind)];
      if (li >= 0 && ri >= 0 && li < ri) woven.push(left[i++]!);
      else woven.push(right[j++]!);
    }
  }
  return woven;
}

/**
 * Go's sort.SliceStable (insertion sort of blocks of 20, then SymMerge), step for step, so that a
 * "less" that is no order gives the same list as upstream's.
 */
function goStableSort<T>(input: readonly T[], less: (a: T, b: T) => boolean): T[] {
  const data = [...input];
  const lessAt = (i: number, j: number) => less(data[i]!, data[j]!);
  const swap = (i: number, j: number) => ([data[i], data[j]] = [data[j]!, data[i]!]);
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, n: number) => {
    for (let i = 0; i < n; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number) => {
    let [i, j] = [m - a, b - m];
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let [i, j] = [m, b];
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let [i, j] = [a, m];
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const n = mid + m;
    let [start, r] = m > mid ? [n - b, mid] : [a, m];
    const p = n - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = n - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  const n = data.length;
  let blockSize = 20;
  let [a, b] = [0, blockSize];
  while (b <= n) {
    insertionSort(a, b);
    [a, b] = [b, b + blockSize];
  }
  insertionSort(a, n);
  while (blockSize < n) {
    [a, b] = [0, 2 * blockSize];
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      [a, b] = [b, b + 2 * blockSize];
    }
    if (a + blockSize < n) symMerge(a, a + blockSize, n);
    blockSize *= 2;
  }
  return data;
}
