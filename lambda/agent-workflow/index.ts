/**
 * agent-workflow: the step runner of an `AgentWorkflow` state machine. Step Functions invokes it with a fixed
 * payload; it never sees or returns a token, a prompt or a raw model answer in a routing position.
 *
 * - `{ action: "VALIDATE_INPUT", input }`: validates the execution input against the workflow's schema (extra keys,
 *   types, lengths, invisible characters) and returns `{ input, workflow: { principal } }`.
 * - `{ action: "RUN_AGENT", step, executionId, inputs, expect? }`: looks the step up in its own configuration (the
 *   agent's function and how its answer is read), builds the prompt from the inputs as data, gets the workflow
 *   identity's access token (client credentials; cached in memory, never returned), invokes the agent function with
 *   `{ callerToken, sessionId, prompt }`, and returns the step's structured output: TEXT `{ text }` or VERDICT
 *   `{ verdict, verdictSource, verdictReason }` where anything but a strictly valid verdict (prose, a wrong shape or
 *   echo, an agent that refused, stopped or asked for approval) is the default verdict.
 *
 * Failures THROW, so that the state machine's retry and catch handle them, with the reason code as the message:
 * `WorkflowRetryable` (throttle, 5xx, timeout anywhere, or an agent that reported one or an expired token),
 * `WorkflowStepFailed` (access denied, malformed answer, misconfiguration, an agent that DENIED, a TEXT step whose
 * agent did not complete) and
 * `WorkflowInputInvalid`. One decision line per call. Importing never throws.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { allow, deny } from '../shared/decision';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { EnforcementError, classifyFault, describeFault } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { CompiledToolSchema, compileToolSchema } from '../tool-interceptor/schema-validate';
import { FetchFunction, TokenSource, createTokenSource, extensionSecretReader, invokeAgent } from './clients';
import { WorkflowErrorName, WorkflowSettings, workflowSettingsFromEnv } from './config';
import { RunnerEvent, VerdictReason, buildPrompt, inputsMatch, parseRunnerEvent, parseVerdict, readAgentAnswer, sessionIdFor, validateWorkflowInput } from './decide';

/** The `service` of the log lines and metrics. */
export const SERVICE_NAME = 'agent-workflow';
/** The `control` of the decision lines. */
export const CONTROL = 'agent-workflow';

export { WorkflowErrorName } from './config';

const RETRYABLE_CODES = new Set<ReasonCode>(['UPSTREAM_THROTTLED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'IDENTITY_EXPIRED']);

/** The error the runner fails with; its message is the reason code only (Step Functions shows it as the cause). */
export class WorkflowStepError extends Error {
  public readonly reasonCode: ReasonCode;

  public constructor(reasonCode: ReasonCode, name?: string) {
    super(reasonCode);
    this.name = name ?? (RETRYABLE_CODES.has(reasonCode) ? WorkflowErrorName.RETRYABLE : WorkflowErrorName.STEP_FAILED);
    this.reasonCode = reasonCode;
  }
}

/** What VALIDATE_INPUT returns. */
export interface ValidatedInput {
  readonly input: Record<string, unknown>;
  readonly workflow: { readonly principal: string };
}

/** What RUN_AGENT returns. */
export interface StepOutput {
  readonly step: string;
  readonly status: string;
  readonly reasonCode: string;
  readonly turns: number;
  readonly toolCalls: number;
  /** TEXT steps: the agent's screened answer. */
  readonly text?: string;
  /** VERDICT steps: the verdict, always one of the step's verdicts. */
  readonly verdict?: string;
  readonly verdictSource?: 'AGENT' | 'DEFAULT';
  readonly verdictReason?: VerdictReason;
}

/** A Lambda-style handler. */
export type WorkflowHandler = (event: unknown, context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number }) => Promise<ValidatedInput | StepOutput>;

/** What the handler talks to. */
export interface WorkflowClients {
  readonly lambda: LambdaClient;
  readonly tokens: TokenSource;
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function line(code: ReasonCode, requestId: string | undefined, fields: Record<string, DecisionLogFieldValue>, detail?: string): void {
  try {
    logs().logDecision({
      control: CONTROL,
      decision: code === 'ALLOWED' ? allow() : deny(code, detail),
      ...(requestId !== undefined ? { requestId } : {}),
      fields,
    });
  } catch {
    // Step Functions still gets the answer.
  }
}

/** Builds the handler from explicit settings and clients (tests, embedding). */
export function createHandler(settings: WorkflowSettings, clients: WorkflowClients): WorkflowHandler {
  const schema: CompiledToolSchema = compileToolSchema(settings.inputSchema);

  const validate = (event: Extract<RunnerEvent, { action: 'VALIDATE_INPUT' }>, requestId: string | undefined): ValidatedInput => {
    const checked = validateWorkflowInput(event.input, schema);
    if (!checked.ok) {
      line('MALFORMED_REQUEST', requestId, { action: 'VALIDATE_INPUT' }, checked.detail);
      throw new WorkflowStepError('MALFORMED_REQUEST', WorkflowErrorName.INPUT_INVALID);
    }
    line('ALLOWED', requestId, { action: 'VALIDATE_INPUT' });
    return { input: checked.value, workflow: { principal: settings.principal } };
  };

  const runAgent = async (event: Extract<RunnerEvent, { action: 'RUN_AGENT' }>, fields: Record<string, DecisionLogFieldValue>): Promise<StepOutput> => {
    const config = settings.steps[event.step];
    if (config === undefined || !Object.prototype.hasOwnProperty.call(settings.steps, event.step)) throw new WorkflowStepError('MISCONFIGURED');
    if (!inputsMatch(config, event.inputs)) throw new WorkflowStepError('MALFORMED_REQUEST');
    const prompt = buildPrompt(event.step, config, event.inputs);
    if (prompt.length > settings.maxPromptChars) throw new WorkflowStepError('REQUEST_TOO_LARGE');
    const sessionId = sessionIdFor(event.executionId, event.step);
    fields.sessionId = sessionId;
    const callerToken = await clients.tokens.token(settings.agentTimeoutMs);
    const answer = readAgentAnswer(await invokeAgent(clients.lambda, config.functionArn, { callerToken, sessionId, prompt }, settings.agentTimeoutMs));
    fields.agentStatus = answer.status;
    fields.agentReason = answer.reasonCode;
    const base = { step: event.step, status: answer.status, reasonCode: answer.reasonCode, turns: answer.turns, toolCalls: answer.toolCalls };
    if (answer.status === 'DENIED') {
      // The agent could not run at all (identity, fault, configuration): never a verdict, always visible.
      if (answer.reasonCode === 'IDENTITY_EXPIRED') clients.tokens.invalidate();
      throw new WorkflowStepError(answer.reasonCode === 'ALLOWED' ? 'INTERNAL_ERROR' : answer.reasonCode);
    }
    if (config.output === 'TEXT') {
      if (answer.status !== 'COMPLETED') throw new WorkflowStepError(answer.reasonCode === 'ALLOWED' ? 'INTERNAL_ERROR' : answer.reasonCode, WorkflowErrorName.STEP_FAILED);
      return { ...base, text: answer.answer! };
    }
    const verdict =
      answer.status === 'COMPLETED'
        ? parseVerdict(answer.answer!, config, event.expect)
        : { verdict: config.defaultVerdict!, source: 'DEFAULT' as const, reason: VerdictReason.AGENT_NOT_COMPLETED };
    fields.verdict = verdict.verdict;
    fields.verdictSource = verdict.source;
    fields.verdictReason = verdict.reason;
    return { ...base, verdict: verdict.verdict, verdictSource: verdict.source, verdictReason: verdict.reason };
  };

  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const parsed = parseRunnerEvent(event);
    if (typeof parsed === 'string') {
      line('MALFORMED_REQUEST', requestId, {}, parsed);
      throw new WorkflowStepError('MALFORMED_REQUEST');
    }
    if (parsed.action === 'VALIDATE_INPUT') return validate(parsed, requestId);
    const fields: Record<string, DecisionLogFieldValue> = { action: 'RUN_AGENT', step: parsed.step };
    try {
      const output = await runAgent(parsed, fields);
      line('ALLOWED', requestId, fields);
      return output;
    } catch (err) {
      const failure = err instanceof WorkflowStepError ? err : new WorkflowStepError(classifyFault(err));
      line(failure.reasonCode, requestId, fields, err instanceof WorkflowStepError || err instanceof EnforcementError ? undefined : describeFault(err));
      throw failure;
    }
  };
}

/** A handler for a configuration that failed validation: every call fails MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): WorkflowHandler {
  const detail = problems.join('; ');
  return async (_event, context) => {
    line('MISCONFIGURED', context?.awsRequestId, {}, detail);
    throw new WorkflowStepError('MISCONFIGURED');
  };
}

/** The port of the Parameters and Secrets extension (the construct sets it). */
const EXTENSION_PORT_VAR = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT';

function fromEnvironment(fetcher: FetchFunction): WorkflowHandler {
  try {
    const result = workflowSettingsFromEnv(process.env);
    if (!result.ok) return misconfiguredHandler(result.problems);
    const s = result.settings;
    const port = Number(process.env[EXTENSION_PORT_VAR] ?? '2773');
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return misconfiguredHandler([`${EXTENSION_PORT_VAR} is not a port`]);
    const readSecret = extensionSecretReader(fetcher, port, process.env.AWS_SESSION_TOKEN);
    const tokens = createTokenSource({ tokenUrl: s.tokenUrl, clientId: s.clientId, clientSecretArn: s.clientSecretArn, scope: s.scope, timeoutMs: s.tokenTimeoutMs }, readSecret, fetcher);
    return createHandler(s, { lambda: new LambdaClient({ maxAttempts: 2 }), tokens });
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

let configured: WorkflowHandler | undefined;

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: WorkflowHandler = async (event, context) => {
  configured ??= fromEnvironment((url, init) => fetch(url, init));
  return configured(event, context);
};
