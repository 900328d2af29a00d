/** `kbuild token`: bootstrap tokens through the API with a kubeconfig (admin.conf by default), as `kubeadm token`, and the CA's discovery hash. */
import { readFile } from 'node:fs/promises';
import type { V1Secret } from '@kubernetes/client-node';
import { FileError, StateError } from '../errors/index.js';
import { apiClientFromKubeconfig, type ApiClient } from '../kube/client.js';
import { joinCommand, parseToken, tokenFromSecret, tokenSecret, tokenSecretName, type BootstrapToken } from '../kube/token.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { caCertHash } from '../pki/ca-hash.js';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new FileError(path, `cannot read the ${what}: ${(error as Error).message}`, { cause: error });
  }
}

async function api(kubeconfigPath: string): Promise<{ client: ApiClient; kubeconfig: string }> {
  const kubeconfig = await readText(kubeconfigPath, 'kubeconfig (pass --kubeconfig FILE)');
  return { client: apiClientFromKubeconfig(kubeconfig), kubeconfig };
}

/** Creates the token's Secret (refusing an id that exists); returns `<id>.<secret>`, or the join command for it. */
export async function createToken(kubeconfigPath: string, token: BootstrapToken, asJoinCommand: boolean): Promise<string> {
  const { client, kubeconfig } = await api(kubeconfigPath);
  if (await client.read('v1', 'Secret', 'kube-system', tokenSecretName(token.id))) {
    throw new StateError(`a token with id "${token.id}" already exists; delete it first or pick another`);
  }
  await client.apply([tokenSecret(token)]);
  const text = `${token.id}.${token.secret}`;
  if (!asJoinCommand) return text;
  const { server, caCertPem } = parseKubeconfig(kubeconfig);
  return joinCommand(server, text, caCertHash(caCertPem));
}

/** Every bootstrap token on the server, by id. */
export async function listTokens(kubeconfigPath: string): Promise<BootstrapToken[]> {
  const { client } = await api(kubeconfigPath);
  const secrets = (await client.list('v1', 'Secret', 'kube-system')) as V1Secret[];
  return secrets.flatMap((s) => tokenFromSecret(s) ?? []).sort((a, b) => a.id.localeCompare(b.id));
}

/** Deletes tokens given by id or whole token, in order, telling `deleted` of each; one that does not exist stops with an error. */
export async function deleteTokens(kubeconfigPath: string, values: readonly string[], deleted: (id: string) => void): Promise<void> {
  const { client } = await api(kubeconfigPath);
  for (const value of values) {
    const id = /^[a-z0-9]{6}$/.test(value) ? value : parseToken(value, 'token').id;
    if (!(await client.delete('v1', 'Secret', 'kube-system', tokenSecretName(id)))) throw new StateError(`bootstrap token "${id}" does not exist (kbuild token list shows the tokens)`);
    deleted(id);
  }
}

/** The discovery pin of the CA certificate in a file. */
export async function caHashOfFile(path: string): Promise<string> {
  const pem = await readText(path, 'CA certificate (pass --cert FILE)');
  try {
    return caCertHash(pem);
  } catch (error) {
    throw new FileError(path, 'is not a PEM certificate', { cause: error });
  }
}
