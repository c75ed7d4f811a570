/**
 * approval-api: the approver API behind API Gateway (REST, Cognito user pools authorizer). The handler verifies the
 * approver's token again itself and knows the approver only from it; it never reads an identity from the body.
 *
 * verify the token → require the approver group → route (decide.ts) →
 * - list: pending requests from the index, without the approver's own;
 * - show: one request, after checking that it hashes to its own fields;
 * - decide: read → assess (approval/decide.ts: intact, not self, pending, unexpired, echoed hash) → conditional
 *   transaction PENDING → APPROVED/REJECTED (repeating the status, expiry, hash and requester checks atomically,
 *   and taking the request off its principal's pending count) → for a workflow approval, SendTaskSuccess or
 *   SendTaskFailure with the stored task token.
 * Every mismatch, fault or malformed input is a deny with a reason code and one decision line (control
 * `approval-api`, `fields.step`); the approver's and the requester's principals are logged only as hashes.
 * Importing this module never throws; the configuration is read on the first call, and a bad one denies every call.
 */
import { sha256Hex } from '../shared/canonical-json';
import { withDeadline } from '../shared/deadline';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { classifyFault, describeFault } from '../shared/errors';
import { TokenVerifier, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { ReasonCode } from '../shared/reason-codes';
import { ApprovalKind, ApprovalStatus, ApprovalStep, approvalDecision, assessDecision, recordIntegrity } from '../approval/decide';
import { ApprovalApiClients, REJECTED_TASK_ERROR, defaultApprovalApiClients } from './clients';
import { ApprovalApiConfig, LIST_LIMIT, approvalApiConfigFromEnv } from './config';
import { ApiResponse, apiRequestIdOf, approverTokenFrom, denyResponse, isApprover, jsonResponse, parseApiRoute, principalOf, recordView, summaryView } from './decide';

export type { ApiResponse } from './decide';

/** The `service` of the handler's log lines and metrics. */
export const SERVICE_NAME = 'approval-api';
/** The `control` of its decision lines. */
export const CONTROL = 'approval-api';

/** A Lambda-style handler. */
export type ApprovalApiHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<ApiResponse>;

/** One decision line to write. */
interface Line {
  readonly code: ReasonCode;
  readonly step: ApprovalStep;
  readonly detail?: string;
  readonly fields?: Record<string, DecisionLogFieldValue>;
}

/** What one request produced: the response and its decision lines. */
interface Outcome {
  readonly response: ApiResponse;
  readonly lines: Line[];
}

/** Errors from Step Functions meaning the workflow no longer waits for this token (timed out or finished). */
const GONE_TASK_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

interface Dependencies {
  readonly config: ApprovalApiConfig;
  readonly verifier: TokenVerifier;
  readonly clients: ApprovalApiClients;
}

function denied(code: ReasonCode, step: ApprovalStep, detail?: string, fields?: Record<string, DecisionLogFieldValue>, status?: number): Outcome {
  return { response: denyResponse(code, status), lines: [{ code, step, ...(detail !== undefined ? { detail } : {}), ...(fields ? { fields } : {}) }] };
}

async function route(event: unknown, deps: Dependencies, signal: AbortSignal, seen: { approver?: string }): Promise<Outcome> {
  const verified = await verifyIdentity(deps.verifier, approverTokenFrom(event));
  if (verified.outcome !== 'ALLOW' || !('identity' in verified)) {
    return denied(verified.reasonCode, ApprovalStep.DENIED_IDENTITY, verified.outcome === 'DENY' ? verified.detail : undefined);
  }
  const identity = verified.identity;
  const approver = principalOf(identity);
  seen.approver = approver;
  if (!isApprover(identity, deps.config.approverGroup)) return denied('APPROVAL_NOT_APPROVER', ApprovalStep.DENIED_NOT_APPROVER);

  const parsed = parseApiRoute(event);
  if (!parsed.ok) return denied(parsed.code, ApprovalStep.DENIED_MALFORMED, parsed.detail, undefined, parsed.status);
  const r = parsed.route;
  const now = (deps.clients.now ?? Date.now)();

  if (r.kind === 'LIST') {
    const pending = await deps.clients.store.listPending(now, LIST_LIMIT, signal);
    const visible = pending.filter((p) => p.principal !== approver);
    return {
      response: jsonResponse(200, { ok: true, approvals: visible.map(summaryView) }),
      lines: [{ code: 'ALLOWED', step: ApprovalStep.LISTED, fields: { listed: visible.length } }],
    };
  }

  const record = await deps.clients.store.get(r.approvalId, signal);
  const ids = { approvalId: r.approvalId };
  if (r.kind === 'SHOW') {
    if (record === undefined) return denied('APPROVAL_NOT_FOUND', ApprovalStep.DENIED_NOT_FOUND, undefined, ids);
    if (!recordIntegrity(record)) return denied('APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED, 'the stored request does not hash to its own fields', ids);
    return {
      response: jsonResponse(200, { ok: true, approval: recordView(record, approver) }),
      lines: [{ code: 'ALLOWED', step: ApprovalStep.VIEWED, fields: { ...ids, kind: record.kind, status: record.status, requesterHash: sha256Hex(record.call.principal) } }],
    };
  }

  const assessment = assessDecision(record, { approver, decision: r.decision, approvalHash: r.approvalHash, now });
  const fields: Record<string, DecisionLogFieldValue> = { ...ids, decision: r.decision };
  if (record !== undefined) {
    fields.kind = record.kind;
    fields.requesterHash = sha256Hex(record.call.principal);
  }
  if (!assessment.ok) return denied(assessment.code, assessment.step, undefined, fields);
  // After a timeout the approver already has an error: nothing may be recorded any more.
  signal.throwIfAborted();
  const written = await deps.clients.store.decide(record!, { status: assessment.status, approver, approvalHash: r.approvalHash, now }, signal);
  if (written !== 'WRITTEN') {
    return denied('APPROVAL_NOT_PENDING', ApprovalStep.DENIED_NOT_PENDING, 'the conditional write found the request decided, expired or changed', fields);
  }
  const decidedLine: Line = { code: 'ALLOWED', step: assessment.step, fields };
  const body = { ok: true, approvalId: record!.approvalId, status: assessment.status };
  if (record!.kind !== ApprovalKind.TASK || record!.taskToken === undefined) return { response: jsonResponse(200, body), lines: [decidedLine] };

  // A workflow approval: the decision is recorded; now let the workflow continue (or fail).
  try {
    if (assessment.status === ApprovalStatus.APPROVED) {
      await deps.clients.tasks.succeed(record!.taskToken, { approvalId: record!.approvalId, decision: assessment.status, approvalHash: record!.approvalHash, decidedAt: now }, signal);
    } else {
      await deps.clients.tasks.fail(record!.taskToken, REJECTED_TASK_ERROR, 'APPROVAL_REJECTED', signal);
    }
  } catch (err) {
    const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
    const code: ReasonCode = typeof name === 'string' && GONE_TASK_ERRORS.has(name) ? 'APPROVAL_EXPIRED' : classifyFault(err);
    // The workflow times out at the request's expiry and fails closed; the decision stays recorded.
    return {
      response: denyResponse(code, undefined, { decisionRecorded: true, status: assessment.status }),
      lines: [decidedLine, { code, step: ApprovalStep.DENIED_FAULT, detail: `the workflow was not signalled: ${describeFault(err)}`, fields }],
    };
  }
  return { response: jsonResponse(200, body), lines: [decidedLine] };
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function record(lines: readonly Line[], approver: string | undefined, requestId: string | undefined): void {
  for (const line of lines) {
    try {
      logs().logDecision({
        control: CONTROL,
        decision: approvalDecision(line.code, line.detail),
        ...(approver !== undefined ? { subject: approver } : {}),
        ...(requestId !== undefined ? { requestId } : {}),
        fields: { step: line.step, ...line.fields },
      });
    } catch {
      // The approver still gets the (fail-closed) answer.
    }
  }
}

/** Decides one event. Never throws: a fault or a timeout is a deny with the fault's code. */
export async function handleApprovalApiEvent(event: unknown, deps: Dependencies): Promise<{ outcome: Outcome; approver?: string }> {
  const seen: { approver?: string } = {};
  let outcome: Outcome;
  try {
    outcome = await withDeadline(deps.config.timeoutMs, 'approval api', (signal) => route(event, deps, signal, seen));
  } catch (err) {
    const code = classifyFault(err);
    outcome = denied(code, ApprovalStep.DENIED_FAULT, describeFault(err));
  }
  return { outcome, ...(seen.approver !== undefined ? { approver: seen.approver } : {}) };
}

/** Builds the handler from explicit configuration and clients (tests, embedding). Throws for an invalid identity configuration. */
export function createHandler(config: ApprovalApiConfig, clients: ApprovalApiClients): ApprovalApiHandler {
  const deps: Dependencies = { config, verifier: createTokenVerifier(config.identity), clients };
  return async (event, context) => {
    const { outcome, approver } = await handleApprovalApiEvent(event, deps);
    record(outcome.lines, approver, apiRequestIdOf(event) ?? (typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined));
    return outcome.response;
  };
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): ApprovalApiHandler {
  return async (event) => {
    record([{ code: 'MISCONFIGURED', step: ApprovalStep.DENIED_FAULT, detail: problems.join('; ') }], undefined, apiRequestIdOf(event));
    return denyResponse('MISCONFIGURED');
  };
}

function fromEnvironment(): ApprovalApiHandler {
  try {
    const config = approvalApiConfigFromEnv(process.env);
    return createHandler(config, defaultApprovalApiClients(config.tableName));
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

let configured: ApprovalApiHandler | undefined;

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: ApprovalApiHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    return denyResponse('INTERNAL_ERROR');
  }
};
