/**
 * Bad input, property-based (the second half of fuzz-cli.test.ts's cases, so two workers share them): mutated cluster files through `kbuild validate`, `render` and
 * `apply --dry-run`. None may crash or print a stack; each exits 1 with a message naming the file
 * and the field, and `apply` fails before connecting to any host. A mutation that happens to stay
 * valid must render. Cases run in-process through main(); a handful more
 * through the real binary in test/e2e/cli-binary.test.ts.
 */
import { describe, it, vi } from 'vitest';
import { fuzzer, runsMultiplier } from './fuzz-check.js';
import type { Host } from '../../src/config/model.js';
import type * as ConnectModule from '../../src/transport/ssh/connect.js';
import type * as KeysModule from '../../src/pki/keys.js';
import { aliasYaml, notAClusterFile, oversized, typedYamlValue, unicodeString } from './fuzz-mutations.js';

const connected = vi.hoisted(() => [] as string[]);

// A fuzzed file that stays valid names real-looking addresses: no test may send traffic there.
vi.mock('../../src/transport/ssh/connect.js', async (importOriginal) => {
  const original = await importOriginal<typeof ConnectModule>();
  const { ConnectionError } = await import('../../src/errors/index.js');
  const refuse = async (host: Host) => {
    connected.push(host.name);
    throw new ConnectionError(host.name, 'fuzz test: connections are not made');
  };
  // Every way in: a new export that opens connections must be added here, or the test fails (no connection seen).
  return { ...original, connect: refuse, connectResilient: refuse, sshConnector: () => refuse };
});

// Key generation is not under test here: fixture keys (real ones for RSA-3072/4096, which a mutation may pick).
vi.mock('../../src/pki/keys.js', async (importOriginal) => {
  const original = await importOriginal<typeof KeysModule>();
  const { fixtureKeys } = await import('../support/fixture-keys.js');
  return { ...original, webCryptoKeySource: fixtureKeys(original.importPrivateKeyPem, original.webCryptoKeySource) };
});

const property = fuzzer(connected);

describe('kbuild validate, render and apply --dry-run on mutated cluster files', () => {
  it('unicode, control characters and injection-looking strings in every string field', () => property(unicodeString, 50), 240_000 * runsMultiplier);
  it('YAML anchors, merge keys, undefined aliases and alias bombs', () => property(aliasYaml, 30), 180_000 * runsMultiplier);
  it('binary garbage, empty files, scalars, several documents, unsafe tags', () => property(notAClusterFile, 60), 120_000 * runsMultiplier);
  it('typed YAML values (!!binary, timestamps, !!set, !!omap) where plain values belong', () => property(typedYamlValue, 40), 120_000 * runsMultiplier);
  it('files over 1 MiB', () => property(oversized, 6), 120_000 * runsMultiplier);
});
