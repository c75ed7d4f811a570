/**
 * The metadata contract of a knowledge base and the pure validator of document metadata sidecars
 * (`<document>.metadata.json`), as Amazon Bedrock Knowledge Bases reads them from an S3 data source.
 *
 * A sidecar is valid when it is at most 10 KB, strict JSON (no duplicate keys, no `__proto__`), exactly
 * `{"metadataAttributes": {...}}`, carries every required key of the contract with a value of the declared type
 * (simple form `"k": v` or typed form `"k": {"value": {"type": ..., "<type>Value": v}, "includeForEmbedding": b}`),
 * satisfies the contract's allowed values, patterns and bounds, and (unless the contract allows it) has no undeclared
 * key. Pure: usable in CI to check documents before upload, and by the ingestion check Lambda.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';

/** Suffix Bedrock expects for a document's metadata file (`A.pdf` → `A.pdf.metadata.json`). */
export const METADATA_SIDECAR_SUFFIX = '.metadata.json';
/** Largest metadata file Bedrock accepts, in bytes. */
export const MAX_SIDECAR_BYTES = 10 * 1024;
/** Most fields a contract may declare. */
export const MAX_CONTRACT_FIELDS = 20;

/** Metadata value types. */
export const MetadataFieldType = {
  STRING: 'STRING',
  NUMBER: 'NUMBER',
  BOOLEAN: 'BOOLEAN',
  STRING_LIST: 'STRING_LIST',
} as const;
export type MetadataFieldType = (typeof MetadataFieldType)[keyof typeof MetadataFieldType];

/** One declared metadata key. */
export interface MetadataFieldSpec {
  readonly key: string;
  readonly type: MetadataFieldType;
  /** Must every document carry it? */
  readonly required: boolean;
  /** STRING / STRING_LIST items: the only values allowed. */
  readonly allowedValues?: readonly string[];
  /** STRING / STRING_LIST items: a regular expression the WHOLE value must match. */
  readonly pattern?: string;
  /** STRING / STRING_LIST items: longest value. */
  readonly maxLength?: number;
  /** NUMBER: bounds (inclusive). */
  readonly minimum?: number;
  readonly maximum?: number;
  /** NUMBER: whole numbers only. */
  readonly integer?: boolean;
  /** STRING_LIST: most items (at least one item is always required). */
  readonly maxItems?: number;
}

/** The contract as the construct serializes it. */
export interface MetadataContractSpec {
  readonly version: 1;
  readonly fields: readonly MetadataFieldSpec[];
  /** Accept keys the contract does not declare (their values are still checked to be simple values). */
  readonly allowUndeclaredKeys: boolean;
}

/** A validated attribute value. */
export type MetadataValue = string | number | boolean | string[];

/** Result of {@link validateMetadataSidecar}. */
export type SidecarValidation =
  | { readonly valid: true; readonly attributes: Readonly<Record<string, MetadataValue>> }
  | { readonly valid: false; readonly problems: readonly string[] };

/** Default longest string value. */
export const DEFAULT_MAX_STRING_LENGTH = 1024;
/** Default most list items. */
export const DEFAULT_MAX_ITEMS = 100;

const METADATA_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;
const RESERVED_KEY = /^(x-amz-bedrock-|AMAZON_BEDROCK_)/i;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const TYPED_VALUE_MEMBER: Record<MetadataFieldType, string> = {
  STRING: 'stringValue',
  NUMBER: 'numberValue',
  BOOLEAN: 'booleanValue',
  STRING_LIST: 'stringListValue',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a key a contract may declare (1–100 of `A-Za-z0-9_.:-`, not a Bedrock-reserved name). */
export function isValidContractKey(key: unknown): key is string {
  return typeof key === 'string' && METADATA_KEY.test(key) && !RESERVED_KEY.test(key) && !FORBIDDEN_NAMES.has(key);
}

function compilePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Every problem of one field declaration (empty when valid). */
export function fieldProblems(f: unknown, where: string): string[] {
  if (!isObject(f)) return [`${where} must be an object`];
  const problems: string[] = [];
  if (!isValidContractKey(f.key)) problems.push(`${where}.key ${JSON.stringify(f.key)} is not a valid metadata key (1-100 of A-Za-z0-9_.:-, not x-amz-bedrock-* or AMAZON_BEDROCK_*)`);
  const type = f.type;
  if (!Object.values(MetadataFieldType).includes(type as MetadataFieldType)) problems.push(`${where}.type ${JSON.stringify(type)} is unknown`);
  if (typeof f.required !== 'boolean') problems.push(`${where}.required must be a boolean`);
  const stringy = type === MetadataFieldType.STRING || type === MetadataFieldType.STRING_LIST;
  if (f.allowedValues !== undefined) {
    if (!stringy) problems.push(`${where}.allowedValues applies to STRING and STRING_LIST only`);
    else if (!Array.isArray(f.allowedValues) || f.allowedValues.length === 0 || !f.allowedValues.every((v) => typeof v === 'string' && v.length > 0)) {
      problems.push(`${where}.allowedValues must be a non-empty list of non-empty strings`);
    }
  }
  if (f.pattern !== undefined) {
    if (!stringy) problems.push(`${where}.pattern applies to STRING and STRING_LIST only`);
    else if (typeof f.pattern !== 'string' || f.pattern.length === 0 || f.pattern.length > 512) problems.push(`${where}.pattern must be a regular expression of 1 to 512 characters`);
    else {
      try {
        compilePattern(f.pattern);
      } catch {
        problems.push(`${where}.pattern ${JSON.stringify(f.pattern)} is not a valid regular expression`);
      }
    }
  }
  if (f.maxLength !== undefined && (!stringy || !Number.isInteger(f.maxLength) || (f.maxLength as number) < 1 || (f.maxLength as number) > 2048)) {
    problems.push(`${where}.maxLength must be a whole number from 1 to 2048 on a STRING or STRING_LIST field`);
  }
  for (const bound of ['minimum', 'maximum'] as const) {
    if (f[bound] !== undefined && (type !== MetadataFieldType.NUMBER || typeof f[bound] !== 'number' || !Number.isFinite(f[bound]))) {
      problems.push(`${where}.${bound} must be a finite number on a NUMBER field`);
    }
  }
  if (typeof f.minimum === 'number' && typeof f.maximum === 'number' && f.minimum > f.maximum) problems.push(`${where}.minimum is greater than maximum`);
  if (f.integer !== undefined && (type !== MetadataFieldType.NUMBER || typeof f.integer !== 'boolean')) problems.push(`${where}.integer must be a boolean on a NUMBER field`);
  if (f.maxItems !== undefined && (type !== MetadataFieldType.STRING_LIST || !Number.isInteger(f.maxItems) || (f.maxItems as number) < 1 || (f.maxItems as number) > 1000)) {
    problems.push(`${where}.maxItems must be a whole number from 1 to 1000 on a STRING_LIST field`);
  }
  return problems;
}

/** Reads a contract (the JSON the construct writes). Throws a {@link ConfigurationError} naming every problem. */
export function parseMetadataContract(value: unknown): MetadataContractSpec {
  if (!isObject(value)) throw new ConfigurationError(['metadata contract must be an object']);
  const problems: string[] = [];
  if (value.version !== 1) problems.push(`metadata contract version must be 1, got ${JSON.stringify(value.version)}`);
  const fields = value.fields;
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_CONTRACT_FIELDS) {
    problems.push(`metadata contract must declare 1 to ${MAX_CONTRACT_FIELDS} fields`);
  } else {
    const seen = new Set<string>();
    fields.forEach((f: unknown, i: number) => {
      problems.push(...fieldProblems(f, `fields[${i}]`));
      const key = isObject(f) ? f.key : undefined;
      if (typeof key === 'string') {
        if (seen.has(key)) problems.push(`fields[${i}].key ${JSON.stringify(key)} is declared twice`);
        seen.add(key);
      }
    });
  }
  if (value.allowUndeclaredKeys !== undefined && typeof value.allowUndeclaredKeys !== 'boolean') problems.push('allowUndeclaredKeys must be a boolean');
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `metadata contract: ${p}`));
  return Object.freeze({
    version: 1,
    fields: Object.freeze((fields as MetadataFieldSpec[]).map((f) => Object.freeze({ ...f }))),
    allowUndeclaredKeys: value.allowUndeclaredKeys === true,
  });
}

function checkString(field: MetadataFieldSpec, value: unknown, where: string, problems: string[]): value is string {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push(`${where} must be a non-empty string`);
    return false;
  }
  const max = field.maxLength ?? DEFAULT_MAX_STRING_LENGTH;
  if (value.length > max) problems.push(`${where} is longer than ${max} characters`);
  else if (field.allowedValues && !field.allowedValues.includes(value)) problems.push(`${where} is not one of the allowed values`);
  else if (field.pattern && !compilePattern(field.pattern).test(value)) problems.push(`${where} does not match the required pattern`);
  return true;
}

function checkValue(field: MetadataFieldSpec, value: unknown, problems: string[]): MetadataValue | undefined {
  const where = `metadataAttributes.${field.key}`;
  const before = problems.length;
  switch (field.type) {
    case MetadataFieldType.STRING:
      if (!checkString(field, value, where, problems)) return undefined;
      break;
    case MetadataFieldType.NUMBER:
      if (typeof value !== 'number' || !Number.isFinite(value)) return void problems.push(`${where} must be a number`);
      if (field.integer && !Number.isInteger(value)) problems.push(`${where} must be a whole number`);
      if (field.minimum !== undefined && value < field.minimum) problems.push(`${where} is below the minimum ${field.minimum}`);
      if (field.maximum !== undefined && value > field.maximum) problems.push(`${where} is above the maximum ${field.maximum}`);
      break;
    case MetadataFieldType.BOOLEAN:
      if (typeof value !== 'boolean') return void problems.push(`${where} must be a boolean`);
      break;
    case MetadataFieldType.STRING_LIST: {
      const max = field.maxItems ?? DEFAULT_MAX_ITEMS;
      if (!Array.isArray(value) || value.length === 0) return void problems.push(`${where} must be a non-empty list of strings`);
      if (value.length > max) return void problems.push(`${where} has more than ${max} items`);
      value.forEach((item, i) => checkString(field, item, `${where}[${i}]`, problems));
      break;
    }
    default:
      return void problems.push(`${where} has an unknown declared type`);
  }
  if (problems.length > before) return undefined;
  return Array.isArray(value) ? [...(value as string[])] : (value as MetadataValue);
}

/** The plain value of an attribute in simple or typed form, or a problem. */
function unwrap(field: MetadataFieldSpec | undefined, raw: unknown, key: string, problems: string[]): unknown {
  if (!isObject(raw)) return raw;
  // Typed form: {"value": {"type": T, "<t>Value": v}, "includeForEmbedding": b}
  const keys = Object.keys(raw);
  if (!keys.includes('value') || keys.some((k) => k !== 'value' && k !== 'includeForEmbedding')) {
    problems.push(`metadataAttributes.${key} must be a value or {"value": {...}, "includeForEmbedding": bool}`);
    return undefined;
  }
  if (raw.includeForEmbedding !== undefined && typeof raw.includeForEmbedding !== 'boolean') problems.push(`metadataAttributes.${key}.includeForEmbedding must be a boolean`);
  const typed = raw.value;
  if (!isObject(typed) || typeof typed.type !== 'string' || !Object.values(MetadataFieldType).includes(typed.type as MetadataFieldType)) {
    problems.push(`metadataAttributes.${key}.value must name a type STRING, NUMBER, BOOLEAN or STRING_LIST`);
    return undefined;
  }
  const type = typed.type as MetadataFieldType;
  if (field && type !== field.type) {
    problems.push(`metadataAttributes.${key} is declared ${field.type} but typed ${type}`);
    return undefined;
  }
  const member = TYPED_VALUE_MEMBER[type];
  const typedKeys = Object.keys(typed);
  if (typedKeys.length !== 2 || !typedKeys.includes(member)) {
    problems.push(`metadataAttributes.${key}.value must have exactly "type" and "${member}"`);
    return undefined;
  }
  return typed[member];
}

function simpleValue(value: unknown): value is MetadataValue {
  return (
    (typeof value === 'string' && value.length <= DEFAULT_MAX_STRING_LENGTH) ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    (Array.isArray(value) && value.length <= DEFAULT_MAX_ITEMS && value.every((v) => typeof v === 'string' && v.length <= DEFAULT_MAX_STRING_LENGTH))
  );
}

/**
 * Validates a metadata sidecar (its raw bytes or text) against a contract. Never throws; a problem names the key and
 * the rule broken, never the value.
 */
export function validateMetadataSidecar(contract: MetadataContractSpec, sidecar: string | Uint8Array): SidecarValidation {
  try {
    let text: string;
    if (typeof sidecar === 'string') {
      if (Buffer.byteLength(sidecar, 'utf8') > MAX_SIDECAR_BYTES) return { valid: false, problems: [`the metadata file is larger than ${MAX_SIDECAR_BYTES} bytes`] };
      text = sidecar;
    } else {
      if (sidecar.byteLength > MAX_SIDECAR_BYTES) return { valid: false, problems: [`the metadata file is larger than ${MAX_SIDECAR_BYTES} bytes`] };
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(sidecar);
      } catch {
        return { valid: false, problems: ['the metadata file is not UTF-8 text'] };
      }
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let doc: unknown;
    try {
      doc = parseStrictJson(text, { maxDepth: 8 });
    } catch (err) {
      return { valid: false, problems: [`the metadata file is not strict JSON (${(err as Error).message.slice(0, 80)})`] };
    }
    if (!isObject(doc)) return { valid: false, problems: ['the metadata file must be a JSON object'] };
    const top = Object.keys(doc);
    if (top.length !== 1 || top[0] !== 'metadataAttributes') return { valid: false, problems: ['the metadata file must contain exactly one key, "metadataAttributes"'] };
    const attributes = doc.metadataAttributes;
    if (!isObject(attributes)) return { valid: false, problems: ['metadataAttributes must be an object'] };
    const problems: string[] = [];
    const out: Record<string, MetadataValue> = {};
    const declared = new Map(contract.fields.map((f) => [f.key, f]));
    for (const key of Object.keys(attributes)) {
      const field = declared.get(key);
      if (!field) {
        if (!contract.allowUndeclaredKeys) {
          problems.push(`metadataAttributes.${key.slice(0, 100)} is not declared in the metadata contract`);
          continue;
        }
        const v = unwrap(undefined, attributes[key], key.slice(0, 100), problems);
        if (!isValidContractKey(key) || !simpleValue(v)) problems.push(`metadataAttributes.${key.slice(0, 100)} is not a valid undeclared attribute`);
        else out[key] = Array.isArray(v) ? [...v] : v;
        continue;
      }
      const v = unwrap(field, attributes[key], key, problems);
      if (v === undefined) continue;
      const checked = checkValue(field, v, problems);
      if (checked !== undefined) out[key] = checked;
    }
    for (const field of contract.fields) {
      if (field.required && !Object.prototype.hasOwnProperty.call(attributes, field.key)) problems.push(`metadataAttributes.${field.key} is required`);
    }
    if (problems.length > 0) return { valid: false, problems };
    return { valid: true, attributes: Object.freeze(out) };
  } catch {
    return { valid: false, problems: ['the metadata file could not be validated'] };
  }
}
