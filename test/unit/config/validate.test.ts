import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseClusterFile } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors/index.js';
import { baseDoc, CASES, toYaml } from './cases.js';

const here = dirname(fileURLToPath(import.meta.url));
const goldenPath = join(here, '../../golden/validate/messages.txt');

function problemsOf(text: string): string[] {
  try {
    parseClusterFile(text, 'cluster.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
}

describe('validation rules', () => {
  it('accepts the base document', () => {
    expect(problemsOf(toYaml(baseDoc()))).toEqual([]);
  });

  const rendered: string[] = [];
  for (const [name, edit] of Object.entries(CASES)) {
    it(`reports: ${name}`, () => {
      const doc = baseDoc();
      edit(doc);
      const lines = problemsOf(toYaml(doc));
      expect(lines.length, 'the edit must produce at least one problem').toBeGreaterThan(0);
      // No stack traces, one problem per line, each naming the file.
      for (const line of lines) expect(line).toMatch(/^cluster\.yaml(:\d+)?: /);
      rendered.push(`## ${name}\n${lines.join('\n')}\n`);
    });
  }

  it('matches the message goldens (UPDATE_GOLDEN=1 rewrites them)', () => {
    const actual = rendered.join('\n');
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(dirname(goldenPath), { recursive: true });
      writeFileSync(goldenPath, actual);
    }
    expect(actual).toBe(readFileSync(goldenPath, 'utf8'));
  });
});

describe('acceptance messages', () => {
  it('podSubnet inside the default service range: one line naming both fields and ranges', () => {
    const doc = baseDoc();
    CASES['pod inside default service range']!(doc);
    const lines = problemsOf(toYaml(doc));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('spec.networking.podSubnet');
    expect(lines[0]).toContain('spec.networking.serviceSubnet');
    expect(lines[0]).toContain('10.96.0.0/16');
    expect(lines[0]).toContain('10.96.0.0/12');
  });

  it('overlap is found whichever range is the larger', () => {
    const doc = baseDoc();
    CASES['service range containing pod range']!(doc);
    expect(problemsOf(toYaml(doc)).join('\n')).toMatch(/10\.100\.0\.0\/16 lies inside spec\.networking\.serviceSubnet 10\.96\.0\.0\/12/);
    const reverse = baseDoc();
    CASES['pod range containing service range']!(reverse);
    expect(problemsOf(toYaml(reverse)).join('\n')).toMatch(/10\.0\.0\.0\/8 contains spec\.networking\.serviceSubnet 10\.96\.0\.0\/12/);
  });

  it('a typo is rejected with a suggestion', () => {
    const doc = baseDoc();
    CASES['unknown field with suggestion']!(doc);
    expect(problemsOf(toYaml(doc)).join('\n')).toContain('unknown field "podSubnett"; did you mean "podSubnet"?');
  });

  it('reports every problem at once, not just the first', () => {
    const doc = baseDoc();
    CASES['duplicate names and addresses']!(doc);
    CASES['leaf outlives ca']!(doc);
    CASES['reserved overlaps pod range']!(doc);
    expect(problemsOf(toYaml(doc)).length).toBeGreaterThanOrEqual(4);
  });

  it('still runs the network rules when the file also has an unknown field', () => {
    const doc = baseDoc();
    CASES['unknown field with suggestion']!(doc);
    net(doc).serviceSubnet = '10.244.0.0/12';
    const text = problemsOf(toYaml(doc)).join('\n');
    expect(text).toContain('podSubnett');
    expect(text).toContain('overlap');
  });
});

const net = (d: ReturnType<typeof baseDoc>) => d.spec.networking as Record<string, unknown>;
