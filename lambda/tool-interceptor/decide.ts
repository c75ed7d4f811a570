/**
 * Pure decision logic of the REQUEST interceptor (AgentCore Gateway interceptor format 1.0): parsing the event and
 * the JSON-RPC request, the argument rules (reserved, identity-bound and identity-like arguments; schema or shape
 * validation), the arguments the target receives, and the outputs. No SDK, no environment, no clock.
 */
import { canonicalize, parseStrictJson } from '../shared/canonical-json';
import { CALLER_TOKEN_ARGUMENT, RESERVED_ARGUMENT_NAMES } from '../shared/caller-context';
import type { HeaderMap, VerifiedIdentity } from '../shared/identity';
import { ReasonCode } from '../shared/reason-codes';
import { ForgedIdentityHandling, GatewayConfig, IdentityArgumentBinding, TargetKind } from './config';
import { RegisteredTool } from './registry';
import { ArgumentProblem, CompiledToolSchema, MAX_ARGUMENT_DEPTH, escapePointer, validateArguments } from './schema-validate';

/** A JSON-RPC request id. */
export type JsonRpcId = string | number | null;

/** Result of a parsing or checking step: a value, or a deny reason with a detail for the log. */
export type Step<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reasonCode: ReasonCode; readonly detail: string };

const fail = (reasonCode: ReasonCode, detail: string): { ok: false; reasonCode: ReasonCode; detail: string } => ({ ok: false, reasonCode, detail });
const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

/** Largest raw request body accepted, in characters (rejected, never truncated). */
export const MAX_REQUEST_BODY_CHARS = 1_000_000;
/** MCP method names: a letter, then letters, digits and `_ . / -`, at most 128. */
export const METHOD_PATTERN = /^[A-Za-z][A-Za-z0-9_./-]{0,127}$/;
/** `Mcp-Session-Id` values the interceptor binds approvals to: visible ASCII (MCP requires it), at most 256. */
export const SESSION_ID_PATTERN = /^[\x21-\x7E]{1,256}$/;
/** The session value used when a request carries no `Mcp-Session-Id`. */
export const NO_SESSION = 'no-session';
const MAX_ID_CHARS = 256;

/** The JSON-RPC request the interceptor works on. */
export interface ParsedRequest {
  /** The id to answer a deny with (`null` when absent or unusable). */
  readonly id: JsonRpcId;
  /** True when the request carries an id (a request, not a notification). */
  readonly hasId: boolean;
  readonly method: string;
  /** The authoritative body: the strictly parsed raw body when the event has one, else the gateway's parsed body. */
  readonly body: Readonly<Record<string, unknown>>;
  /** The body as the gateway parsed it (what a pass-through returns unchanged), else {@link body}. */
  readonly gatewayBody: unknown;
  /** Request headers (present only with `passRequestHeaders`). */
  readonly headers?: HeaderMap;
}

/** A `tools/call` request. */
export interface ToolCall {
  /** The tool name as the gateway lists it (`<Target>___<tool>`). */
  readonly name: string;
  /** The model's arguments (a plain object; strictly parsed when the raw body was available). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function validId(value: unknown): value is JsonRpcId {
  if (value === null) return true;
  if (typeof value === 'string') return value.length <= MAX_ID_CHARS;
  return typeof value === 'number' && Number.isFinite(value);
}

function safeIdOf(body: unknown): JsonRpcId {
  try {
    if (isPlainObject(body) && validId(body.id)) return body.id;
  } catch {
    // hostile getter
  }
  return null;
}

/** The JSON-RPC id of whatever the event carries, for answering a malformed event (`null` when unusable). Never throws. */
export function eventRequestId(event: unknown): JsonRpcId {
  try {
    const mcp = isPlainObject(event) && isPlainObject(event.mcp) ? event.mcp : undefined;
    const request = mcp && isPlainObject(mcp.gatewayRequest) ? mcp.gatewayRequest : undefined;
    if (request && isPlainObject(request.body)) return safeIdOf(request.body);
    const raw = mcp && isPlainObject(mcp.rawGatewayRequest) ? mcp.rawGatewayRequest.body : undefined;
    if (typeof raw === 'string' && raw.length <= MAX_REQUEST_BODY_CHARS) return safeIdOf(parseStrictJson(raw, { maxDepth: MAX_ARGUMENT_DEPTH + 4 }));
  } catch {
    // nothing usable
  }
  return null;
}

/**
 * Parses a REQUEST interceptor event. The raw body (`mcp.rawGatewayRequest.body`), when present, is parsed strictly
 * (duplicate keys, `__proto__`/`constructor`/`prototype` keys, lone surrogates, trailing text are malformed) and is
 * what the interceptor decides on and forwards; if the gateway's parsed body is present as well, its id, method and
 * tool name must match the raw body's, so the gateway cannot route on a different reading of the same request.
 */
export function parseRequestEvent(event: unknown): Step<ParsedRequest> {
  if (!isPlainObject(event)) return fail('MALFORMED_REQUEST', 'event is not an object');
  if (event.interceptorInputVersion !== '1.0') return fail('MALFORMED_REQUEST', 'interceptorInputVersion is not 1.0');
  if (!isPlainObject(event.mcp)) return fail('MALFORMED_REQUEST', 'mcp is missing');
  if (event.mcp.gatewayResponse !== undefined) return fail('MALFORMED_REQUEST', 'a REQUEST event carries no gatewayResponse');
  const request = event.mcp.gatewayRequest;
  if (request !== undefined && !isPlainObject(request)) return fail('MALFORMED_REQUEST', 'mcp.gatewayRequest is not an object');
  const rawHolder = event.mcp.rawGatewayRequest;
  const raw = isPlainObject(rawHolder) ? rawHolder.body : undefined;
  let gatewayBody: unknown = request?.body;
  // A GET (the server-sent event stream) or DELETE (session end) without a body carries no JSON-RPC call at all.
  const httpMethod = request?.httpMethod;
  const empty = (v: unknown): boolean => v === undefined || v === null || v === '';
  if (typeof httpMethod === 'string' && httpMethod.toUpperCase() !== 'POST' && empty(raw) && empty(gatewayBody)) {
    return ok({ id: null, hasId: false, method: `http:${httpMethod.toUpperCase().slice(0, 16)}`, body: Object.create(null), gatewayBody, headers: undefined });
  }
  if (typeof gatewayBody === 'string') {
    if (gatewayBody.length > MAX_REQUEST_BODY_CHARS) return fail('REQUEST_TOO_LARGE', 'request body is too large');
    try {
      gatewayBody = parseStrictJson(gatewayBody, { maxDepth: MAX_ARGUMENT_DEPTH + 4 });
    } catch (err) {
      return fail('MALFORMED_REQUEST', `gatewayRequest.body is not strict JSON (${(err as Error).message.slice(0, 80)})`);
    }
  }
  let body: unknown;
  if (raw !== undefined) {
    if (typeof raw !== 'string') return fail('MALFORMED_REQUEST', 'rawGatewayRequest.body is not a string');
    if (raw.length > MAX_REQUEST_BODY_CHARS) return fail('REQUEST_TOO_LARGE', `request body is longer than ${MAX_REQUEST_BODY_CHARS} characters`);
    try {
      body = parseStrictJson(raw, { maxDepth: MAX_ARGUMENT_DEPTH + 4 });
    } catch (err) {
      return fail('MALFORMED_REQUEST', `request body is not strict JSON (${(err as Error).message.slice(0, 80)})`);
    }
  } else {
    if (gatewayBody === undefined) return fail('MALFORMED_REQUEST', 'the event carries no request body');
    // The gateway already parsed this one: duplicate keys in the client's text can no longer be seen.
    try {
      body = parseStrictJson(canonicalize(gatewayBody), { maxDepth: MAX_ARGUMENT_DEPTH + 4 });
    } catch {
      return fail('MALFORMED_REQUEST', 'gatewayRequest.body is not JSON data');
    }
  }
  if (Array.isArray(body)) return fail('MALFORMED_REQUEST', 'JSON-RPC batches are not accepted');
  if (!isPlainObject(body)) return fail('MALFORMED_REQUEST', 'the request body is not a JSON object');
  if (body.jsonrpc !== '2.0') return fail('MALFORMED_REQUEST', 'jsonrpc is not "2.0"');
  if (typeof body.method !== 'string' || !METHOD_PATTERN.test(body.method)) return fail('MALFORMED_REQUEST', 'method is missing or not a method name');
  const hasId = Object.prototype.hasOwnProperty.call(body, 'id');
  if (hasId && !validId(body.id)) return fail('MALFORMED_REQUEST', 'id is not a string, number or null');
  if (body.params !== undefined && !isPlainObject(body.params) && !Array.isArray(body.params)) return fail('MALFORMED_REQUEST', 'params is not an object or array');
  if (raw !== undefined && gatewayBody !== undefined) {
    const g = gatewayBody as Record<string, unknown>;
    const sameName = (a: unknown, b: unknown): boolean => {
      const an = isPlainObject(a) ? a.name : undefined;
      const bn = isPlainObject(b) ? b.name : undefined;
      return an === bn;
    };
    if (!isPlainObject(g) || g.method !== body.method || (g.id ?? null) !== (body.id ?? null) || !sameName(g.params, body.params)) {
      return fail('MALFORMED_REQUEST', 'the raw and the parsed request bodies disagree');
    }
  }
  const headers = request?.headers;
  if (headers !== undefined && headers !== null && !isPlainObject(headers)) return fail('MALFORMED_REQUEST', 'gatewayRequest.headers is not an object');
  return ok({
    id: hasId ? (body.id as JsonRpcId) : null,
    hasId,
    method: body.method,
    body,
    gatewayBody: gatewayBody ?? body,
    headers: (headers ?? undefined) as HeaderMap | undefined,
  });
}

/** The `tools/call` parameters of a request. */
export function parseToolCall(request: ParsedRequest): Step<ToolCall> {
  if (!request.hasId) return fail('MALFORMED_REQUEST', 'tools/call without an id');
  const params = request.body.params;
  if (!isPlainObject(params)) return fail('MALFORMED_REQUEST', 'tools/call params is not an object');
  if (typeof params.name !== 'string' || params.name.length === 0 || params.name.length > 256) return fail('MALFORMED_REQUEST', 'tools/call has no tool name');
  const args = params.arguments === undefined ? Object.create(null) : params.arguments;
  if (!isPlainObject(args)) return fail('TOOL_ARGUMENTS_INVALID', 'arguments is not an object');
  return ok({ name: params.name, arguments: args });
}

/**
 * The `Mcp-Session-Id` of a request: {@link NO_SESSION} when absent, undefined when present but unusable (the call
 * is denied). Approvals are bound to it, and the session taint is kept per principal and session; every call of a
 * principal without a session id shares the principal's one {@link NO_SESSION} bucket, so leaving the header out
 * never starts a clean session.
 */
export function sessionIdOf(headers: HeaderMap | undefined): string | undefined {
  if (headers === undefined) return NO_SESSION;
  let value: unknown;
  let count = 0;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'mcp-session-id') {
      count++;
      value = headers[name];
    }
  }
  if (count === 0) return NO_SESSION;
  if (count > 1) return undefined;
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value) ? value : undefined;
}

/** The model's arguments after the identity rules, and what was removed (argument names, for the log). */
export interface ScrubbedArguments {
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Names the interceptor removed: reserved, identity-bound and identity-like arguments the model supplied. */
  readonly removed: readonly string[];
}

/**
 * Applies the identity rules to the model's arguments. A reserved argument (the caller-token argument), an argument
 * the tool binds to a verified claim, and any argument whose name looks like identity (the configured list,
 * compared case-insensitively without `_ - .`) are never taken from the model: with STRIP they are removed, with
 * DENY the call is denied (CALLER_CHOSE_PROTECTED_SETTING). Only top-level names are considered; nested keys are
 * the schema's business.
 */
export function scrubIdentityArguments(
  args: Readonly<Record<string, unknown>>,
  bindings: readonly IdentityArgumentBinding[],
  config: Pick<GatewayConfig, 'isIdentityLike' | 'forgedIdentityArguments'>,
): Step<ScrubbedArguments> {
  const bound = new Set(bindings.map((b) => b.argument));
  const out: Record<string, unknown> = Object.create(null);
  const removed: string[] = [];
  for (const key of Object.keys(args)) {
    const forged = RESERVED_ARGUMENT_NAMES.includes(key) || bound.has(key) || config.isIdentityLike(key);
    if (!forged) {
      out[key] = args[key];
      continue;
    }
    if (config.forgedIdentityArguments === ForgedIdentityHandling.DENY) {
      return fail('CALLER_CHOSE_PROTECTED_SETTING', `the model supplied the identity argument ${escapePointer(key)}`);
    }
    removed.push(key);
  }
  return ok({ arguments: out, removed });
}

function describeProblems(problems: readonly ArgumentProblem[]): string {
  return problems
    .slice(0, 5)
    .map((p) => `${p.code} at ${p.path || '/'}`)
    .join(', ');
}

function depthOf(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null) return depth;
  let max = depth;
  for (const v of Object.values(value)) {
    max = Math.max(max, depthOf(v, depth + 1));
    if (max > MAX_ARGUMENT_DEPTH) return max;
  }
  return max;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function hasForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (!Array.isArray(value) && Object.keys(value).some((k) => FORBIDDEN_KEYS.has(k))) return true;
  return Object.values(value).some(hasForbiddenKey);
}

/**
 * Validates the (scrubbed) arguments: strictly against the model-facing schema when the tool has one (no extra
 * keys, types, lengths, patterns, ranges), otherwise for shape only (plain JSON data, no prototype keys, at most
 * {@link MAX_ARGUMENT_DEPTH} levels), the target being responsible for the rest. TOOL_ARGUMENTS_INVALID otherwise.
 */
export function validateToolArguments(args: Readonly<Record<string, unknown>>, schema: CompiledToolSchema | undefined): Step<Readonly<Record<string, unknown>>> {
  if (schema !== undefined) {
    const result = validateArguments(args, schema);
    return result.ok ? ok(result.value) : fail('TOOL_ARGUMENTS_INVALID', describeProblems(result.problems));
  }
  try {
    canonicalize(args);
  } catch {
    return fail('TOOL_ARGUMENTS_INVALID', 'arguments are not plain JSON data');
  }
  if (hasForbiddenKey(args)) return fail('TOOL_ARGUMENTS_INVALID', 'arguments carry a prototype key');
  if (depthOf(args, 0) > MAX_ARGUMENT_DEPTH) return fail('TOOL_ARGUMENTS_INVALID', 'arguments nest too deep');
  return ok(args);
}

const MAX_CLAIM_VALUE = 2048;
const MAX_CLAIM_LIST = 256;

/** The verified value of a bound argument: a claim that is a non-empty string or a list of strings. */
export function claimValue(identity: VerifiedIdentity, claim: string): string | readonly string[] | undefined {
  const claims = identity.claims;
  if (typeof claims !== 'object' || claims === null || !Object.prototype.hasOwnProperty.call(claims, claim)) return undefined;
  const value = (claims as Record<string, unknown>)[claim];
  if (typeof value === 'string') return value.length > 0 && value.length <= MAX_CLAIM_VALUE ? value : undefined;
  if (Array.isArray(value) && value.length <= MAX_CLAIM_LIST && value.every((v) => typeof v === 'string' && v.length <= MAX_CLAIM_VALUE)) {
    return Object.freeze([...(value as string[])]);
  }
  return undefined;
}

/**
 * The arguments the target receives: the validated arguments, each identity-bound argument set from the verified
 * token's claim (IDENTITY_CLAIMS_INVALID when the claim is missing or not a string or list of strings), and, for
 * the library's own targets only, the verified bearer token in the reserved caller-token argument.
 */
export function targetArguments(
  validated: Readonly<Record<string, unknown>>,
  bindings: readonly IdentityArgumentBinding[],
  kind: TargetKind,
  identity: VerifiedIdentity,
  token: string,
): Step<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(validated)) out[key] = validated[key];
  for (const b of bindings) {
    const value = claimValue(identity, b.claim);
    if (value === undefined) return fail('IDENTITY_CLAIMS_INVALID', `the verified token has no usable ${b.claim} claim for argument ${b.argument}`);
    out[b.argument] = value;
  }
  if (kind === TargetKind.LIBRARY) out[CALLER_TOKEN_ARGUMENT] = token;
  return ok(out);
}

/**
 * The caller's principal, `<issuer>|<subject>` of the verified token: what an approval is bound to and what a
 * session's taint is kept under.
 */
export function principalOf(identity: VerifiedIdentity): string {
  return `${identity.issuer}|${identity.subject}`;
}

/** The interceptor's answer (format 1.0). */
export interface InterceptorOutput {
  readonly interceptorOutputVersion: '1.0';
  readonly mcp: {
    readonly transformedGatewayRequest?: { readonly body: unknown };
    readonly transformedGatewayResponse?: { readonly statusCode: number; readonly body: unknown };
  };
}

/** JSON-RPC error codes of a deny. */
export const DenyErrorCode = {
  /** The request is not a well-formed JSON-RPC request (-32600 Invalid Request). */
  INVALID_REQUEST: -32600,
  /** Unknown tool or invalid arguments (-32602 Invalid params, as MCP answers them). */
  INVALID_PARAMS: -32602,
  /** Every other deny: identity, policy, approval, dependency fault, configuration (server-defined range). */
  DENIED: -32001,
} as const;

/** The JSON-RPC error code a deny carries. */
export function errorCodeFor(reasonCode: ReasonCode): number {
  switch (reasonCode) {
    case 'MALFORMED_REQUEST':
    case 'REQUEST_TOO_LARGE':
      return DenyErrorCode.INVALID_REQUEST;
    case 'TOOL_UNKNOWN':
    case 'TOOL_ARGUMENTS_INVALID':
      return DenyErrorCode.INVALID_PARAMS;
    default:
      return DenyErrorCode.DENIED;
  }
}

/**
 * A deny: the gateway answers at once with this JSON-RPC error and never calls the target. The message and data
 * carry only the reason code (safe to show) and the interceptor's request id (to find the decision line).
 */
export function denyOutput(id: JsonRpcId, reasonCode: ReasonCode, requestId?: string): InterceptorOutput {
  const data: Record<string, unknown> = { reasonCode };
  if (requestId !== undefined && /^[A-Za-z0-9-]{1,64}$/.test(requestId)) data.requestId = requestId;
  return {
    interceptorOutputVersion: '1.0',
    mcp: {
      transformedGatewayResponse: {
        statusCode: 200,
        body: { jsonrpc: '2.0', id, error: { code: errorCodeFor(reasonCode), message: `Denied: ${reasonCode}`, data } },
      },
    },
  };
}

/** A request the interceptor lets through unchanged (methods other than `tools/call`). Only the body is returned, never headers. */
export function passThroughOutput(body: unknown): InterceptorOutput {
  return { interceptorOutputVersion: '1.0', mcp: { transformedGatewayRequest: { body } } };
}

/**
 * An allowed `tools/call`, rewritten: `jsonrpc`, `id`, `method` and `params` `{ name, arguments }` only (any other
 * member, `_meta` included, is dropped), with the target's arguments. Only the body is returned, never headers, so
 * the inbound Authorization header is not handed on by the interceptor.
 */
export function allowedCallOutput(request: ParsedRequest, toolName: string, args: Record<string, unknown>): InterceptorOutput {
  return passThroughOutput({ jsonrpc: '2.0', id: request.id, method: request.method, params: { name: toolName, arguments: args } });
}

/** What the decision line records about a registered tool (never anything the model wrote). */
export function logFieldsOfTool(tool: RegisteredTool): Record<string, string | string[]> {
  return { target: tool.target, tool: tool.name, risk: tool.risk, capabilities: [...tool.capabilities] };
}

export type { ReasonCode };
