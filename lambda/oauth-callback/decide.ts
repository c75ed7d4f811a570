/**
 * Pure logic of the three-legged OAuth (3LO) session binding: no SDK, no environment, no clock (`now` is passed in).
 *
 * A binding ties one authorization (AgentCore's `sessionUri`) to the verified user who started it, under a random
 * `state` of at least 128 bits that AgentCore hands back to the callback. The callback completes the authorization
 * only when the state is known, the session is the recorded one, the signed-in user is the recorded user, the binding
 * is unused and less than ten minutes old. Identity comes only from a verified token: the binding stores a hash of
 * issuer and subject, never a user id a caller supplied.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../shared/canonical-json';
import { DEFAULT_MAX_TOKEN_LENGTH, HeaderMap, bearerTokenFrom } from '../shared/identity';
import { ReasonCode } from '../shared/reason-codes';
import { TokenSource } from './config';

/** Lifetime of a binding: ten minutes. A binding is valid while `now < expiresAt`. */
export const BINDING_LIFETIME_MS = 10 * 60 * 1000;
/** How long DynamoDB keeps an expired or used binding before its TTL removes it (the handler never relies on TTL). */
export const BINDING_RETENTION_SECONDS = 24 * 60 * 60;
/** A state: base64url, at least 22 characters (132 bits); {@link newStateBytes} makes 32 random bytes (43 characters). */
export const STATE_PATTERN = /^[A-Za-z0-9_-]{22,256}$/;
/** Random bytes in a new state. */
export const STATE_BYTES = 32;
/** An AgentCore authorization session: an RFC 9126 request URI. */
export const SESSION_URI_PATTERN = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9._~:+/=-]{1,1024}$/;
/** Credential provider names, as AgentCore accepts them. */
export const PROVIDER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A result that is either a value or a reason code (with log-only detail). */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reasonCode: ReasonCode; readonly detail: string };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(reasonCode: ReasonCode, detail: string): Result<T> => ({ ok: false, reasonCode, detail });

/** The decision of one callback: allow, or deny with a code that is safe to show (detail is for logs only). */
export type CallbackDecision =
  | { readonly outcome: 'ALLOW'; readonly reasonCode: 'ALLOWED' }
  | { readonly outcome: 'DENY'; readonly reasonCode: ReasonCode; readonly detail?: string };

/** An allow. */
export function allowCallback(): CallbackDecision {
  return Object.freeze({ outcome: 'ALLOW', reasonCode: 'ALLOWED' } as const);
}

/** A deny with its reason code; `detail` goes to the log, never to the user. */
export function denyCallback(reasonCode: ReasonCode, detail?: string): CallbackDecision {
  return Object.freeze(detail === undefined ? { outcome: 'DENY', reasonCode } : { outcome: 'DENY', reasonCode, detail }) as CallbackDecision;
}

/** The user as proven by a verified token. */
export interface BindingUser {
  readonly issuer: string;
  readonly subject: string;
}

/** The key of a user in a binding: SHA-256 of the JSON array `[issuer, subject]` (unambiguous, no PII at rest). */
export function userKeyOf(user: BindingUser): string {
  return sha256Hex(JSON.stringify([user.issuer, user.subject]));
}

/** The key of a state in the binding table: SHA-256 of the state, so that the table never holds a usable state. */
export function stateHashOf(state: string): string {
  return sha256Hex(state);
}

/** A pending (or used) binding as stored. Times are epoch milliseconds. */
export interface BindingRecord {
  /** SHA-256 (hex) of the state. */
  readonly stateHash: string;
  /** The AgentCore session this binding may complete. */
  readonly sessionUri: string;
  /** {@link userKeyOf} the user who started the authorization. */
  readonly userKey: string;
  /** The credential provider of the authorization (for the audit log). */
  readonly providerName?: string;
  readonly createdAt: number;
  /** `createdAt` + ten minutes. */
  readonly expiresAt: number;
  /** True once a callback completed it. */
  readonly used: boolean;
  readonly usedAt?: number;
}

/** What {@link createBinding} needs. */
export interface CreateBindingInput {
  /** The random state given to GetResourceOauth2Token as `customState` (base64url, at least 22 characters). */
  readonly state: string;
  /** The `sessionUri` GetResourceOauth2Token returned. */
  readonly sessionUri: string;
  /** The verified user on whose behalf the authorization was started (from the verified token, never from input). */
  readonly user: BindingUser;
  /** The credential provider. */
  readonly providerName?: string;
  /** Current time, epoch milliseconds. */
  readonly now: number;
}

/** Builds the pending binding of a new authorization: unused, expiring ten minutes after `now`. */
export function createBinding(input: CreateBindingInput): Result<BindingRecord> {
  if (typeof input?.state !== 'string' || !STATE_PATTERN.test(input.state)) return fail('MALFORMED_REQUEST', 'state is not base64url of at least 128 bits');
  if (typeof input.sessionUri !== 'string' || !SESSION_URI_PATTERN.test(input.sessionUri)) return fail('UPSTREAM_MALFORMED_RESPONSE', 'sessionUri is not a request URI');
  const user = input.user;
  if (typeof user?.issuer !== 'string' || user.issuer.length === 0 || typeof user.subject !== 'string' || user.subject.length === 0) {
    return fail('IDENTITY_CLAIMS_INVALID', 'the user has no issuer or subject');
  }
  if (input.providerName !== undefined && (typeof input.providerName !== 'string' || !PROVIDER_NAME_PATTERN.test(input.providerName))) {
    return fail('MALFORMED_REQUEST', 'providerName is not a credential provider name');
  }
  if (!Number.isSafeInteger(input.now) || input.now <= 0) return fail('INTERNAL_ERROR', 'now is not an epoch time in milliseconds');
  return ok(
    Object.freeze({
      stateHash: stateHashOf(input.state),
      sessionUri: input.sessionUri,
      userKey: userKeyOf(user),
      ...(input.providerName !== undefined ? { providerName: input.providerName } : {}),
      createdAt: input.now,
      expiresAt: input.now + BINDING_LIFETIME_MS,
      used: false,
    }),
  );
}

/** The callback being checked against a binding. */
export interface BindingAttempt {
  /** {@link stateHashOf} the state of the callback. */
  readonly stateHash: string;
  /** The session of the callback. */
  readonly sessionUri: string;
  /** {@link userKeyOf} the signed-in (verified) user. */
  readonly userKey: string;
  /** Current time, epoch milliseconds. */
  readonly now: number;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Decides whether a callback may complete its authorization. In order: an unknown state → OAUTH_STATE_UNKNOWN; a
 * binding whose lifetime is not exactly ten minutes → UPSTREAM_MALFORMED_RESPONSE; another user →
 * OAUTH_USER_MISMATCH (nothing more is told to another user); another session → OAUTH_SESSION_MISMATCH; already used →
 * OAUTH_BINDING_REPLAYED; `now >= expiresAt` → OAUTH_BINDING_EXPIRED. Otherwise allow.
 */
export function checkBinding(record: BindingRecord | undefined, attempt: BindingAttempt): CallbackDecision {
  if (record === undefined) return denyCallback('OAUTH_STATE_UNKNOWN', 'no binding for this state');
  if (!Number.isSafeInteger(attempt.now)) return denyCallback('INTERNAL_ERROR', 'now is not an epoch time in milliseconds');
  if (!sameText(record.stateHash, attempt.stateHash)) return denyCallback('OAUTH_STATE_UNKNOWN', 'the binding is stored under another state');
  if (record.expiresAt - record.createdAt !== BINDING_LIFETIME_MS) return denyCallback('UPSTREAM_MALFORMED_RESPONSE', 'the binding does not have a ten-minute lifetime');
  if (!sameText(record.userKey, attempt.userKey)) return denyCallback('OAUTH_USER_MISMATCH', 'the binding belongs to another user');
  if (!sameText(record.sessionUri, attempt.sessionUri)) return denyCallback('OAUTH_SESSION_MISMATCH', 'the binding names another session');
  if (record.used) return denyCallback('OAUTH_BINDING_REPLAYED', 'the binding was already used');
  if (attempt.now >= record.expiresAt) return denyCallback('OAUTH_BINDING_EXPIRED', `the binding expired ${attempt.now - record.expiresAt} ms ago`);
  return allowCallback();
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: API Gateway (REST v1 and HTTP API v2 payloads) and Application Load Balancer events.

/** How the response must be shaped for the integration that invoked the function. */
export const ResponseStyle = {
  API_GATEWAY: 'API_GATEWAY',
  ALB: 'ALB',
  /** An ALB target group with multi-value headers on: the response must use `multiValueHeaders`. */
  ALB_MULTI_VALUE: 'ALB_MULTI_VALUE',
} as const;
export type ResponseStyle = (typeof ResponseStyle)[keyof typeof ResponseStyle];

/** What the handler needs from the request, read without trusting any of it. */
export interface CallbackRequest {
  readonly style: ResponseStyle;
  /** The client asked for JSON (an app page calling the callback API) rather than HTML (a browser redirect). */
  readonly wantsJson: boolean;
  readonly method: string | undefined;
  /** The user's token from the configured source, when exactly one well-formed token is there. */
  readonly token: string | undefined;
  /** The state and the session, or why they are unusable. */
  readonly parameters: Result<{ readonly state: string; readonly sessionUri: string }>;
}

/** Where {@link parseCallbackRequest} looks. */
export interface ParseOptions {
  readonly tokenSource: TokenSource;
  readonly tokenCookieName?: string;
  readonly stateParameter: string;
  readonly sessionParameter: string;
}

type Json = Record<string, unknown>;

function own(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null && Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Json)[key] : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string | string[]> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v === 'string') out[key] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v as string[];
  }
  return out;
}

function styleOf(event: Json): ResponseStyle {
  if (isObject(own(own(event, 'requestContext'), 'elb'))) return isObject(own(event, 'multiValueHeaders')) ? ResponseStyle.ALB_MULTI_VALUE : ResponseStyle.ALB;
  return ResponseStyle.API_GATEWAY;
}

function headersOf(event: Json): HeaderMap {
  return stringMap(own(event, 'multiValueHeaders')) ?? stringMap(own(event, 'headers')) ?? {};
}

/** Every value of a header (name case-insensitive), with multi-value lists flattened. */
function headerValues(headers: HeaderMap, name: string): string[] {
  const out: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const v = headers[key];
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

/** Query entries, percent-decoded exactly once whatever the integration (the ALB passes them undecoded). */
function queryEntries(event: Json, style: ResponseStyle): Array<[string, string]> {
  const raw = own(event, 'rawQueryString');
  if (own(event, 'version') === '2.0' && typeof raw === 'string') return [...new URLSearchParams(raw)];
  const multi = stringMap(own(event, 'multiValueQueryStringParameters'));
  const single = stringMap(own(event, 'queryStringParameters'));
  const source = multi ?? single ?? {};
  const entries: Array<[string, string]> = [];
  for (const key of Object.keys(source)) {
    const v = source[key];
    for (const value of typeof v === 'string' ? [v] : v) entries.push([key, value]);
  }
  if (style === ResponseStyle.API_GATEWAY) return entries;
  return [...new URLSearchParams(entries.map(([k, v]) => `${k}=${v}`).join('&'))];
}

function exactlyOne(entries: Array<[string, string]>, name: string): string | undefined {
  const values = entries.filter(([k]) => k === name).map(([, v]) => v);
  return values.length === 1 ? values[0] : undefined;
}

function jwtOrUndefined(value: string | undefined): string | undefined {
  return value !== undefined && value.length <= DEFAULT_MAX_TOKEN_LENGTH && JWT_SHAPE.test(value) ? value : undefined;
}

function tokenFromCookies(event: Json, headers: HeaderMap, cookieName: string | undefined): string | undefined {
  if (cookieName === undefined) return undefined;
  const pairs: string[] = [];
  const cookies = own(event, 'cookies');
  if (Array.isArray(cookies)) for (const c of cookies) if (typeof c === 'string') pairs.push(c);
  for (const header of headerValues(headers, 'cookie')) pairs.push(...header.split(';'));
  const values = pairs
    .map((p) => p.trim())
    .filter((p) => p.includes('=') && p.slice(0, p.indexOf('=')) === cookieName)
    .map((p) => p.slice(p.indexOf('=') + 1));
  return values.length === 1 ? jwtOrUndefined(values[0]) : undefined;
}

function tokenOf(event: Json, headers: HeaderMap, options: ParseOptions): string | undefined {
  switch (options.tokenSource) {
    case 'AUTHORIZATION_HEADER':
      return bearerTokenFrom(headers);
    case 'ALB_OIDC_ACCESS_TOKEN': {
      const values = headerValues(headers, 'x-amzn-oidc-accesstoken');
      return values.length === 1 ? jwtOrUndefined(values[0]) : undefined;
    }
    case 'COOKIE':
      return tokenFromCookies(event, headers, options.tokenCookieName);
    default:
      return undefined;
  }
}

function methodOf(event: Json): string | undefined {
  const v1 = own(event, 'httpMethod');
  if (typeof v1 === 'string') return v1;
  const v2 = own(own(own(event, 'requestContext'), 'http'), 'method');
  return typeof v2 === 'string' ? v2 : undefined;
}

function wantsJsonOf(headers: HeaderMap): boolean {
  const accept = headerValues(headers, 'accept').join(',').toLowerCase();
  return /\bapplication\/json\b/.test(accept) && !/\btext\/html\b/.test(accept);
}

/**
 * Reads a callback request (API Gateway v1 or v2 payload, or ALB event). The state and session parameters must each
 * appear exactly once and match their patterns; the token must come from the configured source, exactly once.
 * Never throws: anything unreadable becomes a `MALFORMED_REQUEST` parameters result and no token.
 */
export function parseCallbackRequest(event: unknown, options: ParseOptions): CallbackRequest {
  try {
    if (!isObject(event)) {
      return { style: ResponseStyle.API_GATEWAY, wantsJson: false, method: undefined, token: undefined, parameters: fail('MALFORMED_REQUEST', 'the event is not an object') };
    }
    const style = styleOf(event);
    const headers = headersOf(event);
    const entries = queryEntries(event, style);
    const state = exactlyOne(entries, options.stateParameter);
    const sessionUri = exactlyOne(entries, options.sessionParameter);
    let parameters: Result<{ state: string; sessionUri: string }>;
    if (state === undefined || sessionUri === undefined) {
      parameters = fail('MALFORMED_REQUEST', `${options.stateParameter} and ${options.sessionParameter} must each appear exactly once`);
    } else if (!STATE_PATTERN.test(state)) {
      parameters = fail('MALFORMED_REQUEST', 'the state is not base64url of at least 128 bits');
    } else if (!SESSION_URI_PATTERN.test(sessionUri)) {
      parameters = fail('MALFORMED_REQUEST', 'the session is not a request URI');
    } else {
      parameters = ok({ state, sessionUri });
    }
    return { style, wantsJson: wantsJsonOf(headers), method: methodOf(event), token: tokenOf(event, headers, options), parameters };
  } catch {
    return { style: ResponseStyle.API_GATEWAY, wantsJson: false, method: undefined, token: undefined, parameters: fail('MALFORMED_REQUEST', 'the event could not be read') };
  }
}

/** A Lambda proxy response (API Gateway v1/v2 and ALB accept this shape). */
export interface HttpResponse {
  readonly statusCode: number;
  readonly statusDescription?: string;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  303: 'See Other',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The HTTP status of a deny: 400 malformed, 401 identity, 403 binding, 503 dependency fault, 500 otherwise. */
export function statusOf(reasonCode: ReasonCode): number {
  if (reasonCode === 'MALFORMED_REQUEST' || reasonCode === 'REQUEST_TOO_LARGE') return 400;
  if (reasonCode.startsWith('IDENTITY_')) return 401;
  if (reasonCode.startsWith('OAUTH_')) return 403;
  if (reasonCode.startsWith('UPSTREAM_')) return 503;
  return 500;
}

/** Headers on every response: never cached, never framed, never sent on as a referrer (the URL carries the state). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

function page(title: string, message: string, code?: string): string {
  const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const reason = code === undefined ? '' : `<p>Reason: <code>${escape(code)}</code></p>`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(message)}</p>${reason}</body></html>`;
}

/** How to answer. */
export interface RenderOptions {
  readonly style: ResponseStyle;
  readonly wantsJson: boolean;
  readonly completionRedirectUrl?: string;
  /** Answer 405 instead of 400 (the method was not GET). */
  readonly methodNotAllowed?: boolean;
  /** Add `WWW-Authenticate: Bearer` to a 401 (the token source is the Authorization header). */
  readonly bearerChallenge?: boolean;
}

/**
 * The response to a decision. A deny shows only its reason code (HTML for browsers, `{"ok":false,"reasonCode"}` for
 * JSON clients); an allow shows a confirmation, or redirects (303) to the configured completion URL for browsers.
 */
export function renderCallbackResponse(decision: CallbackDecision, options: RenderOptions): HttpResponse {
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  let statusCode: number;
  let body: string;
  if (decision.outcome === 'ALLOW') {
    if (options.completionRedirectUrl !== undefined && !options.wantsJson) {
      statusCode = 303;
      headers.location = options.completionRedirectUrl;
      body = '';
    } else {
      statusCode = 200;
      body = options.wantsJson ? JSON.stringify({ ok: true }) : page('Authorization complete', 'You can close this window and return to the application.');
    }
  } else {
    statusCode = options.methodNotAllowed ? 405 : statusOf(decision.reasonCode);
    if (statusCode === 405) headers.allow = 'GET';
    if (statusCode === 401 && options.bearerChallenge) headers['www-authenticate'] = 'Bearer';
    body = options.wantsJson
      ? JSON.stringify({ ok: false, reasonCode: decision.reasonCode })
      : page('Authorization not completed', 'The connection was not made. Start again from the application.', decision.reasonCode);
  }
  if (body !== '') headers['content-type'] = options.wantsJson ? 'application/json' : 'text/html; charset=utf-8';
  const base = { statusCode, body, isBase64Encoded: false as const };
  switch (options.style) {
    case ResponseStyle.ALB_MULTI_VALUE:
      return {
        ...base,
        statusDescription: `${statusCode} ${STATUS_TEXT[statusCode]}`,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      };
    case ResponseStyle.ALB:
      return { ...base, statusDescription: `${statusCode} ${STATUS_TEXT[statusCode]}`, headers };
    default:
      return { ...base, headers };
  }
}
