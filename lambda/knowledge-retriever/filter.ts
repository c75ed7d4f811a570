/**
 * The identity retrieval filter: a typed policy (written by `RetrievalFilterPolicy` at synth) interpreted against
 * a verified identity, producing the Bedrock `RetrievalFilter` that every Retrieve call carries.
 *
 * Guarantees:
 * - every identity condition of the policy is a top-level member of the filter's `andAll` (or the filter itself when
 *   it is the only member): Retrieve can never run without them;
 * - a caller-supplied filter is validated against a strict grammar, rebuilt, and added as one more `andAll` member,
 *   so it can only narrow: it is never beside the identity conditions in an `orAll` and never replaces them;
 * - `andAll`/`orAll` always have two or more members (a lone condition is never wrapped);
 * - identity values only ever appear in positive operators (`equals`, `in`, `listContains`, numeric bounds), never
 *   in `notEquals`, `notIn` or `startsWith` (which also match documents that lack the key or share a prefix);
 * - an identity with no usable value for a condition gets no filter at all and therefore no Retrieve call
 *   (`NO_USABLE_CLAIMS`), never "no filter".
 *
 * Pure: no SDK, no environment, no clock. Exported for customers' own agent code.
 */
import { ConfigurationError } from '../shared/errors';

/** A value in a filter attribute. */
export type FilterValue = string | number | boolean | ReadonlyArray<string | number>;

/** `{ key, value }` of a leaf operator. */
export interface FilterAttribute {
  readonly key: string;
  readonly value: FilterValue;
}

/** Leaf operators of the Bedrock retrieval filter grammar. */
export const LEAF_OPERATORS = [
  'equals',
  'notEquals',
  'greaterThan',
  'greaterThanOrEquals',
  'lessThan',
  'lessThanOrEquals',
  'in',
  'notIn',
  'listContains',
  'stringContains',
  'startsWith',
] as const;
export type LeafOperator = (typeof LEAF_OPERATORS)[number];

/** A Bedrock `RetrievalFilter` (structurally the SDK's type): exactly one operator per object. */
export type RetrievalFilterNode =
  | { readonly [K in LeafOperator]: { readonly [P in K]: FilterAttribute } }[LeafOperator]
  | { readonly andAll: readonly RetrievalFilterNode[] }
  | { readonly orAll: readonly RetrievalFilterNode[] };

/** Metadata value types (as in the metadata contract). */
export const MetadataValueType = {
  STRING: 'STRING',
  NUMBER: 'NUMBER',
  BOOLEAN: 'BOOLEAN',
  STRING_LIST: 'STRING_LIST',
} as const;
export type MetadataValueType = (typeof MetadataValueType)[keyof typeof MetadataValueType];

/** Kinds of identity conditions. */
export const IdentityConditionKind = {
  /** Document `key` equals the caller's claim (`equals`). */
  CLAIM_EQUALS: 'CLAIM_EQUALS',
  /** Document `key` (a scalar) is one of the caller's claim values (`in`, or `equals` for one value). */
  CLAIM_IN: 'CLAIM_IN',
  /** Document `key` (a string list) contains any of the caller's claim values (`listContains`, `orAll` of them). */
  LIST_CONTAINS_ANY: 'LIST_CONTAINS_ANY',
  /** Document `key` (a string list) contains any of the caller's verified groups. */
  GROUPS_CONTAIN: 'GROUPS_CONTAIN',
  /** Document `key` (a number) is at most the caller's numeric claim (`lessThanOrEquals`). */
  NUMBER_AT_MOST: 'NUMBER_AT_MOST',
  /** Document `key` (a number) is at least the caller's numeric claim (`greaterThanOrEquals`). */
  NUMBER_AT_LEAST: 'NUMBER_AT_LEAST',
  /** Document `key` equals the caller's verified subject (`sub`). */
  SUBJECT_EQUALS: 'SUBJECT_EQUALS',
} as const;
export type IdentityConditionKind = (typeof IdentityConditionKind)[keyof typeof IdentityConditionKind];

/** One identity condition of a policy. */
export interface IdentityConditionSpec {
  readonly kind: IdentityConditionKind;
  /** The document metadata key. */
  readonly key: string;
  /** The claim read from the verified token (not for GROUPS_CONTAIN and SUBJECT_EQUALS). */
  readonly claim?: string;
  /** Type of the metadata value, for CLAIM_EQUALS and CLAIM_IN (STRING, NUMBER or BOOLEAN). */
  readonly valueType?: MetadataValueType;
}

/** Operators a static condition may use: positive matches only. */
export const STATIC_OPERATORS = ['equals', 'in', 'listContains', 'lessThanOrEquals', 'greaterThanOrEquals'] as const;
export type StaticOperator = (typeof STATIC_OPERATORS)[number];

/** A condition every caller gets, whoever they are (for example `classification in [public, internal]`). */
export interface StaticConditionSpec {
  readonly operator: StaticOperator;
  readonly key: string;
  readonly value: FilterValue;
}

/** The policy as the construct serializes it. */
export interface FilterPolicySpec {
  readonly version: 1;
  /** At least one. */
  readonly identityConditions: readonly IdentityConditionSpec[];
  readonly staticConditions: readonly StaticConditionSpec[];
  /** Metadata keys a caller-supplied narrowing filter may use (the metadata contract's keys). */
  readonly callerFilterKeys: readonly string[];
  /** Most values one identity condition may carry (groups, list claims); more is denied, never truncated. */
  readonly maxValuesPerCondition: number;
}

/** The parts of a verified identity the filter reads. */
export interface FilterIdentity {
  readonly subject: string;
  readonly groups: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Why a filter could not be built. */
export const FilterFailure = {
  /** The identity has no usable value for some identity condition: no results for it. */
  NO_USABLE_CLAIMS: 'NO_USABLE_CLAIMS',
  /** An identity condition would need more values than the policy allows. */
  TOO_MANY_VALUES: 'TOO_MANY_VALUES',
  /** The caller-supplied narrowing filter broke the grammar. */
  FILTER_REJECTED: 'FILTER_REJECTED',
  /** The policy itself is unusable (no identity conditions, bad shape). */
  POLICY_INVALID: 'POLICY_INVALID',
} as const;
export type FilterFailure = (typeof FilterFailure)[keyof typeof FilterFailure];

/** Result of {@link buildRetrievalFilter}. */
export type FilterBuildResult =
  | {
      readonly ok: true;
      /** The filter to send with Retrieve. */
      readonly filter: RetrievalFilterNode;
      /** The identity nodes, in policy order; each is a top-level AND member of `filter`. */
      readonly identityNodes: readonly RetrievalFilterNode[];
      /** The rebuilt caller filter, if one was given. */
      readonly callerNode?: RetrievalFilterNode;
    }
  | { readonly ok: false; readonly failure: FilterFailure; readonly detail: string };

/** Limits of a caller-supplied filter. */
export const CALLER_FILTER_LIMITS = {
  maxDepth: 4,
  maxNodes: 64,
  maxMembers: 20,
  maxListValues: 100,
  maxStringLength: 1024,
} as const;

/** Leaf operators a caller's narrowing filter may use (`startsWith` only works on OpenSearch Serverless). */
export const CALLER_LEAF_OPERATORS: readonly LeafOperator[] = LEAF_OPERATORS.filter((op) => op !== 'startsWith');

/** Default and hard maximum of values per identity condition. */
export const DEFAULT_MAX_VALUES_PER_CONDITION = 50;
export const MAX_VALUES_PER_CONDITION = 100;
/** Longest string claim value used in a filter. */
export const MAX_CLAIM_VALUE_LENGTH = 1024;

const METADATA_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;
const RESERVED_KEY = /^(x-amz-bedrock-|AMAZON_BEDROCK_)/i;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /\p{Cs}/u;
const NUMERIC_CLAIM = /^-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,15})?$/;

/** True for a metadata key the library accepts in a policy or contract (1–100 of `A-Za-z0-9_.:-`, not reserved). */
export function isValidMetadataKey(key: unknown): key is string {
  return typeof key === 'string' && METADATA_KEY.test(key) && !RESERVED_KEY.test(key) && !FORBIDDEN_NAMES.has(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function ownKeys(value: Record<string, unknown>): string[] {
  return Object.keys(value);
}

function usableString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_VALUE_LENGTH && !LONE_SURROGATE.test(value);
}

function readClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (typeof claims !== 'object' || claims === null) return undefined;
  return Object.prototype.hasOwnProperty.call(claims, name) ? (claims as Record<string, unknown>)[name] : undefined;
}

function scalarOf(value: unknown, type: MetadataValueType | undefined): string | number | boolean | undefined {
  switch (type) {
    case MetadataValueType.STRING:
      return usableString(value) ? value : undefined;
    case MetadataValueType.NUMBER:
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      if (typeof value === 'string' && NUMERIC_CLAIM.test(value)) {
        const n = Number(value);
        return Number.isFinite(n) ? n : undefined;
      }
      return undefined;
    case MetadataValueType.BOOLEAN:
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    default:
      return undefined;
  }
}

/** The distinct usable values of a list-or-scalar claim, or undefined when any value is unusable. */
function listOf(value: unknown, type: MetadataValueType): Array<string | number> | undefined {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const out: Array<string | number> = [];
  const seen = new Set<string | number>();
  for (const item of items) {
    const v = scalarOf(item, type);
    if (v === undefined || typeof v === 'boolean') return undefined;
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

type NodeResult = { ok: true; node: RetrievalFilterNode } | { ok: false; failure: FilterFailure; detail: string };

function anyOfListContains(key: string, values: ReadonlyArray<string | number>): RetrievalFilterNode {
  const leaves = values.map((value) => ({ listContains: { key, value } }) as RetrievalFilterNode);
  return leaves.length === 1 ? leaves[0] : { orAll: leaves };
}

/** The filter node of one identity condition for one identity. */
export function identityConditionNode(spec: IdentityConditionSpec, identity: FilterIdentity, maxValues: number): NodeResult {
  const noClaims = (why: string): NodeResult => ({ ok: false, failure: FilterFailure.NO_USABLE_CLAIMS, detail: `${spec.kind} ${spec.key}: ${why}` });
  const tooMany = (n: number): NodeResult => ({ ok: false, failure: FilterFailure.TOO_MANY_VALUES, detail: `${spec.kind} ${spec.key}: ${n} values, at most ${maxValues} allowed` });
  switch (spec.kind) {
    case IdentityConditionKind.SUBJECT_EQUALS:
      if (!usableString(identity.subject)) return noClaims('subject is unusable');
      return { ok: true, node: { equals: { key: spec.key, value: identity.subject } } };
    case IdentityConditionKind.CLAIM_EQUALS: {
      const value = scalarOf(readClaim(identity.claims, spec.claim ?? ''), spec.valueType);
      if (value === undefined) return noClaims(`claim ${spec.claim} is missing or not a ${spec.valueType}`);
      return { ok: true, node: { equals: { key: spec.key, value } } };
    }
    case IdentityConditionKind.CLAIM_IN: {
      const values = listOf(readClaim(identity.claims, spec.claim ?? ''), spec.valueType ?? MetadataValueType.STRING);
      if (!values || values.length === 0) return noClaims(`claim ${spec.claim} has no usable value`);
      if (values.length > maxValues) return tooMany(values.length);
      return { ok: true, node: values.length === 1 ? { equals: { key: spec.key, value: values[0] } } : { in: { key: spec.key, value: values } } };
    }
    case IdentityConditionKind.LIST_CONTAINS_ANY: {
      const values = listOf(readClaim(identity.claims, spec.claim ?? ''), MetadataValueType.STRING);
      if (!values || values.length === 0) return noClaims(`claim ${spec.claim} has no usable value`);
      if (values.length > maxValues) return tooMany(values.length);
      return { ok: true, node: anyOfListContains(spec.key, values) };
    }
    case IdentityConditionKind.GROUPS_CONTAIN: {
      const values = Array.isArray(identity.groups) ? listOf(identity.groups, MetadataValueType.STRING) : undefined;
      if (!values || values.length === 0) return noClaims('the caller has no usable group');
      if (values.length > maxValues) return tooMany(values.length);
      return { ok: true, node: anyOfListContains(spec.key, values) };
    }
    case IdentityConditionKind.NUMBER_AT_MOST:
    case IdentityConditionKind.NUMBER_AT_LEAST: {
      const value = scalarOf(readClaim(identity.claims, spec.claim ?? ''), MetadataValueType.NUMBER);
      if (value === undefined) return noClaims(`claim ${spec.claim} is missing or not a number`);
      const attribute = { key: spec.key, value };
      return { ok: true, node: spec.kind === IdentityConditionKind.NUMBER_AT_MOST ? { lessThanOrEquals: attribute } : { greaterThanOrEquals: attribute } };
    }
    default:
      return { ok: false, failure: FilterFailure.POLICY_INVALID, detail: `unknown identity condition kind ${String((spec as { kind?: unknown }).kind)}` };
  }
}

function staticNode(spec: StaticConditionSpec): RetrievalFilterNode {
  const value = Array.isArray(spec.value) ? [...spec.value] : spec.value;
  return { [spec.operator]: { key: spec.key, value } } as unknown as RetrievalFilterNode;
}

// ---------------------------------------------------------------------------------------------------------------
// Caller-supplied filter
// ---------------------------------------------------------------------------------------------------------------

class CallerFilterError extends Error {}

interface WalkState {
  nodes: number;
}

function wellFormedString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= CALLER_FILTER_LIMITS.maxStringLength && !LONE_SURROGATE.test(value);
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function leafValue(operator: LeafOperator, value: unknown): FilterValue {
  switch (operator) {
    case 'equals':
    case 'notEquals':
      if (wellFormedString(value) || finiteNumber(value) || typeof value === 'boolean') return value;
      break;
    case 'greaterThan':
    case 'greaterThanOrEquals':
    case 'lessThan':
    case 'lessThanOrEquals':
      if (finiteNumber(value)) return value;
      break;
    case 'in':
    case 'notIn':
      if (
        Array.isArray(value) &&
        value.length > 0 &&
        value.length <= CALLER_FILTER_LIMITS.maxListValues &&
        (value.every(wellFormedString) || value.every(finiteNumber))
      ) {
        return [...(value as Array<string | number>)];
      }
      break;
    case 'listContains':
      if (wellFormedString(value) || finiteNumber(value)) return value;
      break;
    case 'stringContains':
      if (wellFormedString(value) && value.length > 0) return value;
      break;
    default:
      break;
  }
  throw new CallerFilterError(`${operator}: value has the wrong type or size`);
}

function walk(node: unknown, allowedKeys: ReadonlySet<string>, depth: number, state: WalkState): RetrievalFilterNode {
  state.nodes++;
  if (state.nodes > CALLER_FILTER_LIMITS.maxNodes) throw new CallerFilterError(`more than ${CALLER_FILTER_LIMITS.maxNodes} nodes`);
  if (depth > CALLER_FILTER_LIMITS.maxDepth) throw new CallerFilterError(`nested deeper than ${CALLER_FILTER_LIMITS.maxDepth}`);
  if (!isPlainObject(node)) throw new CallerFilterError('a filter node must be an object');
  const keys = ownKeys(node);
  if (keys.length !== 1) throw new CallerFilterError('a filter node must have exactly one operator');
  const operator = keys[0];
  const operand = node[operator];
  if (operator === 'andAll' || operator === 'orAll') {
    if (!Array.isArray(operand) || operand.length < 2 || operand.length > CALLER_FILTER_LIMITS.maxMembers) {
      throw new CallerFilterError(`${operator} needs 2 to ${CALLER_FILTER_LIMITS.maxMembers} members`);
    }
    const members = operand.map((m) => walk(m, allowedKeys, depth + 1, state));
    return operator === 'andAll' ? { andAll: members } : { orAll: members };
  }
  if (!(CALLER_LEAF_OPERATORS as readonly string[]).includes(operator)) throw new CallerFilterError(`operator ${JSON.stringify(operator).slice(0, 40)} is not allowed`);
  if (!isPlainObject(operand)) throw new CallerFilterError(`${operator}: operand must be an object`);
  const operandKeys = ownKeys(operand);
  if (operandKeys.length !== 2 || !operandKeys.includes('key') || !operandKeys.includes('value')) {
    throw new CallerFilterError(`${operator}: operand must have exactly "key" and "value"`);
  }
  const key = operand.key;
  if (typeof key !== 'string' || !allowedKeys.has(key)) throw new CallerFilterError(`${operator}: key is not a filterable metadata key`);
  const value = leafValue(operator as LeafOperator, operand.value);
  return { [operator]: { key, value } } as unknown as RetrievalFilterNode;
}

/**
 * Validates a caller-supplied narrowing filter against the grammar (one operator per node; `andAll`/`orAll` with
 * 2 to 20 members; allowed leaf operators only; keys from `allowedKeys`; typed values; depth at most 4 and at most 64
 * nodes) and returns a fresh copy built from the validated parts, or the reason it was rejected.
 */
export function validateCallerFilter(filter: unknown, allowedKeys: readonly string[]): { ok: true; node: RetrievalFilterNode } | { ok: false; detail: string } {
  try {
    return { ok: true, node: walk(filter, new Set(allowedKeys), 1, { nodes: 0 }) };
  } catch (err) {
    if (err instanceof CallerFilterError) return { ok: false, detail: err.message };
    return { ok: false, detail: 'the filter could not be read' };
  }
}

/**
 * Builds the filter for one Retrieve call: the identity conditions (in policy order), then the static conditions,
 * then the validated caller filter, all as members of one `andAll` (or the single member itself).
 * Never throws.
 */
export function buildRetrievalFilter(policy: FilterPolicySpec, identity: FilterIdentity, callerFilter?: unknown): FilterBuildResult {
  try {
    if (!policy || !Array.isArray(policy.identityConditions) || policy.identityConditions.length === 0) {
      return { ok: false, failure: FilterFailure.POLICY_INVALID, detail: 'the policy has no identity condition' };
    }
    const maxValues = Math.min(policy.maxValuesPerCondition ?? DEFAULT_MAX_VALUES_PER_CONDITION, MAX_VALUES_PER_CONDITION);
    const identityNodes: RetrievalFilterNode[] = [];
    for (const spec of policy.identityConditions) {
      const r = identityConditionNode(spec, identity, maxValues);
      if (!r.ok) return r;
      identityNodes.push(r.node);
    }
    const members: RetrievalFilterNode[] = [...identityNodes, ...(policy.staticConditions ?? []).map(staticNode)];
    let callerNode: RetrievalFilterNode | undefined;
    if (callerFilter !== undefined) {
      const v = validateCallerFilter(callerFilter, policy.callerFilterKeys ?? []);
      if (!v.ok) return { ok: false, failure: FilterFailure.FILTER_REJECTED, detail: v.detail };
      callerNode = v.node;
      members.push(callerNode);
    }
    const filter: RetrievalFilterNode = members.length === 1 ? members[0] : { andAll: members };
    return { ok: true, filter, identityNodes, ...(callerNode ? { callerNode } : {}) };
  } catch {
    return { ok: false, failure: FilterFailure.POLICY_INVALID, detail: 'the policy could not be applied' };
  }
}

/** The top-level AND members of a filter (the filter itself when it is not an `andAll`). */
export function topLevelMembers(filter: RetrievalFilterNode): readonly RetrievalFilterNode[] {
  return 'andAll' in filter ? filter.andAll : [filter];
}

// ---------------------------------------------------------------------------------------------------------------
// Policy parsing (configuration from the environment)
// ---------------------------------------------------------------------------------------------------------------

const KIND_NEEDS_CLAIM = new Set<string>([
  IdentityConditionKind.CLAIM_EQUALS,
  IdentityConditionKind.CLAIM_IN,
  IdentityConditionKind.LIST_CONTAINS_ANY,
  IdentityConditionKind.NUMBER_AT_MOST,
  IdentityConditionKind.NUMBER_AT_LEAST,
]);
const CLAIM_NAME = /^[\x21-\x7e]{1,128}$/;

function staticValueProblem(spec: Record<string, unknown>): string | undefined {
  const { operator, value } = spec;
  const scalar = (v: unknown): boolean => (typeof v === 'string' && v.length > 0 && v.length <= MAX_CLAIM_VALUE_LENGTH) || finiteNumber(v) || typeof v === 'boolean';
  switch (operator) {
    case 'equals':
      return scalar(value) ? undefined : 'equals needs a string, number or boolean';
    case 'in':
      return Array.isArray(value) && value.length > 0 && value.length <= MAX_VALUES_PER_CONDITION && (value.every((v) => typeof v === 'string' && v.length > 0) || value.every(finiteNumber))
        ? undefined
        : 'in needs 1 to 100 strings or numbers';
    case 'listContains':
      return (typeof value === 'string' && value.length > 0) || finiteNumber(value) ? undefined : 'listContains needs a string or number';
    case 'lessThanOrEquals':
    case 'greaterThanOrEquals':
      return finiteNumber(value) ? undefined : `${String(operator)} needs a number`;
    default:
      return `operator ${JSON.stringify(operator)} is not allowed (allowed: ${STATIC_OPERATORS.join(', ')})`;
  }
}

/**
 * Reads a filter policy (the JSON `RetrievalFilterPolicy` writes). Throws a {@link ConfigurationError} listing every
 * problem: at least one identity condition, known kinds, valid keys and claim names, allowed static operators.
 */
export function parseFilterPolicy(value: unknown): FilterPolicySpec {
  const problems: string[] = [];
  if (!isPlainObject(value)) throw new ConfigurationError(['filter policy must be an object']);
  if (value.version !== 1) problems.push(`filter policy version must be 1, got ${JSON.stringify(value.version)}`);
  const identity = value.identityConditions;
  const statics = value.staticConditions ?? [];
  const callerKeys = value.callerFilterKeys ?? [];
  const maxValues = value.maxValuesPerCondition ?? DEFAULT_MAX_VALUES_PER_CONDITION;
  const identityConditions: IdentityConditionSpec[] = [];
  if (!Array.isArray(identity) || identity.length === 0) {
    problems.push('filter policy needs at least one identity condition (an identity filter is never optional)');
  } else {
    identity.forEach((c: unknown, i: number) => {
      if (!isPlainObject(c)) return void problems.push(`identityConditions[${i}] must be an object`);
      const kind = c.kind;
      if (typeof kind !== 'string' || !Object.values(IdentityConditionKind).includes(kind as IdentityConditionKind)) {
        return void problems.push(`identityConditions[${i}].kind ${JSON.stringify(kind)} is unknown`);
      }
      if (!isValidMetadataKey(c.key)) problems.push(`identityConditions[${i}].key ${JSON.stringify(c.key)} is not a valid metadata key`);
      if (KIND_NEEDS_CLAIM.has(kind) && (typeof c.claim !== 'string' || !CLAIM_NAME.test(c.claim) || FORBIDDEN_NAMES.has(c.claim))) {
        problems.push(`identityConditions[${i}].claim ${JSON.stringify(c.claim)} is not a claim name`);
      }
      let valueType: MetadataValueType | undefined;
      if (kind === IdentityConditionKind.CLAIM_EQUALS || kind === IdentityConditionKind.CLAIM_IN) {
        const allowed = kind === IdentityConditionKind.CLAIM_EQUALS ? ['STRING', 'NUMBER', 'BOOLEAN'] : ['STRING', 'NUMBER'];
        if (typeof c.valueType !== 'string' || !allowed.includes(c.valueType)) {
          problems.push(`identityConditions[${i}].valueType ${JSON.stringify(c.valueType)} must be one of ${allowed.join(', ')}`);
        } else {
          valueType = c.valueType as MetadataValueType;
        }
      }
      identityConditions.push(
        Object.freeze({
          kind: kind as IdentityConditionKind,
          key: c.key as string,
          ...(KIND_NEEDS_CLAIM.has(kind) ? { claim: c.claim as string } : {}),
          ...(valueType ? { valueType } : {}),
        }),
      );
    });
  }
  const staticConditions: StaticConditionSpec[] = [];
  if (!Array.isArray(statics)) {
    problems.push('staticConditions must be an array');
  } else {
    statics.forEach((s: unknown, i: number) => {
      if (!isPlainObject(s)) return void problems.push(`staticConditions[${i}] must be an object`);
      if (!isValidMetadataKey(s.key)) problems.push(`staticConditions[${i}].key ${JSON.stringify(s.key)} is not a valid metadata key`);
      const p = staticValueProblem(s);
      if (p) problems.push(`staticConditions[${i}]: ${p}`);
      staticConditions.push(Object.freeze({ operator: s.operator as StaticOperator, key: s.key as string, value: Array.isArray(s.value) ? Object.freeze([...s.value]) : (s.value as FilterValue) }));
    });
  }
  if (!Array.isArray(callerKeys) || !callerKeys.every(isValidMetadataKey)) problems.push('callerFilterKeys must be an array of metadata keys');
  if (!Number.isInteger(maxValues) || (maxValues as number) < 1 || (maxValues as number) > MAX_VALUES_PER_CONDITION) {
    problems.push(`maxValuesPerCondition must be a whole number from 1 to ${MAX_VALUES_PER_CONDITION}, got ${JSON.stringify(maxValues)}`);
  }
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `filter policy: ${p}`));
  return Object.freeze({
    version: 1,
    identityConditions: Object.freeze(identityConditions),
    staticConditions: Object.freeze(staticConditions),
    callerFilterKeys: Object.freeze([...(callerKeys as string[])]),
    maxValuesPerCondition: maxValues as number,
  });
}
