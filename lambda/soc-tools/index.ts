/**
 * soc-tools: the security-operations example's tools, one handler deployed as several functions, each serving only
 * some tools (`SOC_TOOLS`) with only their grants.
 *
 * - As an AgentLoop local tool: `{ tool, input, caller, sessionId }` → `{ ok: true, result }` or
 *   `{ ok: false, reasonCode }`. `lookup_ip_reputation` and `lookup_asset_owner` read DynamoDB, `create_ticket`
 *   writes one ticket per session and exact input. `block_ip` never runs as a model's tool call: it answers
 *   APPROVAL_REQUIRED (the loop then stops for a human).
 * - As a Step Functions task of the SecurityOperationsWorkflow: `{ task: "prepare_block_ip", ip, alertId }` checks
 *   the address (strict parse, public, not protected) and returns the canonical request a human approves;
 *   `{ task: "block_ip", request, approval }` checks the approval in the approval table's own record (exactly this
 *   request, approved, intact, unexpired, requested by the workflow) and adds the address to the WAF IP set with the
 *   lock token. A task that cannot run THROWS `RemediationRetryable` (throttle, 5xx, timeout: Step Functions retries)
 *   or `RemediationDenied` (anything else), with the reason code as the message.
 *
 * Input is validated strictly; any fault or malformed answer denies; one decision line per call. Importing never
 * throws; configuration is read on the first call and a bad one denies every call (MISCONFIGURED).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { ApprovalStore } from '../approval/store';
import { allow, deny } from '../shared/decision';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { classifyFault, describeFault, withTimeout } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { SocToolsClients, getItemByKey, isLockConflict, putTicketOnce } from './clients';
import { SocToolsSettings, socSettingsFromEnv } from './config';
import {
  BlockRequest,
  SocEvent,
  SocTaskErrorName,
  ToolCaller,
  WorkflowApproval,
  assessBlockTarget,
  assetFromItem,
  checkApproval,
  checkUpdateResponse,
  ipSetFromResponse,
  parseSocEvent,
  planBlock,
  planTicket,
  reputationFromItem,
  validateToolInput,
} from './decide';
import { formatIp, parseIp } from './ip';
import { BLOCK_IP_ACTION, SocToolName } from './tools';
import { wafv2IpSetApi } from './wafv2';

export { SOC_TOOLS, SocToolName, socToolDefinitions } from './tools';

/** The `service` of the log lines and metrics. */
export const SERVICE_NAME = 'soc-tools';
/** The `control` of the decision lines. */
export const CONTROL = 'soc-tools';
/** Attempts of the IP set's read-modify-write when another writer changed it meanwhile. */
export const MAX_LOCK_ATTEMPTS = 3;

export { SocTaskErrorName } from './decide';

const RETRYABLE = new Set(['UPSTREAM_THROTTLED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT']);

/** The error a workflow task fails with; the message is the reason code only (Step Functions shows it). */
export class SocTaskError extends Error {
  public readonly reasonCode: ReasonCode;

  public constructor(reasonCode: ReasonCode) {
    super(reasonCode);
    this.name = RETRYABLE.has(reasonCode) ? SocTaskErrorName.RETRYABLE : SocTaskErrorName.DENIED;
    this.reasonCode = reasonCode;
  }
}

/** A local tool's answer. */
export type ToolAnswer = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly reasonCode: ReasonCode };
/** What prepare_block_ip returns. */
export type PrepareAnswer = { readonly blockable: true; readonly request: BlockRequest } | { readonly blockable: false; readonly reasonCode: ReasonCode };
/** What block_ip (the task) returns. */
export interface BlockAnswer {
  readonly remediation: 'BLOCKED';
  readonly ip: string;
  readonly cidr: string;
  readonly ipSet: 'IPV4' | 'IPV6';
  readonly alreadyBlocked: boolean;
}

/** A Lambda-style handler. */
export type SocToolsHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<ToolAnswer | PrepareAnswer | BlockAnswer>;

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function line(code: ReasonCode, subject: string | undefined, requestId: string | undefined, fields: Record<string, DecisionLogFieldValue>, detail?: string): void {
  try {
    logs().logDecision({
      control: CONTROL,
      decision: code === 'ALLOWED' ? allow() : deny(code, detail),
      ...(subject !== undefined ? { subject } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      fields,
    });
  } catch {
    // The caller still gets its (fail-closed) answer.
  }
}

class Refusal extends Error {
  public constructor(
    public readonly code: ReasonCode,
    detail: string,
  ) {
    super(detail);
  }
}

/** Builds the handler from explicit settings and clients (tests, embedding). */
export function createHandler(settings: SocToolsSettings, clients: SocToolsClients): SocToolsHandler {
  const now = clients.now ?? Date.now;
  const serves = (tool: SocToolName) => settings.tools.includes(tool);

  const bounded = <T>(label: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    return withTimeout(work(controller.signal), settings.timeoutMs, label).finally(() => controller.abort());
  };

  const runTool = async (tool: SocToolName, input: Record<string, unknown>, caller: ToolCaller, sessionId: string, fields: Record<string, DecisionLogFieldValue>): Promise<unknown> => {
    switch (tool) {
      case 'lookup_ip_reputation': {
        const ip = parseIp(input.ip);
        if (!ip) throw new Refusal('TOOL_ARGUMENTS_INVALID', 'not a strictly formed address');
        const target = assessBlockTarget(input.ip, []);
        const canonical = formatIp(ip);
        if (!target.ok) {
          // A private or reserved address has no reputation to look up.
          fields.known = false;
          return { ip: canonical, known: false, public: false };
        }
        const item = await bounded('GetItem', (signal) => getItemByKey(clients.dynamodb, settings.reputationTable!, 'ip', canonical, signal));
        const reputation = reputationFromItem(canonical, item);
        fields.known = reputation.known;
        return reputation;
      }
      case 'lookup_asset_owner': {
        const assetId = String(input.assetId);
        const item = await bounded('GetItem', (signal) => getItemByKey(clients.dynamodb, settings.assetTable!, 'assetId', assetId, signal));
        const asset = assetFromItem(assetId, item);
        fields.known = asset.known;
        return asset;
      }
      case 'create_ticket': {
        const plan = planTicket(input, sessionId, caller, now());
        const written = await bounded('PutItem', (signal) => putTicketOnce(clients.dynamodb, settings.ticketTable!, plan.item, signal));
        fields.ticketId = plan.ticketId;
        fields.created = written === 'WRITTEN';
        return { ticketId: plan.ticketId, created: written === 'WRITTEN' };
      }
      default:
        // block_ip: a model's call never blocks anything; the workflow's approved task does.
        throw new Refusal('APPROVAL_REQUIRED', 'block_ip runs only as the approved workflow task');
    }
  };

  const onTool = async (event: Extract<SocEvent, { kind: 'TOOL' }>, requestId: string | undefined): Promise<ToolAnswer> => {
    const tool = event.tool as SocToolName;
    const fields: Record<string, DecisionLogFieldValue> = { tool };
    try {
      if (!serves(tool)) throw new Refusal('TOOL_UNKNOWN', 'this function does not serve the tool');
      const checked = validateToolInput(tool, event.input);
      if (!checked.ok) throw new Refusal(checked.code, checked.detail);
      const result = await runTool(tool, checked.value, event.caller, event.sessionId, fields);
      line('ALLOWED', event.caller.subject, requestId, fields);
      return { ok: true, result };
    } catch (err) {
      const code: ReasonCode = err instanceof Refusal ? err.code : classifyFault(err);
      line(code, event.caller.subject, requestId, fields, err instanceof Refusal ? err.message : describeFault(err));
      return { ok: false, reasonCode: code };
    }
  };

  const onPrepare = (event: Extract<SocEvent, { kind: 'PREPARE_BLOCK' }>, requestId: string | undefined): PrepareAnswer => {
    if (!serves('block_ip')) throw new Refusal('TOOL_UNKNOWN', 'this function does not serve block_ip');
    const target = assessBlockTarget(event.ip, settings.protectedCidrs);
    if (!target.ok) {
      line(target.code, undefined, requestId, { task: 'prepare_block_ip', alertId: event.alertId });
      return { blockable: false, reasonCode: target.code };
    }
    line('ALLOWED', undefined, requestId, { task: 'prepare_block_ip', alertId: event.alertId, cidr: target.cidr });
    return { blockable: true, request: { action: BLOCK_IP_ACTION, ip: target.canonical, alertId: event.alertId } };
  };

  const block = async (request: BlockRequest, approval: WorkflowApproval, fields: Record<string, DecisionLogFieldValue>): Promise<BlockAnswer> => {
    if (!serves('block_ip') || !clients.approvals || !settings.workflowPrincipal || !settings.ipSetV4 || !settings.ipSetV6) {
      throw new Refusal('MISCONFIGURED', 'this function is not configured for the remediation task');
    }
    const target = assessBlockTarget(request.ip, settings.protectedCidrs);
    if (!target.ok) throw new Refusal(target.code, 'the address may not be blocked');
    // Only the canonical text a human saw is blocked.
    if (target.canonical !== request.ip) throw new Refusal('TOOL_ARGUMENTS_INVALID', 'the address is not in canonical form');
    fields.cidr = target.cidr;
    const record = await bounded('GetItem approval', (signal) => clients.approvals!.get(approval.approvalId, signal));
    const check = checkApproval(record, request, approval, settings.workflowPrincipal, now());
    if (!check.ok) throw new Refusal(check.code, check.detail);
    const ref = target.ip.version === 4 ? settings.ipSetV4 : settings.ipSetV6;
    const ipSet = target.ip.version === 4 ? 'IPV4' : 'IPV6';
    fields.ipSet = ipSet;
    for (let attempt = 1; attempt <= MAX_LOCK_ATTEMPTS; attempt++) {
      const current = ipSetFromResponse(await bounded('GetIPSet', (signal) => clients.ipSets.getIpSet(ref, settings.ipSetScope, signal)));
      const plan = planBlock(current.addresses, target);
      if (plan.action === 'ALREADY_BLOCKED') return { remediation: 'BLOCKED', ip: target.canonical, cidr: target.cidr, ipSet, alreadyBlocked: true };
      if (plan.action === 'FULL') throw new Refusal('BLOCKLIST_FULL', 'the IP set is full');
      try {
        checkUpdateResponse(await bounded('UpdateIPSet', (signal) => clients.ipSets.updateIpSet(ref, settings.ipSetScope, plan.addresses, current.lockToken, signal, current.description)));
        return { remediation: 'BLOCKED', ip: target.canonical, cidr: target.cidr, ipSet, alreadyBlocked: false };
      } catch (err) {
        if (!isLockConflict(err)) throw err;
        fields.lockConflicts = attempt;
      }
    }
    throw new Refusal('UPSTREAM_THROTTLED', 'the IP set kept changing under the update');
  };

  const onBlock = async (event: Extract<SocEvent, { kind: 'BLOCK' }>, requestId: string | undefined): Promise<BlockAnswer> => {
    const fields: Record<string, DecisionLogFieldValue> = { task: 'block_ip', alertId: event.request.alertId, approvalId: event.approval.approvalId };
    try {
      const answer = await block(event.request, event.approval, fields);
      line('ALLOWED', undefined, requestId, { ...fields, alreadyBlocked: answer.alreadyBlocked });
      return answer;
    } catch (err) {
      const code: ReasonCode = err instanceof Refusal ? err.code : classifyFault(err);
      line(code, undefined, requestId, fields, err instanceof Refusal ? err.message : describeFault(err));
      throw new SocTaskError(code);
    }
  };

  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const parsed = parseSocEvent(event);
    switch (parsed.kind) {
      case 'TOOL':
        return onTool(parsed, requestId);
      case 'PREPARE_BLOCK':
        try {
          return onPrepare(parsed, requestId);
        } catch (err) {
          const code: ReasonCode = err instanceof Refusal ? err.code : 'INTERNAL_ERROR';
          line(code, undefined, requestId, { task: 'prepare_block_ip' });
          throw new SocTaskError(code);
        }
      case 'BLOCK':
        return onBlock(parsed, requestId);
      default: {
        line('MALFORMED_REQUEST', undefined, requestId, {}, parsed.detail);
        if (typeof event === 'object' && event !== null && 'task' in event) throw new SocTaskError('MALFORMED_REQUEST');
        return { ok: false, reasonCode: 'MALFORMED_REQUEST' };
      }
    }
  };
}

/** A handler for a configuration that failed validation: every call denies (tasks fail) MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): SocToolsHandler {
  const detail = problems.join('; ');
  return async (event, context) => {
    line('MISCONFIGURED', undefined, context?.awsRequestId, {}, detail);
    if (typeof event === 'object' && event !== null && 'task' in event) throw new SocTaskError('MISCONFIGURED');
    return { ok: false, reasonCode: 'MISCONFIGURED' };
  };
}

function fromEnvironment(): SocToolsHandler {
  try {
    const result = socSettingsFromEnv(process.env);
    if (!result.ok) return misconfiguredHandler(result.problems);
    const dynamodb = new DynamoDBClient({ maxAttempts: 3 });
    const settings = result.settings;
    return createHandler(settings, {
      dynamodb,
      ipSets: wafv2IpSetApi(new WAFV2Client({ maxAttempts: 3 })),
      ...(settings.approvalTable !== undefined ? { approvals: new ApprovalStore(dynamodb, settings.approvalTable) } : {}),
    });
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

let configured: SocToolsHandler | undefined;

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: SocToolsHandler = async (event, context) => {
  configured ??= fromEnvironment();
  return configured(event, context);
};
