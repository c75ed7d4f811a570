/**
 * The agent loop handler: a Lambda the application invokes with the caller's bearer token, a session id and a
 * prompt. It verifies the token (identity comes only from it, never from the prompt or the model), runs the agentic
 * loop over Bedrock Converse (`loop.ts`) with the built-in hooks (allowlist, approval, guardrail) and the customer's
 * hook functions, and answers with a status, a reason code and, when there is one, a screened answer.
 *
 * Event: `{ "callerToken": "<JWT>", "sessionId": "<id>", "prompt": "<text>" }` and nothing else (for example the
 * `x-amzn-oidc-accesstoken` an ALB forwards, or the access token the app holds for its user).
 * Answer: `{ status, reasonCode, sessionId, turns, toolCalls, answer?, approval? }` where status is COMPLETED
 * (answer screened as OUTPUT), REFUSED (a fixed refusal), APPROVAL_REQUIRED (the call that waits), STOPPED (a limit)
 * or DENIED (identity, input, fault, configuration). One decision line per step and one for the invocation.
 *
 * Importing this module never throws; configuration is read from the environment and the definition layer on the
 * first call, and a bad one makes every call deny (MISCONFIGURED).
 */
import { readFileSync } from 'node:fs';
import { isWellFormedString } from '../shared/canonical-json';
import { allow, deny } from '../shared/decision';
import { DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { describeFault, withTimeout } from '../shared/errors';
import { IdentityConfig, TokenVerifier, VerifiedIdentity, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { ReasonCode } from '../shared/reason-codes';
import { AgentLoopClients, compileLocalSchemas, converse, createToolExecutor, defaultClients, guardrailScreener, invokeJson } from './clients';
import { AgentLoopSettings, DEFINITION_RUNTIME_PATH, settingsFromEnv } from './config';
import { AgentHook, allowlistHook, approvalHook, guardrailHook, lambdaHook, localToolGroupsHook } from './hooks';
import { AgentLoopResult, AgentLoopStatus, LoopEvent, PendingApproval, ToolCatalogEntry, runAgentLoop } from './loop';
import { FetchFunction, createMcpClient } from './mcp-client';

export type { AgentHook, HookContext, LoopDecision, TextVerdict, ToolCall } from './hooks';
export { loopAllow, loopDeny, loopNotApplicable } from './hooks';
export type { AgentLoopResult, AgentLoopStatus, PendingApproval } from './loop';
export { REFUSAL_ANSWER } from './loop';

const SERVICE_NAME = 'agent-loop';
const CONTROL = 'agent-loop';

/** The event the handler accepts. */
export interface AgentLoopEvent {
  /** The caller's bearer token (a compact JWT), verified by the handler. */
  readonly callerToken: string;
  /** The application's session id (`[A-Za-z0-9._:-]`, 1 to 128). */
  readonly sessionId: string;
  /** The user's prompt. */
  readonly prompt: string;
}

/** What the handler answers. Never carries unscreened text, internal error text or the token. */
export interface AgentLoopResponse {
  readonly status: AgentLoopStatus;
  readonly reasonCode: ReasonCode;
  /** Echo of the request's session id, when it was well-formed. */
  readonly sessionId?: string;
  readonly turns: number;
  readonly toolCalls: number;
  /** COMPLETED: the answer after the guardrail (OUTPUT); REFUSED: a fixed refusal. */
  readonly answer?: string;
  /** APPROVAL_REQUIRED: the call that waits for a human. */
  readonly approval?: PendingApproval;
}

/** The Lambda context fields the handler reads. */
export interface AgentLoopContext {
  readonly awsRequestId?: string;
}

/** A Lambda-style handler. */
export type AgentLoopHandler = (event: unknown, context?: AgentLoopContext) => Promise<AgentLoopResponse>;

/** Everything the handler needs, explicitly (tests, embedding). */
export interface AgentLoopConfig {
  readonly identity: IdentityConfig;
  readonly settings: AgentLoopSettings;
}

/** Extensions for embedding the handler in the customer's own Lambda. */
export interface AgentLoopHandlerOptions {
  /** Customer hooks (code), run after the allowlist, group and approval hooks and before the guardrail. */
  readonly hooks?: readonly AgentHook[];
  /** The `fetch` for the gateway (tests). */
  readonly fetch?: FetchFunction;
  /** The clock (tests). @default Date.now */
  readonly clock?: () => number;
}

const TOKEN = /^[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{2,8192}$/;
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Hard cap before the configured prompt limit: nothing larger is even looked at. */
const MAX_PROMPT_INPUT = 1_000_000;

/** Parses an event strictly: exactly the three keys, each well-formed. */
export function parseAgentLoopEvent(event: unknown): { ok: true; value: AgentLoopEvent } | { ok: false; detail: string; sessionId?: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, detail: 'event is not a JSON object' };
  const e = event as Record<string, unknown>;
  const sessionId = typeof e.sessionId === 'string' && SESSION_ID.test(e.sessionId) ? e.sessionId : undefined;
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'callerToken,prompt,sessionId') return { ok: false, detail: 'event must have exactly callerToken, sessionId and prompt', sessionId };
  if (typeof e.callerToken !== 'string' || !TOKEN.test(e.callerToken)) return { ok: false, detail: 'callerToken is not a compact JWT', sessionId };
  if (sessionId === undefined) return { ok: false, detail: 'sessionId is malformed' };
  if (typeof e.prompt !== 'string' || e.prompt.trim().length === 0 || e.prompt.length > MAX_PROMPT_INPUT || !isWellFormedString(e.prompt)) {
    return { ok: false, detail: 'prompt must be non-blank well-formed text', sessionId };
  }
  return { ok: true, value: { callerToken: e.callerToken, sessionId, prompt: e.prompt } };
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function logEvent(event: LoopEvent, subject: string | undefined, requestId: string | undefined): void {
  try {
    logs().logDecision({ control: event.control, decision: event.decision, subject, requestId, guardrailAction: event.guardrailAction, fields: { ...event.fields } });
  } catch {
    // No logger: the caller still gets its (fail-closed) answer.
  }
}

function logResult(response: AgentLoopResponse, detail: string | undefined, subject: string | undefined, requestId: string | undefined): void {
  const decision = response.status === 'COMPLETED' ? allow(response.reasonCode) : deny(response.reasonCode, detail);
  logEvent(
    {
      control: CONTROL,
      decision,
      fields: {
        status: response.status,
        turns: response.turns,
        toolCalls: response.toolCalls,
        ...(response.sessionId !== undefined ? { sessionId: response.sessionId } : {}),
        ...(response.approval ? { approvalTool: response.approval.tool, argumentsHash: response.approval.argumentsHash } : {}),
      },
    },
    subject,
    requestId,
  );
}

function respond(result: AgentLoopResult, sessionId: string | undefined): AgentLoopResponse {
  return {
    status: result.status,
    reasonCode: result.reasonCode,
    ...(sessionId !== undefined ? { sessionId } : {}),
    turns: result.turns,
    toolCalls: result.toolCalls,
    ...(result.answer !== undefined && (result.status === 'COMPLETED' || result.status === 'REFUSED') ? { answer: result.answer } : {}),
    ...(result.approval && result.status === 'APPROVAL_REQUIRED' ? { approval: result.approval } : {}),
  };
}

function deniedResult(reasonCode: ReasonCode, detail?: string): AgentLoopResult {
  return { status: 'DENIED', reasonCode, turns: 0, toolCalls: 0, ...(detail !== undefined ? { detail } : {}) };
}

/** Builds the handler from configuration and SDK clients. Throws a ConfigurationError for an invalid identity config. */
export function createHandler(config: AgentLoopConfig, clients: AgentLoopClients, options: AgentLoopHandlerOptions = {}): AgentLoopHandler {
  const { settings } = config;
  const verifier: TokenVerifier = createTokenVerifier(config.identity);
  const schemas = compileLocalSchemas(settings);
  const screen = guardrailScreener(clients.bedrock, settings);
  const mcp = settings.gatewayUrl ? createMcpClient({ url: settings.gatewayUrl, timeoutMs: settings.limits.toolTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) }) : undefined;
  const clock = options.clock ?? Date.now;
  const catalog: ToolCatalogEntry[] = [
    ...settings.definition.gatewayTools.map((t) => ({ name: t.name, source: 'GATEWAY' as const, requiresApproval: t.requiresApproval })),
    ...settings.definition.localTools.map((t) => ({ name: t.name, source: 'LOCAL' as const, requiresApproval: t.requiresApproval })),
  ];
  const functionHooks: AgentHook[] = settings.hookFunctions.map((h, i) =>
    lambdaHook(h.point, `hook-function-${i + 1}`, (payload, signal) => {
      if (!clients.lambda) throw new Error('hook functions need a Lambda client');
      return invokeJson(clients.lambda, h.arn, payload, signal, settings.limits.toolTimeoutMs);
    }),
  );
  const hooks: AgentHook[] = [
    allowlistHook(new Set(catalog.map((t) => t.name))),
    localToolGroupsHook(new Map(settings.definition.localTools.flatMap((t) => (t.allowedGroups ? [[t.name, t.allowedGroups] as const] : [])))),
    approvalHook(),
    ...(options.hooks ?? []),
    ...functionHooks,
    guardrailHook(screen),
  ];

  const run = async (event: unknown, requestId: string | undefined): Promise<{ result: AgentLoopResult; sessionId?: string; subject?: string }> => {
    const parsed = parseAgentLoopEvent(event);
    if (!parsed.ok) return { result: deniedResult('MALFORMED_REQUEST', parsed.detail), sessionId: parsed.sessionId };
    const { callerToken, sessionId, prompt } = parsed.value;
    const verified = await verifyIdentity(verifier, callerToken);
    if (verified.outcome !== 'ALLOW') return { result: deniedResult(verified.reasonCode, verified.detail), sessionId };
    const identity: VerifiedIdentity = verified.identity;
    const controller = new AbortController();
    const tools = createToolExecutor({ settings, schemas, callerToken, identity, sessionId, mcp, lambda: clients.lambda });
    const running = runAgentLoop(
      { identity, sessionId, prompt, now: clock() },
      {
        modelId: settings.modelId,
        systemPrompt: settings.definition.systemPrompt,
        converse: (request, signal) => converse(clients.bedrock, request, signal),
        tools,
        catalog,
        hooks,
        limits: settings.limits,
        clock,
        log: (e) => logEvent(e, identity.subject, requestId),
        signal: controller.signal,
      },
    );
    try {
      return { result: await withTimeout(running, settings.limits.timeoutMs, 'agent loop'), sessionId, subject: identity.subject };
    } catch (err) {
      return { result: deniedResult('UPSTREAM_TIMEOUT', describeFault(err)), sessionId, subject: identity.subject };
    } finally {
      // Whatever is still in flight after the deadline has nothing left to decide.
      controller.abort();
    }
  };

  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    let outcome: { result: AgentLoopResult; sessionId?: string; subject?: string };
    try {
      outcome = await run(event, requestId);
    } catch (err) {
      outcome = { result: deniedResult('INTERNAL_ERROR', describeFault(err)) };
    }
    const response = respond(outcome.result, outcome.sessionId);
    logResult(response, outcome.result.detail, outcome.subject, requestId);
    try {
      logs().flush();
    } catch {
      // Best effort.
    }
    return response;
  };
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): AgentLoopHandler {
  const detail = problems.join('; ');
  return async (_event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const response: AgentLoopResponse = { status: 'DENIED', reasonCode: 'MISCONFIGURED', turns: 0, toolCalls: 0 };
    logResult(response, detail, undefined, requestId);
    return response;
  };
}

function readDefinitionFile(): string | undefined {
  try {
    return readFileSync(DEFINITION_RUNTIME_PATH, 'utf8');
  } catch {
    return undefined;
  }
}

let configured: AgentLoopHandler | undefined;

function fromEnvironment(): AgentLoopHandler {
  try {
    const settings = settingsFromEnv(process.env, readDefinitionFile());
    if (!settings.ok) return misconfiguredHandler(settings.problems);
    return createHandler({ identity: identityConfigFromEnv(process.env), settings: settings.settings }, defaultClients());
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: AgentLoopHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    // Last resort: nothing above should throw, and nothing may leave but a denial.
    return { status: 'DENIED', reasonCode: 'INTERNAL_ERROR', turns: 0, toolCalls: 0 };
  }
};
