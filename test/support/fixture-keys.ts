/**
 * The pre-generated keys in test/fixtures/keys, handed out in turn (process-wide, so successive runs
 * get different keys). Imports kbuild's key module for types only, so a vi.mock of that module can
 * use it with the original importer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncryptionAlgorithm } from '../../src/config/schema.js';
import type { KeyPair, KeySource } from '../../src/pki/keys.js';

const keysDir = join(import.meta.dirname, '../fixtures/keys');
const FIXTURE_COUNT = 48;
const PREFIX: Partial<Record<EncryptionAlgorithm, string>> = { 'ECDSA-P256': 'ecdsa-p256', 'RSA-2048': 'rsa-2048' };

let next = 0;

/** Fixture keys for RSA-2048 and ECDSA-P256; other algorithms from `fallback`, else an error. */
export function fixtureKeys(importPem: (pem: string, where: string) => Promise<KeyPair>, fallback?: KeySource): KeySource {
  return {
    generate(algorithm) {
      const prefix = PREFIX[algorithm];
      if (!prefix) return fallback ? fallback.generate(algorithm) : Promise.reject(new Error(`no fixture keys for ${algorithm}; use the real key source in that test`));
      const file = join(keysDir, `${prefix}-${String((next++ % FIXTURE_COUNT) + 1).padStart(2, '0')}.key`);
      return importPem(readFileSync(file, 'utf8'), file);
    },
  };
}
