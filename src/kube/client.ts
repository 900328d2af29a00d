/**
 * The Kubernetes API as kbuild uses it: server-side apply of rendered objects and reads for
 * health gates, through @kubernetes/client-node with a generated kubeconfig. Every request is
 * retried while the API server is not answering (retry.ts), so no caller wraps its calls; a
 * failure for good is one ApiError naming server, verb, object and identity. A recording client
 * stands in for dry-runs and lists what would be sent, with secret values masked.
 */
import type * as ClientNodeModule from '@kubernetes/client-node';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { ApiError } from '../errors/index.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { retrying, type RetryOptions } from './retry.js';

type ClientNode = typeof ClientNodeModule;

export const FIELD_MANAGER = 'kbuild';

export interface ApiClient {
  /** Creates or updates each object (server-side apply, kbuild as field manager); returns what the server stored. */
  apply(objects: readonly KubernetesObject[]): Promise<KubernetesObject[]>;
  /** The object, or undefined when it does not exist. */
  read(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubernetesObject | undefined>;
  /** Every object of a kind in a namespace. */
  list(apiVersion: string, kind: string, namespace: string | undefined): Promise<KubernetesObject[]>;
  /** Deletes the object; false when it did not exist. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean>;
  /** A JSON merge patch (RFC 7386) of an existing object, e.g. a Node's labels and taints. */
  mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: object): Promise<KubernetesObject>;
}

const ref = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });

/** The patch body addressed to its object: client-node takes the target from the body's metadata. */
const withTarget = (target: ReturnType<typeof ref>, patch: object) => ({ ...target, ...patch, metadata: { ...((patch as { metadata?: object }).metadata ?? {}), ...target.metadata } });

/** A client for the kubeconfig's server and user; `retry` tunes the retry window (tests). */
export function apiClientFromKubeconfig(kubeconfig: string, retry: RetryOptions = {}): ApiClient {
  const parsed = (() => {
    try {
      return parseKubeconfig(kubeconfig);
    } catch {
      return undefined;
    }
  })();
  const server = parsed?.server || 'unknown server';
  const user = parsed?.user || 'unknown user';
  let session: Promise<{ api: KubernetesObjectApi; PatchStrategy: ClientNode['PatchStrategy'] }> | undefined;
  // @kubernetes/client-node takes most of a second to load: only commands that talk to the API pay for it.
  const open = () =>
    (session ??= import('@kubernetes/client-node').then((lib) => {
      const config = new lib.KubeConfig();
      config.loadFromString(kubeconfig);
      return { api: lib.KubernetesObjectApi.makeApiClient(config), PatchStrategy: lib.PatchStrategy };
    }));
  /** Runs one request, retried while the server is not answering; a failure for good is an ApiError naming server, verb, object, identity and the API's message. */
  const guard = <T>(verb: string, kind: string | undefined, namespace: string | undefined, name: string | undefined, request: () => Promise<T>): Promise<T> =>
    retrying(async () => {
      try {
        return await request();
      } catch (error) {
        throw apiError(server, `${verb} ${kind ?? ''} ${namespace ? `${namespace}/` : ''}${name ?? ''} as ${user}`, error);
      }
    }, retry);
  return {
    async apply(objects) {
      const stored: KubernetesObject[] = [];
      for (const object of objects) {
        const { kind, metadata } = object;
        stored.push(await guard('apply', kind, metadata?.namespace, metadata?.name, async () => { const { api, PatchStrategy } = await open(); return api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply); }));
      }
      return stored;
    },
    async read(apiVersion, kind, namespace, name) {
      try {
        return await guard('get', kind, namespace, name, async () => (await open()).api.read(ref(apiVersion, kind, namespace, name)));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    async list(apiVersion, kind, namespace) {
      return (await guard('list', kind, namespace, '', async () => (await open()).api.list(apiVersion, kind, namespace))).items;
    },
    async delete(apiVersion, kind, namespace, name) {
      try {
        await guard('delete', kind, namespace, name, async () => (await open()).api.delete(ref(apiVersion, kind, namespace, name)));
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return false;
        throw error;
      }
    },
    async mergePatch(apiVersion, kind, namespace, name, patch) {
      return guard('patch', kind, namespace, name, async () => {
        const { api, PatchStrategy } = await open();
        return api.patch(withTarget(ref(apiVersion, kind, namespace, name), patch), undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
      });
    },
  };
}

/** The API's own message (a Status object's `message`) when there is one, else the error's first line. */
/** client-node's ApiException, recognised by shape so this module need not load client-node eagerly. */
const asApiException = (error: unknown): { code: number; body: unknown } | undefined =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'body' in error ? (error as unknown as { code: number; body: unknown }) : undefined;

function apiError(server: string, what: string, error: unknown): ApiError {
  const exception = asApiException(error);
  const status = exception?.code;
  let detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (exception) {
    try {
      const raw = exception.body;
      const body: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
      const message = (body as { message?: unknown } | null)?.message;
      if (typeof message === 'string') detail = message;
    } catch {
      // Not JSON: keep the exception's first line.
    }
  }
  return new ApiError(server, status, `${what}: ${detail}`, { cause: error });
}

export const isForbidden = (error: unknown): boolean => error instanceof ApiError && error.status === 403;

/** Parses a multi-document YAML file of Kubernetes objects (comments and empty documents skipped). */
export function parseObjects(text: string): KubernetesObject[] {
  return yaml.loadAll(text).filter((d): d is KubernetesObject => d !== null && typeof d === 'object');
}

export interface RecordedRequest {
  verb: 'apply' | 'get' | 'list' | 'delete' | 'patch';
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The object as it would be sent; Secret data replaced by "<masked>". */
  body?: KubernetesObject | object;
}

/**
 * A client that sends nothing: every request is recorded (into `requests`, which several clients
 * of one dry run may share), writes only recorded. Reads find nothing, or, given `readsFrom`, go to
 * that client too (a dry-run join still needs what the cluster published).
 */
export function recordingApiClient(options: { readsFrom?: ApiClient; requests?: RecordedRequest[] } = {}): ApiClient & { requests: RecordedRequest[] } {
  const { readsFrom, requests = [] } = options;
  return {
    requests,
    async apply(objects) {
      for (const o of objects) {
        requests.push({ verb: 'apply', apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', namespace: o.metadata?.namespace, name: o.metadata?.name ?? '', body: maskSecrets(o) });
      }
      // As sent: nothing was stored, so no uid or resourceVersion.
      return Promise.resolve(objects.map((o) => structuredClone(o)));
    },
    async read(apiVersion, kind, namespace, name) {
      requests.push({ verb: 'get', apiVersion, kind, namespace, name });
      return readsFrom ? readsFrom.read(apiVersion, kind, namespace, name) : undefined;
    },
    async list(apiVersion, kind, namespace) {
      requests.push({ verb: 'list', apiVersion, kind, namespace, name: '' });
      return readsFrom ? readsFrom.list(apiVersion, kind, namespace) : [];
    },
    async delete(apiVersion, kind, namespace, name) {
      requests.push({ verb: 'delete', apiVersion, kind, namespace, name });
      return Promise.resolve(false);
    },
    async mergePatch(apiVersion, kind, namespace, name, patch) {
      requests.push({ verb: 'patch', apiVersion, kind, namespace, name, body: patch });
      return Promise.resolve({ ...ref(apiVersion, kind, namespace, name), ...patch });
    },
  };
}

export function maskSecrets(object: KubernetesObject): KubernetesObject {
  if (object.kind !== 'Secret') return object;
  const copy = structuredClone(object) as KubernetesObject & { data?: Record<string, string>; stringData?: Record<string, string> };
  for (const field of ['data', 'stringData'] as const) {
    const values = copy[field];
    if (values) for (const key of Object.keys(values)) values[key] = '<masked>';
  }
  return copy;
}
