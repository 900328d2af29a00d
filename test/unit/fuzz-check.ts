/**
 * The fuzz tests' one check (fuzz-cli*.test.ts): mutated cluster files through `kbuild validate`,
 * `render` and `apply --dry-run`, in-process through main(). Two files share it so the unit project's
 * two workers split the cases; each file mocks connections and key generation itself (vi.mock is per file).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { kbuild, type CliRun } from '../support/cli.js';
import type { Mutation } from './fuzz-mutations.js';

const cli = (args: string[]) => kbuild(...args);

function expectNoCrash(run: CliRun, what: string): void {
  const all = `${run.stdout}\n${run.stderr}`;
  expect(all, `${what}: stack trace`).not.toMatch(/\n\s+at /);
  expect(all, `${what}: internal error`).not.toMatch(/internal error/i);
  expect([0, 1], `${what}: exit ${run.code}\n${run.stderr.slice(0, 2000)}`).toContain(run.code);
}


/** Runs the three commands on one mutated file and checks every invariant. */
async function check(mutation: Mutation, connected: string[], work: string, counter: number): Promise<void> {
  const dir = join(work, `case-${counter}`);
  const file = join(dir, 'cluster.yaml');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, mutation.text);
  const state = join(work, 'state');
  const label = mutation.label.slice(0, 300);
  try {
    const validate = await cli(['validate', '-i', file]);
    expectNoCrash(validate, `validate ${label}`);
    const render = await cli(['render', '-i', file, '--state-dir', state, '-o', join(dir, 'out')]);
    expectNoCrash(render, `render ${label}`);
    connected.length = 0;
    const apply = await cli(['apply', '-i', file, '--state-dir', state, '--dry-run', '-o', join(dir, 'dry')]);
    expectNoCrash(apply, `apply --dry-run ${label}`);

    if (validate.code === 1) {
      expect(validate.stdout, label).toBe('');
      // Every line names the file (and the line, where the YAML has one).
      for (const line of validate.stderr.trimEnd().split('\n')) expect(line.startsWith(`${file}:`) || line.startsWith(`${file} `), `${label}: ${line}`).toBe(true);
      if (mutation.field !== undefined) expect(validate.stderr, label).toContain(mutation.field);
      // render and apply load the file the same way and stop at the same message, before any connection.
      expect(render.code, label).toBe(1);
      expect(render.stderr, label).toBe(validate.stderr);
      expect(apply.code, label).toBe(1);
      expect(apply.stderr, label).toBe(validate.stderr);
      expect(connected, `${label}: apply connected despite an invalid file`).toEqual([]);
      expect(existsSync(join(dir, 'out')) || existsSync(join(dir, 'dry')), `${label}: wrote output for an invalid file`).toBe(false);
    } else {
      expect(mutation.mustFail, `${label}: accepted\n${validate.stdout}`).toBe(false);
      expect(render.code, `${label}: valid but render failed:\n${render.stderr}`).toBe(0);
      expect(apply.code, label).toBe(1);
      expect(apply.stderr, label).toMatch(/^connect: failed on \d+ hosts?:/);
      expect(connected.length, label).toBeGreaterThan(0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// CI replays one fixed seed so a red run is reproducible and a green one is not luck; explore new
// cases with KBUILD_FUZZ_SEED=random (the seed is printed on failure) and KBUILD_FUZZ_RUNS=<multiplier>.
const seedSetting = process.env.KBUILD_FUZZ_SEED ?? '20261121';
const seed = seedSetting === 'random' ? undefined : Number(seedSetting);
export const runsMultiplier = Number(process.env.KBUILD_FUZZ_RUNS ?? '1');

/** A property over one kind of mutation; `connected` is the file's record of attempted connections (its vi.mock). */
export function fuzzer(connected: string[]) {
  let work = '';
  let counter = 0;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'kbuild-fuzz-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  return (arbitrary: fc.Arbitrary<Mutation>, numRuns: number) =>
    fc.assert(
      fc.asyncProperty(arbitrary, (m) => check(m, connected, work, ++counter)),
      { numRuns: Math.ceil(numRuns * runsMultiplier), endOnFailure: true, ...(seed === undefined ? {} : { seed }) },
    );
}
