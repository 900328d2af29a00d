/** kbuild token create|list|delete|ca-hash: flags (a token's usages and groups checked here) and printing; operations/token.ts does the work. */
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_TOKEN_GROUPS, DEFAULT_TOKEN_USAGES, newTokenString, parseToken, parseTtl, tokenTable } from '../kube/token.js';
import { UsageError } from '../errors/index.js';
import type { Io } from '../report/output.js';
import { caHashOfFile, createToken, deleteTokens, listTokens } from '../operations/token.js';
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
    io.print(await createToken(args.kubeconfig, { id, secret, description: args.description, expires: ttl > 0 ? new Date(Date.now() + ttl) : undefined, usages, groups }, args.printJoinCommand));
  },
});

const list = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'list',
  describe: 'List bootstrap tokens on the server',
  builder: (y) => kubeconfigOption(y) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    io.print(tokenTable(await listTokens(args.kubeconfig), new Date()));
  },
});

const remove = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'delete <tokens..>',
  describe: 'Delete bootstrap tokens (by id or whole token)',
  builder: (y) => kubeconfigOption(y).positional('tokens', { type: 'string', array: true, describe: 'Token ids or tokens' }) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    await deleteTokens(args.kubeconfig, args.tokens ?? [], (id) => io.print(`bootstrap token "${id}" deleted`));
  },
});

const caHash = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'ca-hash',
  describe: 'Print the sha256: hash of the CA public key, for --discovery-token-ca-cert-hash',
  builder: (y) => y.option('cert', { type: 'string', default: `${PATHS.pki}/ca.crt`, normalize: true, describe: 'CA certificate (PEM)' }) as unknown as Argv<TokenArgs>,
  handler: async (args) => {
    io.print(await caHashOfFile(args.cert));
  },
});

export const tokenCommand = (io: Io): CommandModule<object, TokenArgs> => ({
  command: 'token <command>',
  describe: 'Manage bootstrap tokens (create, list, delete) and print the CA hash',
  builder: (y: Argv) => y.command(create(io)).command(list(io)).command(remove(io)).command(caHash(io)).demandCommand(1) as unknown as Argv<TokenArgs>,
  handler: () => undefined,
});
