/**
 * Reason codes of the human-approval controls (the approval gate, the approver API and the Step Functions approval
 * request) that are not yet in the shared catalogue (`lambda/shared/reason-codes.ts`, which already has
 * `APPROVAL_REQUIRED` and `APPROVAL_PENDING`). They follow the catalogue's rules: safe to show to a caller, no data
 * from the request. To be merged into `ReasonCatalogue`.
 *
 * Until they are merged, a shared `Decision` cannot carry them (its `reasonCode` must be catalogued and
 * `toDecision` drops anything else): {@link cataloguedCode} then maps them to a catalogued fallback, and every
 * decision line carries the exact code in `fields.approvalReasonCode`. Once merged, the exact codes flow through
 * unchanged, with no code change here.
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** New codes, with their catalogue descriptions. */
export const ApprovalReasonCatalogue = {
  APPROVAL_EXPIRED: 'The approval, or the request for it, expired before it was used or decided; a new request is needed.',
  APPROVAL_REJECTED: 'An approver rejected this exact call; it stays rejected until the request expires.',
  APPROVAL_REPLAYED: 'The approval of this exact call was already used: an approval lets the call run once.',
  APPROVAL_HASH_MISMATCH: 'The approval hash does not match the exact call (a changed field, a stale view, or a tampered record).',
  APPROVAL_SELF_APPROVAL: 'The approver is the principal who requested the call; approver and requester must differ.',
  APPROVAL_CAP_REACHED: 'The principal already has the most pending approval requests allowed; wait for a decision or for expiry.',
  APPROVAL_NOT_APPROVER: 'The verified caller is not in the approver group.',
  APPROVAL_NOT_FOUND: 'No approval request exists with this id.',
  APPROVAL_NOT_PENDING: 'The approval request was already decided, or changed meanwhile; a decision is recorded once.',
} as const;

/** A code of {@link ApprovalReasonCatalogue}. */
export type ApprovalReasonCode = keyof typeof ApprovalReasonCatalogue;

/** The codes, as a list (for the catalogue merge and for tests). */
export const APPROVAL_REASON_CODES: readonly ApprovalReasonCode[] = Object.freeze(Object.keys(ApprovalReasonCatalogue) as ApprovalReasonCode[]);

/** A reason code of the shared catalogue or of {@link ApprovalReasonCatalogue}. */
export type AnyApprovalReasonCode = ReasonCode | ApprovalReasonCode;

/** True when a value is a code of either catalogue. */
export function isApprovalReasonCode(value: unknown): value is AnyApprovalReasonCode {
  return isReasonCode(value) || (typeof value === 'string' && Object.prototype.hasOwnProperty.call(ApprovalReasonCatalogue, value));
}

/**
 * The code itself when the shared catalogue has it, otherwise `fallback` (a catalogued code). A shared `Decision`
 * built with it is always well formed; the exact code goes into the decision line's fields.
 */
export function cataloguedCode(code: AnyApprovalReasonCode, fallback: ReasonCode): ReasonCode {
  return isReasonCode(code) ? code : fallback;
}
