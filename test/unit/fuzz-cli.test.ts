/**
 * Bad input, property-based: mutated cluster files through `kbuild validate`, `render` and
 * `apply --dry-run`. None may crash or print a stack; each exits 1 with a message naming the file
 * and the field, and `apply` fails before connecting to any host. A mutation that happens to stay
 * valid must render. Cases run in-process through main(); a handful more
 * through the real binary in test/e2e/cli-binary.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { kbuild } from '../support/cli.js';
import { fuzzer, runsMultiplier } from './fuzz-check.js';
import type { Host } from '../../src/config/model.js';
import type * as ConnectModule from '../../src/transport/ssh/connect.js';
import type * as KeysModule from '../../src/pki/keys.js';
import { badCidr, extraField, hugeNumber, missingField, wrongType } from './fuzz-mutations.js';

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
  it('wrong types: exit 1 naming the field', () => property(wrongType, 60), 120_000 * runsMultiplier);
  it('missing fields: required ones are named; optional ones still render', () => property(missingField, 25), 180_000 * runsMultiplier);
  it('unknown fields: exit 1 naming the field', () => property(extraField, 40), 120_000 * runsMultiplier);
  it('garbage and extreme CIDRs', () => property(badCidr, 60), 180_000 * runsMultiplier);
  it('huge, negative, fractional and non-finite numbers', () => property(hugeNumber, 40), 180_000 * runsMultiplier);
});

const cli = (args: string[]) => kbuild(...args);

describe('usage errors', () => {
  it.each([
    [['validate']],
    [['validate', '-i', 'x.yaml', '--bogus']],
    [['render', '-i', 'x.yaml']],
    [['apply', '-i', 'x.yaml', '--dry-run']],
    [['apply', '-i', 'x.yaml', '--concurrency', '0']],
    [['apply', '-i', 'x.yaml', '--concurrency', 'many']],
    [['apply', 'phase', 'no-such-phase', '-i', 'x.yaml']],
    [['apply', '-i', 'x.yaml', '--format', 'xml']],
    [['init', '--certificate-key', 'zz', '--dry-run', '-o', '/nonexistent/x']],
    [['valdate', '-i', 'x.yaml']],
    [[]],
  ])('kbuild %j exits 2 with a usage message and no stack', async (args) => {
    const run = await cli(args);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^kbuild: .+\nRun kbuild --help for usage\.\n$/s);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
