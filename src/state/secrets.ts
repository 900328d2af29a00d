/**
 * The render secrets: generated once with crypto randomness, kept in the state directory (0600),
 * reused on every later run so renders stay byte-identical. The bootstrap token is replaced only
 * once it has expired (kubeadm's default TTL is 24h).
 */
import { randomInt } from 'node:crypto';
import { FileError } from '../errors/index.js';
import { BOOTSTRAP_TOKEN_PATTERN } from '../kubeadm/constants.js';
import { newTokenString, pick, type RandomInt } from '../kube/token.js';
import type { StateDir } from './state-dir.js';
import type { RenderSecrets } from '../render/context.js';

const PASS_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BOOTSTRAP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** keepalived uses only the first 8 characters of a PASS secret. */
/** keepalived's PASS authentication uses only the first 8 characters (VRRP's 8-octet authentication data), so 8 it is: the secret must stay off command lines and out of hashes shown there. */
export const generateAuthPass = (random: RandomInt = randomInt): string => pick(PASS_ALPHABET, 8, random);
export const generateRouterId = (random: RandomInt = randomInt): number => 1 + random(255);

export const STATE_FILES = {
  bootstrapToken: 'bootstrap-token',
  bootstrapTokenExpires: 'bootstrap-token-expires',
  routerId: 'keepalived/virtual-router-id',
  authPass: 'keepalived/auth-pass',
} as const;

export interface SecretOptions {
  now?: () => Date;
  random?: RandomInt;
}

export async function loadRenderSecrets(state: StateDir, options: SecretOptions = {}): Promise<RenderSecrets> {
  const now = options.now ?? (() => new Date());
  const random = options.random ?? randomInt;
  const stored = (await state.read(STATE_FILES.bootstrapToken))?.trim();
  const storedExpiry = (await state.read(STATE_FILES.bootstrapTokenExpires))?.trim();
  let bootstrapToken: string;
  let bootstrapTokenExpires: string;
  const expiry = storedExpiry === undefined ? Number.NaN : Date.parse(storedExpiry);
  if (stored !== undefined && BOOTSTRAP_TOKEN_PATTERN.test(stored) && expiry > now().getTime()) {
    bootstrapToken = stored;
    bootstrapTokenExpires = storedExpiry!;
  } else {
    bootstrapToken = newTokenString(random);
    bootstrapTokenExpires = new Date(now().getTime() + BOOTSTRAP_TOKEN_TTL_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await state.write(STATE_FILES.bootstrapToken, `${bootstrapToken}\n`);
    await state.write(STATE_FILES.bootstrapTokenExpires, `${bootstrapTokenExpires}\n`);
  }
  const routerIdText = await state.secret(STATE_FILES.routerId, () => String(generateRouterId(random)));
  const routerId = Number(routerIdText);
  if (!/^\d{1,3}$/.test(routerIdText) || routerId < 1 || routerId > 255) {
    throw new FileError(state.path(STATE_FILES.routerId), `holds "${routerIdText}", not a keepalived virtual_router_id (1-255); fix it or delete it to generate a new one`);
  }
  const authPass = await state.secret(STATE_FILES.authPass, () => generateAuthPass(random));
  return { bootstrapToken, bootstrapTokenExpires, keepalived: { routerId, authPass } };
}
