/**
 * I/O of the agent loop: Converse (Bedrock Runtime), ApplyGuardrail (through the guardrail enforcer's own fail-closed
 * screening: partition, seams, coverage proof, block versus mask), Lambda Invoke for local tools and customer hook
 * functions, and the GuardedGateway over MCP. Responses are returned raw and read (and distrusted) by the loop.
 */
import { BedrockRuntimeClient, ConverseCommand, ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ENFORCER_DEFAULTS, ENFORCER_LIMITS, EnforcerConfig } from '../guardrail-enforcer/config';
import { screenDependencies, screenText } from '../guardrail-enforcer/index';
import { parseStrictJson } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError, withTimeout } from '../shared/errors';
import { VerifiedIdentity } from '../shared/identity';
import { CompiledToolSchema, compileToolSchema, validateArguments } from '../tool-interceptor/schema-validate';
import { AgentLoopSettings } from './config';
import { ScreenText, callerView } from './hooks';
import { ConverseRequest, ToolExecutor, ToolOutcome, ToolSpecView } from './loop';
import { McpClient } from './mcp-client';
import { APPROVAL_CODES, deniedWith } from './reason-codes';

/** The SDK clients the handler needs. */
export interface AgentLoopClients {
  readonly bedrock: BedrockRuntimeClient;
  /** Needed only for local tools and hook functions. */
  readonly lambda?: LambdaClient;
}

/** Clients for the Lambda environment (region and credentials from the environment). */
export function defaultClients(): AgentLoopClients {
  // The SDK retries throttles and 5xx a few times itself (standard mode); a fault left after that is a deny.
  return { bedrock: new BedrockRuntimeClient({ maxAttempts: 3 }), lambda: new LambdaClient({ maxAttempts: 3 }) };
}

/** One Converse call. Rejects with the SDK's error on any fault. */
export async function converse(bedrock: BedrockRuntimeClient, request: ConverseRequest, signal: AbortSignal): Promise<unknown> {
  return bedrock.send(new ConverseCommand(request as unknown as ConverseCommandInput), { abortSignal: signal });
}

/** Largest answer read from a local tool or hook function, in bytes. */
export const MAX_FUNCTION_ANSWER_BYTES = 1024 * 1024;

/**
 * Invokes a Lambda function synchronously with a JSON payload and returns its JSON answer. Rejects on an SDK fault,
 * a function error (the function threw: UPSTREAM_UNAVAILABLE), a missing, oversized or non-strict-JSON answer.
 */
export async function invokeJson(lambda: LambdaClient, functionArn: string, payload: Record<string, unknown>, signal: AbortSignal, timeoutMs: number): Promise<unknown> {
  const call = lambda.send(
    new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    { abortSignal: signal },
  );
  const out = await withTimeout(call, timeoutMs, 'function invoke');
  if (typeof out !== 'object' || out === null) throw new MalformedResponseError('Invoke returned no response');
  if (out.FunctionError !== undefined) throw new EnforcementError('UPSTREAM_UNAVAILABLE', 'the function failed (FunctionError)');
  if (out.StatusCode !== 200) throw new MalformedResponseError(`Invoke returned status ${String(out.StatusCode)}`);
  const bytes = out.Payload;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw new MalformedResponseError('Invoke returned no payload');
  if (bytes.byteLength > MAX_FUNCTION_ANSWER_BYTES) throw new MalformedResponseError('the function answer is too large');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedResponseError('the function answer is not UTF-8');
  }
  try {
    return parseStrictJson(text);
  } catch {
    throw new MalformedResponseError('the function answer is not strict JSON');
  }
}

/**
 * Reads a local tool's answer strictly: `{ "ok": true, "result": <JSON> }` (the model sees `result`, a string as is,
 * anything else as JSON) or `{ "ok": false, "reasonCode": "<CODE>" }` (a refused call; APPROVAL_REQUIRED or
 * APPROVAL_PENDING stop the loop for approval). Anything else throws (the loop stops).
 */
export function readLocalToolAnswer(answer: unknown): ToolOutcome {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new MalformedResponseError('the tool answer is not a JSON object');
  const a = answer as Record<string, unknown>;
  const keys = Object.keys(a).sort().join(',');
  if (a.ok === true && keys === 'ok,result') {
    return { kind: 'RESULT', text: typeof a.result === 'string' ? a.result : JSON.stringify(a.result), isError: false };
  }
  const code = a.ok === false && keys === 'ok,reasonCode' ? deniedWith(a.reasonCode, 'TOOL_DENIED') : undefined;
  if (code !== undefined) return APPROVAL_CODES.has(code.reasonCode) ? { kind: 'APPROVAL', reasonCode: code.reasonCode } : { kind: 'DENIED', ...code };
  throw new MalformedResponseError('the tool answer must be {"ok":true,"result":...} or {"ok":false,"reasonCode":"<CODE>"}');
}

/**
 * Screens text with the agent's guardrail, with the guardrail enforcer's fail-closed logic: invisible (smuggling)
 * characters deny, a fault blocks with its code, text is partitioned with seams and coverage is proven.
 */
export function guardrailScreener(bedrock: BedrockRuntimeClient, settings: AgentLoopSettings): ScreenText {
  const config: EnforcerConfig = {
    guardrailIdentifier: settings.guardrailIdentifier,
    guardrailVersion: settings.guardrailVersion,
    sourceMode: 'REQUEST',
    toolResultSource: 'INPUT',
    smugglingMode: 'DENY',
    maxCharsPerCall: ENFORCER_DEFAULTS.maxCharsPerCall,
    // Inputs are bounded before screening (prompt, tool results); answers by maxOutputTokens.
    maxTotalChars: ENFORCER_LIMITS.maxTotalChars[1],
    seamChars: ENFORCER_DEFAULTS.seamChars,
    maxCalls: ENFORCER_LIMITS.maxCalls[1],
    timeoutMs: settings.limits.toolTimeoutMs,
    concurrency: ENFORCER_DEFAULTS.concurrency,
  };
  const deps = screenDependencies(config, { bedrock });
  return (text, source) => screenText(text, source, deps);
}

/** Compiles the local tools' schemas once (a schema the validator refuses is a configuration error). */
export function compileLocalSchemas(settings: AgentLoopSettings): ReadonlyMap<string, CompiledToolSchema> {
  return new Map(settings.definition.localTools.map((t) => [t.name, compileToolSchema(t.inputSchema)]));
}

/** What {@link createToolExecutor} needs for one invocation. */
export interface ToolExecutorOptions {
  readonly settings: AgentLoopSettings;
  readonly schemas: ReadonlyMap<string, CompiledToolSchema>;
  /** The caller's verified bearer token, forwarded to the gateway (which verifies it again). */
  readonly callerToken: string;
  readonly identity: VerifiedIdentity;
  readonly sessionId: string;
  readonly mcp?: McpClient;
  readonly lambda?: LambdaClient;
}

/**
 * The agent's tools for one caller: gateway tools over MCP (with the caller's own token) and local tools as Lambda
 * functions, which receive the verified caller as a parameter the model never sees:
 * `{ "tool": "<name>", "input": { ... }, "caller": { issuer, subject, groups, scopes, clientId? }, "sessionId": "…" }`.
 * Local tool arguments are validated strictly against the tool's schema first (TOOL_ARGUMENTS_INVALID).
 */
export function createToolExecutor(options: ToolExecutorOptions): ToolExecutor {
  const { settings } = options;
  const local = new Map(settings.definition.localTools.map((t) => [t.name, t]));
  const gatewayNames = new Set(settings.definition.gatewayTools.map((t) => t.name));
  return {
    async listTools(signal): Promise<readonly ToolSpecView[]> {
      const specs: ToolSpecView[] = settings.definition.localTools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
      if (gatewayNames.size > 0) {
        if (!options.mcp) throw new EnforcementError('MISCONFIGURED', 'gateway tools without a gateway');
        const listed = await options.mcp.listTools(options.callerToken, signal);
        specs.push(...listed.filter((s) => gatewayNames.has(s.name) && !local.has(s.name)));
      }
      return specs;
    },

    async call(call, signal): Promise<ToolOutcome> {
      if (call.source === 'GATEWAY' && gatewayNames.has(call.name)) {
        if (!options.mcp) throw new EnforcementError('MISCONFIGURED', 'gateway tools without a gateway');
        return options.mcp.callTool(options.callerToken, call.name, call.input, signal);
      }
      const tool = local.get(call.name);
      const arn = settings.localToolFunctions[call.name];
      const schema = options.schemas.get(call.name);
      if (call.source !== 'LOCAL' || !tool || !arn || !schema) return { kind: 'DENIED', reasonCode: 'TOOL_NOT_ALLOWED' };
      const checked = validateArguments(call.input, schema);
      if (!checked.ok) return { kind: 'DENIED', reasonCode: 'TOOL_ARGUMENTS_INVALID' };
      if (!options.lambda) throw new EnforcementError('MISCONFIGURED', 'local tools without a Lambda client');
      const payload = { tool: call.name, input: checked.value, caller: callerView(options.identity), sessionId: options.sessionId };
      return readLocalToolAnswer(await invokeJson(options.lambda, arn, payload, signal, settings.limits.toolTimeoutMs));
    },
  };
}
