/** Turns TypeBox schema errors into problems a user can act on. */
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { Problem } from '../errors/index.js';
import { closest } from '../util/suggest.js';
import { formatPath, type PathSegment } from './yaml-lines.js';

export function schemaProblems(schema: TSchema, value: unknown, lineOf: (path: PathSegment[]) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(error.path);
    // A missing field is reported once as "is required", not again as a wrong type.
    if (error.value === undefined && error.type !== ValueErrorType.ObjectRequiredProperty) continue;
    const problem = describeError(error, path);
    if (!problem) continue;
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ ...problem, line: lineOf(path) });
  }
  return dropUnionNoise(problems);
}

function describeError(error: ValueError, path: PathSegment[]): Problem | undefined {
  const where = formatPath(path);
  const schema = error.schema as UnionSchema & Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const name = String(path[path.length - 1]);
      const known = Object.keys(schema.properties ?? {});
      const guess = closest(name, known);
      const hint = guess ? `did you mean "${guess}"?` : `known fields here: ${known.join(', ')}`;
      return { path: where, message: `unknown field "${name}"; ${hint}` };
    }
    case ValueErrorType.ObjectRequiredProperty:
      return { path: where, message: 'is required' };
    case ValueErrorType.Union: {
      const literals = unionLiterals(schema);
      if (literals.length > 0) {
        const got = JSON.stringify(error.value);
        const guess = typeof error.value === 'string' ? closest(error.value, literals) : undefined;
        const mappings = (schema.anyOf ?? []).flatMap((alternative) => mappingShape(alternative));
        return { path: where, message: `must be one of ${[...literals, ...mappings].join(' | ')}, got ${got}${guess ? `; did you mean "${guess}"?` : ''}` };
      }
      return { path: where, message: error.message };
    }
    case ValueErrorType.Literal:
      return { path: where, message: `must be ${JSON.stringify(schema.const)}, got ${JSON.stringify(error.value)}` };
    case ValueErrorType.String:
      return { path: where, message: `must be a string, got ${typeName(error.value)}` };
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
      return { path: where, message: `must be an integer, got ${JSON.stringify(error.value) ?? typeName(error.value)}` };
    case ValueErrorType.Boolean:
      return { path: where, message: `must be true or false, got ${JSON.stringify(error.value) ?? typeName(error.value)}` };
    case ValueErrorType.Array:
      return { path: where, message: `must be a list, got ${typeName(error.value)}` };
    case ValueErrorType.ArrayMinItems:
      return { path: where, message: `must have at least ${String(schema.minItems)} item(s)` };
    case ValueErrorType.Object:
      return { path: where, message: `must be a mapping (key: value), got ${typeName(error.value)}` };
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return { path: where, message: `must be at least ${String(schema.minimum)}, got ${String(error.value)}` };
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return { path: where, message: `must be at most ${String(schema.maximum)}, got ${String(error.value)}` };
    default:
      return { path: where, message: error.message.toLowerCase() };
  }
}

type UnionSchema = { anyOf?: UnionSchema[]; const?: string | number | boolean; type?: unknown; properties?: Record<string, unknown> };

/** The literal values a union allows, nested unions included (e.g. none | builtin in cni). */
function unionLiterals(schema: UnionSchema): string[] {
  if (schema.const !== undefined) return [String(schema.const)];
  return (schema.anyOf ?? []).flatMap(unionLiterals);
}

/** A mapping alternative of a union, shown by its fields: { manifest: … }. */
function mappingShape(schema: UnionSchema): string[] {
  return schema.type === 'object' ? [`{ ${Object.keys(schema.properties ?? {}).join(', ')}: … }`] : [];
}

/** A bad union member also reports "Expected ..." for each alternative; keep the union's own line. */
function dropUnionNoise(problems: Problem[]): Problem[] {
  const unionPaths = new Set(problems.filter((p) => p.message.startsWith('must be one of')).map((p) => p.path));
  return problems.filter((p) => !unionPaths.has(p.path) || p.message.startsWith('must be one of'));
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function typeName(value: unknown): string {
  if (value === null) return 'null (empty)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
