/**
 * Session taint, the pure part: which capabilities (sensitive data, untrusted content, external access) a session has
 * already used, how a session is keyed, how a stored item is read, and what an allowed call adds. The DynamoDB I/O is
 * in `clients.ts`; the flow in `index.ts`. No SDK, no environment, no clock.
 *
 * A session is `(principal, session)`: the principal is `<iss>|<sub>` of the VERIFIED token, the session the request's
 * `Mcp-Session-Id`, or `NO_SESSION` (decide.ts) when the request has none, so every call of a principal that sends no
 * session id shares one sticky bucket (leaving the header out never starts clean). An unusable header is denied
 * before this point.
 *
 * Taint only grows: a write adds labels to a string set and pushes the expiry out, it never removes a label. An item
 * past its expiry still counts until DynamoDB's TTL deletes it (fail closed: expiry bounds storage, not protection).
 */
import { canonicalize, isWellFormedString, sha256Hex } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError } from '../shared/errors';
import { TAINT_TTL_SECONDS } from './config';
import { SESSION_ID_PATTERN } from './decide';
import { ToolCapability } from './registry';

/** Attribute names of the session-taint table (partition key `id`, string; TTL attribute `expiresAt`). */
export const TaintAttribute = {
  /** 64 hex: {@link taintKey} of the principal and session. No identifier is stored in clear. */
  ID: 'id',
  /** String set of capability labels the session has used. Only ever added to. */
  CAPABILITIES: 'caps',
  /** Epoch seconds after which DynamoDB may delete the item (the table's TTL attribute). */
  EXPIRES_AT: 'expiresAt',
} as const;

/** Longest principal accepted (`<iss>|<sub>`). */
export const MAX_PRINCIPAL_CHARS = 4_096;

const CAPABILITY_SET = new Set<string>(Object.values(ToolCapability));
/** Capability labels in a fixed order (sets are sorted into it). */
const CAPABILITY_ORDER: readonly ToolCapability[] = Object.freeze([ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT, ToolCapability.EXTERNAL_ACCESS]);
const HEX64 = /^[0-9a-f]{64}$/;

/** True for a capability label. */
export function isCapability(value: unknown): value is ToolCapability {
  return typeof value === 'string' && CAPABILITY_SET.has(value);
}

/** Distinct labels in the fixed order. */
export function sortedCapabilities(values: Iterable<ToolCapability>): ToolCapability[] {
  const set = new Set(values);
  return CAPABILITY_ORDER.filter((c) => set.has(c));
}

/** Problems with a `(principal, session)` pair (empty when usable). */
export function taintSubjectProblems(principal: unknown, session: unknown): string[] {
  const problems: string[] = [];
  if (typeof principal !== 'string' || principal.length < 3 || principal.length > MAX_PRINCIPAL_CHARS || !isWellFormedString(principal) || !principal.includes('|')) {
    problems.push('principal is not <iss>|<sub>');
  }
  if (typeof session !== 'string' || !SESSION_ID_PATTERN.test(session)) problems.push('session is not a session id');
  return problems;
}

/**
 * The item key of a session: SHA-256 (hex) of the canonical JSON `["cad-session-taint/1", principal, session]`. The
 * encoding is unambiguous (a `|` in a subject or session cannot make two pairs collide), fits any key size limit,
 * and keeps identifiers out of the table. Throws an EnforcementError (MALFORMED_REQUEST) for an unusable pair.
 */
export function taintKey(principal: string, session: string): string {
  const problems = taintSubjectProblems(principal, session);
  if (problems.length > 0) throw new EnforcementError('MALFORMED_REQUEST', `session taint: ${problems.join('; ')}`);
  return sha256Hex(canonicalize(['cad-session-taint/1', principal, session]));
}

/** The capability labels of a call to record; throws an EnforcementError (INTERNAL_ERROR) for anything else. */
export function checkedCapabilities(capabilities: readonly unknown[]): ToolCapability[] {
  if (!Array.isArray(capabilities) || !capabilities.every(isCapability)) throw new EnforcementError('INTERNAL_ERROR', 'session taint: not capability labels');
  return sortedCapabilities(capabilities);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The capabilities a stored item records. `undefined` (no item) is a clean session. Anything that is not an item of
 * this table for this key (another id, a capability attribute that is not a string set of known labels, an expiry that
 * is not a number) throws a MalformedResponseError: an answer that cannot be trusted is never read as "clean".
 */
export function capabilitiesOfItem(item: unknown, expectedId: string): ToolCapability[] {
  if (item === undefined) return [];
  if (!isPlainObject(item)) throw new MalformedResponseError('session taint item is not an object');
  const id = item[TaintAttribute.ID];
  if (!isPlainObject(id) || id.S !== expectedId || !HEX64.test(expectedId)) throw new MalformedResponseError('session taint item has another key');
  const expires = item[TaintAttribute.EXPIRES_AT];
  if (expires !== undefined && (!isPlainObject(expires) || typeof expires.N !== 'string' || !/^[0-9]{1,12}$/.test(expires.N))) {
    throw new MalformedResponseError('session taint item has an invalid expiry');
  }
  const caps = item[TaintAttribute.CAPABILITIES];
  if (caps === undefined) return [];
  if (!isPlainObject(caps) || !Array.isArray(caps.SS) || caps.SS.length === 0 || Object.keys(caps).length !== 1) {
    throw new MalformedResponseError('session taint capabilities are not a string set');
  }
  if (!caps.SS.every(isCapability)) throw new MalformedResponseError('session taint holds an unknown capability label');
  return sortedCapabilities(caps.SS as ToolCapability[]);
}

/** What recording an allowed call does to its session's taint. */
export interface TaintUpdate {
  /** Whether to write at all. */
  readonly write: boolean;
  /** Labels to add (may be empty: then the write only pushes the expiry out). */
  readonly add: readonly ToolCapability[];
  /** The session's capabilities once the write is done. */
  readonly after: readonly ToolCapability[];
}

/**
 * The update for an allowed call of a tool with `toolCapabilities` in a session that had `sessionCapabilities`: add
 * the tool's labels and push the expiry out. Skipped only when there is nothing to add and nothing to keep (a
 * capability-free tool in a clean session).
 */
export function taintUpdate(sessionCapabilities: readonly ToolCapability[], toolCapabilities: readonly ToolCapability[]): TaintUpdate {
  const add = sortedCapabilities(toolCapabilities);
  const after = sortedCapabilities([...sessionCapabilities, ...add]);
  return Object.freeze({ write: add.length > 0 || sessionCapabilities.length > 0, add: Object.freeze(add), after: Object.freeze(after) });
}

/** The item's expiry: `now` (milliseconds) plus the TTL, in whole epoch seconds, rounded up. */
export function taintExpiresAt(nowMs: number, ttlSeconds: number): number {
  if (!Number.isSafeInteger(nowMs) || nowMs <= 0 || !Number.isInteger(ttlSeconds) || ttlSeconds < TAINT_TTL_SECONDS.min || ttlSeconds > TAINT_TTL_SECONDS.max) {
    throw new EnforcementError('INTERNAL_ERROR', 'session taint: invalid clock or TTL');
  }
  return Math.ceil(nowMs / 1000) + ttlSeconds;
}
