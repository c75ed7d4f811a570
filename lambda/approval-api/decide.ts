/**
 * The approver API's pure parts: reading an API Gateway (REST, Lambda proxy) event into a route, the approver's
 * principal and group check, and the JSON responses. No SDK, no environment, no clock.
 *
 * Routes:
 * - `GET  /approvals`       pending requests that expire later, soonest first, without the approver's own;
 * - `GET  /approvals/{id}`  one request: tool, tool pin, arguments, principal, session, expiry, approval hash;
 * - `POST /approvals/{id}`  body `{"decision": "APPROVE" | "REJECT", "approvalHash": "<the hash shown>"}`.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { HeaderMap, VerifiedIdentity, bearerTokenFrom, DEFAULT_MAX_TOKEN_LENGTH } from '../shared/identity';
import { ReasonCode } from '../shared/reason-codes';
import { ApprovalRecord, ApproverDecision } from '../approval/decide';
import { HEX256_PATTERN } from '../approval/hash';
import { ApprovalSummary } from '../approval/store';

/** Resource paths of the API (API Gateway's `resource`). */
export const ApprovalApiPath = {
  LIST: '/approvals',
  ITEM: '/approvals/{id}',
} as const;

/** Largest decision body accepted, in bytes. */
export const MAX_BODY_BYTES = 1_024;

/** A parsed request. */
export type ApiRoute =
  | { readonly kind: 'LIST' }
  | { readonly kind: 'SHOW'; readonly approvalId: string }
  | { readonly kind: 'DECIDE'; readonly approvalId: string; readonly decision: ApproverDecision; readonly approvalHash: string };

/** The result of reading an event: a route, or the code (and HTTP status) of a malformed request. */
export type ParsedRoute = { readonly ok: true; readonly route: ApiRoute } | { readonly ok: false; readonly code: ReasonCode; readonly status: number; readonly detail: string };

function field(event: unknown, name: string): unknown {
  if (typeof event !== 'object' || event === null) return undefined;
  return Object.prototype.hasOwnProperty.call(event, name) ? (event as Record<string, unknown>)[name] : undefined;
}

const BARE_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The approver's token: `Authorization: Bearer <JWT>`, or the bare JWT that API Gateway's Cognito authorizer also
 * accepts. Exactly one Authorization header (all values of `multiValueHeaders` are considered); anything else is
 * undefined (IDENTITY_MISSING). The token is verified by the handler, never trusted as is.
 */
export function approverTokenFrom(event: unknown): string | undefined {
  const multi = field(event, 'multiValueHeaders');
  const headers = (typeof multi === 'object' && multi !== null ? multi : field(event, 'headers')) as HeaderMap | undefined;
  const bearer = bearerTokenFrom(headers);
  if (bearer !== undefined) return bearer;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const names = Object.keys(headers).filter((n) => n.toLowerCase() === 'authorization');
  if (names.length !== 1) return undefined;
  let value: unknown = headers[names[0]];
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  return typeof value === 'string' && value.length <= DEFAULT_MAX_TOKEN_LENGTH && BARE_JWT.test(value) ? value : undefined;
}

/** The API Gateway request id of an event, when it is a short code. */
export function apiRequestIdOf(event: unknown): string | undefined {
  const context = field(event, 'requestContext');
  const id = field(context, 'requestId');
  return typeof id === 'string' && /^[A-Za-z0-9_.:-]{1,128}$/.test(id) ? id : undefined;
}

/** The body text; `undefined` without a body, `null` for a body that claims base64 and is not. */
function bodyText(event: unknown): string | undefined | null {
  const body = field(event, 'body');
  if (typeof body !== 'string') return undefined;
  if (field(event, 'isBase64Encoded') === true) {
    if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return null;
    return Buffer.from(body, 'base64').toString('utf8');
  }
  return body;
}

function malformed(detail: string, status = 400, code: ReasonCode = 'MALFORMED_REQUEST'): ParsedRoute {
  return { ok: false, code, status, detail };
}

/** Reads the route of an API Gateway REST (Lambda proxy) event strictly. Never throws. */
export function parseApiRoute(event: unknown): ParsedRoute {
  try {
    const method = field(event, 'httpMethod');
    const resource = field(event, 'resource');
    if (resource === ApprovalApiPath.LIST) {
      return method === 'GET' ? { ok: true, route: { kind: 'LIST' } } : malformed(`method ${String(method)} on ${resource}`, 405);
    }
    if (resource !== ApprovalApiPath.ITEM) return malformed('unknown resource', 404);
    const approvalId = field(field(event, 'pathParameters'), 'id');
    if (typeof approvalId !== 'string' || !HEX256_PATTERN.test(approvalId)) return malformed('the approval id is not 64 lowercase hex');
    if (method === 'GET') return { ok: true, route: { kind: 'SHOW', approvalId } };
    if (method !== 'POST') return malformed(`method ${String(method)} on ${resource}`, 405);
    const text = bodyText(event);
    if (text === undefined) return malformed('no body');
    if (text === null) return malformed('body is not valid base64');
    if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return malformed('body too large', 413, 'REQUEST_TOO_LARGE');
    let body: unknown;
    try {
      body = parseStrictJson(text, { maxDepth: 2 });
    } catch {
      return malformed('body is not strict JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return malformed('body is not an object');
    const keys = Object.keys(body).sort();
    if (keys.length !== 2 || keys[0] !== 'approvalHash' || keys[1] !== 'decision') return malformed('body must have exactly "decision" and "approvalHash"');
    const { decision, approvalHash } = body as { decision: unknown; approvalHash: unknown };
    if (decision !== ApproverDecision.APPROVE && decision !== ApproverDecision.REJECT) return malformed('decision must be APPROVE or REJECT');
    if (typeof approvalHash !== 'string' || !HEX256_PATTERN.test(approvalHash)) return malformed('approvalHash is not 64 lowercase hex');
    return { ok: true, route: { kind: 'DECIDE', approvalId, decision, approvalHash } };
  } catch {
    return malformed('the event could not be read');
  }
}

/** The verified principal of an identity: `<issuer>|<subject>` (the same form as a requester's). */
export function principalOf(identity: VerifiedIdentity): string {
  return `${identity.issuer}|${identity.subject}`;
}

/** True when the verified groups include the approver group (exact, case-sensitive). */
export function isApprover(identity: VerifiedIdentity, approverGroup: string): boolean {
  return Array.isArray(identity.groups) && identity.groups.includes(approverGroup);
}

/** An HTTP response for API Gateway. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Headers of every response: JSON, never cached, never sniffed. */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** The HTTP status of a deny code. */
export function statusOf(code: ReasonCode): number {
  switch (code) {
    case 'IDENTITY_MISSING':
    case 'IDENTITY_INVALID':
    case 'IDENTITY_EXPIRED':
    case 'IDENTITY_CLAIMS_INVALID':
      return 401;
    case 'APPROVAL_NOT_APPROVER':
    case 'APPROVAL_SELF_APPROVAL':
      return 403;
    case 'APPROVAL_NOT_FOUND':
      return 404;
    case 'APPROVAL_NOT_PENDING':
    case 'APPROVAL_EXPIRED':
    case 'APPROVAL_HASH_MISMATCH':
      return 409;
    case 'MALFORMED_REQUEST':
      return 400;
    case 'REQUEST_TOO_LARGE':
      return 413;
    case 'UPSTREAM_THROTTLED':
      return 429;
    case 'UPSTREAM_TIMEOUT':
      return 504;
    case 'UPSTREAM_UNAVAILABLE':
    case 'UPSTREAM_ACCESS_DENIED':
    case 'UPSTREAM_MALFORMED_RESPONSE':
      return 503;
    default:
      return 500;
  }
}

/** A JSON response. */
export function jsonResponse(statusCode: number, body: Record<string, unknown>, extraHeaders: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...RESPONSE_HEADERS, ...extraHeaders }, body: JSON.stringify(body) };
}

/** The deny response: the code only (never internal detail). */
export function denyResponse(code: ReasonCode, status = statusOf(code), extra: Record<string, unknown> = {}): ApiResponse {
  return jsonResponse(status, { ok: false, reasonCode: code, ...extra }, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
}

/** One pending request as listed. */
export function summaryView(summary: ApprovalSummary): Record<string, unknown> {
  return {
    approvalId: summary.approvalId,
    kind: summary.kind,
    tool: summary.tool,
    principal: summary.principal,
    createdAt: summary.createdAt,
    expiresAt: summary.expiresAt,
  };
}

/** One request as shown to an approver: everything bound into the hash, never the task token. */
export function recordView(record: ApprovalRecord, approver: string): Record<string, unknown> {
  return {
    approvalId: record.approvalId,
    kind: record.kind,
    status: record.status,
    tool: record.call.tool,
    toolPin: record.call.toolPin,
    arguments: record.call.arguments,
    principal: record.call.principal,
    session: record.call.session,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    approvalHash: record.approvalHash,
    selfRequested: record.call.principal === approver,
    ...(record.decidedAt !== undefined ? { decidedAt: record.decidedAt } : {}),
    ...(record.decidedBy !== undefined ? { decidedBy: record.decidedBy } : {}),
  };
}
