import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFilesAtomic } from '../../src/util/atomic-write.js';
import { scratchDir } from '../support/scratch.js';

describe('writeFilesAtomic', () => {
  it('writes every file with its exact mode, creating directories', async () => {
    const root = scratchDir('kbuild-atomic-');
    await writeFilesAtomic([
      { path: join(root, 'pki/ca.key'), content: 'key', mode: 0o600 },
      { path: join(root, 'pki/ca.crt'), content: 'crt', mode: 0o644 },
      { path: join(root, 'hosts/cp1/admin.conf'), content: 'conf', mode: 0o600 },
    ]);
    expect(readFileSync(join(root, 'pki/ca.key'), 'utf8')).toBe('key');
    expect(statSync(join(root, 'pki/ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'pki/ca.crt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(root, 'pki')).sort()).toEqual(['ca.crt', 'ca.key']);
  });

  it('changes no target and leaves no temp file when one write fails', async () => {
    const root = scratchDir('kbuild-atomic-');
    writeFileSync(join(root, 'a'), 'old a');
    // A 250-byte name is legal, but its temp name (.NAME.kbuild-xxxxxxxxxxxx) is not: that write fails
    // (ENAMETOOLONG, for root too) after the other temp file was already written.
    const attempt = writeFilesAtomic([
      { path: join(root, 'a'), content: 'new a', mode: 0o600 },
      { path: join(root, 'n'.repeat(250)), content: 'y', mode: 0o600 },
    ]);
    await expect(attempt).rejects.toThrow(/ENAMETOOLONG/);
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('old a');
    expect(readdirSync(root)).toEqual(['a']);
  });
});
