/**
 * The DynamoDB-backed approval gate of the tool interceptor: a high-risk call runs only when a human (not the caller)
 * approved exactly this call (tool, tool pin, arguments, principal, session, bound with a nonce and an expiry), and
 * then once.
 *
 * check → validate the call → read the approval stored under the call digest (consistent read) → decide (decide.ts):
 * - approved, unexpired, unused and hashing to exactly this call → conditional write to USED → allow (once: a
 *   concurrent second use loses the condition and is denied APPROVAL_REPLAYED);
 * - pending → deny APPROVAL_PENDING; rejected and unexpired → deny APPROVAL_REJECTED;
 * - none, expired, used, or a rejection that expired → store a new PENDING request (fresh nonce, expiry, under the
 *   per-principal cap, in one transaction) and notify approvers → deny APPROVAL_REQUIRED / APPROVAL_EXPIRED /
 *   APPROVAL_REPLAYED;
 * - a stored approval that does not hash to this call → deny APPROVAL_HASH_MISMATCH (it was changed outside the
 *   workflow; left in place for investigation).
 * Any fault (throttle, 5xx, timeout, access denied, malformed response) or invalid input denies with its code; a
 * fault never allows. Every step writes one decision line (control `approval-gate`, `fields.step`), with the
 * principal only as a hash.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { withDeadline } from '../shared/deadline';
import { Decision } from '../shared/decision';
import { DecisionLogger, DecisionLogFieldValue, createDecisionLogger } from '../shared/decision-log';
import { ConfigurationError, classifyFault, describeFault } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { ApprovalCheck, ApprovalGate, DenyAllApprovalGate } from '../tool-interceptor/approval-gate';
import { APPROVAL_DEFAULTS, ApprovalEnv, storeSettingsFromEnv, storeSettingsProblems } from './config';
import { ApprovalKind, ApprovalStep, approvalDecision, assessCall } from './decide';
import { BoundCall, boundCallProblems, callDigest } from './hash';
import { ApprovalNotifier, SnsApprovalNotifier } from './notify';
import { storeNewRequest } from './requests';
import { ApprovalStore } from './store';

/** The `control` of the gate's decision lines. */
export const GATE_CONTROL = 'approval-gate';
/** The `service` of the gate's own decision logger (when the embedding handler does not pass its own). */
export const GATE_SERVICE_NAME = 'approval-gate';
/** How often the gate re-reads and retries after a concurrent write changed the request or the counter. */
export const MAX_GATE_ATTEMPTS = 3;

/** SDK clients of the gate. */
export interface ApprovalGateClients {
  /** @default - a new DynamoDBClient for the function's region */
  readonly dynamodb?: DynamoDBClient;
  /** @default - a new SNSClient for the function's region (only when a topic is configured) */
  readonly sns?: SNSClient;
}

/** Options of {@link createDynamoDbApprovalGate}. */
export interface DynamoDbApprovalGateOptions {
  /** The approval table (`ApprovalWorkflow.table`). */
  readonly tableName: string;
  /**
   * SNS topic told about each new request.
   * @default - no notification (approvers list pending requests in the approver API)
   */
  readonly topicArn?: string;
  /**
   * How long a request, and an approval of it, stays valid, in seconds (60 to 3,600).
   * @default 900 (15 minutes)
   */
  readonly ttlSeconds?: number;
  /**
   * Most pending requests one principal may have (1 to 100).
   * @default 5
   */
  readonly maxPendingPerPrincipal?: number;
  /**
   * The gate's own deadline, in milliseconds (100 to 60,000); past it the check denies UPSTREAM_TIMEOUT and no
   * approval is used.
   * @default 3000
   */
  readonly timeoutMs?: number;
  /** @default - new clients */
  readonly clients?: ApprovalGateClients;
  /**
   * Where the gate writes its decision lines (the embedding handler's logger, so they share its log group).
   * @default - a decision logger with service `approval-gate`
   */
  readonly decisionLogger?: Pick<DecisionLogger, 'logDecision'>;
}

/** The full result of one check: the decision and the last step. */
export interface ApprovalGateResult {
  /** The decision the interceptor acts on, with the precise reason code (`APPROVAL_REPLAYED`, ...). */
  readonly decision: Decision;
  /** The step that ended the check. */
  readonly step: ApprovalStep;
  /** The approval id (call digest), when the call was valid. */
  readonly approvalId?: string;
}

interface Resolved {
  readonly store: ApprovalStore;
  readonly notifier?: ApprovalNotifier;
  readonly ttlMs: number;
  readonly maxPendingPerPrincipal: number;
  readonly timeoutMs: number;
  readonly log: Pick<DecisionLogger, 'logDecision'>;
}

let gateLogger: DecisionLogger | undefined;
function defaultLogger(): DecisionLogger {
  gateLogger ??= createDecisionLogger({ serviceName: GATE_SERVICE_NAME });
  return gateLogger;
}

/** The gate. Build it with {@link createDynamoDbApprovalGate} or {@link approvalGateFromEnv}. */
export class DynamoDbApprovalGate implements ApprovalGate {
  /** @internal */
  public constructor(private readonly r: Resolved) {}

  /** Allow (the call proceeds, this once) or deny with a reason code. Never throws. */
  public async check(request: ApprovalCheck): Promise<Decision> {
    return (await this.evaluate(request)).decision;
  }

  /** Like {@link check}, with the step and the approval id (tests, custom handlers). Never throws. */
  public async evaluate(request: ApprovalCheck): Promise<ApprovalGateResult> {
    const ctx: { approvalId?: string; principal?: string; tool?: string } = {};
    try {
      return await withDeadline(this.r.timeoutMs, 'approval gate', (signal) => this.run(request, ctx, signal));
    } catch (err) {
      return this.finish(ctx, request, classifyFault(err), ApprovalStep.DENIED_FAULT, describeFault(err));
    }
  }

  private async run(request: ApprovalCheck, ctx: { approvalId?: string; principal?: string; tool?: string }, signal: AbortSignal): Promise<ApprovalGateResult> {
    const subject = request?.subject;
    const now = request?.now;
    if (boundCallProblems(subject).length > 0 || typeof now !== 'number' || !Number.isSafeInteger(now) || now <= 0) {
      return this.finish(ctx, request, 'MALFORMED_REQUEST', ApprovalStep.DENIED_MALFORMED, boundCallProblems(subject).join('; ') || 'invalid time');
    }
    // A copy: the call that is hashed is the call that is checked.
    const call: BoundCall = { tool: subject.tool, toolPin: subject.toolPin, arguments: subject.arguments, principal: subject.principal, session: subject.session };
    ctx.principal = call.principal;
    ctx.tool = call.tool;
    ctx.approvalId = callDigest(call);
    const approvalId = ctx.approvalId;

    for (let attempt = 1; attempt <= MAX_GATE_ATTEMPTS; attempt++) {
      const record = await this.r.store.get(approvalId, signal);
      const assessment = assessCall(record, call, now);
      if (assessment.action === 'DENY') return this.finish(ctx, request, assessment.code, assessment.step);
      if (assessment.action === 'CONSUME') {
        signal.throwIfAborted();
        const used = await this.r.store.consume(approvalId, { approvalHash: assessment.approvalHash, nonce: assessment.nonce, now, usedBy: request.requestId }, signal);
        return used === 'WRITTEN'
          ? this.finish(ctx, request, 'ALLOWED', ApprovalStep.CONSUMED)
          : this.finish(ctx, request, 'APPROVAL_REPLAYED', ApprovalStep.DENIED_REPLAY, 'the approval was used, changed or expired before this call could use it');
      }
      // REQUEST: what became of the previous approval is a step of its own.
      if (assessment.step !== undefined && attempt === 1) this.line(ctx, request, assessment.code, assessment.step);
      signal.throwIfAborted();
      const outcome = await storeNewRequest(
        { store: this.r.store, notifier: this.r.notifier, ttlMs: this.r.ttlMs, maxPendingPerPrincipal: this.r.maxPendingPerPrincipal },
        { kind: ApprovalKind.CALL, call, now, replaces: assessment.replaces },
        signal,
      );
      if (outcome.outcome === 'CAP_REACHED') {
        return this.finish(ctx, request, 'APPROVAL_CAP_REACHED', ApprovalStep.DENIED_CAP, `${outcome.live} pending requests`);
      }
      if (outcome.outcome === 'CREATED') return this.finish(ctx, request, assessment.code, ApprovalStep.REQUESTED);
    }
    return this.finish(ctx, request, 'UPSTREAM_THROTTLED', ApprovalStep.DENIED_FAULT, `concurrent writes changed the request ${MAX_GATE_ATTEMPTS} times`);
  }

  private line(ctx: { approvalId?: string; principal?: string; tool?: string }, request: ApprovalCheck, code: ReasonCode, step: ApprovalStep, detail?: string): Decision {
    const decision = approvalDecision(code, detail);
    try {
      const fields: Record<string, DecisionLogFieldValue> = { step };
      if (ctx.approvalId !== undefined) fields.approvalId = ctx.approvalId;
      if (ctx.tool !== undefined) fields.tool = ctx.tool;
      const requestId = typeof request?.requestId === 'string' ? request.requestId : undefined;
      this.r.log.logDecision({
        control: GATE_CONTROL,
        decision,
        ...(ctx.principal !== undefined ? { subject: ctx.principal } : {}),
        ...(requestId !== undefined ? { requestId } : {}),
        fields,
      });
    } catch {
      // The caller still gets the decision.
    }
    return decision;
  }

  private finish(ctx: { approvalId?: string; principal?: string; tool?: string }, request: ApprovalCheck, code: ReasonCode, step: ApprovalStep, detail?: string): ApprovalGateResult {
    const decision = this.line(ctx, request, code, step, detail);
    return Object.freeze({ decision, step, ...(ctx.approvalId !== undefined ? { approvalId: ctx.approvalId } : {}) });
  }
}

/** Builds the gate; throws a `ConfigurationError` (MISCONFIGURED) naming every invalid option. */
export function createDynamoDbApprovalGate(options: DynamoDbApprovalGateOptions): DynamoDbApprovalGate {
  const settings = {
    tableName: options.tableName,
    ...(options.topicArn !== undefined ? { topicArn: options.topicArn } : {}),
    ttlSeconds: options.ttlSeconds ?? APPROVAL_DEFAULTS.ttlSeconds,
    maxPendingPerPrincipal: options.maxPendingPerPrincipal ?? APPROVAL_DEFAULTS.maxPendingPerPrincipal,
    timeoutMs: options.timeoutMs ?? APPROVAL_DEFAULTS.timeoutMs,
  };
  const problems = storeSettingsProblems(settings);
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `approval gate: ${p}`));
  const dynamodb = options.clients?.dynamodb ?? new DynamoDBClient({});
  const notifier = settings.topicArn !== undefined ? new SnsApprovalNotifier(options.clients?.sns ?? new SNSClient({}), settings.topicArn) : undefined;
  return new DynamoDbApprovalGate({
    store: new ApprovalStore(dynamodb, settings.tableName),
    ...(notifier ? { notifier } : {}),
    ttlMs: settings.ttlSeconds * 1000,
    maxPendingPerPrincipal: settings.maxPendingPerPrincipal,
    timeoutMs: settings.timeoutMs,
    log: options.decisionLogger ?? { logDecision: (entry) => defaultLogger().logDecision(entry) },
  });
}

/** Options of {@link approvalGateFromEnv} that do not come from the environment. */
export interface ApprovalGateEnvOptions {
  readonly clients?: ApprovalGateClients;
  readonly decisionLogger?: Pick<DecisionLogger, 'logDecision'>;
}

/**
 * The gate the environment describes (as `ApprovalWorkflow.gateEnvironment()` writes it): a
 * {@link DynamoDbApprovalGate} when `CAD_APPROVAL_TABLE_NAME` is set, otherwise a `DenyAllApprovalGate` (every
 * high-risk call denied APPROVAL_REQUIRED). Throws a `ConfigurationError` (MISCONFIGURED) when the variables are set
 * but invalid; call it once per container.
 */
export function approvalGateFromEnv(env: Readonly<Record<string, string | undefined>>, options: ApprovalGateEnvOptions = {}): ApprovalGate {
  if (env[ApprovalEnv.TABLE_NAME] === undefined || env[ApprovalEnv.TABLE_NAME] === '') return new DenyAllApprovalGate();
  const settings = storeSettingsFromEnv(env);
  return createDynamoDbApprovalGate({ ...settings, ...options });
}
