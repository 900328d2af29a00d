/** kbuild token create|list|delete|ca-hash: bootstrap tokens through the API with admin.conf, as `kubeadm token`. */
import { readFile } from 'node:fs/promises';
import type { V1Secret } from '@kubernetes/client-node';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_TOKEN_GROUPS, DEFAULT_TOKEN_USAGES, newTokenString, parseToken, parseTtl, tokenFromSecret, tokenSecret, tokenSecretName, tokenTable, joinCommand } from '../kube/token.js';
import { FileError, StateError, UsageError } from '../errors/index.js';
import { apiClientFromKubeconfig, type ApiClient } from '../kube/client.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { caCertHash } from '../pki/ca-hash.js';
import type { Io } from '../report/output.js';
import { PATHS } from '../kubeadm/constants.js';

interface TokenArgs {
  kubeconfig: string;
  token?: string;
  tokens?: string[];
  ttl: string;
  description?: string;
  usages: string[];
  groups: string[];
  printJoinCommand: boolean;
  cert: string;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new FileError(path, `cannot read the ${what}: ${(error as Error).message}`, { cause: error });
  }
}

async function api(args: TokenArgs): Promise<{ client: ApiClient; kubeconfig: string }> {
  const kubeconfig = await readText(args.kubeconfig, 'kubeconfig (pass --kubeconfig FILE)');
  return { client: apiClientFromKubeconfig(kubeconfig), kubeconfig };
}

const kubeconfigOption = <T>(y: Argv<T>) => y.option('kubeconfig', { type: 'string', default: PATHS.adminKubeconfig, normalize: true, describe: 'kubeconfig to reach the API with' });

const create = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'create [token]',
  describe: 'Create a bootstrap token on the server and print it',
  builder: (y) =>
    kubeconfigOption(y)
      .positional('token', { type: 'string', describe: 'The token to create ([a-z0-9]{6}.[a-z0-9]{16}); generated when omitted' })
      .option('ttl', { type: 'string', default: '24h', describe: 'Lifetime, e.g. 24h, 1h30m; 0 never expires' })
      .option('description', { type: 'string', describe: 'Human-readable description' })
      .option('usages', { type: 'array', string: true, default: [...DEFAULT_TOKEN_USAGES], describe: 'signing, authentication' })
      .option('groups', { type: 'array', string: true, default: [...DEFAULT_TOKEN_GROUPS], describe: 'Extra groups the token authenticates as' })
      .option('print-join-command', { type: 'boolean', default: false, describe: 'Print the whole `kbuild join` command instead of the token' }) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    const { id, secret } = parseToken(args.token ?? newTokenString());
    const ttl = parseTtl(args.ttl);
    const usages = args.usages.flatMap((u) => u.split(',')).filter(Boolean);
    const unknown = usages.filter((u) => u !== 'signing' && u !== 'authentication');
    if (unknown.length > 0) throw new UsageError(`--usages: unknown ${unknown.join(', ')}; use signing, authentication`);
    const groups = args.groups.flatMap((g) => g.split(',')).filter(Boolean);
    const bad = groups.filter((g) => !/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g));
    if (bad.length > 0) throw new UsageError(`--groups: ${bad.join(', ')} must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]`);
    const { client, kubeconfig } = await api(args);
    const secretObject = tokenSecret({ id, secret, description: args.description, expires: ttl > 0 ? new Date(Date.now() + ttl) : undefined, usages, groups });
    if (await client.read('v1', 'Secret', 'kube-system', tokenSecretName(id))) {
      throw new StateError(`a token with id "${id}" already exists; delete it first or pick another`);
    }
    await client.apply([secretObject]);
    if (!args.printJoinCommand) return io.print(`${id}.${secret}`);
    const { server, caCertPem } = parseKubeconfig(kubeconfig);
    io.print(joinCommand(server, `${id}.${secret}`, caCertHash(caCertPem)));
  },
});

const list = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'list',
  describe: 'List bootstrap tokens on the server',
  builder: (y) => kubeconfigOption(y) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    const { client } = await api(args);
    const secrets = await client.list('v1', 'Secret', 'kube-system');
    const tokens = (secrets as V1Secret[]).flatMap((s) => tokenFromSecret(s) ?? []).sort((a, b) => a.id.localeCompare(b.id));
    io.print(tokenTable(tokens, new Date()));
  },
});

const remove = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'delete <tokens..>',
  describe: 'Delete bootstrap tokens (by id or whole token)',
  builder: (y) => kubeconfigOption(y).positional('tokens', { type: 'string', array: true, describe: 'Token ids or tokens' }) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    const { client } = await api(args);
    for (const value of args.tokens ?? []) {
      const id = /^[a-z0-9]{6}$/.test(value) ? value : parseToken(value, 'token').id;
      const existed = await client.delete('v1', 'Secret', 'kube-system', tokenSecretName(id));
      if (!existed) throw new StateError(`bootstrap token "${id}" does not exist (kbuild token list shows the tokens)`);
      io.print(`bootstrap token "${id}" deleted`);
    }
  },
});

const caHash = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'ca-hash',
  describe: 'Print the sha256: hash of the CA public key, for --discovery-token-ca-cert-hash',
  builder: (y) => y.option('cert', { type: 'string', default: `${PATHS.pki}/ca.crt`, normalize: true, describe: 'CA certificate (PEM)' }) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    const pem = await readText(args.cert, 'CA certificate (pass --cert FILE)');
    try {
      io.print(caCertHash(pem));
    } catch (error) {
      throw new FileError(args.cert, 'is not a PEM certificate', { cause: error });
    }
  },
});

export const tokenCommand = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'token <command>',
  describe: 'Manage bootstrap tokens (create, list, delete) and print the CA hash',
  builder: (y: Argv) => y.command(create(io)).command(list(io)).command(remove(io)).command(caHash(io)).demandCommand(1) as unknown as Argv<TokenArgs>,
  handler: () => undefined,
});
