/**
 * approval-request: the Lambda behind `ApprovalWorkflow.approvalTask()`, a Step Functions task with the
 * wait-for-task-token pattern. It stores a PENDING workflow approval holding the task token (under the per-principal
 * cap, with a fresh nonce and expiry) and notifies approvers; the workflow then waits until an approver decides in
 * the approver API (SendTaskSuccess / SendTaskFailure `ApprovalRejected`) or the task times out at the expiry.
 *
 * A Step Functions retry of the same task token finds its request already stored and changes nothing. Any deny
 * (malformed payload, cap reached, fault) THROWS an error whose name is the reason code, so the task fails at once
 * (catch it in the workflow) instead of waiting for a request that does not exist. Importing never throws.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { withDeadline } from '../shared/deadline';
import { DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { classifyFault, describeFault } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { ApprovalStoreSettings, storeSettingsFromEnv } from '../approval/config';
import { ApprovalKind, ApprovalStep, approvalDecision } from '../approval/decide';
import { taskApprovalId } from '../approval/hash';
import { ApprovalNotifier, SnsApprovalNotifier } from '../approval/notify';
import { storeNewRequest } from '../approval/requests';
import { ApprovalStore } from '../approval/store';
import { parseTaskRequest } from './decide';

/** The `service` of the handler's log lines and metrics. */
export const SERVICE_NAME = 'approval-request';
/** The `control` of its decision lines. */
export const CONTROL = 'approval-request';
/** How often the handler re-reads and retries after a concurrent write changed the counter. */
export const MAX_ATTEMPTS = 3;

/** The error the function fails with: its `name` is the reason code (the Step Functions error name). */
export class ApprovalRequestError extends Error {
  public readonly reasonCode: ReasonCode;

  public constructor(reasonCode: ReasonCode) {
    // The message is the code only: Step Functions shows it as the cause, in the execution history.
    super(reasonCode);
    this.name = reasonCode;
    this.reasonCode = reasonCode;
  }
}

/** What the function returns when the request is stored (Step Functions ignores it and waits for the token). */
export interface ApprovalRequestResult {
  readonly ok: true;
  readonly approvalId: string;
  readonly expiresAt: number;
}

/** A Lambda-style handler. */
export type ApprovalRequestHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<ApprovalRequestResult>;

/** What the handler talks to. */
export interface ApprovalRequestClients {
  readonly store: ApprovalStore;
  /** @default - no notification */
  readonly notifier?: ApprovalNotifier;
  /** @default Date.now */
  readonly now?: () => number;
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function line(code: ReasonCode, step: ApprovalStep, subject: string | undefined, requestId: string | undefined, fields: Record<string, string>, detail?: string): void {
  try {
    logs().logDecision({
      control: CONTROL,
      decision: approvalDecision(code, detail),
      ...(subject !== undefined ? { subject } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      fields: { step, ...fields },
    });
  } catch {
    // The workflow still gets the answer.
  }
}

/** Builds the handler from explicit settings and clients (tests, embedding). */
export function createHandler(settings: ApprovalStoreSettings, clients: ApprovalRequestClients): ApprovalRequestHandler {
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const parsed = parseTaskRequest(event);
    if (!parsed.ok) {
      line('MALFORMED_REQUEST', ApprovalStep.DENIED_MALFORMED, undefined, requestId, {}, parsed.detail);
      throw new ApprovalRequestError('MALFORMED_REQUEST');
    }
    const { taskToken, call } = parsed.value;
    const approvalId = taskApprovalId(taskToken);
    const fields = { approvalId, tool: call.tool };
    try {
      return await withDeadline(settings.timeoutMs, 'approval request', async (signal) => {
        const now = (clients.now ?? Date.now)();
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          const existing = await clients.store.get(approvalId, signal);
          if (existing !== undefined) {
            // A retry of the same task: the request is already stored (and was notified).
            if (existing.kind !== ApprovalKind.TASK || existing.taskToken !== taskToken) throw new ApprovalRequestError('APPROVAL_HASH_MISMATCH');
            line('APPROVAL_PENDING', ApprovalStep.PENDING, call.principal, requestId, fields, 'the task was retried; its request is already stored');
            return { ok: true as const, approvalId, expiresAt: existing.expiresAt };
          }
          signal.throwIfAborted();
          const outcome = await storeNewRequest(
            { store: clients.store, notifier: clients.notifier, ttlMs: settings.ttlSeconds * 1000, maxPendingPerPrincipal: settings.maxPendingPerPrincipal },
            { kind: ApprovalKind.TASK, call, now, taskToken },
            signal,
          );
          if (outcome.outcome === 'CAP_REACHED') throw new ApprovalRequestError('APPROVAL_CAP_REACHED');
          if (outcome.outcome === 'CREATED') {
            line('APPROVAL_REQUIRED', ApprovalStep.REQUESTED, call.principal, requestId, fields);
            return { ok: true as const, approvalId, expiresAt: outcome.record.expiresAt };
          }
        }
        throw new ApprovalRequestError('UPSTREAM_THROTTLED');
      });
    } catch (err) {
      const code: ReasonCode = err instanceof ApprovalRequestError ? err.reasonCode : classifyFault(err);
      const step = code === 'APPROVAL_CAP_REACHED' ? ApprovalStep.DENIED_CAP : code === 'APPROVAL_HASH_MISMATCH' ? ApprovalStep.DENIED_TAMPERED : ApprovalStep.DENIED_FAULT;
      line(code, step, call.principal, requestId, fields, err instanceof ApprovalRequestError ? undefined : describeFault(err));
      throw err instanceof ApprovalRequestError ? err : new ApprovalRequestError(code);
    }
  };
}

function fromEnvironment(): ApprovalRequestHandler {
  try {
    const settings = storeSettingsFromEnv(process.env);
    const notifier = settings.topicArn !== undefined ? new SnsApprovalNotifier(new SNSClient({}), settings.topicArn) : undefined;
    return createHandler(settings, { store: new ApprovalStore(new DynamoDBClient({}), settings.tableName), ...(notifier ? { notifier } : {}) });
  } catch (err) {
    const detail = describeFault(err);
    return async (_event, context) => {
      line('MISCONFIGURED', ApprovalStep.DENIED_FAULT, undefined, context?.awsRequestId, {}, detail);
      throw new ApprovalRequestError('MISCONFIGURED');
    };
  }
}

let configured: ApprovalRequestHandler | undefined;

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: ApprovalRequestHandler = async (event, context) => {
  configured ??= fromEnvironment();
  return configured(event, context);
};
