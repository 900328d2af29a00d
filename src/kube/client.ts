/**
 * The Kubernetes API as kbuild uses it: server-side apply of rendered objects and reads for
 * health gates, through @kubernetes/client-node with a generated kubeconfig. A recording client
 * stands in for dry-runs and lists what would be sent, with secret values masked.
 */
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import yaml from 'js-yaml';

export const FIELD_MANAGER = 'kbuild';

export interface ApiClient {
  /** Creates or updates each object (server-side apply, kbuild as field manager). */
  apply(objects: readonly KubernetesObject[]): Promise<void>;
  /** The object, or undefined when it does not exist. */
  read(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubernetesObject | undefined>;
}

export function apiClientFromKubeconfig(kubeconfig: string): ApiClient {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(config);
  return {
    async apply(objects) {
      for (const object of objects) {
        await api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      }
    },
    async read(apiVersion, kind, namespace, name) {
      try {
        return await api.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
  };
}

/** Parses a multi-document YAML file of Kubernetes objects (comments and empty documents skipped). */
export function parseObjects(text: string): KubernetesObject[] {
  return yaml.loadAll(text).filter((d): d is KubernetesObject => d !== null && typeof d === 'object');
}

export interface RecordedRequest {
  verb: 'apply' | 'get';
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The object as it would be sent; Secret data replaced by "<masked>". */
  body?: KubernetesObject;
}

/** A client that sends nothing: every request is recorded; reads find nothing. */
export function recordingApiClient(): ApiClient & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  return {
    requests,
    async apply(objects) {
      for (const o of objects) {
        requests.push({ verb: 'apply', apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', namespace: o.metadata?.namespace, name: o.metadata?.name ?? '', body: maskSecrets(o) });
      }
      return Promise.resolve();
    },
    async read(apiVersion, kind, namespace, name) {
      requests.push({ verb: 'get', apiVersion, kind, namespace, name });
      return Promise.resolve(undefined);
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
