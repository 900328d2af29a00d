/**
 * The detached JWS that proves cluster-info comes from someone who knows the bootstrap token
 * (k8s.io/cluster-bootstrap/token/jws): compact JWS, HS256, protected header {"alg":"HS256","kid":<id>},
 * payload = the exact kubeconfig string, payload part elided (`<header>..<signature>`).
 * Key = the token secret bytes, zero-padded to 32 bytes as go-jose requires for HS256.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function hs256Key(tokenSecret: string): Buffer {
  const secret = Buffer.from(tokenSecret, 'utf8');
  if (secret.length >= 32) return secret;
  const key = Buffer.alloc(32);
  secret.copy(key);
  return key;
}

export function computeDetachedSignature(content: string, tokenId: string, tokenSecret: string): string {
  // go-jose serialises the protected header with sorted keys: alg, then kid.
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const signature = createHmac('sha256', hs256Key(tokenSecret)).update(`${header}.${b64url(content)}`).digest();
  return `${header}..${b64url(signature)}`;
}

/** As kubeadm: the detached token must equal the one we compute (compared in constant time). */
export function detachedSignatureIsValid(detached: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const expected = Buffer.from(computeDetachedSignature(content, tokenId, tokenSecret));
  const given = Buffer.from(detached);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The cluster-info key the bootstrap signer writes for a token. */
export const jwsKey = (tokenId: string): string => `jws-kubeconfig-${tokenId}`;
