/**
 * The memory broker: an AgentCore Gateway Lambda target serving `remember`, `recall` and `forget` over an
 * `IsolatedMemory`, with every namespace derived from the caller's verified identity.
 *
 * parse (tool name, caller token, strict arguments) → verify the token again → derive the caller's scope → plan the
 * namespaces → call AgentCore (and the guardrail for writes) → check every response → respond. The actor comes
 * from the verified issuer and subject only; tenants and shared groups from verified claims and configuration only.
 * Any fault, timeout, malformed response or unexpected error ends in `{ ok: false, reasonCode }` with no memory
 * content: never in a broader namespace and never in part of an answer. One decision line per call.
 *
 * Importing this module never throws; configuration is read from the environment on the first call, and a bad one
 * makes every call deny (MISCONFIGURED).
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { callerTokenFromArguments, gatewayToolName, withoutReservedArguments } from '../shared/caller-context';
import { allow, deny, isAllow } from '../shared/decision';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { describeFault, guard } from '../shared/errors';
import { IdentityConfig, TokenVerifier, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { ReasonCode } from '../shared/reason-codes';
import { BrokerClients, MemoryCalls, defaultClients, guardrailScreener, memoryCalls, newRequestIdentifier } from './clients';
import { BrokerSettings, settingsFromEnv } from './config';
import {
  ForgetRequest,
  RecallRequest,
  RecalledMemory,
  RememberRequest,
  Result,
  ScreenText,
  checkOwnership,
  mergeRecalled,
  parseToolRequest,
  planRead,
  planWrite,
  readCreateResponse,
  readDeleteResponse,
  readRetrieveResponse,
  refuse,
  spaceKind,
  textAfterScreening,
} from './decide';
import { CallerScope, deriveCallerScope } from './namespaces';

export { MEMORY_BROKER_TOOL_DEFINITIONS, memoryToolDefinitions } from './tools';
export type { ToolDefinition } from './tools';

const SERVICE_NAME = 'memory-broker';
const CONTROL = 'memory';

/** What a call answers. */
export type BrokerResponse =
  | { readonly ok: true; readonly recordId: string; readonly space: string; readonly masked: boolean }
  | { readonly ok: true; readonly memories: RecalledMemory[] }
  | { readonly ok: true; readonly recordId: string; readonly deleted: true }
  | { readonly ok: false; readonly reasonCode: ReasonCode };

/** The Lambda context fields the broker reads. */
export interface BrokerContext {
  readonly awsRequestId?: string;
  readonly clientContext?: { readonly custom?: unknown } | null;
}

/** A Lambda-style handler. */
export type BrokerHandler = (event: unknown, context?: BrokerContext) => Promise<BrokerResponse>;

/** Everything the broker needs, explicitly (tests and embedding). */
export interface BrokerConfig {
  readonly identity: IdentityConfig;
  readonly settings: BrokerSettings;
}

/** The I/O seams of the broker. */
export interface BrokerDependencies {
  readonly verifier: TokenVerifier;
  readonly memory: MemoryCalls;
  /** Screens writes; required when a guardrail is configured. */
  readonly screen?: ScreenText;
  readonly now: () => Date;
  readonly newRequestIdentifier: () => string;
}

interface Outcome {
  readonly response: BrokerResponse;
  readonly detail?: string;
  readonly subject?: string;
  readonly fields: Record<string, DecisionLogFieldValue>;
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function record(outcome: Outcome, requestId: string | undefined): void {
  try {
    const response = outcome.response;
    const decision = response.ok ? allow() : deny(response.reasonCode, outcome.detail);
    logs().logDecision({ control: CONTROL, decision, subject: outcome.subject, requestId, fields: outcome.fields });
  } catch {
    // No logger: the caller still gets its (fail-closed) answer.
  }
}

function denied(reasonCode: ReasonCode, detail: string | undefined, fields: Record<string, DecisionLogFieldValue>, subject?: string): Outcome {
  return { response: { ok: false, reasonCode }, detail, subject, fields };
}

function isNotFound(err: unknown): boolean {
  try {
    return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ResourceNotFoundException';
  } catch {
    return false;
  }
}

async function remember(req: RememberRequest, scope: CallerScope, settings: BrokerSettings, deps: BrokerDependencies, signal: AbortSignal, fields: Record<string, DecisionLogFieldValue>): Promise<Result<BrokerResponse>> {
  const plan = planWrite(scope, req.space, { sharedWrites: settings.sharedWrites, screened: deps.screen !== undefined });
  if (!plan.ok) return plan;
  let text = req.text;
  let masked = false;
  if (deps.screen) {
    const screened = textAfterScreening(await deps.screen(req.text), settings.maxTextLength);
    if (!screened.ok) return screened;
    text = screened.value.text;
    masked = screened.value.masked;
  } else if (plan.value.shared) {
    return refuse('MEMORY_SHARED_WRITE_DISABLED', 'shared writes need screening');
  }
  fields.masked = masked;
  const requestIdentifier = deps.newRequestIdentifier();
  const created = readCreateResponse(await deps.memory.createRecord(plan.value.namespace, text, requestIdentifier, deps.now(), signal), requestIdentifier);
  if (!created.ok) return created;
  return { ok: true, value: { ok: true, recordId: created.value, space: plan.value.space, masked } };
}

async function recall(req: RecallRequest, scope: CallerScope, deps: BrokerDependencies, signal: AbortSignal, fields: Record<string, DecisionLogFieldValue>): Promise<Result<BrokerResponse>> {
  const targets = planRead(scope, req);
  if (!targets.ok) return targets;
  fields.namespaces = targets.value.length;
  // All or nothing: one failed or untrusted response denies the whole recall.
  const lists = await Promise.all(
    targets.value.map(async (t) => readRetrieveResponse(await deps.memory.retrieve(t.namespace, req.query, req.maxResults, signal), t)),
  );
  const memories = mergeRecalled(lists, req.maxResults);
  fields.results = memories.length;
  return { ok: true, value: { ok: true, memories } };
}

async function forget(req: ForgetRequest, scope: CallerScope, deps: BrokerDependencies, signal: AbortSignal): Promise<Result<BrokerResponse>> {
  let read: unknown;
  try {
    read = await deps.memory.getRecord(req.recordId, signal);
  } catch (err) {
    if (isNotFound(err)) return refuse('MEMORY_RECORD_NOT_FOUND', 'record does not exist');
    throw err;
  }
  const owned = checkOwnership(read, req.recordId, scope);
  if (!owned.ok) return owned;
  let deleted: unknown;
  try {
    deleted = await deps.memory.deleteRecord(req.recordId, owned.value, signal);
  } catch (err) {
    if (isNotFound(err)) return refuse('MEMORY_RECORD_NOT_FOUND', 'record vanished before delete');
    throw err;
  }
  readDeleteResponse(deleted, req.recordId);
  return { ok: true, value: { ok: true, recordId: req.recordId, deleted: true } };
}

/** Runs one call; never throws. */
async function handleCall(event: unknown, context: BrokerContext | undefined, settings: BrokerSettings, deps: BrokerDependencies): Promise<Outcome> {
  const fields: Record<string, DecisionLogFieldValue> = {};
  let subject: string | undefined;
  let result: Result<BrokerResponse> | undefined;
  const controller = new AbortController();
  const decision = await guard(
    async () => {
      const toolName = gatewayToolName(context?.clientContext?.custom);
      if (toolName !== undefined) fields.tool = toolName;
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        result = refuse('MALFORMED_REQUEST', 'event is not a JSON object');
        return allow();
      }
      const token = callerTokenFromArguments(event);
      const verified = await verifyIdentity(deps.verifier, token);
      if (!isAllow(verified)) {
        result = refuse(verified.reasonCode, verified.outcome === 'DENY' ? verified.detail : undefined);
        return allow();
      }
      const identity = verified.identity;
      subject = identity.subject;
      const request = parseToolRequest(toolName, withoutReservedArguments(event as Record<string, unknown>), settings);
      if (!request.ok) {
        result = request;
        return allow();
      }
      fields.space = spaceKind('space' in request.value ? request.value.space : 'personal');
      const scoped = deriveCallerScope(identity, settings);
      if (!scoped.ok) {
        result = refuse('IDENTITY_CLAIMS_INVALID', scoped.detail);
        return allow();
      }
      const scope = scoped.scope;
      const req = request.value;
      if (req.tool === 'remember') result = await remember(req, scope, settings, deps, controller.signal, fields);
      else if (req.tool === 'recall') result = await recall(req, scope, deps, controller.signal, fields);
      else result = await forget(req, scope, deps, controller.signal);
      return allow();
    },
    { timeoutMs: settings.timeoutMs },
  );
  // Whatever is still in flight (after a timeout or a fault) has nothing left to decide.
  controller.abort();
  if (!isAllow(decision)) return denied(decision.reasonCode, decision.outcome === 'DENY' ? decision.detail : undefined, fields, subject);
  if (!result) return denied('INTERNAL_ERROR', 'no result', fields, subject);
  if (!result.ok) return denied(result.reasonCode, result.detail, fields, subject);
  return { response: result.value, subject, fields };
}

/** Builds the handler from explicit dependencies (tests, embedding, the bench). */
export function createHandlerWith(settings: BrokerSettings, deps: BrokerDependencies): BrokerHandler {
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    let outcome: Outcome;
    try {
      outcome = await handleCall(event, context, settings, deps);
    } catch (err) {
      outcome = denied('INTERNAL_ERROR', describeFault(err), {});
    }
    record(outcome, requestId);
    try {
      logs().flush();
    } catch {
      // Metrics are best effort; the decision line is the record.
    }
    return outcome.response;
  };
}

/** Builds the handler from configuration and SDK clients. Throws a ConfigurationError for an invalid identity config. */
export function createHandler(config: BrokerConfig, clients: BrokerClients): BrokerHandler {
  const { settings } = config;
  const verifier = createTokenVerifier(config.identity);
  const screen = settings.guardrail
    ? guardrailScreener(clients.bedrock ?? new BedrockRuntimeClient({ maxAttempts: 3 }), settings.guardrail, settings.maxTextLength, settings.timeoutMs)
    : undefined;
  return createHandlerWith(settings, {
    verifier,
    memory: memoryCalls(clients.agentcore, settings.memoryId),
    ...(screen ? { screen } : {}),
    now: () => new Date(),
    newRequestIdentifier,
  });
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): BrokerHandler {
  const detail = problems.join('; ');
  return async (_event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    record(denied('MISCONFIGURED', detail, {}), requestId);
    return { ok: false, reasonCode: 'MISCONFIGURED' };
  };
}

let configured: BrokerHandler | undefined;

function fromEnvironment(): BrokerHandler {
  try {
    const settings = settingsFromEnv(process.env);
    if (!settings.ok) return misconfiguredHandler(settings.problems);
    return createHandler({ identity: identityConfigFromEnv(process.env), settings: settings.settings }, defaultClients());
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: BrokerHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    // Last resort: nothing above should throw, and nothing may leave but a denial.
    return { ok: false, reasonCode: 'INTERNAL_ERROR' };
  }
};
