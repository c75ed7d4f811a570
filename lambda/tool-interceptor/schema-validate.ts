/**
 * Strict validation of tool arguments against a tool's JSON Schema (the deployer's registered schema, never the
 * server's). Pure: no SDK, no environment, no clock.
 *
 * Only a closed subset of JSON Schema 2020-12 is supported, and a schema that uses anything else is refused when it
 * is compiled, so that no constraint is ever silently skipped:
 * - `type` (one type or a list), `enum`, `const` on any node;
 * - objects: `properties`, `required`, `additionalProperties: false` (the default: extra keys are always rejected),
 *   `minProperties`, `maxProperties`;
 * - strings: `minLength`, `maxLength` (in code points), `pattern` (ECMAScript, `u` flag);
 * - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers), `multipleOf`; `integer`;
 * - arrays: `items` (one schema), `minItems`, `maxItems`, `uniqueItems`;
 * - annotations, ignored: `$schema`, `$id`, `$comment`, `title`, `description`, `default`, `examples`, `format`,
 *   `deprecated`, `readOnly`, `writeOnly`.
 *
 * Arguments are rejected when they carry a key the schema does not declare, a `__proto__`, `constructor` or
 * `prototype` key anywhere, a value that is not plain JSON data, or (when parsed from text with
 * {@link parseAndValidateArguments}) a duplicate key. Problems name a JSON pointer and a code, never the value.
 */
import { StrictJsonError, canonicalize, parseStrictJson } from '../shared/canonical-json';

/** Why an argument value was rejected. */
export const ArgumentProblemCode = {
  INVALID_JSON: 'INVALID_JSON',
  DUPLICATE_KEY: 'DUPLICATE_KEY',
  FORBIDDEN_KEY: 'FORBIDDEN_KEY',
  NOT_PLAIN_DATA: 'NOT_PLAIN_DATA',
  UNKNOWN_PROPERTY: 'UNKNOWN_PROPERTY',
  MISSING_REQUIRED: 'MISSING_REQUIRED',
  WRONG_TYPE: 'WRONG_TYPE',
  NOT_IN_ENUM: 'NOT_IN_ENUM',
  NOT_CONST: 'NOT_CONST',
  TOO_SHORT: 'TOO_SHORT',
  TOO_LONG: 'TOO_LONG',
  PATTERN_MISMATCH: 'PATTERN_MISMATCH',
  BELOW_MINIMUM: 'BELOW_MINIMUM',
  ABOVE_MAXIMUM: 'ABOVE_MAXIMUM',
  NOT_MULTIPLE: 'NOT_MULTIPLE',
  TOO_FEW_ITEMS: 'TOO_FEW_ITEMS',
  TOO_MANY_ITEMS: 'TOO_MANY_ITEMS',
  DUPLICATE_ITEMS: 'DUPLICATE_ITEMS',
  TOO_FEW_PROPERTIES: 'TOO_FEW_PROPERTIES',
  TOO_MANY_PROPERTIES: 'TOO_MANY_PROPERTIES',
  TOO_DEEP: 'TOO_DEEP',
} as const;
export type ArgumentProblemCode = (typeof ArgumentProblemCode)[keyof typeof ArgumentProblemCode];

/** One problem: where (JSON pointer into the arguments, `""` is the root) and what (a code; never the value). */
export interface ArgumentProblem {
  readonly path: string;
  readonly code: ArgumentProblemCode;
}

/** Result of a validation: the validated arguments, or every problem found (capped at {@link MAX_PROBLEMS}). */
export type ArgumentValidation =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: readonly ArgumentProblem[] };

/** Thrown by {@link compileToolSchema} for a schema outside the supported subset; lists every problem. */
export class SchemaCompileError extends Error {
  public readonly problems: readonly string[];

  public constructor(problems: readonly string[]) {
    super(`unsupported or invalid tool input schema: ${problems.join('; ')}`);
    this.name = 'SchemaCompileError';
    this.problems = Object.freeze([...problems]);
  }
}

/** Most problems reported for one value. */
export const MAX_PROBLEMS = 20;
/** Deepest nesting of arguments (and of a schema) accepted. */
export const MAX_ARGUMENT_DEPTH = 32;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const ANNOTATION_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'format',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const VALIDATION_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
]);

/** A schema node after compilation (frozen; internal representation). */
interface Node {
  readonly types?: ReadonlySet<string>;
  readonly enumKeys?: ReadonlySet<string>;
  readonly constKey?: string;
  readonly properties?: ReadonlyMap<string, Node>;
  readonly required?: readonly string[];
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly items?: Node;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
}

/** A compiled tool input schema; obtain one with {@link compileToolSchema}. */
export interface CompiledToolSchema {
  /** Brand: only {@link compileToolSchema} makes these. */
  readonly kind: 'CompiledToolSchema';
  /** @internal */
  readonly root: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function compileNode(schema: unknown, path: string, depth: number, problems: string[]): Node {
  if (depth > MAX_ARGUMENT_DEPTH) {
    problems.push(`${path || '/'}: schema nests deeper than ${MAX_ARGUMENT_DEPTH}`);
    return {};
  }
  if (!isPlainObject(schema)) {
    problems.push(`${path || '/'}: a schema must be a JSON object (boolean schemas are not supported)`);
    return {};
  }
  const node: { -readonly [K in keyof Node]: Node[K] } = {};
  for (const key of Object.keys(schema)) {
    if (!VALIDATION_KEYWORDS.has(key) && !ANNOTATION_KEYWORDS.has(key)) {
      problems.push(`${path || '/'}: unsupported keyword "${key}"`);
    }
  }
  const at = (k: string): string => `${path}/${k}`;

  if (schema.type !== undefined) {
    const list = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string' || !TYPES.has(t))) {
      problems.push(`${at('type')}: must be one of ${[...TYPES].join(', ')} or a non-empty list of them`);
    } else {
      node.types = new Set(list as string[]);
    }
  }
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.length === 0) {
      problems.push(`${at('enum')}: must be a non-empty array`);
    } else {
      try {
        node.enumKeys = new Set(schema.enum.map((v) => canonicalize(v)));
      } catch {
        problems.push(`${at('enum')}: values must be JSON data`);
      }
    }
  }
  if (schema.const !== undefined) {
    try {
      node.constKey = canonicalize(schema.const);
    } catch {
      problems.push(`${at('const')}: must be JSON data`);
    }
  }
  if (node.types === undefined && node.enumKeys === undefined && node.constKey === undefined) {
    problems.push(`${path || '/'}: every schema node needs "type", "enum" or "const" (an untyped node would accept anything)`);
  }

  // Objects.
  if (schema.properties !== undefined) {
    if (!isPlainObject(schema.properties)) {
      problems.push(`${at('properties')}: must be an object`);
    } else {
      const props = new Map<string, Node>();
      for (const name of Object.keys(schema.properties)) {
        if (FORBIDDEN_KEYS.has(name)) {
          problems.push(`${at('properties')}: property name "${name}" is forbidden`);
          continue;
        }
        props.set(name, compileNode(schema.properties[name], `${at('properties')}/${escapePointer(name)}`, depth + 1, problems));
      }
      node.properties = props;
    }
  }
  if (schema.required !== undefined) {
    const declared = node.properties ?? new Map<string, Node>();
    if (!Array.isArray(schema.required) || schema.required.some((r) => typeof r !== 'string')) {
      problems.push(`${at('required')}: must be an array of property names`);
    } else if (new Set(schema.required).size !== schema.required.length) {
      problems.push(`${at('required')}: lists a name twice`);
    } else {
      const undeclared = (schema.required as string[]).filter((r) => !declared.has(r));
      if (undeclared.length > 0) problems.push(`${at('required')}: names undeclared properties (${undeclared.join(', ')})`);
      node.required = Object.freeze([...(schema.required as string[])]);
    }
  }
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
    problems.push(`${at('additionalProperties')}: only false is supported (extra keys are always rejected)`);
  }
  for (const k of ['minProperties', 'maxProperties', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
    if (schema[k] !== undefined) {
      if (!isCount(schema[k])) problems.push(`${at(k)}: must be a non-negative integer`);
      else node[k] = schema[k] as number;
    }
  }
  if (node.minLength !== undefined && node.maxLength !== undefined && node.minLength > node.maxLength) {
    problems.push(`${path || '/'}: minLength is above maxLength`);
  }
  if (node.minItems !== undefined && node.maxItems !== undefined && node.minItems > node.maxItems) {
    problems.push(`${path || '/'}: minItems is above maxItems`);
  }

  // Strings.
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== 'string') {
      problems.push(`${at('pattern')}: must be a string`);
    } else {
      try {
        node.pattern = new RegExp(schema.pattern, 'u');
      } catch {
        problems.push(`${at('pattern')}: is not a valid ECMAScript regular expression`);
      }
    }
  }

  // Numbers.
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
    if (schema[k] !== undefined) {
      if (typeof schema[k] !== 'number' || !Number.isFinite(schema[k])) problems.push(`${at(k)}: must be a finite number`);
      else node[k] = schema[k] as number;
    }
  }
  if (schema.multipleOf !== undefined) {
    if (typeof schema.multipleOf !== 'number' || !(schema.multipleOf > 0) || !Number.isFinite(schema.multipleOf)) {
      problems.push(`${at('multipleOf')}: must be a positive number`);
    } else {
      node.multipleOf = schema.multipleOf;
    }
  }

  // Arrays.
  if (schema.items !== undefined) node.items = compileNode(schema.items, at('items'), depth + 1, problems);
  if (schema.uniqueItems !== undefined) {
    if (typeof schema.uniqueItems !== 'boolean') problems.push(`${at('uniqueItems')}: must be a boolean`);
    else node.uniqueItems = schema.uniqueItems;
  }
  if (node.types?.has('array') && node.items === undefined) {
    problems.push(`${path || '/'}: an array node needs "items" (untyped items would accept anything)`);
  }
  if (node.types?.has('object') && node.properties === undefined) {
    // An object without declared properties accepts only `{}`, which is a legitimate (no-argument) tool.
    node.properties = new Map();
  }
  return Object.freeze(node);
}

const MAX_SEGMENT = 64;

/**
 * One JSON pointer reference token, safe for logs: RFC 6901 escaping (`~0`, `~1`), then `%` and every character
 * outside printable ASCII percent-encoded as UTF-8 (the pointer's URI-fragment form), so invisible or control
 * characters in attacker-chosen keys never reach a log; tokens longer than 64 characters are shortened with `…`.
 */
export function escapePointer(token: string): string {
  const escaped = token.replace(/~/g, '~0').replace(/\//g, '~1');
  let out = '';
  for (const ch of escaped) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0x21 && cp <= 0x7e && ch !== '%') out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '%EF%BF%BD';
    else out += encodeURIComponent(ch) === ch ? `%${cp.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(ch);
    if (out.length > MAX_SEGMENT) return `${out.slice(0, MAX_SEGMENT)}…`;
  }
  return out;
}

/**
 * Compiles a tool input schema. The root must be `type: "object"`. Throws a {@link SchemaCompileError} listing every
 * problem when the schema uses an unsupported keyword, a node without a type, a non-false `additionalProperties`,
 * `required` names that are not declared, a forbidden property name, or an invalid pattern or bound.
 */
export function compileToolSchema(schema: unknown): CompiledToolSchema {
  const problems: string[] = [];
  const root = compileNode(schema, '', 0, problems);
  if (problems.length === 0 && (root.types === undefined || root.types.size !== 1 || !root.types.has('object'))) {
    problems.push('/: the root of a tool input schema must be exactly type "object"');
  }
  if (problems.length > 0) throw new SchemaCompileError(problems);
  return Object.freeze({ kind: 'CompiledToolSchema' as const, root });
}

/** Every problem with a tool input schema (empty when {@link compileToolSchema} accepts it). */
export function toolSchemaProblems(schema: unknown): string[] {
  try {
    compileToolSchema(schema);
    return [];
  } catch (err) {
    return err instanceof SchemaCompileError ? [...err.problems] : [String(err)];
  }
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function jsonTypeOf(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isFinite(value) ? 'number' : undefined;
    case 'object':
      return isPlainObject(value) ? 'object' : undefined;
    default:
      return undefined;
  }
}

function typeMatches(types: ReadonlySet<string>, actual: string, value: unknown): boolean {
  if (types.has(actual)) return true;
  return actual === 'number' && types.has('integer') && Number.isInteger(value as number);
}

class Validator {
  public readonly problems: ArgumentProblem[] = [];

  private add(path: string, code: ArgumentProblemCode): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(Object.freeze({ path, code }));
  }

  public get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }

  /** Plain-data and forbidden-key checks over the whole value, independent of the schema. */
  public checkData(value: unknown, path: string, depth: number): boolean {
    if (depth > MAX_ARGUMENT_DEPTH) {
      this.add(path, ArgumentProblemCode.TOO_DEEP);
      return false;
    }
    const type = jsonTypeOf(value);
    if (type === undefined) {
      this.add(path, ArgumentProblemCode.NOT_PLAIN_DATA);
      return false;
    }
    if (type === 'array') {
      const arr = value as unknown[];
      if (Object.getPrototypeOf(arr) !== Array.prototype) {
        this.add(path, ArgumentProblemCode.NOT_PLAIN_DATA);
        return false;
      }
      let ok = true;
      for (let i = 0; i < arr.length && !this.full; i++) {
        if (!(i in arr)) {
          this.add(`${path}/${i}`, ArgumentProblemCode.NOT_PLAIN_DATA);
          ok = false;
        } else if (!this.checkData(arr[i], `${path}/${i}`, depth + 1)) {
          ok = false;
        }
      }
      return ok;
    }
    if (type === 'object') {
      const obj = value as Record<string, unknown>;
      if (Object.getOwnPropertySymbols(obj).length > 0) {
        this.add(path, ArgumentProblemCode.NOT_PLAIN_DATA);
        return false;
      }
      let ok = true;
      for (const key of Object.getOwnPropertyNames(obj)) {
        if (this.full) break;
        const child = `${path}/${escapePointer(key)}`;
        if (FORBIDDEN_KEYS.has(key)) {
          this.add(child, ArgumentProblemCode.FORBIDDEN_KEY);
          ok = false;
          continue;
        }
        const desc = Object.getOwnPropertyDescriptor(obj, key);
        if (desc === undefined || !('value' in desc) || !desc.enumerable) {
          this.add(child, ArgumentProblemCode.NOT_PLAIN_DATA);
          ok = false;
          continue;
        }
        if (!this.checkData(desc.value, child, depth + 1)) ok = false;
      }
      return ok;
    }
    return true;
  }

  public validate(node: Node, value: unknown, path: string): void {
    if (this.full) return;
    const actual = jsonTypeOf(value) as string;
    if (node.types !== undefined && !typeMatches(node.types, actual, value)) {
      this.add(path, ArgumentProblemCode.WRONG_TYPE);
      return;
    }
    if (node.enumKeys !== undefined || node.constKey !== undefined) {
      const key = canonicalize(value);
      if (node.enumKeys !== undefined && !node.enumKeys.has(key)) this.add(path, ArgumentProblemCode.NOT_IN_ENUM);
      if (node.constKey !== undefined && node.constKey !== key) this.add(path, ArgumentProblemCode.NOT_CONST);
    }
    switch (actual) {
      case 'string':
        this.validateString(node, value as string, path);
        break;
      case 'number':
        this.validateNumber(node, value as number, path);
        break;
      case 'array':
        this.validateArray(node, value as unknown[], path);
        break;
      case 'object':
        this.validateObject(node, value as Record<string, unknown>, path);
        break;
      default:
        break;
    }
  }

  private validateString(node: Node, s: string, path: string): void {
    if (node.minLength !== undefined || node.maxLength !== undefined) {
      const n = codePointLength(s);
      if (node.minLength !== undefined && n < node.minLength) this.add(path, ArgumentProblemCode.TOO_SHORT);
      if (node.maxLength !== undefined && n > node.maxLength) this.add(path, ArgumentProblemCode.TOO_LONG);
    }
    if (node.pattern !== undefined) {
      node.pattern.lastIndex = 0;
      if (!node.pattern.test(s)) this.add(path, ArgumentProblemCode.PATTERN_MISMATCH);
    }
  }

  private validateNumber(node: Node, x: number, path: string): void {
    if (node.types !== undefined && !node.types.has('number') && node.types.has('integer') && !Number.isSafeInteger(x)) {
      this.add(path, ArgumentProblemCode.WRONG_TYPE);
      return;
    }
    if (node.minimum !== undefined && x < node.minimum) this.add(path, ArgumentProblemCode.BELOW_MINIMUM);
    if (node.exclusiveMinimum !== undefined && x <= node.exclusiveMinimum) this.add(path, ArgumentProblemCode.BELOW_MINIMUM);
    if (node.maximum !== undefined && x > node.maximum) this.add(path, ArgumentProblemCode.ABOVE_MAXIMUM);
    if (node.exclusiveMaximum !== undefined && x >= node.exclusiveMaximum) this.add(path, ArgumentProblemCode.ABOVE_MAXIMUM);
    if (node.multipleOf !== undefined) {
      const q = x / node.multipleOf;
      if (!Number.isFinite(q) || Math.abs(q - Math.round(q)) > 1e-9) this.add(path, ArgumentProblemCode.NOT_MULTIPLE);
    }
  }

  private validateArray(node: Node, arr: unknown[], path: string): void {
    if (node.minItems !== undefined && arr.length < node.minItems) this.add(path, ArgumentProblemCode.TOO_FEW_ITEMS);
    if (node.maxItems !== undefined && arr.length > node.maxItems) {
      this.add(path, ArgumentProblemCode.TOO_MANY_ITEMS);
      return;
    }
    if (node.uniqueItems) {
      const seen = new Set<string>();
      for (const item of arr) {
        const key = canonicalize(item);
        if (seen.has(key)) {
          this.add(path, ArgumentProblemCode.DUPLICATE_ITEMS);
          break;
        }
        seen.add(key);
      }
    }
    if (node.items !== undefined) {
      for (let i = 0; i < arr.length && !this.full; i++) this.validate(node.items, arr[i], `${path}/${i}`);
    }
  }

  private validateObject(node: Node, obj: Record<string, unknown>, path: string): void {
    const keys = Object.keys(obj);
    if (node.minProperties !== undefined && keys.length < node.minProperties) this.add(path, ArgumentProblemCode.TOO_FEW_PROPERTIES);
    if (node.maxProperties !== undefined && keys.length > node.maxProperties) this.add(path, ArgumentProblemCode.TOO_MANY_PROPERTIES);
    const props = node.properties;
    for (const key of keys) {
      if (this.full) return;
      const child = props?.get(key);
      if (child === undefined) {
        // Only an enum/const node without declared properties may hold an object with keys (its value was checked).
        if (props !== undefined || (node.enumKeys === undefined && node.constKey === undefined)) {
          this.add(`${path}/${escapePointer(key)}`, ArgumentProblemCode.UNKNOWN_PROPERTY);
        }
        continue;
      }
      this.validate(child, obj[key], `${path}/${escapePointer(key)}`);
    }
    for (const name of node.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(obj, name)) this.add(`${path}/${escapePointer(name)}`, ArgumentProblemCode.MISSING_REQUIRED);
    }
  }
}

function rootOf(schema: CompiledToolSchema | unknown): Node {
  if (typeof schema === 'object' && schema !== null && (schema as CompiledToolSchema).kind === 'CompiledToolSchema') {
    return (schema as CompiledToolSchema).root as Node;
  }
  return compileToolSchema(schema).root as Node;
}

/**
 * Validates an arguments value (already parsed) against a tool schema (compiled, or raw and compiled here; a raw
 * schema that does not compile throws a {@link SchemaCompileError}). The value must be a plain JSON object.
 * Never throws for any value.
 */
export function validateArguments(args: unknown, schema: CompiledToolSchema | unknown): ArgumentValidation {
  const root = rootOf(schema);
  const v = new Validator();
  try {
    if (!v.checkData(args, '', 0)) return Object.freeze({ ok: false as const, problems: Object.freeze(v.problems) });
    if (jsonTypeOf(args) !== 'object') {
      return Object.freeze({ ok: false as const, problems: Object.freeze([{ path: '', code: ArgumentProblemCode.WRONG_TYPE }]) });
    }
    v.validate(root, args, '');
  } catch {
    // A hostile getter or proxy: nothing about this value can be trusted.
    return Object.freeze({ ok: false as const, problems: Object.freeze([{ path: '', code: ArgumentProblemCode.NOT_PLAIN_DATA }]) });
  }
  if (v.problems.length > 0) return Object.freeze({ ok: false as const, problems: Object.freeze(v.problems) });
  return Object.freeze({ ok: true as const, value: args as Readonly<Record<string, unknown>> });
}

/**
 * Parses arguments from JSON text with the core's strict parser (duplicate keys, `__proto__`/`constructor`/
 * `prototype` keys, lone surrogates and trailing text are rejected at parse time), then validates them.
 * Never throws for any text.
 */
export function parseAndValidateArguments(text: string, schema: CompiledToolSchema | unknown): ArgumentValidation {
  const root = rootOf(schema);
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text, { maxDepth: MAX_ARGUMENT_DEPTH });
  } catch (err) {
    const message = err instanceof StrictJsonError ? err.message : '';
    const code = message.startsWith('duplicate key')
      ? ArgumentProblemCode.DUPLICATE_KEY
      : message.startsWith('forbidden key')
        ? ArgumentProblemCode.FORBIDDEN_KEY
        : message.startsWith('nesting too deep')
          ? ArgumentProblemCode.TOO_DEEP
          : ArgumentProblemCode.INVALID_JSON;
    return Object.freeze({ ok: false as const, problems: Object.freeze([{ path: '', code }]) });
  }
  return validateArguments(parsed, { kind: 'CompiledToolSchema', root } as CompiledToolSchema);
}
