/**
 * guardrail-enforcer: screens text with a Bedrock guardrail and fails closed.
 *
 * Two event shapes:
 * - standalone `{ "source": "INPUT"|"OUTPUT", "text": "…" }` → `{ action, reasonCode, text?, findings }`;
 * - AgentCore Gateway RESPONSE interceptor (format 1.0): `tools/call` results are screened (as INPUT by default)
 *   and passed, masked or withheld; other methods pass through unchanged.
 *
 * parse → load (ApplyGuardrail over a partition plus seams) → decide (decide.ts) → respond. Any fault becomes a
 * block with a reason code; the caller never receives unscreened text. Importing this module never throws; the
 * configuration is read from the environment on the first call, and a bad one makes every call deny (MISCONFIGURED).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Decision, allow, deny, isAllow, notApplicable } from '../shared/decision';
import { DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { describeFault, guard } from '../shared/errors';
import { GuardrailLogAction } from '../shared/log-contract';
import { ReasonCode } from '../shared/reason-codes';
import { EnforcerClients, applyGuardrail, defaultClients } from './clients';
import { EnforcerConfig, GuardrailSourceName, configFromEnv } from './config';
import {
  CallAssessment,
  EnforcerAction,
  EnforcerResult,
  Finding,
  GatewayInterceptorOutput,
  ScreenOutcome,
  assessResponse,
  blockedOutcome,
  combineAssessments,
  extractToolTexts,
  gatewayOutput,
  guardrailLogAction,
  handleSmuggling,
  hasErrorAndResult,
  isGatewayEvent,
  parseGatewayResponseEvent,
  parseStandaloneRequest,
  planScreening,
  applyToolTexts,
  toEnforcerResult,
  withheldBody,
} from './decide';

export type { EnforcerResult, Finding, GatewayInterceptorOutput } from './decide';

const SERVICE_NAME = 'guardrail-enforcer';
const CONTROL = 'guardrail';
/** EMF metric with one data point per finding, on dimensions Policy, Type and Action. */
export const FINDING_METRIC = 'GuardrailFindings';

/** Screens one text: the I/O the orchestration needs (injectable for tests and reuse). */
export type ApplyFunction = (text: string, source: GuardrailSourceName, signal: AbortSignal) => Promise<unknown>;

/** What the screening functions need. */
export interface ScreenDependencies {
  readonly config: EnforcerConfig;
  readonly apply: ApplyFunction;
}

/** A screening outcome with the fault detail for the log (never for the caller). */
export interface GuardedOutcome {
  readonly outcome: ScreenOutcome;
  readonly detail?: string;
}

/** Runs tasks with at most `concurrency` in flight; stops early when `stop` says so or a task fails. */
async function runPool<T>(tasks: ReadonlyArray<() => Promise<T>>, concurrency: number, stop: (r: T) => boolean): Promise<{ results: Array<T | undefined>; stopped: boolean }> {
  const results: Array<T | undefined> = new Array(tasks.length).fill(undefined);
  let next = 0;
  let stopped = false;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!stopped && !failed && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (err) {
        failed = true;
        throw err;
      }
      if (stop(results[i] as T)) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return { results, stopped };
}

/**
 * Screens segments (one text, or the texts of a tool result) as one request: the hard size limit, smuggling
 * characters, the plan (partition + seams), the ApplyGuardrail calls (a block stops the rest), and the combination.
 * Throws on any fault; {@link screenGuarded} turns that into a block.
 */
export async function screenSegments(segments: readonly string[], source: GuardrailSourceName, deps: ScreenDependencies, signal: AbortSignal): Promise<ScreenOutcome> {
  const { config } = deps;
  const total = segments.reduce((n, s) => n + s.length, 0);
  if (total > config.maxTotalChars) return blockedOutcome('REQUEST_TOO_LARGE');
  const smuggling = handleSmuggling(segments, config.smugglingMode);
  if (!smuggling.ok) return blockedOutcome(smuggling.reasonCode);
  const plan = planScreening(smuggling.value.segments, config);
  if (plan.calls > config.maxCalls) return blockedOutcome('REQUEST_TOO_LARGE');

  const call = (text: string) => async (): Promise<CallAssessment> => assessResponse(await deps.apply(text, source, signal), text, source);
  const tasks = [...plan.parts.map((p) => call(p.text)), ...plan.seams.map((s) => call(s.text))];
  const { results, stopped } = await runPool(tasks, config.concurrency, (a) => a.verdict === 'BLOCKED');
  const done = results.filter((r): r is CallAssessment => r !== undefined);
  if (stopped) return blockedOutcome('GUARDRAIL_BLOCKED', combineFindings(done));
  return combineAssessments(plan, done.slice(0, plan.parts.length), done.slice(plan.parts.length), smuggling.value.stripped);
}

function combineFindings(assessments: readonly CallAssessment[]): Finding[] {
  const out = new Map<string, Finding>();
  for (const f of assessments.flatMap((a) => a.findings)) out.set(JSON.stringify(f), f);
  return [...out.values()];
}

/** {@link screenSegments} under `guard`: a throw, a timeout or anything unexpected becomes a block with its code. */
export async function screenGuarded(segments: readonly string[], source: GuardrailSourceName, deps: ScreenDependencies): Promise<GuardedOutcome> {
  const controller = new AbortController();
  let outcome: ScreenOutcome | undefined;
  const decision = await guard(
    async () => {
      outcome = await screenSegments(segments, source, deps, controller.signal);
      return allow();
    },
    { timeoutMs: deps.config.timeoutMs },
  );
  // Whatever is still in flight (after a timeout or a fault) has nothing left to decide.
  controller.abort();
  if (isAllow(decision) && outcome) return { outcome };
  return { outcome: blockedOutcome(decision.reasonCode), detail: decision.outcome === 'DENY' ? decision.detail : undefined };
}

/** The screening dependencies of `config`: ApplyGuardrail with `clients`, on the configured guardrail and version. */
export function screenDependencies(config: EnforcerConfig, clients: EnforcerClients): ScreenDependencies {
  return {
    config,
    apply: (text, source, signal) =>
      applyGuardrail(clients, { guardrailIdentifier: config.guardrailIdentifier, guardrailVersion: config.guardrailVersion, source, text }, signal),
  };
}

/** The screening of one text, as handlers that embed the enforcer use it (the agent loop, the memory broker). */
export interface ScreenedText {
  readonly action: EnforcerAction;
  readonly reasonCode: ReasonCode;
  /** The screened (ALLOWED) or masked (MASKED) text; absent when BLOCKED. */
  readonly text?: string;
  /** How many filters fired. */
  readonly findings: number;
  /** Fault detail for the log (never for the caller). */
  readonly detail?: string;
}

/** Screens one text with {@link screenGuarded}: it never throws; a fault blocks with its code. */
export async function screenText(text: string, source: GuardrailSourceName, deps: ScreenDependencies): Promise<ScreenedText> {
  const { outcome, detail } = await screenGuarded([text], source, deps);
  return {
    action: outcome.action,
    reasonCode: outcome.reasonCode,
    ...(outcome.texts && outcome.texts.length === 1 ? { text: outcome.texts[0] } : {}),
    findings: outcome.findings.length,
    ...(detail !== undefined ? { detail } : {}),
  };
}

/** The result of screening one gateway RESPONSE interceptor event. */
export interface GatewayScreenResult {
  /** The interceptor output to return to the gateway. */
  readonly output: GatewayInterceptorOutput;
  /** allow (passed or masked), deny (withheld), or notApplicable (passed through unchanged). */
  readonly decision: Decision;
  readonly guardrailAction: GuardrailLogAction;
  readonly findings: Finding[];
  /** The JSON-RPC method, when the event carried the request. */
  readonly method?: string;
}

function decisionOf(outcome: ScreenOutcome, detail?: string): Decision {
  if (outcome.action === EnforcerAction.BLOCKED) return deny(outcome.reasonCode, detail);
  return allow(outcome.reasonCode);
}

function requestIdOf(event: unknown): unknown {
  try {
    const body = (event as { mcp?: { gatewayResponse?: { body?: { id?: unknown } } } }).mcp?.gatewayResponse?.body;
    return typeof body === 'object' && body !== null ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Screens an AgentCore Gateway RESPONSE interceptor event (format 1.0). For `tools/call`, every text the model would
 * see (bare text contents, other contents and `structuredContent` as JSON, or the whole JSON-RPC error as JSON) is
 * screened as `config.toolResultSource`: allowed → passed as is, masked → the masked texts, blocked or any fault →
 * the result is replaced with an `isError` tool result naming the reason code. Other methods pass through unchanged;
 * a body of any method with both `error` and `result` is malformed and withheld (MALFORMED_REQUEST).
 * Never throws; reusable by other interceptors (e.g. to compose with tool-list scanning).
 */
export async function screenGatewayResponse(event: unknown, deps: ScreenDependencies): Promise<GatewayScreenResult> {
  const withhold = (reasonCode: ReasonCode, detail: string | undefined, id: unknown, findings: Finding[] = [], method?: string): GatewayScreenResult => ({
    output: gatewayOutput(200, withheldBody(id, reasonCode)),
    decision: deny(reasonCode, detail),
    guardrailAction: GuardrailLogAction.BLOCKED,
    findings,
    method,
  });
  try {
    const parsed = parseGatewayResponseEvent(event);
    if (!parsed.ok) return withhold(parsed.reasonCode, parsed.detail, requestIdOf(event));
    const { method, statusCode, body, id } = parsed.value;
    // Whatever the method: a reader may take either member, and only one could be screened.
    if (hasErrorAndResult(body)) return withhold('MALFORMED_REQUEST', 'response has both error and result', id, [], method);
    const looksLikeToolResult = (typeof body.result === 'object' && body.result !== null && Array.isArray((body.result as { content?: unknown }).content)) || body.error !== undefined;
    const applies = method === 'tools/call' || (method === undefined && looksLikeToolResult);
    if (!applies) {
      return { output: gatewayOutput(statusCode, body), decision: notApplicable(), guardrailAction: GuardrailLogAction.NONE, findings: [], method };
    }
    const tool = extractToolTexts(body);
    if (!tool.ok) return withhold(tool.reasonCode, tool.detail, id, [], method);
    if (tool.value.texts.length === 0) {
      return { output: gatewayOutput(statusCode, body), decision: allow(), guardrailAction: GuardrailLogAction.NONE, findings: [], method };
    }
    const { outcome, detail } = await screenGuarded(tool.value.texts, deps.config.toolResultSource, deps);
    if (outcome.action === EnforcerAction.BLOCKED || !outcome.texts) {
      return withhold(outcome.action === EnforcerAction.BLOCKED ? outcome.reasonCode : 'INTERNAL_ERROR', detail, id, outcome.findings, method);
    }
    if (outcome.action === EnforcerAction.ALLOWED && !outcome.stripped) {
      return { output: gatewayOutput(statusCode, body), decision: decisionOf(outcome), guardrailAction: GuardrailLogAction.NONE, findings: outcome.findings, method };
    }
    const rebuilt = applyToolTexts(body, tool.value, outcome.texts);
    if (!rebuilt) return withhold('GUARDRAIL_PARTIAL_COVERAGE', 'masked JSON no longer parses', id, outcome.findings, method);
    return { output: gatewayOutput(statusCode, rebuilt), decision: decisionOf(outcome), guardrailAction: guardrailLogAction(outcome.action), findings: outcome.findings, method };
  } catch (err) {
    return withhold('INTERNAL_ERROR', describeFault(err), requestIdOf(event));
  }
}

/** Screens a standalone request. Never throws. */
export async function screenStandalone(event: unknown, deps: ScreenDependencies): Promise<{ result: EnforcerResult; decision: Decision; stripped: boolean }> {
  try {
    const parsed = parseStandaloneRequest(event, deps.config.sourceMode);
    if (!parsed.ok) {
      return { result: toEnforcerResult(blockedOutcome(parsed.reasonCode)), decision: deny(parsed.reasonCode, parsed.detail), stripped: false };
    }
    const { outcome, detail } = await screenGuarded([parsed.value.text], parsed.value.source, deps);
    const result = toEnforcerResult(outcome);
    return { result, decision: decisionOf({ ...outcome, action: result.action, reasonCode: result.reasonCode }, detail), stripped: outcome.stripped === true };
  } catch (err) {
    return { result: toEnforcerResult(blockedOutcome('INTERNAL_ERROR')), decision: deny('INTERNAL_ERROR', describeFault(err)), stripped: false };
  }
}

/** A Lambda-style handler. */
export type EnforcerHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<EnforcerResult | GatewayInterceptorOutput>;

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

const metricValue = (v: string): string => v.replace(/[^A-Za-z0-9_.:/@+=,#*|~-]/g, '_').slice(0, 100);

function record(decision: Decision, guardrailAction: GuardrailLogAction, findings: readonly Finding[], requestId: string | undefined, fields: Record<string, string | number | boolean | string[]>): void {
  let log: DecisionLogger;
  try {
    log = logs();
  } catch {
    return; // no logger: the caller still gets its (fail-closed) answer
  }
  for (const f of findings) {
    try {
      log.metrics
        .singleMetric()
        .addDimensions({ Policy: f.policy, Type: metricValue(f.type), Action: f.action })
        .addMetric(FINDING_METRIC, MetricUnit.Count, 1);
    } catch {
      // Metrics are best effort; the decision line is the record.
    }
  }
  log.logDecision({
    control: CONTROL,
    decision,
    requestId,
    guardrailAction,
    fields: {
      ...fields,
      findingCount: findings.length,
      findings: findings.slice(0, 16).map((f) => metricValue(`${f.policy}:${f.type}:${f.action}`)),
    },
  });
  log.flush();
}

/** Builds the handler from explicit configuration and clients (tests, embedding). */
export function createHandler(config: EnforcerConfig, clients: EnforcerClients): EnforcerHandler {
  const deps = screenDependencies(config, clients);
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    if (isGatewayEvent(event)) {
      const r = await screenGatewayResponse(event, deps);
      record(r.decision, r.guardrailAction, r.findings, requestId, { mode: 'gateway', source: config.toolResultSource, ...(r.method ? { method: r.method } : {}) });
      return r.output;
    }
    const s = await screenStandalone(event, deps);
    record(s.decision, guardrailLogAction(s.result.action), s.result.findings, requestId, { mode: 'standalone', stripped: s.stripped });
    return s.result;
  };
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): EnforcerHandler {
  const detail = problems.join('; ');
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const gateway = isGatewayEvent(event);
    record(deny('MISCONFIGURED', detail), GuardrailLogAction.BLOCKED, [], requestId, { mode: gateway ? 'gateway' : 'standalone' });
    if (gateway) return gatewayOutput(200, withheldBody(requestIdOf(event), 'MISCONFIGURED'));
    return toEnforcerResult(blockedOutcome('MISCONFIGURED'));
  };
}

let configured: EnforcerHandler | undefined;

function fromEnvironment(): EnforcerHandler {
  try {
    const result = configFromEnv(process.env);
    if (!result.ok) return misconfiguredHandler(result.problems);
    return createHandler(result.config, defaultClients());
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: EnforcerHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    // Last resort: nothing above should throw, but nothing unscreened may ever leave.
    return isGatewayEvent(event) ? gatewayOutput(200, withheldBody(requestIdOf(event), 'INTERNAL_ERROR')) : toEnforcerResult(blockedOutcome('INTERNAL_ERROR'));
  }
};
