/**
 * Pure decision logic of the memory broker: no SDK, no environment, no clock.
 *
 * - strict parsing of each tool's arguments (no identity-like or unknown keys, types, lengths, patterns);
 * - planning which namespaces a call reads or writes, from the caller's derived scope only;
 * - distrustful reading of every AgentCore response (shape, ids, and that each record lies in the namespace asked
 *   for: a response that strays is malformed, and the whole call is denied);
 * - the ownership check of `forget`: the record must lie in the caller's own memory before it is deleted.
 */
import { isWellFormedString } from '../shared/canonical-json';
import { MalformedResponseError } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { screenForSmuggling } from '../shared/text-safety';
import { SharedWrites } from './config';
import {
  CallerScope,
  GROUP_SPACE_PREFIX,
  TENANT_SPACE,
  isValidRecordId,
  isValidSessionId,
  isWithinNamespace,
  sessionSummariesNamespace,
} from './namespaces';
import { MAX_QUERY_LENGTH, MemoryTool, READ_SPACE_PATTERN, ToolLimits, WRITE_SPACE_PATTERN } from './tools';

// ---------------------------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------------------------

/** A refusal with a code that is safe to show and a detail for the log only. */
export interface Refusal {
  readonly ok: false;
  readonly reasonCode: ReasonCode;
  readonly detail?: string;
}

/** A value, or a refusal. */
export type Result<T> = { readonly ok: true; readonly value: T } | Refusal;

export function refuse(reasonCode: ReasonCode, detail?: string): Refusal {
  return detail === undefined ? { ok: false, reasonCode } : { ok: false, reasonCode, detail };
}

function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

/** The caller's own memory. */
export const PERSONAL_SPACE = 'personal';
/** Every space the caller may read. */
export const ALL_SPACES = 'all';

export interface RememberRequest {
  readonly tool: typeof MemoryTool.REMEMBER;
  readonly text: string;
  /** `personal`, `tenant` or `group:<id>`. */
  readonly space: string;
}

export interface RecallRequest {
  readonly tool: typeof MemoryTool.RECALL;
  readonly query: string;
  /** `personal`, `all`, `tenant` or `group:<id>`. */
  readonly space: string;
  readonly sessionId?: string;
  readonly maxResults: number;
}

export interface ForgetRequest {
  readonly tool: typeof MemoryTool.FORGET;
  readonly recordId: string;
}

export type ToolRequest = RememberRequest | RecallRequest | ForgetRequest;

/** Keys that could reach an object's prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Argument names that try to choose who the caller is or where memory lives. They are in no schema; a call that
 * carries one is refused as choosing a protected setting (compared case-insensitively, `-`/`_` ignored).
 */
const PROTECTED_ARGUMENTS = new Set([
  'actor', 'actorid', 'user', 'userid', 'username', 'sub', 'subject', 'iss', 'issuer', 'identity', 'principal',
  'caller', 'owner', 'tenant', 'tenantid', 'group', 'groups', 'groupid', 'namespace', 'namespaces', 'namespacepath',
  'memoryid', 'memorystrategyid', 'strategyid', 'guardrail', 'guardrailid', 'guardrailidentifier', 'guardrailversion',
  'claims', 'token', 'authorization',
]);

const ALLOWED_KEYS: Record<MemoryTool, readonly string[]> = {
  remember: ['text', 'space'],
  recall: ['query', 'space', 'sessionId', 'maxResults'],
  forget: ['recordId'],
};

const WRITE_SPACE = new RegExp(WRITE_SPACE_PATTERN);
const READ_SPACE = new RegExp(READ_SPACE_PATTERN);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function keyProblem(args: Record<string, unknown>, tool: MemoryTool): Refusal | undefined {
  if (Object.getOwnPropertySymbols(args).length > 0) return refuse('MALFORMED_REQUEST', 'symbol keys');
  for (const key of Object.getOwnPropertyNames(args)) {
    if (FORBIDDEN_KEYS.has(key)) return refuse('MALFORMED_REQUEST', `forbidden key ${key}`);
    if (PROTECTED_ARGUMENTS.has(key.toLowerCase().replace(/[-_]/g, ''))) {
      return refuse('CALLER_CHOSE_PROTECTED_SETTING', `identity-like argument ${key.slice(0, 32)}`);
    }
    if (!ALLOWED_KEYS[tool].includes(key)) return refuse('MALFORMED_REQUEST', `unknown argument ${key.slice(0, 32)}`);
  }
  return undefined;
}

function textArgument(value: unknown, name: string, max: number): Result<string> {
  if (typeof value !== 'string') return refuse('MALFORMED_REQUEST', `${name} is not a string`);
  if (value.length === 0) return refuse('MALFORMED_REQUEST', `${name} is empty`);
  if (value.length > max) return refuse('REQUEST_TOO_LARGE', `${name} longer than ${max} characters`);
  if (!isWellFormedString(value)) return refuse('MALFORMED_REQUEST', `${name} has a lone surrogate`);
  return ok(value);
}

function spaceArgument(value: unknown, pattern: RegExp): Result<string> {
  if (value === undefined) return ok(PERSONAL_SPACE);
  if (typeof value !== 'string' || !pattern.test(value)) return refuse('MALFORMED_REQUEST', 'space does not match its pattern');
  return ok(value);
}

/**
 * Parses one tool call strictly. `toolName` comes from the gateway's client context; `args` are the arguments
 * without the reserved caller-token argument. Unknown tools and keys, identity-like keys, wrong types, empty or
 * overlong text, lone surrogates and invisible (smuggling) characters in stored text are refused.
 */
export function parseToolRequest(toolName: string | undefined, args: unknown, limits: ToolLimits): Result<ToolRequest> {
  if (toolName !== MemoryTool.REMEMBER && toolName !== MemoryTool.RECALL && toolName !== MemoryTool.FORGET) {
    return refuse('TOOL_UNKNOWN', 'tool name missing or not served');
  }
  if (!isPlainObject(args)) return refuse('MALFORMED_REQUEST', 'arguments are not a JSON object');
  const problem = keyProblem(args, toolName);
  if (problem) return problem;

  switch (toolName) {
    case MemoryTool.REMEMBER: {
      const text = textArgument(args.text, 'text', limits.maxTextLength);
      if (!text.ok) return text;
      const smuggling = screenForSmuggling(text.value);
      if (smuggling.outcome === 'DENY') return refuse('SMUGGLED_CHARACTERS', 'detail' in smuggling ? smuggling.detail : undefined);
      const space = spaceArgument(args.space, WRITE_SPACE);
      if (!space.ok) return space;
      return ok({ tool: MemoryTool.REMEMBER, text: text.value, space: space.value });
    }
    case MemoryTool.RECALL: {
      const query = textArgument(args.query, 'query', MAX_QUERY_LENGTH);
      if (!query.ok) return query;
      const space = spaceArgument(args.space, READ_SPACE);
      if (!space.ok) return space;
      let sessionId: string | undefined;
      if (args.sessionId !== undefined) {
        if (!isValidSessionId(args.sessionId)) return refuse('MALFORMED_REQUEST', 'sessionId does not match its pattern');
        if (space.value !== PERSONAL_SPACE) return refuse('MALFORMED_REQUEST', 'sessionId applies to personal memory only');
        sessionId = args.sessionId;
      }
      let maxResults = limits.maxRecallResults;
      if (args.maxResults !== undefined) {
        const n = args.maxResults;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > limits.maxRecallResults) {
          return refuse('MALFORMED_REQUEST', `maxResults is not a whole number from 1 to ${limits.maxRecallResults}`);
        }
        maxResults = n;
      }
      return ok({ tool: MemoryTool.RECALL, query: query.value, space: space.value, ...(sessionId !== undefined ? { sessionId } : {}), maxResults });
    }
    case MemoryTool.FORGET: {
      if (!isValidRecordId(args.recordId)) return refuse('MALFORMED_REQUEST', 'recordId does not match its pattern');
      return ok({ tool: MemoryTool.FORGET, recordId: args.recordId });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------------------------

/** Where a `remember` writes. */
export interface WritePlan {
  readonly namespace: string;
  /** `personal`, `tenant` or `group:<id>`. */
  readonly space: string;
  readonly shared: boolean;
}

/** The write policy of the broker. */
export interface WritePolicy {
  readonly sharedWrites: SharedWrites;
  /** A guardrail is configured (required for shared writes). */
  readonly screened: boolean;
}

/**
 * The namespace a `remember` writes to: the caller's notes, or a shared space that the caller's verified identity
 * includes, when shared writes are enabled and screened. Anything else is refused.
 */
export function planWrite(scope: CallerScope, space: string, policy: WritePolicy): Result<WritePlan> {
  if (space === PERSONAL_SPACE) return ok({ namespace: scope.notesNamespace, space, shared: false });
  const shared = scope.sharedSpaces.find((s) => s.name === space);
  if (!shared) return refuse('MEMORY_SPACE_NOT_PERMITTED', `space ${spaceKind(space)} is not among the caller's spaces`);
  if (policy.sharedWrites !== SharedWrites.SCREENED || !policy.screened) {
    return refuse('MEMORY_SHARED_WRITE_DISABLED', 'shared writes are not enabled');
  }
  return ok({ namespace: shared.namespace, space, shared: true });
}

/** One namespace a `recall` searches. */
export interface ReadTarget {
  /** `personal`, `tenant` or `group:<id>`. */
  readonly space: string;
  /** The namespace prefix; always ends with `/`. */
  readonly namespace: string;
}

/**
 * The namespaces a `recall` searches: the caller's own root (or one session's summaries), a shared space the
 * caller belongs to, or all of them. A space outside the caller's scope is refused, never widened or dropped.
 */
export function planRead(scope: CallerScope, request: RecallRequest): Result<ReadTarget[]> {
  if (request.space === PERSONAL_SPACE) {
    const namespace = request.sessionId !== undefined ? sessionSummariesNamespace(scope.personalRoot, request.sessionId) : scope.personalRoot;
    return ok([{ space: PERSONAL_SPACE, namespace }]);
  }
  if (request.space === ALL_SPACES) {
    return ok([{ space: PERSONAL_SPACE, namespace: scope.personalRoot }, ...scope.sharedSpaces.map((s) => ({ space: s.name, namespace: s.namespace }))]);
  }
  const shared = scope.sharedSpaces.find((s) => s.name === request.space);
  if (!shared) return refuse('MEMORY_SPACE_NOT_PERMITTED', `space ${spaceKind(request.space)} is not among the caller's spaces`);
  return ok([{ space: shared.name, namespace: shared.namespace }]);
}

/** The kind of a space for logs: `personal`, `all`, `tenant` or `group` (group names stay out of the log). */
export function spaceKind(space: string): string {
  if (space.startsWith(GROUP_SPACE_PREFIX)) return 'group';
  if (space === TENANT_SPACE || space === PERSONAL_SPACE || space === ALL_SPACES) return space;
  return 'invalid';
}

// ---------------------------------------------------------------------------------------------------------------
// Screening of writes
// ---------------------------------------------------------------------------------------------------------------

/** What screening a text decided (the guardrail enforcer's outcome, reduced to what the broker needs). */
export interface ScreenVerdict {
  readonly action: 'ALLOWED' | 'MASKED' | 'BLOCKED';
  readonly reasonCode: ReasonCode;
  /** The text to store when not BLOCKED: the original, or the masked text. */
  readonly text?: string;
  /** How many filters fired. */
  readonly findings: number;
  /** Fault detail for the log. */
  readonly detail?: string;
}

/** Screens one text before it is stored (an injectable seam: the broker builds it from the guardrail enforcer). */
export type ScreenText = (text: string) => Promise<ScreenVerdict>;

/** The text to store after screening, or a refusal: a block (or any fault) stores nothing. */
export function textAfterScreening(verdict: ScreenVerdict, maxTextLength: number): Result<{ text: string; masked: boolean }> {
  if (verdict.action === 'BLOCKED') return refuse(verdict.reasonCode, verdict.detail);
  if (verdict.action !== 'ALLOWED' && verdict.action !== 'MASKED') return refuse('INTERNAL_ERROR', 'unknown screening action');
  const text = verdict.text;
  if (typeof text !== 'string' || text.length === 0 || text.length > maxTextLength * 2 || !isWellFormedString(text)) {
    return refuse('GUARDRAIL_PARTIAL_COVERAGE', 'screening returned no usable text');
  }
  return ok({ text, masked: verdict.action === 'MASKED' });
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

/** One record returned to the caller. */
export interface RecalledMemory {
  readonly recordId: string;
  readonly text: string;
  /** The space it was found in (`personal`, `tenant` or `group:<id>`). */
  readonly space: string;
  readonly score?: number;
  /** ISO 8601. */
  readonly createdAt?: string;
}

/** Longest record text passed back; a longer one makes the response untrusted. */
export const MAX_RECORD_TEXT_LENGTH = 100_000;
/** Most records one RetrieveMemoryRecords response may carry (the API maximum). */
const MAX_RECORDS_PER_RESPONSE = 100;

function field(obj: unknown, name: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[name] : undefined;
}

function isoDate(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new MalformedResponseError(`${what} is not a timestamp`);
  return value.toISOString();
}

/** The namespaces of a record, each inside `prefix`; throws when any one is not (or when there are none). */
function namespacesInside(record: unknown, prefix: string, what: string): string[] {
  const namespaces = field(record, 'namespaces');
  if (!Array.isArray(namespaces) || namespaces.length === 0) throw new MalformedResponseError(`${what} has no namespaces`);
  for (const ns of namespaces) {
    if (!isWithinNamespace(ns, prefix)) throw new MalformedResponseError(`${what} lies outside the namespace asked for`);
  }
  return namespaces as string[];
}

function recordText(record: unknown, what: string): string {
  const text = field(field(record, 'content'), 'text');
  if (typeof text !== 'string' || text.length > MAX_RECORD_TEXT_LENGTH || !isWellFormedString(text)) {
    throw new MalformedResponseError(`${what} has no usable text content`);
  }
  return text;
}

/**
 * Reads one RetrieveMemoryRecords response for one target. Every record must have a valid id, text content, and
 * namespaces that all lie inside the target's namespace; otherwise the response is malformed (thrown), and the
 * whole recall is denied rather than filtered: a service that answers outside the scope asked for is not trusted.
 */
export function readRetrieveResponse(response: unknown, target: ReadTarget): RecalledMemory[] {
  const summaries = field(response, 'memoryRecordSummaries');
  if (!Array.isArray(summaries)) throw new MalformedResponseError('memoryRecordSummaries is not a list');
  if (summaries.length > MAX_RECORDS_PER_RESPONSE) throw new MalformedResponseError('too many records');
  return summaries.map((r, i) => {
    const what = `record ${i}`;
    const recordId = field(r, 'memoryRecordId');
    if (!isValidRecordId(recordId)) throw new MalformedResponseError(`${what} has an invalid id`);
    namespacesInside(r, target.namespace, what);
    const text = recordText(r, what);
    const score = field(r, 'score');
    if (score !== undefined && (typeof score !== 'number' || !Number.isFinite(score))) throw new MalformedResponseError(`${what} has an invalid score`);
    const createdAt = isoDate(field(r, 'createdAt'), `${what} createdAt`);
    return {
      recordId,
      text,
      space: target.space,
      ...(score !== undefined ? { score } : {}),
      ...(createdAt !== undefined ? { createdAt } : {}),
    };
  });
}

/** Merges the records of several targets: best score first (unscored last), duplicates dropped, at most `max`. */
export function mergeRecalled(lists: readonly RecalledMemory[][], max: number): RecalledMemory[] {
  const seen = new Set<string>();
  const all: RecalledMemory[] = [];
  for (const list of lists) {
    for (const r of list) {
      if (seen.has(r.recordId)) continue;
      seen.add(r.recordId);
      all.push(r);
    }
  }
  all.sort((a, b) => (b.score ?? Number.NEGATIVE_INFINITY) - (a.score ?? Number.NEGATIVE_INFINITY));
  return all.slice(0, max);
}

/**
 * Reads a BatchCreateMemoryRecords response for the one record sent. Returns the new record id, or a refusal when
 * the service reports the record failed (throttle and server codes keep their fault kind).
 */
export function readCreateResponse(response: unknown, requestIdentifier: string): Result<string> {
  const successful = field(response, 'successfulRecords');
  const failed = field(response, 'failedRecords');
  if (!Array.isArray(successful) || !Array.isArray(failed)) throw new MalformedResponseError('record lists missing');
  if (successful.length + failed.length !== 1) throw new MalformedResponseError('expected exactly one record result');
  if (failed.length === 1) {
    const code = field(failed[0], 'errorCode');
    if (code === 429) return refuse('UPSTREAM_THROTTLED', 'record failed: throttled');
    if (typeof code === 'number' && code >= 500 && code <= 599) return refuse('UPSTREAM_UNAVAILABLE', `record failed: ${code}`);
    return refuse('MEMORY_WRITE_REJECTED', `record failed: ${typeof code === 'number' ? code : 'no code'}`);
  }
  const record = successful[0];
  if (field(record, 'status') !== 'SUCCEEDED') throw new MalformedResponseError('successful record is not SUCCEEDED');
  const requestId = field(record, 'requestIdentifier');
  if (requestId !== undefined && requestId !== requestIdentifier) throw new MalformedResponseError('result is for another request');
  const recordId = field(record, 'memoryRecordId');
  if (!isValidRecordId(recordId)) throw new MalformedResponseError('new record id is invalid');
  return ok(recordId);
}

/**
 * The ownership check of `forget`: the record read back must be the one asked for, and every one of its namespaces
 * must lie inside the caller's own memory. A record anywhere else (another caller's, a shared space) is refused as
 * not found, so that `forget` is no oracle for other callers' record ids. Returns the namespace to delete under.
 */
export function checkOwnership(response: unknown, recordId: string, scope: CallerScope): Result<string> {
  const record = field(response, 'memoryRecord');
  if (typeof record !== 'object' || record === null) throw new MalformedResponseError('memoryRecord missing');
  if (field(record, 'memoryRecordId') !== recordId) throw new MalformedResponseError('record read back is another record');
  const namespaces = field(record, 'namespaces');
  if (!Array.isArray(namespaces) || namespaces.length === 0) throw new MalformedResponseError('record has no namespaces');
  if (!namespaces.every((ns) => isWithinNamespace(ns, scope.personalRoot))) {
    return refuse('MEMORY_RECORD_NOT_FOUND', 'record is not in the caller\'s own memory');
  }
  return ok(namespaces[0] as string);
}

/** Reads a DeleteMemoryRecord response: it must name the record deleted. */
export function readDeleteResponse(response: unknown, recordId: string): void {
  if (field(response, 'memoryRecordId') !== recordId) throw new MalformedResponseError('delete response names another record');
}
