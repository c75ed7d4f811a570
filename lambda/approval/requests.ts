/**
 * Storing a new approval request, shared by the gate and the workflow request function: a fresh nonce, the
 * per-principal cap (planned from a consistent read of the counter, enforced by a versioned conditional write in the
 * same transaction as the request), then the notification.
 */
import { ApprovalKind, ApprovalRecord, newPendingRecord, planPendingCounter } from './decide';
import { BoundCall } from './hash';
import { ApprovalNotifier } from './notify';
import { ApprovalStore, newNonce } from './store';

/** What storing a request needs. */
export interface RequestDependencies {
  readonly store: ApprovalStore;
  /** @default - no notification */
  readonly notifier?: ApprovalNotifier;
  /** How long a request (and an approval of it) is valid, in milliseconds. */
  readonly ttlMs: number;
  /** Most pending requests one principal may have. */
  readonly maxPendingPerPrincipal: number;
}

/** One request to store. */
export interface RequestInput {
  readonly kind: ApprovalKind;
  readonly call: BoundCall;
  readonly now: number;
  /** TASK only. */
  readonly taskToken?: string;
  /** The record this request replaces (expired, rejected and expired, or used), exactly as read. */
  readonly replaces?: ApprovalRecord;
}

/** What happened. `CONFLICT`: a concurrent write changed the request or the counter; read again and retry. */
export type RequestOutcome =
  | { readonly outcome: 'CREATED'; readonly record: ApprovalRecord }
  | { readonly outcome: 'CAP_REACHED'; readonly live: number }
  | { readonly outcome: 'CONFLICT' };

/** Stores a new PENDING request under the cap, then notifies approvers. Throws on faults. */
export async function storeNewRequest(deps: RequestDependencies, input: RequestInput, signal?: AbortSignal): Promise<RequestOutcome> {
  const record = newPendingRecord({ kind: input.kind, call: input.call, nonce: newNonce(), now: input.now, ttlMs: deps.ttlMs, taskToken: input.taskToken });
  const counter = await deps.store.getCounter(input.call.principal, signal);
  const plan = planPendingCounter(counter, { approvalId: record.approvalId, expiresAt: record.expiresAt }, input.now, deps.maxPendingPerPrincipal);
  if (!plan.ok) return { outcome: 'CAP_REACHED', live: plan.live };
  signal?.throwIfAborted();
  const written = await deps.store.createPending(record, plan, input.replaces, signal);
  if (written !== 'WRITTEN') return { outcome: 'CONFLICT' };
  // Notified after the write: approvers never hear of a request that was not stored.
  if (deps.notifier) await deps.notifier.notify(record, signal);
  return { outcome: 'CREATED', record };
}
