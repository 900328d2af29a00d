/**
 * Key pairs on Node's WebCrypto, in kubeadm's PEM formats: RSA as PKCS#1 "RSA PRIVATE KEY",
 * EC as SEC1 "EC PRIVATE KEY", public keys as PKIX "PUBLIC KEY". Conversions go through
 * node:crypto KeyObjects, never hand-written ASN.1.
 */
import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import type { EncryptionAlgorithm } from '../config/schema.js';
import { PkiError } from '../errors/index.js';

const subtle = webcrypto.subtle;

/** A private key in memory: WebCrypto handles for signing, the PEM for files. */
export interface KeyPair {
  algorithm: EncryptionAlgorithm;
  keys: CryptoKeyPair;
  privateKeyPem: string;
}

/** Where new key pairs come from; tests inject pre-generated fixture keys. */
export interface KeySource {
  generate(algorithm: EncryptionAlgorithm): Promise<KeyPair>;
}

const RSA_BITS: Record<string, number> = { 'RSA-2048': 2048, 'RSA-3072': 3072, 'RSA-4096': 4096 };

function importParams(algorithm: EncryptionAlgorithm): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  return algorithm === 'ECDSA-P256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

/** The signature algorithm a CA key signs with (SHA-256, as Go's defaults). */
export function signingAlgorithm(algorithm: EncryptionAlgorithm): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return algorithm === 'ECDSA-P256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

/** Generates keys with WebCrypto; concurrent calls run on libuv's thread pool. */
export const webCryptoKeySource: KeySource = {
  async generate(algorithm) {
    const params: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams =
      algorithm === 'ECDSA-P256'
        ? { name: 'ECDSA', namedCurve: 'P-256' }
        : { name: 'RSASSA-PKCS1-v1_5', modulusLength: RSA_BITS[algorithm]!, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    const keys = (await subtle.generateKey(params, true, ['sign', 'verify']));
    const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
    return { algorithm, keys, privateKeyPem: toKubeadmPem(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })) };
  },
};

function toKubeadmPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1' }).toString();
}

/** The kbuild algorithm of a node:crypto key, or undefined for anything kbuild does not issue. */
export function algorithmOf(key: KeyObject): EncryptionAlgorithm | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const name = `RSA-${details?.modulusLength}`;
    return name in RSA_BITS ? (name as EncryptionAlgorithm) : undefined;
  }
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ECDSA-P256';
  return undefined;
}

/** Loads a PEM private key (PKCS#1, SEC1 or PKCS#8) into WebCrypto; `where` names the file for errors. */
export async function importPrivateKeyPem(pem: string, where: string): Promise<KeyPair> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new PkiError(`${where}: not a readable PEM private key; replace it with the key that belongs to its certificate`, { cause: error });
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) {
    throw new PkiError(`${where}: unsupported key (${key.asymmetricKeyType}); kbuild uses RSA-2048/3072/4096 or ECDSA-P256`);
  }
  const params = importParams(algorithm);
  const privateKey = await subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), params, true, ['sign']);
  const publicDer = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = await subtle.importKey('spki', publicDer, params, true, ['verify']);
  return { algorithm, keys: { privateKey, publicKey }, privateKeyPem: toKubeadmPem(key) };
}

/** PKIX "PUBLIC KEY" PEM of a private key (sa.pub). */
export function publicKeyPem(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'pem', type: 'spki' }).toString();
}
