/**
 * The pure approval decisions: what the gate does with the stored approval of a call, whether an approver's
 * decision may be recorded, and the per-principal cap on pending requests. No SDK, no environment, no clock: the
 * time is always passed in (milliseconds since the epoch).
 */
import { Decision, allow, deny } from '../shared/decision';
import { ReasonCode } from '../shared/reason-codes';
import { BoundCall, HEX256_PATTERN, approvalHash, callDigest, taskApprovalId } from './hash';

/** The codes of the human-approval group of the shared catalogue (`APPROVAL_REQUIRED`, `APPROVAL_REPLAYED`, ...). */
export type ApprovalReasonCode = Extract<ReasonCode, `APPROVAL_${string}`>;

/** The decision of one approval step: allow for `ALLOWED`, otherwise a deny with the code (the detail for logs only). */
export function approvalDecision(code: ReasonCode, detail?: string): Decision {
  return code === 'ALLOWED' ? allow() : deny(code, detail);
}

/** Where an approval request stands. */
export const ApprovalStatus = {
  /** Requested; no approver has decided. */
  PENDING: 'PENDING',
  /** Approved and not yet used. */
  APPROVED: 'APPROVED',
  /** Rejected; stays rejected until it expires. */
  REJECTED: 'REJECTED',
  /** Approved and used once by the gate; never again. */
  USED: 'USED',
} as const;
export type ApprovalStatus = (typeof ApprovalStatus)[keyof typeof ApprovalStatus];

/** Who asked for the approval. */
export const ApprovalKind = {
  /** The tool interceptor's approval gate, for one tool call. */
  CALL: 'CALL',
  /** A Step Functions task waiting with a task token. */
  TASK: 'TASK',
} as const;
export type ApprovalKind = (typeof ApprovalKind)[keyof typeof ApprovalKind];

/** An approver's decision. */
export const ApproverDecision = {
  APPROVE: 'APPROVE',
  REJECT: 'REJECT',
} as const;
export type ApproverDecision = (typeof ApproverDecision)[keyof typeof ApproverDecision];

/** Every step of an approval's life, as logged in the decision log's `fields.step`. */
export const ApprovalStep = {
  /** A new request was stored (and notified). */
  REQUESTED: 'requested',
  /** The call was asked again while its request is pending. */
  PENDING: 'pending',
  /** An approver approved. */
  APPROVED: 'approved',
  /** An approver rejected. */
  REJECTED: 'rejected',
  /** The gate used the approval: the call proceeds, once. */
  CONSUMED: 'consumed',
  /** The approval was already used (or lost the single-use write to a concurrent call). */
  DENIED_REPLAY: 'denied-replay',
  /** The approval, or the request, expired. */
  DENIED_EXPIRED: 'denied-expired',
  /** The call was rejected and the rejection has not expired. */
  DENIED_REJECTED: 'denied-rejected',
  /** An approver tried to decide their own request. */
  DENIED_SELF_APPROVAL: 'denied-self-approval',
  /** A stored approval does not hash to its own fields (or not to this call): changed outside the workflow. */
  DENIED_TAMPERED: 'denied-tampered',
  /** The approver's echoed hash is not the request's (a stale or different view). */
  DENIED_HASH_MISMATCH: 'denied-hash-mismatch',
  /** The principal has the most pending requests allowed. */
  DENIED_CAP: 'denied-cap',
  /** The caller of the approver API presented no valid token. */
  DENIED_IDENTITY: 'denied-identity',
  /** The caller of the approver API is not in the approver group. */
  DENIED_NOT_APPROVER: 'denied-not-approver',
  /** No such request. */
  DENIED_NOT_FOUND: 'denied-not-found',
  /** The request was already decided. */
  DENIED_NOT_PENDING: 'denied-not-pending',
  /** The request or call was malformed. */
  DENIED_MALFORMED: 'denied-malformed',
  /** A fault (throttle, 5xx, timeout, access denied, malformed response) or an invalid identity. */
  DENIED_FAULT: 'denied-fault',
  /** An approver listed pending requests. */
  LISTED: 'listed',
  /** An approver looked at one request. */
  VIEWED: 'viewed',
} as const;
export type ApprovalStep = (typeof ApprovalStep)[keyof typeof ApprovalStep];

/** One stored approval request, read strictly from the table. */
export interface ApprovalRecord {
  /** The call digest (CALL) or the task-token hash (TASK): 64 hex. */
  readonly approvalId: string;
  readonly kind: ApprovalKind;
  readonly status: ApprovalStatus;
  /** The bound call, with the arguments parsed from their stored canonical JSON. */
  readonly call: BoundCall;
  /** 256 random bits, hex. */
  readonly nonce: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The approval hash of the call, nonce and expiry, as stored when the request was made. */
  readonly approvalHash: string;
  /** The Step Functions task token (TASK only). Never shown or logged. */
  readonly taskToken?: string;
  /** When an approver decided (APPROVED, REJECTED, USED). */
  readonly decidedAt?: number;
  /** The approver's verified principal (APPROVED, REJECTED, USED). */
  readonly decidedBy?: string;
  /** When the gate used the approval (USED). */
  readonly usedAt?: number;
}

/**
 * True when a stored record is exactly what was requested: its approval hash is the hash of its own call, nonce and
 * expiry, and its id is the digest of its call (CALL) or of its task token (TASK). Never throws.
 */
export function recordIntegrity(record: ApprovalRecord): boolean {
  try {
    if (!HEX256_PATTERN.test(record.approvalHash) || !HEX256_PATTERN.test(record.nonce)) return false;
    if (approvalHash(record.call, record.nonce, record.expiresAt) !== record.approvalHash) return false;
    if (record.kind === ApprovalKind.CALL) return record.taskToken === undefined && callDigest(record.call) === record.approvalId;
    return record.taskToken !== undefined && taskApprovalId(record.taskToken) === record.approvalId;
  } catch {
    return false;
  }
}

/** What the gate does with a call, given the stored approval under its digest. */
export type CallAssessment =
  /** An approved, unexpired, unused approval of exactly this call: use it (conditional write), then allow. */
  | { readonly action: 'CONSUME'; readonly approvalHash: string; readonly nonce: string }
  /** Deny without writing. */
  | { readonly action: 'DENY'; readonly code: ApprovalReasonCode; readonly step: ApprovalStep }
  /**
   * Store a new request (replacing `replaces`, if any, only if it is still exactly that record) and deny with
   * `code`; `step` says what happened to the previous approval, if anything.
   */
  | { readonly action: 'REQUEST'; readonly code: ApprovalReasonCode; readonly step?: ApprovalStep; readonly replaces?: ApprovalRecord };

/**
 * Decides what the gate does with `call` at `now`, given the record stored under its digest (or none).
 *
 * - none → request one (APPROVAL_REQUIRED);
 * - a record that is not an intact gate request for exactly this call (hash, digest, kind or stored fields differ) → deny
 *   APPROVAL_HASH_MISMATCH and leave it for investigation (it was changed outside the workflow);
 * - PENDING and unexpired → deny APPROVAL_PENDING; expired → request again (APPROVAL_EXPIRED);
 * - APPROVED, unexpired and unused → consume; expired → request again (APPROVAL_EXPIRED);
 * - REJECTED and unexpired → deny APPROVAL_REJECTED (no new request: the approver's answer stands until expiry);
 *   expired → request again (APPROVAL_REQUIRED);
 * - USED → request again (APPROVAL_REPLAYED: one approval, one call).
 */
export function assessCall(record: ApprovalRecord | undefined, call: BoundCall, now: number): CallAssessment {
  if (record === undefined) return { action: 'REQUEST', code: 'APPROVAL_REQUIRED' };
  let bound = false;
  try {
    bound =
      record.kind === ApprovalKind.CALL &&
      record.taskToken === undefined &&
      record.approvalId === callDigest(call) &&
      record.approvalHash === approvalHash(call, record.nonce, record.expiresAt) &&
      // The stored fields too: the record must hash to itself, so nothing in it was changed after the request.
      recordIntegrity(record);
  } catch {
    bound = false;
  }
  if (!bound) return { action: 'DENY', code: 'APPROVAL_HASH_MISMATCH', step: ApprovalStep.DENIED_TAMPERED };
  const live = now < record.expiresAt;
  switch (record.status) {
    case ApprovalStatus.PENDING:
      return live
        ? { action: 'DENY', code: 'APPROVAL_PENDING', step: ApprovalStep.PENDING }
        : { action: 'REQUEST', code: 'APPROVAL_EXPIRED', step: ApprovalStep.DENIED_EXPIRED, replaces: record };
    case ApprovalStatus.APPROVED:
      if (record.usedAt !== undefined) return { action: 'REQUEST', code: 'APPROVAL_REPLAYED', step: ApprovalStep.DENIED_REPLAY, replaces: record };
      return live
        ? { action: 'CONSUME', approvalHash: record.approvalHash, nonce: record.nonce }
        : { action: 'REQUEST', code: 'APPROVAL_EXPIRED', step: ApprovalStep.DENIED_EXPIRED, replaces: record };
    case ApprovalStatus.REJECTED:
      return live
        ? { action: 'DENY', code: 'APPROVAL_REJECTED', step: ApprovalStep.DENIED_REJECTED }
        : { action: 'REQUEST', code: 'APPROVAL_REQUIRED', step: ApprovalStep.DENIED_EXPIRED, replaces: record };
    case ApprovalStatus.USED:
      return { action: 'REQUEST', code: 'APPROVAL_REPLAYED', step: ApprovalStep.DENIED_REPLAY, replaces: record };
    default:
      return { action: 'DENY', code: 'APPROVAL_HASH_MISMATCH', step: ApprovalStep.DENIED_TAMPERED };
  }
}

/** An approver's decision, as the approver API received it (the approver from their verified token only). */
export interface DecisionRequest {
  /** The approver's verified principal, `<issuer>|<subject>`. */
  readonly approver: string;
  readonly decision: ApproverDecision;
  /** The approval hash the approver saw and echoes. */
  readonly approvalHash: string;
  readonly now: number;
}

/** Whether a decision may be recorded. */
export type DecisionAssessment =
  | { readonly ok: true; readonly status: typeof ApprovalStatus.APPROVED | typeof ApprovalStatus.REJECTED; readonly step: ApprovalStep }
  | { readonly ok: false; readonly code: ApprovalReasonCode; readonly step: ApprovalStep };

/**
 * Decides whether an approver's decision on `record` may be recorded: the record exists and is intact, the approver
 * is not the requester, it is still pending and unexpired, and the echoed hash is the record's. (The conditional
 * write repeats the status, expiry, hash and requester checks atomically.)
 */
export function assessDecision(record: ApprovalRecord | undefined, request: DecisionRequest): DecisionAssessment {
  if (record === undefined) return { ok: false, code: 'APPROVAL_NOT_FOUND', step: ApprovalStep.DENIED_NOT_FOUND };
  if (!recordIntegrity(record)) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', step: ApprovalStep.DENIED_TAMPERED };
  if (request.approver === record.call.principal) return { ok: false, code: 'APPROVAL_SELF_APPROVAL', step: ApprovalStep.DENIED_SELF_APPROVAL };
  if (record.status !== ApprovalStatus.PENDING) return { ok: false, code: 'APPROVAL_NOT_PENDING', step: ApprovalStep.DENIED_NOT_PENDING };
  if (!(request.now < record.expiresAt)) return { ok: false, code: 'APPROVAL_EXPIRED', step: ApprovalStep.DENIED_EXPIRED };
  if (request.approvalHash !== record.approvalHash) return { ok: false, code: 'APPROVAL_HASH_MISMATCH', step: ApprovalStep.DENIED_HASH_MISMATCH };
  return request.decision === ApproverDecision.APPROVE
    ? { ok: true, status: ApprovalStatus.APPROVED, step: ApprovalStep.APPROVED }
    : { ok: true, status: ApprovalStatus.REJECTED, step: ApprovalStep.REJECTED };
}

/** What a new request stores. */
export interface NewRequest {
  readonly kind: ApprovalKind;
  readonly call: BoundCall;
  /** 256 random bits, hex (from the caller: this module has no randomness). */
  readonly nonce: string;
  readonly now: number;
  /** How long the request (and an approval of it) is valid, in milliseconds. */
  readonly ttlMs: number;
  /** TASK only. */
  readonly taskToken?: string;
}

/** A new PENDING record. Throws for a call that is not JSON data. */
export function newPendingRecord(request: NewRequest): ApprovalRecord {
  const expiresAt = request.now + request.ttlMs;
  const approvalId = request.kind === ApprovalKind.TASK ? taskApprovalId(request.taskToken ?? '') : callDigest(request.call);
  return Object.freeze({
    approvalId,
    kind: request.kind,
    status: ApprovalStatus.PENDING,
    call: Object.freeze({ ...request.call }),
    nonce: request.nonce,
    createdAt: request.now,
    expiresAt,
    approvalHash: approvalHash(request.call, request.nonce, expiresAt),
    ...(request.kind === ApprovalKind.TASK ? { taskToken: request.taskToken } : {}),
  });
}

/** One pending request counted against a principal's cap. */
export interface PendingEntry {
  readonly approvalId: string;
  readonly expiresAt: number;
}

/** The stored form of a pending entry: `<expiresAt>#<approvalId>` (a member of a DynamoDB string set). */
export function pendingEntryText(entry: PendingEntry): string {
  return `${entry.expiresAt}#${entry.approvalId}`;
}

const ENTRY = /^([1-9][0-9]{0,15})#([0-9a-f]{64})$/;

/** Reads a stored pending entry, or undefined when it is malformed. */
export function parsePendingEntry(text: string): PendingEntry | undefined {
  const m = ENTRY.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return undefined;
  return { expiresAt: Number(m[1]), approvalId: m[2] };
}

/** A principal's counter as stored: its pending entries and the version of its last write. */
export interface PendingCounter {
  readonly entries: readonly PendingEntry[];
  readonly version: number;
}

/** The counter write that adds one request, or the cap. */
export type CounterPlan =
  | { readonly ok: true; readonly entries: readonly PendingEntry[]; readonly expectedVersion?: number; readonly nextVersion: number }
  | { readonly ok: false; readonly live: number };

/**
 * Plans adding `entry` to a principal's pending requests: entries that expired by `now` (and an older entry of the
 * same approval id, which the new request replaces) are dropped; if `cap` or more remain, the request is refused.
 * The write is conditioned on `expectedVersion` (absent: the counter must not exist), so two concurrent requests
 * cannot both pass the cap.
 */
export function planPendingCounter(counter: PendingCounter | undefined, entry: PendingEntry, now: number, cap: number): CounterPlan {
  const live = (counter?.entries ?? []).filter((e) => now < e.expiresAt && e.approvalId !== entry.approvalId);
  if (live.length >= cap) return { ok: false, live: live.length };
  return {
    ok: true,
    entries: [...live, entry],
    ...(counter !== undefined ? { expectedVersion: counter.version } : {}),
    nextVersion: (counter?.version ?? 0) + 1,
  };
}
