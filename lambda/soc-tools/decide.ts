/**
 * The security-operations tools' pure part: reading events strictly, validating tool inputs against the shared
 * schemas, deciding whether an address may be blocked, reading store items strictly, planning the IP set change and
 * checking a remediation's approval. No SDK, no environment, no clock (time is passed in).
 */
import { ApprovalKind, ApprovalRecord, ApprovalStatus, recordIntegrity } from '../approval/decide';
import { HEX256_PATTERN } from '../approval/hash';
import { canonicalize, sha256Hex } from '../shared/canonical-json';
import { MalformedResponseError } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { hasSmuggling } from '../shared/text-safety';
import { CompiledToolSchema, compileToolSchema, validateArguments } from '../tool-interceptor/schema-validate';
import { MAX_IPSET_ADDRESSES } from './config';
import { ParsedIp, cidrContains, formatCidr, formatIp, hostCidr, isPublicIp, parseCidr, parseIp } from './ip';
import { BLOCK_IP_ACTION, BLOCK_IP_APPROVAL_TOOL, DISPOSITIONS, ID_PATTERN, SEVERITIES, SOC_TOOLS, SOC_TOOL_NAMES, SocToolName } from './tools';

/** The verified caller, as the agent loop passes it to a local tool (never from the model). */
export interface ToolCaller {
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  readonly clientId?: string;
}

/** A request to block one address, exactly as it is approved and executed. */
export interface BlockRequest {
  readonly action: typeof BLOCK_IP_ACTION;
  /** Canonical address text. */
  readonly ip: string;
  readonly alertId: string;
}

/** The approval the workflow's approval step returned. */
export interface WorkflowApproval {
  readonly approvalId: string;
  readonly decision: string;
  readonly approvalHash: string;
  readonly decidedAt: number;
}

/** A parsed event. */
export type SocEvent =
  | { readonly kind: 'TOOL'; readonly tool: string; readonly input: unknown; readonly caller: ToolCaller; readonly sessionId: string }
  | { readonly kind: 'PREPARE_BLOCK'; readonly ip: string; readonly alertId: string }
  | { readonly kind: 'BLOCK'; readonly request: BlockRequest; readonly approval: WorkflowApproval }
  | { readonly kind: 'MALFORMED'; readonly detail: string };

/** Workflow task names. */
export const SocTask = {
  /** Checks and canonicalizes the address to block, before anyone is asked to approve it. */
  PREPARE_BLOCK_IP: 'prepare_block_ip',
  /** Blocks the approved address (after checking the approval in the approval table). */
  BLOCK_IP: 'block_ip',
} as const;

/** Error names a workflow task fails with (the Step Functions error names). */
export const SocTaskErrorName = {
  /** A transient fault (throttle, 5xx, timeout, lock contention): retry with backoff. */
  RETRYABLE: 'RemediationRetryable',
  /** Anything else: do not retry. */
  DENIED: 'RemediationDenied',
} as const;

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ID = new RegExp(ID_PATTERN);
const CODE_TEXT = /^[^\p{Cc}\p{Cf}]{1,512}$/u;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasExactly(o: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(o);
  if (keys.some((k) => FORBIDDEN_KEYS.has(k))) return false;
  return required.every((k) => Object.prototype.hasOwnProperty.call(o, k)) && keys.every((k) => required.includes(k) || optional.includes(k));
}

function isStringList(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length <= 256);
}

function parseCaller(v: unknown): ToolCaller | undefined {
  if (!isObject(v) || !hasExactly(v, ['issuer', 'subject', 'groups', 'scopes'], ['clientId'])) return undefined;
  if (typeof v.issuer !== 'string' || !CODE_TEXT.test(v.issuer) || typeof v.subject !== 'string' || !CODE_TEXT.test(v.subject)) return undefined;
  if (!isStringList(v.groups, 256) || !isStringList(v.scopes, 256)) return undefined;
  if (v.clientId !== undefined && (typeof v.clientId !== 'string' || !CODE_TEXT.test(v.clientId))) return undefined;
  return { issuer: v.issuer, subject: v.subject, groups: [...v.groups], scopes: [...v.scopes], ...(v.clientId !== undefined ? { clientId: v.clientId as string } : {}) };
}

/** Reads a block request strictly: exactly `{ action: "BLOCK_IP", ip, alertId }`. */
export function parseBlockRequest(v: unknown): BlockRequest | undefined {
  if (!isObject(v) || !hasExactly(v, ['action', 'ip', 'alertId'])) return undefined;
  if (v.action !== BLOCK_IP_ACTION || typeof v.ip !== 'string' || typeof v.alertId !== 'string' || !ID.test(v.alertId)) return undefined;
  return { action: BLOCK_IP_ACTION, ip: v.ip, alertId: v.alertId };
}

function parseApproval(v: unknown): WorkflowApproval | undefined {
  if (!isObject(v) || !hasExactly(v, ['approvalId', 'decision', 'approvalHash', 'decidedAt'])) return undefined;
  if (typeof v.approvalId !== 'string' || !HEX256_PATTERN.test(v.approvalId) || typeof v.approvalHash !== 'string' || !HEX256_PATTERN.test(v.approvalHash)) return undefined;
  if (typeof v.decision !== 'string' || typeof v.decidedAt !== 'number' || !Number.isSafeInteger(v.decidedAt)) return undefined;
  return { approvalId: v.approvalId, decision: v.decision, approvalHash: v.approvalHash, decidedAt: v.decidedAt };
}

/**
 * Reads an event strictly. A local tool call from the agent loop is exactly `{ tool, input, caller, sessionId }`; a
 * workflow task is `{ task: "prepare_block_ip", ip, alertId }` or `{ task: "block_ip", request, approval }`.
 */
export function parseSocEvent(event: unknown): SocEvent {
  if (!isObject(event)) return { kind: 'MALFORMED', detail: 'the event is not a JSON object' };
  if ('tool' in event) {
    if (!hasExactly(event, ['tool', 'input', 'caller', 'sessionId'])) return { kind: 'MALFORMED', detail: 'a tool call has exactly tool, input, caller and sessionId' };
    if (typeof event.tool !== 'string' || !(SOC_TOOL_NAMES as readonly string[]).includes(event.tool)) return { kind: 'MALFORMED', detail: 'unknown tool' };
    const caller = parseCaller(event.caller);
    if (!caller) return { kind: 'MALFORMED', detail: 'the caller is malformed' };
    if (typeof event.sessionId !== 'string' || !SESSION_ID.test(event.sessionId)) return { kind: 'MALFORMED', detail: 'the session id is malformed' };
    return { kind: 'TOOL', tool: event.tool, input: event.input, caller, sessionId: event.sessionId };
  }
  if (event.task === SocTask.PREPARE_BLOCK_IP) {
    if (!hasExactly(event, ['task', 'ip', 'alertId']) || typeof event.ip !== 'string' || typeof event.alertId !== 'string' || !ID.test(event.alertId)) {
      return { kind: 'MALFORMED', detail: 'prepare_block_ip has exactly task, ip and alertId' };
    }
    return { kind: 'PREPARE_BLOCK', ip: event.ip, alertId: event.alertId };
  }
  if (event.task === SocTask.BLOCK_IP) {
    if (!hasExactly(event, ['task', 'request', 'approval'])) return { kind: 'MALFORMED', detail: 'block_ip has exactly task, request and approval' };
    const request = parseBlockRequest(event.request);
    const approval = parseApproval(event.approval);
    if (!request || !approval) return { kind: 'MALFORMED', detail: 'the request or the approval is malformed' };
    return { kind: 'BLOCK', request, approval };
  }
  return { kind: 'MALFORMED', detail: 'neither a tool call nor a known task' };
}

const COMPILED: ReadonlyMap<SocToolName, CompiledToolSchema> = new Map(SOC_TOOL_NAMES.map((n) => [n, compileToolSchema(SOC_TOOLS[n].inputSchema)]));

/** Validates a tool's input against its schema (extra keys, forbidden keys, types, lengths) and, for text, smuggling. */
export function validateToolInput(tool: SocToolName, input: unknown): { ok: true; value: Record<string, unknown> } | { ok: false; code: ReasonCode; detail: string } {
  const result = validateArguments(input, COMPILED.get(tool)!);
  if (!result.ok) return { ok: false, code: 'TOOL_ARGUMENTS_INVALID', detail: result.problems.map((p) => `${p.path || '/'} ${p.code}`).join('; ') };
  const value = result.value as Record<string, unknown>;
  if (Object.values(value).some((v) => typeof v === 'string' && hasSmuggling(v))) return { ok: false, code: 'SMUGGLED_CHARACTERS', detail: 'invisible characters in the input' };
  return { ok: true, value };
}

/** Whether (and why not) an address may be blocked. */
export type BlockTarget = { readonly ok: true; readonly ip: ParsedIp; readonly canonical: string; readonly cidr: string } | { readonly ok: false; readonly code: Extract<ReasonCode, 'TOOL_ARGUMENTS_INVALID' | 'IP_NOT_PUBLIC' | 'IP_PROTECTED'> };

/** Decides whether an address may be blocked: strictly parsed, publicly routable, outside every protected block. */
export function assessBlockTarget(text: unknown, protectedCidrs: readonly string[]): BlockTarget {
  const ip = parseIp(text);
  if (!ip) return { ok: false, code: 'TOOL_ARGUMENTS_INVALID' };
  if (!isPublicIp(ip)) return { ok: false, code: 'IP_NOT_PUBLIC' };
  if (protectedCidrs.some((c) => cidrContains(parseCidr(c)!, ip))) return { ok: false, code: 'IP_PROTECTED' };
  return { ok: true, ip, canonical: formatIp(ip), cidr: hostCidr(ip) };
}

/** A DynamoDB attribute value, as far as the tools read it. */
export interface Attr {
  readonly S?: string;
  readonly N?: string;
  readonly SS?: readonly string[];
  readonly L?: readonly Attr[];
  readonly BOOL?: boolean;
}

/** A reputation, as the model sees it. */
export interface Reputation {
  readonly ip: string;
  readonly known: boolean;
  readonly public: boolean;
  readonly score?: number;
  readonly categories?: readonly string[];
  readonly lastSeen?: string;
  readonly source?: string;
}

const CATEGORY = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z)?$/;
const SOURCE = /^[A-Za-z0-9 ._:/-]{1,64}$/;

function str(item: Record<string, Attr>, key: string, pattern: RegExp, required: boolean): string | undefined {
  const a = item[key];
  if (a === undefined) {
    if (required) throw new MalformedResponseError(`the item has no ${key}`);
    return undefined;
  }
  if (typeof a !== 'object' || a === null || typeof a.S !== 'string' || !pattern.test(a.S)) throw new MalformedResponseError(`${key} is malformed`);
  return a.S;
}

/** Reads a reputation item strictly (attributes it does not know are ignored, known ones must be well formed). */
export function reputationFromItem(ip: string, raw: unknown): Reputation {
  if (raw === undefined) return { ip, known: false, public: true };
  if (!isObject(raw)) throw new MalformedResponseError('the reputation item is not an object');
  const item = raw as Record<string, Attr>;
  if (str(item, 'ip', /^.{1,64}$/, true) !== ip) throw new MalformedResponseError('the reputation item is for another address');
  const scoreAttr = item.score;
  if (typeof scoreAttr !== 'object' || scoreAttr === null || typeof scoreAttr.N !== 'string' || !/^(100|[1-9]?[0-9])$/.test(scoreAttr.N)) {
    throw new MalformedResponseError('score must be a number from 0 to 100');
  }
  const catAttr = item.categories;
  let categories: string[] = [];
  if (catAttr !== undefined) {
    const list = typeof catAttr === 'object' && catAttr !== null ? (catAttr.SS ?? catAttr.L?.map((x) => x?.S)) : undefined;
    if (!Array.isArray(list) || list.length > 16 || list.some((c) => typeof c !== 'string' || !CATEGORY.test(c))) throw new MalformedResponseError('categories are malformed');
    categories = [...(list as string[])].sort();
  }
  const lastSeen = str(item, 'lastSeen', DATE, false);
  const source = str(item, 'source', SOURCE, false);
  return { ip, known: true, public: true, score: Number(scoreAttr.N), categories, ...(lastSeen ? { lastSeen } : {}), ...(source ? { source } : {}) };
}

/** An asset's ownership, as the model sees it. */
export interface AssetOwner {
  readonly assetId: string;
  readonly known: boolean;
  readonly owner?: string;
  readonly team?: string;
  readonly criticality?: string;
  readonly environment?: string;
}

const OWNER = /^[A-Za-z0-9._%+@ -]{1,254}$/;
const TEAM = /^[A-Za-z0-9 ._-]{1,64}$/;
const CRITICALITY = /^(LOW|MEDIUM|HIGH|CRITICAL)$/;
const ENVIRONMENT = /^[a-z][a-z0-9-]{0,31}$/;

/** Reads an asset item strictly. */
export function assetFromItem(assetId: string, raw: unknown): AssetOwner {
  if (raw === undefined) return { assetId, known: false };
  if (!isObject(raw)) throw new MalformedResponseError('the asset item is not an object');
  const item = raw as Record<string, Attr>;
  if (str(item, 'assetId', ID, true) !== assetId) throw new MalformedResponseError('the asset item is for another asset');
  return {
    assetId,
    known: true,
    owner: str(item, 'owner', OWNER, true),
    team: str(item, 'team', TEAM, true),
    criticality: str(item, 'criticality', CRITICALITY, true),
    ...(item.environment !== undefined ? { environment: str(item, 'environment', ENVIRONMENT, false) } : {}),
  };
}

/** A new ticket: its id and its DynamoDB item. */
export interface TicketPlan {
  readonly ticketId: string;
  readonly item: Record<string, Attr>;
}

/**
 * The ticket for a `create_ticket` call. Its id is a hash of the session and the exact input, so a retried call
 * (a Step Functions retry re-runs the agent) finds its ticket instead of writing a second one; the session and the
 * creator come from the verified caller and the loop, never from the model.
 */
export function planTicket(input: Record<string, unknown>, sessionId: string, caller: ToolCaller, now: number): TicketPlan {
  const ticketId = `T-${sha256Hex(`${sessionId}\n${canonicalize(input)}`).slice(0, 32)}`;
  const severity = String(input.severity);
  const disposition = String(input.disposition);
  if (!(SEVERITIES as readonly string[]).includes(severity) || !(DISPOSITIONS as readonly string[]).includes(disposition)) throw new Error('unreachable: validated input');
  return {
    ticketId,
    item: {
      ticketId: { S: ticketId },
      alertId: { S: String(input.alertId) },
      title: { S: String(input.title) },
      summary: { S: String(input.summary) },
      severity: { S: severity },
      disposition: { S: disposition },
      status: { S: 'OPEN' },
      sessionId: { S: sessionId },
      // Who created it, as a hash of the verified principal (the workflow or the analyst).
      createdBy: { S: sha256Hex(`${caller.issuer}|${caller.subject}`) },
      createdAt: { S: new Date(now).toISOString() },
    },
  };
}

/** What to do with the IP set. */
export type BlockPlan = { readonly action: 'ALREADY_BLOCKED' } | { readonly action: 'ADD'; readonly addresses: string[] } | { readonly action: 'FULL' };

/**
 * Plans adding one `/32` or `/128` block to the addresses an IP set holds: nothing when a block already covers the
 * address (compared canonically), FULL at WAF's limit, otherwise the list with the block added (entries that do not
 * parse are kept as they are).
 */
export function planBlock(existing: readonly string[], target: { ip: ParsedIp; cidr: string }): BlockPlan {
  const covered = existing.some((a) => {
    const block = parseCidr(a) ?? parseCidr(canonicalCidrText(a));
    return block !== undefined && cidrContains(block, target.ip);
  });
  if (covered) return { action: 'ALREADY_BLOCKED' };
  if (existing.length >= MAX_IPSET_ADDRESSES) return { action: 'FULL' };
  return { action: 'ADD', addresses: [...existing, target.cidr] };
}

function canonicalCidrText(a: string): string {
  // WAF may return IPv6 blocks in another (valid) text form, such as upper case or uncompressed.
  const slash = a.indexOf('/');
  const ip = slash > 0 ? parseIp(a.slice(0, slash).toLowerCase()) : undefined;
  return ip ? `${formatIp(ip)}${a.slice(slash)}` : a;
}

/** An IP set as GetIPSet returned it: its addresses, its lock token and its description (kept on update). */
export interface IpSetState {
  readonly addresses: string[];
  readonly lockToken: string;
  readonly description?: string;
}

/** Reads a GetIPSet answer strictly. */
export function ipSetFromResponse(raw: unknown): IpSetState {
  if (!isObject(raw) || !isObject(raw.IPSet)) throw new MalformedResponseError('GetIPSet returned no IP set');
  const addresses = raw.IPSet.Addresses;
  if (!Array.isArray(addresses) || addresses.length > MAX_IPSET_ADDRESSES || addresses.some((a) => typeof a !== 'string' || a.length > 64)) {
    throw new MalformedResponseError('GetIPSet returned malformed addresses');
  }
  if (typeof raw.LockToken !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(raw.LockToken)) throw new MalformedResponseError('GetIPSet returned no lock token');
  // UpdateIPSet replaces every mutable setting, so the description is read here to be written back unchanged.
  const description = raw.IPSet.Description;
  if (description !== undefined && (typeof description !== 'string' || description.length < 1 || description.length > 256)) {
    throw new MalformedResponseError('GetIPSet returned a malformed description');
  }
  return { addresses: [...(addresses as string[])], lockToken: raw.LockToken, ...(description !== undefined ? { description } : {}) };
}

/** Reads an UpdateIPSet answer strictly. */
export function checkUpdateResponse(raw: unknown): void {
  if (!isObject(raw) || typeof raw.NextLockToken !== 'string' || raw.NextLockToken.length === 0) throw new MalformedResponseError('UpdateIPSet returned no next lock token');
}

/** The outcome of checking a remediation's approval. */
export type ApprovalCheck = { readonly ok: true } | { readonly ok: false; readonly code: ReasonCode; readonly detail: string };

/**
 * Checks, in the approval table's own record, that a human approved exactly this request for this workflow: a
 * workflow (TASK) approval, intact (it hashes to itself), APPROVED, of the `block_ip` action with exactly these
 * arguments, requested by the workflow's principal, the hash the workflow received, and not expired.
 */
export function checkApproval(record: ApprovalRecord | undefined, request: BlockRequest, approval: WorkflowApproval, principal: string, now: number): ApprovalCheck {
  if (record === undefined) return { ok: false, code: 'APPROVAL_NOT_FOUND', detail: 'no approval record under the id' };
  if (record.kind !== ApprovalKind.TASK || !recordIntegrity(record)) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', detail: 'the record is not an intact workflow approval' };
  if (record.approvalHash !== approval.approvalHash) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', detail: 'the approval hash differs from the record' };
  if (record.status === ApprovalStatus.REJECTED) return { ok: false, code: 'APPROVAL_REJECTED', detail: 'the request was rejected' };
  if (record.status !== ApprovalStatus.APPROVED || approval.decision !== ApprovalStatus.APPROVED) return { ok: false, code: 'APPROVAL_REQUIRED', detail: `the record is ${record.status}` };
  let same = false;
  try {
    same = record.call.tool === BLOCK_IP_APPROVAL_TOOL && canonicalize(record.call.arguments) === canonicalize(request);
  } catch {
    same = false;
  }
  if (!same) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', detail: 'the approved call is not this request' };
  if (record.call.principal !== principal) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', detail: 'the approval was requested by another principal' };
  if (!(now < record.expiresAt)) return { ok: false, code: 'APPROVAL_EXPIRED', detail: 'the approval expired' };
  return { ok: true };
}

/** A protected CIDR list in canonical form (for the construct and tests). */
export function canonicalCidrs(list: readonly string[]): string[] {
  return list.map((c) => {
    const b = parseCidr(c);
    if (!b) throw new Error(`not a CIDR block: ${c}`);
    return formatCidr(b);
  });
}
