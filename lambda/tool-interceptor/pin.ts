/**
 * Tool pins: a pin is the SHA-256 (hex) of the RFC 8785 canonical JSON of `{ server, definition }`, the whole
 * definition as the server serves it (name, title, description, schemas, annotations, `_meta`, everything) plus the
 * id of the server that serves it. Any change to any field, or the same definition served by another server,
 * gives another pin ("rug pull" and server-swap protection). Pure.
 */
import { canonicalize, parseStrictJson, sha256Hex } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { SHA256_HEX_PATTERN, TOOL_NAME_PATTERN } from './registry';

/** One pinned definition: the tool `name` on `server` must hash to `sha256`. */
export interface ToolPin {
  readonly server: string;
  readonly name: string;
  readonly sha256: string;
}

/** Server ids: 1 to 256 visible ASCII characters (a gateway target name, a URL, a package id). */
export const SERVER_ID_PATTERN = /^[\x21-\x7E]{1,256}$/;

/** `sha256(canonicalize({ server, definition }))`. Throws a `TypeError` when the definition is not JSON data. */
export function pinOf(definition: unknown, server: string): string {
  if (typeof server !== 'string' || !SERVER_ID_PATTERN.test(server)) {
    throw new TypeError('pinOf: server must be 1 to 256 visible ASCII characters');
  }
  return sha256Hex(canonicalize({ server, definition }));
}

/** Every problem with a list of pins (empty when valid). */
export function pinProblems(pins: unknown): string[] {
  if (!Array.isArray(pins)) return ['pins must be a list'];
  const problems: string[] = [];
  pins.forEach((pin: unknown, i: number) => {
    const where = `pins[${i}]`;
    if (typeof pin !== 'object' || pin === null || Array.isArray(pin)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const p = pin as Record<string, unknown>;
    const extra = Object.keys(p).filter((k) => k !== 'server' && k !== 'name' && k !== 'sha256');
    if (extra.length > 0) problems.push(`${where} has unsupported keys: ${extra.join(', ')}`);
    if (typeof p.server !== 'string' || !SERVER_ID_PATTERN.test(p.server)) problems.push(`${where}.server must be 1 to 256 visible ASCII characters`);
    if (typeof p.name !== 'string' || !TOOL_NAME_PATTERN.test(p.name)) problems.push(`${where}.name must be 1 to 128 of A-Z a-z 0-9 _ - .`);
    if (typeof p.sha256 !== 'string' || !SHA256_HEX_PATTERN.test(p.sha256)) problems.push(`${where}.sha256 must be 64 lower-case hex characters`);
  });
  return problems;
}

/** Pins indexed by server and tool name; a tool may have several accepted pins (during a reviewed rotation). */
export interface PinSet {
  /** The accepted hashes of `name` on `server` (empty when unpinned). */
  accepted(server: string, name: string): ReadonlySet<string>;
  readonly size: number;
}

const EMPTY: ReadonlySet<string> = new Set();

/** Indexes a list of pins. Throws a `TypeError` listing the problems of an invalid list. */
export function pinSet(pins: readonly ToolPin[]): PinSet {
  const problems = pinProblems(pins);
  if (problems.length > 0) throw new TypeError(`invalid pins: ${problems.join('; ')}`);
  const index = new Map<string, Set<string>>();
  for (const { server, name, sha256 } of pins) {
    const key = `${server}\u0000${name}`;
    const set = index.get(key) ?? new Set<string>();
    set.add(sha256);
    index.set(key, set);
  }
  return Object.freeze({
    accepted: (server: string, name: string): ReadonlySet<string> => index.get(`${server}\u0000${name}`) ?? EMPTY,
    size: pins.length,
  });
}

/** The verdict on one definition. */
export type PinVerdict =
  | { readonly ok: true; readonly pin: string }
  | { readonly ok: false; readonly reasonCode: ReasonCode; readonly pin?: string };

/**
 * Checks one definition against the pins of its server: `TOOL_DEFINITION_MALFORMED` when it has no valid name or
 * no canonical form, `TOOL_UNPINNED` when its name has no pin, `TOOL_PIN_MISMATCH` when its hash is not accepted.
 * Never throws.
 */
export function verifyPin(definition: unknown, server: string, pins: PinSet): PinVerdict {
  const name = typeof definition === 'object' && definition !== null ? (definition as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || !TOOL_NAME_PATTERN.test(name)) return { ok: false, reasonCode: 'TOOL_DEFINITION_MALFORMED' };
  let pin: string;
  try {
    pin = pinOf(definition, server);
  } catch {
    return { ok: false, reasonCode: 'TOOL_DEFINITION_MALFORMED' };
  }
  const accepted = pins.accepted(server, name);
  if (accepted.size === 0) return { ok: false, reasonCode: 'TOOL_UNPINNED', pin };
  return accepted.has(pin) ? { ok: true, pin } : { ok: false, reasonCode: 'TOOL_PIN_MISMATCH', pin };
}

/** A definition removed from a list, with the reason; `name` only when it is a valid tool name. */
export interface RemovedTool {
  /** Position in the list as received. */
  readonly index: number;
  readonly name?: string;
  readonly reasonCode: ReasonCode;
  /** The definition's pin, when it has one (for the log: it says which version was refused). */
  readonly pin?: string;
  /** Scan rules that failed (TOOL_DEFINITION_REJECTED only). */
  readonly ruleIds?: readonly string[];
}

/** Kept definitions (in order, unchanged) and removed ones with reasons. */
export interface PinCheckResult<T> {
  readonly kept: readonly T[];
  readonly removed: readonly RemovedTool[];
}

/** `name` if it is a valid tool name (safe to log), otherwise undefined. */
export function safeToolName(definition: unknown): string | undefined {
  const name = typeof definition === 'object' && definition !== null ? (definition as { name?: unknown }).name : undefined;
  return typeof name === 'string' && TOOL_NAME_PATTERN.test(name) ? name : undefined;
}

/**
 * Verifies every definition of one server against the pins (a list or a {@link PinSet}); definitions whose pin is
 * accepted are kept, the others removed with `TOOL_UNPINNED`, `TOOL_PIN_MISMATCH` or `TOOL_DEFINITION_MALFORMED`.
 */
export function verifyPins<T>(tools: readonly T[], pins: PinSet | readonly ToolPin[], server: string): PinCheckResult<T> {
  const set = Array.isArray(pins) ? pinSet(pins as readonly ToolPin[]) : (pins as PinSet);
  const kept: T[] = [];
  const removed: RemovedTool[] = [];
  tools.forEach((tool, index) => {
    const verdict = verifyPin(tool, server, set);
    if (verdict.ok) kept.push(tool);
    else removed.push(Object.freeze({ index, name: safeToolName(tool), reasonCode: verdict.reasonCode, ...(verdict.pin ? { pin: verdict.pin } : {}) }));
  });
  return Object.freeze({ kept: Object.freeze(kept), removed: Object.freeze(removed) });
}

/** The serialized pins (`ToolPinning.toJson()`). */
export interface ToolPinDocument {
  readonly version: 1;
  /** false only for `ToolPinning.unsafeScanOnly()`: unpinned tools pass when their scan is clean. */
  readonly requirePins: boolean;
  readonly pins: readonly ToolPin[];
}

/** Loaded pins. */
export interface LoadedPins {
  readonly pins: PinSet;
  readonly requirePins: boolean;
  readonly list: readonly ToolPin[];
}

/** Reads serialized pins (strict JSON); throws a {@link ConfigurationError} listing every problem. */
export function parseToolPinDocument(text: string): LoadedPins {
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (err) {
    throw new ConfigurationError([`tool pins are not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigurationError(['tool pins must be a JSON object']);
  const d = doc as Record<string, unknown>;
  const problems: string[] = [];
  const extra = Object.keys(d).filter((k) => k !== 'version' && k !== 'requirePins' && k !== 'pins');
  if (extra.length > 0) problems.push(`tool pins have unsupported keys: ${extra.join(', ')}`);
  if (d.version !== 1) problems.push('tool pins version must be 1');
  if (typeof d.requirePins !== 'boolean') problems.push('tool pins need a boolean requirePins');
  problems.push(...pinProblems(d.pins));
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `tool pins: ${p}`));
  const list = Object.freeze((d.pins as ToolPin[]).map((p) => Object.freeze({ server: p.server, name: p.name, sha256: p.sha256 })));
  return Object.freeze({ pins: pinSet(list), requirePins: d.requirePins as boolean, list });
}
