/**
 * fast-check arbitraries derived from the API's zod 4 schemas. No maintained zod-4 bridge exists on
 * npm (zod-fast-check stops at zod 3 and fast-check 3), and the schemas of src-main/api use a small
 * part of zod: this walks their definitions (`_zod.def`) for the kinds they use and refuses any
 * other kind loudly, so a new schema kind is noticed rather than fuzzed with nonsense.
 *
 * - `validValue(schema)`: values the schema accepts (refinements applied by a final filter);
 * - `fieldPaths(schema)` and `withValueAt`: every field of a value, to put a wrong type in each.
 */
import fc from 'fast-check';
import type { z } from 'zod';

interface Check {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number | bigint;
  inclusive?: boolean;
}

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: Check } }>;
  format?: string;
  pattern?: RegExp;
  innerType?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string | number>;
  values?: unknown[];
  catchall?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function checksOf(def: Def): Check[] {
  return (def.checks ?? []).map((c) => c._zod.def);
}

/** Mostly readable strings: what a person types, in a few scripts, so refinements pass often. */
const friendlyChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') },
  { weight: 1, arbitrary: fc.constantFrom(' ', '.', '_', '-', '+', '(', ')', '/', 'é', 'ü', '日', 'ß', 'Ж') },
);

function stringArbitrary(def: Def): fc.Arbitrary<string> {
  const checks = checksOf(def);
  const min = Math.max(0, ...checks.filter((c) => c.check === 'min_length').map((c) => c.minimum ?? 0));
  const max = Math.min(...checks.filter((c) => c.check === 'max_length').map((c) => c.maximum ?? Infinity));
  const fits = (s: string): boolean => s.length >= min && s.length <= max;
  const format = def.format ?? checks.find((c) => c.check === 'string_format')?.format;
  if (format === 'uuid') return fc.uuid();
  if (format === 'datetime')
    return fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  const pattern = def.pattern ?? checks.find((c) => c.check === 'string_format' && c.pattern)?.pattern;
  // fast-check cannot read the i flag; what matches without it matches with it.
  if (pattern) return fc.stringMatching(new RegExp(pattern.source, pattern.flags.replace('i', ''))).filter(fits);
  if (format !== undefined && format !== 'regex') throw new Error(`zod-arbitrary: string format "${format}" is not supported`);
  // Short strings: the limits are tried by the hostile values, not by megabytes of random text.
  const text = fc.string({ unit: friendlyChar, minLength: min, maxLength: Math.max(min, Math.min(max, min + 24)) });
  // Paths are absolute where a refinement asks for it: give it a fair chance.
  return fc.oneof(text, text.map((s) => `/${s}`).filter(fits));
}

function numberArbitrary(def: Def): fc.Arbitrary<number> {
  let min = -Number.MAX_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  for (const c of checksOf(def)) {
    const v = Number(c.value);
    if (c.check === 'greater_than') min = Math.max(min, c.inclusive ? v : v + (def.format === 'safeint' ? 1 : Number.EPSILON));
    if (c.check === 'less_than') max = Math.min(max, c.inclusive ? v : v - (def.format === 'safeint' ? 1 : Number.EPSILON));
  }
  if (def.format === 'safeint' || def.format === 'int32' || def.format === 'uint32') {
    return fc.oneof(fc.constantFrom(min, max), fc.bigInt({ min: BigInt(Math.ceil(min)), max: BigInt(Math.floor(max)) }).map(Number));
  }
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

function objectArbitrary(def: Def): fc.Arbitrary<Record<string, unknown>> {
  const shape = def.shape ?? {};
  const arbs: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const [key, field] of Object.entries(shape)) {
    const fieldDef = defOf(field);
    // Optional and defaulted fields are sometimes left out, as a caller would.
    if (fieldDef.type === 'optional' || fieldDef.type === 'default') arbs[key] = arbitraryOf(fieldDef.innerType as z.ZodType);
    else {
      arbs[key] = arbitraryOf(field);
      required.push(key);
    }
  }
  return fc.record(arbs, { requiredKeys: required });
}

function arbitraryOf(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return stringArbitrary(def);
    case 'number':
      return numberArbitrary(def);
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case 'literal':
      return fc.constantFrom(...(def.values ?? []));
    case 'optional':
    case 'default':
      return fc.option(arbitraryOf(def.innerType as z.ZodType), { nil: undefined, freq: 4 });
    case 'nullable':
      return fc.option(arbitraryOf(def.innerType as z.ZodType), { nil: null, freq: 4 });
    case 'array': {
      const checks = checksOf(def);
      const min = Math.max(0, ...checks.filter((c) => c.check === 'min_length').map((c) => c.minimum ?? 0));
      const max = Math.min(min + 4, ...checks.filter((c) => c.check === 'max_length').map((c) => c.maximum ?? Infinity));
      return fc.array(arbitraryOf(def.element as z.ZodType), { minLength: min, maxLength: max });
    }
    case 'tuple':
      if (def.rest) throw new Error('zod-arbitrary: tuples with a rest element are not supported');
      return fc.tuple(...(def.items ?? []).map(arbitraryOf));
    case 'union':
      return fc.oneof(...(def.options ?? []).map(arbitraryOf));
    case 'object':
      return objectArbitrary(def);
    default:
      throw new Error(`zod-arbitrary: schema kind "${def.type}" is not supported`);
  }
}

/** Values the schema accepts: generated from its definition, then checked against it (refinements). */
export function validValue<S extends z.ZodType>(schema: S): fc.Arbitrary<z.input<S>> {
  return arbitraryOf(schema).filter((v) => schema.safeParse(v).success) as fc.Arbitrary<z.input<S>>;
}

export type FieldPath = Array<string | number>;

/** The path of every field, element slot and tuple item of a schema (the root is `[]`). */
export function fieldPaths(schema: z.ZodType, at: FieldPath = []): FieldPath[] {
  const def = defOf(schema);
  const paths: FieldPath[] = [at];
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return fieldPaths(def.innerType as z.ZodType, at);
    case 'tuple':
      (def.items ?? []).forEach((item, i) => paths.push(...fieldPaths(item, [...at, i])));
      break;
    case 'array':
      paths.push(...fieldPaths(def.element as z.ZodType, [...at, 0]));
      break;
    case 'object':
      for (const [key, field] of Object.entries(def.shape ?? {})) paths.push(...fieldPaths(field, [...at, key]));
      break;
    case 'union':
      for (const option of def.options ?? []) paths.push(...fieldPaths(option, at).slice(1));
      break;
    default:
      break;
  }
  const seen = new Set<string>();
  return paths.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A copy of `value` with `replacement` at `path`, making the containers on the way (an object for a
 * key, an array for an index) where the value has none: a wrong type can sit in any field.
 */
export function withValueAt(value: unknown, path: FieldPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...FieldPath];
  if (typeof head === 'number') {
    const array = Array.isArray(value) ? [...(value as unknown[])] : [];
    while (array.length < head) array.push(null);
    array[head] = withValueAt(array[head], rest, replacement);
    return array;
  }
  const object: Record<string, unknown> =
    typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
  Object.defineProperty(object, head, {
    value: withValueAt(object[head], rest, replacement),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return object;
}

/** Values of every JSON type and a few JavaScript ones, for the "wrong type in this field" cases. */
export function anyTypeValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), '', 'x', [], {}, [[]], { length: 1 }),
    fc.constantFrom(NaN, Infinity, undefined),
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.jsonValue({ maxDepth: 3 }),
  );
}
