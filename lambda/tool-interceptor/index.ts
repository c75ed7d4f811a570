/**
 * tool-interceptor: the GuardedGateway REQUEST interceptor (AgentCore Gateway interceptor format 1.0, with request
 * headers). Every `tools/call` is decided here before any target runs:
 *
 *   parse (strict JSON-RPC) → verify the bearer token again → resolve the tool in the deployed registry → remove
 *   reserved, identity-bound and identity-like arguments the model supplied → validate the arguments → read the
 *   session's taint → authorize with Cedar (principal from the token, `sessionCapabilities` from the taint) → ask the
 *   approval gate when the policy permits the call only with an approval → record the tool's capabilities in the
 *   session's taint → forward the rewritten call, with identity in a form the model cannot forge.
 *
 * The taint is recorded before the call is forwarded, so the target runs only once its capabilities are on record,
 * and the next call, whose arguments may carry this one's result, reads them (strongly consistent). If recording
 * fails the call is denied: nothing runs untracked.
 *
 * A deny answers at once with a JSON-RPC error whose message and data carry only a reason code. Other methods pass
 * through (NOT_APPLICABLE) unless malformed. The inbound token never leaves the interceptor except, for the
 * library's own targets, in the reserved argument those targets verify again; headers are never forwarded.
 * Importing this module never throws; configuration is read on the first call, and a bad one denies everything.
 */
import { DecisionLogger, DecisionLogFieldValue, createDecisionLogger } from '../shared/decision-log';
import { allow, deny, notApplicable, Decision } from '../shared/decision';
import { classifyFault, describeFault, withTimeout } from '../shared/errors';
import { IdentityConfig, TokenVerifier, VerifiedIdentity, bearerTokenFrom, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { ReasonCode } from '../shared/reason-codes';
import { ToolAuthorizer, authorizeToolCall, createToolAuthorizer } from './cedar';
import { InterceptorClients, checkApproval, defaultClients, readConfigFile, readSessionTaint, recordSessionTaint } from './clients';
import { GatewayConfig, TAINT_TTL_SECONDS, readGatewayConfigFile, taintTtlFromEnv, timeoutFromEnv } from './config';
import {
  InterceptorOutput,
  JsonRpcId,
  ParsedRequest,
  allowedCallOutput,
  denyOutput,
  eventRequestId,
  logFieldsOfTool,
  parseRequestEvent,
  parseToolCall,
  passThroughOutput,
  principalOf,
  scrubIdentityArguments,
  sessionIdOf,
  targetArguments,
  validateToolArguments,
} from './decide';
import { RegisteredTool } from './registry';
import { taintUpdate } from './session-taint';

export type { InterceptorOutput } from './decide';

const SERVICE_NAME = 'tool-interceptor';
/** Decision-log control of `tools/call` decisions. */
export const CONTROL_TOOL_CALL = 'tool-call';
/** Decision-log control of every other request. */
export const CONTROL_MCP_REQUEST = 'mcp-request';

/** The interceptor's configuration, validated. */
export interface InterceptorConfig {
  readonly gateway: GatewayConfig;
  /** Cedar authorizer over the gateway's tool policy. */
  readonly authorizer: ToolAuthorizer;
  /** How bearer tokens are verified (the same issuer, clients and audiences as the gateway's JWT authorizer). */
  readonly identity: IdentityConfig;
  /** Deadline of one request in milliseconds; past it the request is denied (UPSTREAM_TIMEOUT). */
  readonly timeoutMs: number;
  /**
   * How long a session's taint lasts after its last allowed call, in seconds (3,600 to 2,592,000).
   * @default 43200 (12 hours)
   */
  readonly taintTtlSeconds?: number;
}

/** A Lambda-style handler. */
export type InterceptorHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<InterceptorOutput>;

/** What one request came to: the answer and what the decision line records. */
interface Outcome {
  readonly output: InterceptorOutput;
  readonly control: string;
  readonly outcome: 'ALLOW' | 'DENY' | 'NOT_APPLICABLE';
  readonly reasonCode: ReasonCode;
  readonly detail?: string;
  readonly subject?: string;
  readonly fields: Record<string, DecisionLogFieldValue>;
}

function denied(id: JsonRpcId, reasonCode: ReasonCode, detail: string | undefined, requestId: string | undefined, control: string, fields: Record<string, DecisionLogFieldValue> = {}, subject?: string): Outcome {
  return { output: denyOutput(id, reasonCode, requestId), control, outcome: 'DENY', reasonCode, detail, subject, fields };
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function toLoggedDecision(o: Outcome): Decision {
  if (o.outcome === 'ALLOW') return allow(o.reasonCode);
  if (o.outcome === 'NOT_APPLICABLE') return notApplicable(o.reasonCode);
  return deny(o.reasonCode, o.detail);
}

function record(o: Outcome, requestId: string | undefined): void {
  try {
    const log = logs();
    log.logDecision({ control: o.control, decision: toLoggedDecision(o), subject: o.subject, requestId, fields: o.fields });
    log.flush();
  } catch {
    // No logger: the caller still gets its (fail-closed) answer.
  }
}

/** The pin an approval of this tool is bound to: the registered pin, the one accepted pin, or `unpinned`. */
function pinForApproval(tool: RegisteredTool, gateway: GatewayConfig): string {
  if (tool.pin !== undefined) return tool.pin;
  const accepted = [...gateway.pins.pins.accepted(tool.target, tool.name)];
  return accepted.length === 1 ? accepted[0] : 'unpinned';
}

async function decideToolCall(
  request: ParsedRequest,
  config: InterceptorConfig,
  verifier: TokenVerifier,
  clients: InterceptorClients,
  requestId: string | undefined,
): Promise<Outcome> {
  const { gateway, authorizer } = config;
  const id = request.id;
  const base: Record<string, DecisionLogFieldValue> = { method: request.method };
  const no = (code: ReasonCode, detail: string | undefined, fields: Record<string, DecisionLogFieldValue> = {}, subject?: string): Outcome =>
    denied(id, code, detail, requestId, CONTROL_TOOL_CALL, { ...base, ...fields }, subject);

  const call = parseToolCall(request);
  if (!call.ok) return no(call.reasonCode, call.detail);

  // Identity first: an unauthenticated caller learns nothing about tools.
  const token = bearerTokenFrom(request.headers);
  const verified = await verifyIdentity(verifier, token);
  if (verified.outcome !== 'ALLOW' || !('identity' in verified)) return no(verified.reasonCode, verified.outcome === 'DENY' ? verified.detail : undefined);
  const identity: VerifiedIdentity = verified.identity;
  const subject = identity.subject;
  const session = sessionIdOf(request.headers);
  if (session === undefined) return no('MALFORMED_REQUEST', 'Mcp-Session-Id is not a single visible-ASCII value', {}, subject);

  const tool = gateway.registry.lookup(call.value.name);
  if (tool === undefined) return no('TOOL_UNKNOWN', 'the tool is not in the deployed registry', {}, subject);
  const toolFields = logFieldsOfTool(tool);
  const kind = gateway.targetKind(tool.target);
  if (kind === undefined) return no('MISCONFIGURED', 'the tool target has no kind', toolFields, subject);
  const bindings = gateway.bindingsOf(call.value.name);

  const scrubbed = scrubIdentityArguments(call.value.arguments, bindings, gateway);
  if (!scrubbed.ok) return no(scrubbed.reasonCode, scrubbed.detail, toolFields, subject);
  const removed: Record<string, DecisionLogFieldValue> = scrubbed.value.removed.length > 0 ? { removedArguments: [...scrubbed.value.removed].slice(0, 16) } : {};
  const validated = validateToolArguments(scrubbed.value.arguments, gateway.modelSchemaOf(call.value.name));
  if (!validated.ok) return no(validated.reasonCode, validated.detail, { ...toolFields, ...removed }, subject);
  const args = targetArguments(validated.value, bindings, kind, identity, token as string);
  if (!args.ok) return no(args.reasonCode, args.detail, { ...toolFields, ...removed }, subject);

  // The session's taint, read before the policy sees the call: a fault denies (never "clean").
  const principal = principalOf(identity);
  const taint = await readSessionTaint(clients.sessionTaint, principal, session);
  const fields: Record<string, DecisionLogFieldValue> = { ...toolFields, ...removed, targetKind: kind };
  if (!taint.ok) return no(taint.decision.reasonCode, detailOf(taint.decision), { ...fields, sessionTaint: 'UNREAD' }, subject);
  const sessionCapabilities = taint.value;
  fields.sessionCapabilityCount = sessionCapabilities.length;

  // Cedar, with the principal from the token, the tool from the registry and the session's taint; never from arguments.
  const request0 = { identity, tool, args: validated.value };
  const first = authorizeToolCall(authorizer, { ...request0, context: { approved: false, sessionCapabilities } });
  const policyFields = (policies?: readonly string[]): Record<string, DecisionLogFieldValue> =>
    policies && policies.length > 0 ? { policies: [...policies].slice(0, 16) } : {};

  // An allowed call's capabilities are recorded before it is forwarded; if that fails, the call does not run.
  const allowed = async (approval: 'NOT_NEEDED' | 'GRANTED', policies: readonly string[] | undefined): Promise<Outcome> => {
    const done = { ...fields, ...policyFields(policies), approval };
    const update = taintUpdate(sessionCapabilities, tool.capabilities);
    if (update.write) {
      const recorded = await recordSessionTaint(clients.sessionTaint, principal, session, update.add, config.taintTtlSeconds ?? TAINT_TTL_SECONDS.default);
      if (!recorded.ok) return no(recorded.decision.reasonCode, detailOf(recorded.decision), { ...done, sessionTaint: 'UNRECORDED' }, subject);
    }
    return {
      output: allowedCallOutput(request, call.value.name, args.value),
      control: CONTROL_TOOL_CALL,
      outcome: 'ALLOW',
      reasonCode: 'ALLOWED',
      subject,
      fields: { ...base, ...done, sessionTaint: update.write ? 'RECORDED' : 'CLEAN' },
    };
  };

  if (first.outcome === 'ALLOW') return allowed('NOT_NEEDED', first.determiningPolicies);
  if (first.reasonCode !== 'TOOL_POLICY_DENIED') return no(first.reasonCode, first.detail, { ...fields, ...policyFields(first.determiningPolicies) }, subject);

  // Denied without an approval: would an approval of this exact call change that? Only then ask the gate.
  const withApproval = authorizeToolCall(authorizer, { ...request0, context: { approved: true, sessionCapabilities } });
  if (withApproval.outcome !== 'ALLOW') return no(first.reasonCode, first.detail, { ...fields, ...policyFields(first.determiningPolicies) }, subject);
  const gate = await checkApproval(
    clients.approvalGate,
    {
      subject: { tool: call.value.name, toolPin: pinForApproval(tool, gateway), arguments: validated.value, principal, session },
      requestId: requestId ?? 'unknown',
      now: clients.now(),
    },
    config.timeoutMs,
  );
  if (gate.outcome === 'DENY') return no(gate.reasonCode, gate.detail, { ...fields, approval: 'REQUIRED' }, subject);
  if (gate.outcome !== 'ALLOW') return no('UPSTREAM_MALFORMED_RESPONSE', 'the approval gate neither allowed nor denied the call', { ...fields, approval: 'REQUIRED' }, subject);
  return allowed('GRANTED', withApproval.determiningPolicies);
}

function detailOf(decision: Decision): string | undefined {
  return decision.outcome === 'DENY' ? decision.detail : undefined;
}

async function decide(event: unknown, config: InterceptorConfig, verifier: TokenVerifier, clients: InterceptorClients, requestId: string | undefined): Promise<Outcome> {
  const parsed = parseRequestEvent(event);
  if (!parsed.ok) return denied(eventRequestId(event), parsed.reasonCode, parsed.detail, requestId, CONTROL_MCP_REQUEST);
  if (parsed.value.method !== 'tools/call') {
    return {
      output: passThroughOutput(parsed.value.gatewayBody),
      control: CONTROL_MCP_REQUEST,
      outcome: 'NOT_APPLICABLE',
      reasonCode: 'NOT_APPLICABLE',
      fields: { method: parsed.value.method },
    };
  }
  return decideToolCall(parsed.value, config, verifier, clients, requestId);
}

/** Builds the handler from explicit configuration and clients (tests, embedding). */
export function createHandler(config: InterceptorConfig, clients: InterceptorClients): InterceptorHandler {
  const verifier = createTokenVerifier(config.identity);
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    let outcome: Outcome;
    try {
      outcome = await withTimeout(decide(event, config, verifier, clients, requestId), config.timeoutMs, 'tool-interceptor');
    } catch (err) {
      outcome = denied(eventRequestId(event), classifyFault(err), describeFault(err), requestId, CONTROL_TOOL_CALL);
    }
    record(outcome, requestId);
    return outcome.output;
  };
}

/** A handler for a configuration that failed validation: every request is denied with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): InterceptorHandler {
  const detail = problems.join('; ');
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const outcome = denied(eventRequestId(event), 'MISCONFIGURED', detail, requestId, CONTROL_MCP_REQUEST);
    record(outcome, requestId);
    return outcome.output;
  };
}

/** Reads the whole configuration from an environment map; throws a ConfigurationError naming every problem. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, readFile = readConfigFile): InterceptorConfig {
  const identity = identityConfigFromEnv(env);
  const gateway = readGatewayConfigFile(env, readFile);
  const authorizer = createToolAuthorizer(gateway.policyText);
  return { gateway, authorizer, identity, timeoutMs: timeoutFromEnv(env), taintTtlSeconds: taintTtlFromEnv(env) };
}

let configured: InterceptorHandler | undefined;

function fromEnvironment(): InterceptorHandler {
  try {
    return createHandler(configFromEnv(process.env), defaultClients(process.env));
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    return misconfiguredHandler(Array.isArray(problems) ? (problems as string[]) : [describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: InterceptorHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    // Last resort: nothing above should throw, and nothing may pass unchecked.
    return denyOutput(eventRequestId(event), 'INTERNAL_ERROR');
  }
};
