/** An SSH identity file readable by others is a warning (OpenSSH refuses it outright); 0600 is quiet. */
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey } from '../../../src/transport/ssh/private-key.js';
import { repoRoot } from '../../support/pki.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-identity-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('identity file permissions', () => {
  it('warns, naming the file, its mode and the fix, when group or others can read it; not at 0600', async () => {
    const key = join(dir, 'id_ecdsa');
    await copyFile(join(repoRoot, 'test/fixtures/keys/ecdsa-p256-01.key'), key);
    const warnings: string[] = [];
    await chmod(key, 0o644);
    const loaded = await loadPrivateKey(key, 'cp1', { warn: (m) => warnings.push(m) });
    expect(loaded.privateKey.length).toBeGreaterThan(0);
    expect(warnings).toEqual([`SSH identity file ${key} is readable by others (mode 0644): whoever reads it logs in to the cluster's hosts. chmod 600 ${key}`]);
    warnings.length = 0;
    await chmod(key, 0o600);
    await loadPrivateKey(key, 'cp1', { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
  });
});
