import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ClusterFileSchema } from '../../../src/config/schema.js';
import { parseClusterFile } from '../../../src/config/load.js';

const root = join(import.meta.dirname, '../../..');

/** Every leaf field path of the schema, e.g. spec.hosts[].ssh.bastion.port. */
function fieldPaths(schema: TSchema, prefix: string): string[] {
  const s = schema as TSchema & { properties?: Record<string, TSchema>; items?: TSchema; type?: string };
  if (s.type === 'object' && s.properties) {
    return Object.entries(s.properties).flatMap(([key, child]) => fieldPaths(child, prefix ? `${prefix}.${key}` : key));
  }
  if (s.type === 'array' && s.items && (s.items as { type?: string }).type === 'object') return fieldPaths(s.items, `${prefix}[]`);
  return [prefix];
}

describe('documentation', () => {
  it('README documents every field of the cluster file', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const missing = fieldPaths(ClusterFileSchema, '').filter((path) => {
      // Per-host ssh overrides are documented once, as the cluster-wide spec.ssh fields.
      const shared = path.replace(/^spec\.hosts\[\]\.ssh\./, 'spec.ssh.');
      const short = path.replace(/^spec\.hosts\[\]\.ssh\./, '.');
      return ![path, shared, short].some((p) => readme.includes(`\`${p}\``));
    });
    expect(missing).toEqual([]);
  });

  it('the inventory template is a valid cluster file', () => {
    expect(() => parseClusterFile(readFileSync(join(root, 'inventories/cluster.yaml'), 'utf8'), 'inventories/cluster.yaml')).not.toThrow();
  });
});
