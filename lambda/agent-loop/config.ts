/**
 * Configuration of the agent loop: the environment variables and the agent definition file that `AgentLoop` writes,
 * their defaults and limits, and pure parsers shared by the handler and the construct so that names and rules exist
 * once. No SDK, no file system, no side effects on import.
 *
 * The definition (system prompt, tool allowlist, local tool specs) is too large for Lambda's 4 KB environment, so
 * the construct ships it as a JSON file in a Lambda layer and pins its SHA-256 in the (KMS-encrypted) environment;
 * the handler refuses a definition whose hash differs.
 */
import { isWellFormedString, parseStrictJson, sha256Hex } from '../shared/canonical-json';
import { intSetting } from '../shared/env-settings';
import { toolSchemaProblems } from '../tool-interceptor/schema-validate';

/** Names of the environment variables the handler reads. */
export const AgentLoopEnv = {
  /** Model id or inference profile id that Converse is called with. */
  MODEL_ID: 'AGENT_MODEL_ID',
  /** Guardrail id or ARN that screens the prompt, every tool result and the answer. */
  GUARDRAIL_IDENTIFIER: 'AGENT_GUARDRAIL_IDENTIFIER',
  /** Published guardrail version (DRAFT is refused). */
  GUARDRAIL_VERSION: 'AGENT_GUARDRAIL_VERSION',
  /** MCP endpoint of the GuardedGateway (https); absent when the agent has no gateway tools. */
  GATEWAY_URL: 'AGENT_GATEWAY_URL',
  /** JSON object: local tool name → Lambda function ARN. */
  LOCAL_TOOL_FUNCTIONS: 'AGENT_LOCAL_TOOL_FUNCTIONS',
  /** JSON array of `{ point, arn }`: customer hook functions, in the order they run. */
  HOOK_FUNCTIONS: 'AGENT_HOOK_FUNCTIONS',
  /** SHA-256 (hex) of the definition file's bytes. */
  DEFINITION_SHA256: 'AGENT_DEFINITION_SHA256',
  MAX_TURNS: 'AGENT_MAX_TURNS',
  MAX_TOOL_CALLS_PER_TURN: 'AGENT_MAX_TOOL_CALLS_PER_TURN',
  MAX_TOOL_CALLS: 'AGENT_MAX_TOOL_CALLS',
  MAX_CONTEXT_CHARS: 'AGENT_MAX_CONTEXT_CHARS',
  MAX_OVERFLOW_RETRIES: 'AGENT_MAX_OVERFLOW_RETRIES',
  MAX_OUTPUT_TOKENS: 'AGENT_MAX_OUTPUT_TOKENS',
  MAX_TOOL_RESULT_CHARS: 'AGENT_MAX_TOOL_RESULT_CHARS',
  MAX_PROMPT_CHARS: 'AGENT_MAX_PROMPT_CHARS',
  /** Deadline of one invocation in milliseconds (below the Lambda timeout, so that a timeout is a deny). */
  TIMEOUT_MS: 'AGENT_TIMEOUT_MS',
  /** Deadline of one tool call (gateway or local) or hook call in milliseconds. */
  TOOL_TIMEOUT_MS: 'AGENT_TOOL_TIMEOUT_MS',
} as const;

/** Path of the definition file inside the layer; Lambda mounts layers under `/opt`. */
export const DEFINITION_LAYER_PATH = 'cdk-ai-defense/agent-loop/definition.json';
/** Where the handler reads the definition. */
export const DEFINITION_RUNTIME_PATH = `/opt/${DEFINITION_LAYER_PATH}`;
/** Version of the definition file's shape. */
export const DEFINITION_SCHEMA_VERSION = 1;

/** Where a customer hook function runs. */
export const HookPoint = {
  /** Before each tool call, after the allowlist and approval checks: allow or deny the call. */
  BEFORE_TOOL: 'BEFORE_TOOL',
  /** After each tool call, before the guardrail screens the result: allow or withhold the result. */
  AFTER_TOOL: 'AFTER_TOOL',
  /** Before the final answer is screened and returned: allow or refuse the answer. */
  FINAL_ANSWER: 'FINAL_ANSWER',
} as const;
export type HookPoint = (typeof HookPoint)[keyof typeof HookPoint];

/** The limits of one invocation. */
export interface AgentLimits {
  /** Model calls that produce a turn (overflow retries do not count). */
  readonly maxTurns: number;
  readonly maxToolCallsPerTurn: number;
  readonly maxToolCalls: number;
  /** Estimated size (characters of the request) above which the conversation is trimmed before a call. */
  readonly maxContextChars: number;
  /** Retries after the model reported a context overflow, each after a deeper trim. */
  readonly maxOverflowRetries: number;
  readonly maxOutputTokens: number;
  /** Larger tool results are withheld (REQUEST_TOO_LARGE), never truncated. */
  readonly maxToolResultChars: number;
  /** Larger prompts are refused (REQUEST_TOO_LARGE), never truncated. */
  readonly maxPromptChars: number;
  readonly timeoutMs: number;
  readonly toolTimeoutMs: number;
}

/** Defaults of the limits. */
export const AGENT_LOOP_DEFAULTS: AgentLimits = Object.freeze({
  maxTurns: 8,
  maxToolCallsPerTurn: 4,
  maxToolCalls: 16,
  maxContextChars: 400_000,
  maxOverflowRetries: 2,
  maxOutputTokens: 4_096,
  maxToolResultChars: 20_000,
  maxPromptChars: 20_000,
  timeoutMs: 295_000,
  toolTimeoutMs: 30_000,
});

/** Allowed ranges, inclusive. */
export const AGENT_LOOP_LIMITS = {
  maxTurns: [1, 50],
  maxToolCallsPerTurn: [1, 20],
  maxToolCalls: [1, 200],
  maxContextChars: [10_000, 4_000_000],
  maxOverflowRetries: [0, 5],
  maxOutputTokens: [1, 131_072],
  maxToolResultChars: [1_000, 200_000],
  maxPromptChars: [1, 100_000],
  timeoutMs: [1_000, 895_000],
  toolTimeoutMs: [1_000, 300_000],
  systemPromptChars: [1, 100_000],
  toolDescriptionChars: [1, 4_096],
  toolSchemaChars: [2, 16_384],
  gatewayTools: [0, 64],
  // Local tools and hook functions put one function ARN each into Lambda's 4 KB environment.
  localTools: [0, 10],
  hookFunctions: [0, 4],
  allowedGroups: [1, 32],
} as const satisfies Record<string, readonly [number, number]>;

/** Names Bedrock Converse accepts for a tool (`ToolSpecification.name`); gateway tools keep their `Target___tool` name. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A foundation model id (`anthropic.claude-…-v1:0`) or a system-defined cross-Region inference profile id (`us.…`). */
export const MODEL_ID_PATTERN = /^(?:(?:us|eu|apac|us-gov|jp|au|ca|global)\.)?[a-z0-9][a-z0-9-]{0,62}\.[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Geography prefixes of system-defined cross-Region inference profiles. */
export const INFERENCE_PROFILE_PREFIXES = ['us', 'eu', 'apac', 'us-gov', 'jp', 'au', 'ca', 'global'] as const;

const GUARDRAIL_IDENTIFIER = /^([a-z0-9]{1,64}|arn:aws[a-z-]*:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]{1,64})$/;
const GUARDRAIL_VERSION = /^[1-9][0-9]{0,7}$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]{1,20}:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** One tool the agent may call through the GuardedGateway (its spec comes from the gateway's `tools/list`). */
export interface GatewayToolEntry {
  /** The tool's name as the gateway lists it (`<Target>___<tool>`). */
  readonly name: string;
  /** Calls go through the gateway's approval gate; the loop runs them first in a turn and never retries them. */
  readonly requiresApproval: boolean;
}

/** One tool the loop runs itself, as a Lambda function it invokes. */
export interface LocalToolEntry {
  readonly name: string;
  readonly description: string;
  /** JSON Schema (the strict subset of `tool-interceptor/schema-validate`); arguments are validated against it. */
  readonly inputSchema: Readonly<Record<string, unknown>>;
  /** The loop never runs the tool itself: it stops with APPROVAL_REQUIRED (serve it through the gateway instead). */
  readonly requiresApproval: boolean;
  /**
   * Only callers whose verified groups claim holds one of these exact names may call the tool (TOOL_POLICY_DENIED
   * otherwise). Absent: every caller of the agent may.
   */
  readonly allowedGroups?: readonly string[];
}

/** The agent definition: the file in the layer. */
export interface AgentDefinition {
  readonly schemaVersion: typeof DEFINITION_SCHEMA_VERSION;
  readonly systemPrompt: string;
  readonly gatewayTools: readonly GatewayToolEntry[];
  readonly localTools: readonly LocalToolEntry[];
}

/** A customer hook function. */
export interface HookFunctionEntry {
  readonly point: HookPoint;
  readonly arn: string;
}

/** Everything the handler needs besides the identity configuration, validated. */
export interface AgentLoopSettings {
  readonly modelId: string;
  readonly guardrailIdentifier: string;
  readonly guardrailVersion: string;
  readonly gatewayUrl?: string;
  readonly definition: AgentDefinition;
  /** Local tool name → function ARN; exactly the local tools of the definition. */
  readonly localToolFunctions: Readonly<Record<string, string>>;
  readonly hookFunctions: readonly HookFunctionEntry[];
  readonly limits: AgentLimits;
}

/** The result of reading configuration: settings, or every problem found. */
export type SettingsResult = { readonly ok: true; readonly settings: AgentLoopSettings } | { readonly ok: false; readonly problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with an https URL for the gateway (no credentials, no fragment). */
export function gatewayUrlProblems(name: string, value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${name} is "${value}"; allowed: an absolute https URL`];
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.hash) {
    return [`${name} is "${value}"; allowed: an https URL without credentials or fragment`];
  }
  return [];
}

/** Problems with the limits (shared with the construct). */
export function limitProblems(limits: AgentLimits): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(AGENT_LOOP_DEFAULTS) as (keyof AgentLimits)[]) {
    const [min, max] = AGENT_LOOP_LIMITS[key];
    const v = limits[key];
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${key} is ${v}; allowed: a whole number from ${min} to ${max}`);
  }
  if (limits.maxToolCallsPerTurn > limits.maxToolCalls) {
    problems.push(`maxToolCallsPerTurn is ${limits.maxToolCallsPerTurn}; allowed: at most maxToolCalls (${limits.maxToolCalls})`);
  }
  if (limits.toolTimeoutMs > limits.timeoutMs) {
    problems.push(`toolTimeoutMs is ${limits.toolTimeoutMs}; allowed: at most timeoutMs (${limits.timeoutMs})`);
  }
  return problems;
}

/** Problems with one tool's name, description and input schema (shared with the construct). */
export function localToolProblems(tool: { name: unknown; description: unknown; inputSchema: unknown }): string[] {
  const problems: string[] = [];
  const label = typeof tool.name === 'string' ? tool.name : JSON.stringify(tool.name);
  if (typeof tool.name !== 'string' || !TOOL_NAME_PATTERN.test(tool.name)) {
    problems.push(`local tool name is ${JSON.stringify(tool.name)}; allowed: 1 to 64 letters, digits, _ and -`);
  }
  const [dMin, dMax] = AGENT_LOOP_LIMITS.toolDescriptionChars;
  if (typeof tool.description !== 'string' || tool.description.length < dMin || tool.description.length > dMax || !isWellFormedString(tool.description)) {
    problems.push(`description of local tool ${label} must be well-formed text of ${dMin} to ${dMax} characters`);
  }
  if (!isPlainObject(tool.inputSchema)) {
    problems.push(`inputSchema of local tool ${label} must be a JSON Schema object`);
  } else {
    let text: string;
    try {
      text = JSON.stringify(tool.inputSchema);
    } catch {
      text = '';
    }
    const [sMin, sMax] = AGENT_LOOP_LIMITS.toolSchemaChars;
    if (text.length < sMin || text.length > sMax) problems.push(`inputSchema of local tool ${label} must serialize to ${sMin} to ${sMax} characters`);
    else problems.push(...toolSchemaProblems(tool.inputSchema).map((p) => `inputSchema of local tool ${label}: ${p}`));
  }
  return problems;
}

/** Problems with a local tool's group list (shared with the construct). */
export function allowedGroupsProblems(tool: string, groups: unknown): string[] {
  const [min, max] = AGENT_LOOP_LIMITS.allowedGroups;
  if (!Array.isArray(groups) || groups.length < min || groups.length > max) {
    return [`allowedGroups of local tool ${tool} must list ${min} to ${max} group names`];
  }
  const bad = groups.filter((g) => typeof g !== 'string' || g.length === 0 || g.length > 128 || g.trim() !== g);
  if (bad.length > 0) return [`allowedGroups of local tool ${tool} has ${JSON.stringify(bad)}; allowed: group names of 1 to 128 characters without surrounding spaces`];
  if (new Set(groups).size !== groups.length) return [`allowedGroups of local tool ${tool} repeats a group`];
  return [];
}

/** Problems with a whole definition (shared with the construct). */
export function definitionProblems(definition: AgentDefinition): string[] {
  const problems: string[] = [];
  const [pMin, pMax] = AGENT_LOOP_LIMITS.systemPromptChars;
  if (typeof definition.systemPrompt !== 'string' || definition.systemPrompt.length < pMin || definition.systemPrompt.length > pMax) {
    problems.push(`systemPrompt must be a string of ${pMin} to ${pMax} characters`);
  } else if (!isWellFormedString(definition.systemPrompt)) {
    problems.push('systemPrompt has a lone surrogate; allowed: well-formed text');
  }
  const gateway = Array.isArray(definition.gatewayTools) ? definition.gatewayTools : [];
  const local = Array.isArray(definition.localTools) ? definition.localTools : [];
  if (!Array.isArray(definition.gatewayTools) || gateway.length > AGENT_LOOP_LIMITS.gatewayTools[1]) {
    problems.push(`gatewayTools must be a list of at most ${AGENT_LOOP_LIMITS.gatewayTools[1]} tools`);
  }
  if (!Array.isArray(definition.localTools) || local.length > AGENT_LOOP_LIMITS.localTools[1]) {
    problems.push(`localTools must be a list of at most ${AGENT_LOOP_LIMITS.localTools[1]} tools`);
  }
  for (const t of gateway) {
    if (!isPlainObject(t) || typeof t.name !== 'string' || !TOOL_NAME_PATTERN.test(t.name) || typeof t.requiresApproval !== 'boolean') {
      problems.push(`gateway tool ${JSON.stringify(isPlainObject(t) ? t.name : t)} must have a name of 1 to 64 letters, digits, _ and - (as the gateway lists it) and a requiresApproval flag`);
    }
  }
  for (const t of gateway) {
    const extra = isPlainObject(t) ? Object.keys(t).filter((k) => k !== 'name' && k !== 'requiresApproval') : [];
    if (extra.length > 0) problems.push(`gateway tool ${String((t as { name?: unknown }).name)} has unsupported keys: ${extra.join(', ')}`);
  }
  for (const t of local) {
    if (!isPlainObject(t)) {
      problems.push('every local tool must be an object');
      continue;
    }
    problems.push(...localToolProblems(t as { name: unknown; description: unknown; inputSchema: unknown }));
    if (typeof t.requiresApproval !== 'boolean') problems.push(`local tool ${String(t.name)} must have a requiresApproval flag`);
    if (t.allowedGroups !== undefined) problems.push(...allowedGroupsProblems(String(t.name), t.allowedGroups));
    const extra = Object.keys(t).filter((k) => !['name', 'description', 'inputSchema', 'requiresApproval', 'allowedGroups'].includes(k));
    if (extra.length > 0) problems.push(`local tool ${String(t.name)} has unsupported keys: ${extra.join(', ')}`);
  }
  const names = [...gateway, ...local].map((t) => (isPlainObject(t) ? t.name : undefined));
  const duplicates = names.filter((n, i) => typeof n === 'string' && names.indexOf(n) !== i);
  if (duplicates.length > 0) problems.push(`tool names must be unique across gateway and local tools; repeated: ${[...new Set(duplicates)].join(', ')}`);
  return problems;
}

/** The definition file's text for a definition: canonical key order is not needed, only stable bytes per build. */
export function renderDefinition(definition: AgentDefinition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

/** Reads the definition file's text: the hash must match, the JSON must be strict, the shape must be valid. */
export function parseDefinition(text: string, expectedSha256: string): { ok: true; definition: AgentDefinition } | { ok: false; problems: string[] } {
  if (!SHA256_HEX.test(expectedSha256)) return { ok: false, problems: [`${AgentLoopEnv.DEFINITION_SHA256} is not a SHA-256 hex digest`] };
  let actual: string;
  try {
    actual = sha256Hex(text);
  } catch {
    return { ok: false, problems: ['the definition file is not well-formed text'] };
  }
  if (actual !== expectedSha256) return { ok: false, problems: [`the definition file's SHA-256 is ${actual}, the environment pins ${expectedSha256}`] };
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text);
  } catch (err) {
    return { ok: false, problems: [`the definition file is not strict JSON: ${(err as Error).message}`] };
  }
  if (!isPlainObject(parsed)) return { ok: false, problems: ['the definition file must hold a JSON object'] };
  const unknownKeys = Object.keys(parsed).filter((k) => !['schemaVersion', 'systemPrompt', 'gatewayTools', 'localTools'].includes(k));
  if (unknownKeys.length > 0) return { ok: false, problems: [`the definition file has unsupported keys: ${unknownKeys.join(', ')}`] };
  if (parsed.schemaVersion !== DEFINITION_SCHEMA_VERSION) return { ok: false, problems: [`the definition file's schemaVersion must be ${DEFINITION_SCHEMA_VERSION}`] };
  const definition = parsed as unknown as AgentDefinition;
  const problems = definitionProblems(definition);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, definition };
}

function jsonSetting(problems: string[], env: Env, name: string, fallback: unknown): unknown {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parseStrictJson(raw);
  } catch {
    problems.push(`${name} is not strict JSON`);
    return fallback;
  }
}

/**
 * Reads and validates the configuration from an environment map (pass `process.env`) and the definition file's
 * text (read by the caller). Pure.
 */
export function settingsFromEnv(env: Env, definitionText: string | undefined): SettingsResult {
  const problems: string[] = [];
  const modelId = env[AgentLoopEnv.MODEL_ID] ?? '';
  if (!MODEL_ID_PATTERN.test(modelId)) problems.push(`${AgentLoopEnv.MODEL_ID} is "${modelId}"; allowed: a foundation model id or a cross-Region inference profile id`);
  const guardrailIdentifier = env[AgentLoopEnv.GUARDRAIL_IDENTIFIER] ?? '';
  const guardrailVersion = env[AgentLoopEnv.GUARDRAIL_VERSION] ?? '';
  if (!GUARDRAIL_IDENTIFIER.test(guardrailIdentifier)) problems.push(`${AgentLoopEnv.GUARDRAIL_IDENTIFIER} is "${guardrailIdentifier}"; allowed: a guardrail id or ARN`);
  if (!GUARDRAIL_VERSION.test(guardrailVersion)) problems.push(`${AgentLoopEnv.GUARDRAIL_VERSION} is "${guardrailVersion}"; allowed: a published version number (DRAFT is refused)`);
  const gatewayUrl = env[AgentLoopEnv.GATEWAY_URL] || undefined;
  if (gatewayUrl !== undefined) problems.push(...gatewayUrlProblems(AgentLoopEnv.GATEWAY_URL, gatewayUrl));

  const limits: AgentLimits = {
    maxTurns: intSetting(problems, env, AgentLoopEnv.MAX_TURNS, AGENT_LOOP_DEFAULTS.maxTurns, AGENT_LOOP_LIMITS.maxTurns),
    maxToolCallsPerTurn: intSetting(problems, env, AgentLoopEnv.MAX_TOOL_CALLS_PER_TURN, AGENT_LOOP_DEFAULTS.maxToolCallsPerTurn, AGENT_LOOP_LIMITS.maxToolCallsPerTurn),
    maxToolCalls: intSetting(problems, env, AgentLoopEnv.MAX_TOOL_CALLS, AGENT_LOOP_DEFAULTS.maxToolCalls, AGENT_LOOP_LIMITS.maxToolCalls),
    maxContextChars: intSetting(problems, env, AgentLoopEnv.MAX_CONTEXT_CHARS, AGENT_LOOP_DEFAULTS.maxContextChars, AGENT_LOOP_LIMITS.maxContextChars),
    maxOverflowRetries: intSetting(problems, env, AgentLoopEnv.MAX_OVERFLOW_RETRIES, AGENT_LOOP_DEFAULTS.maxOverflowRetries, AGENT_LOOP_LIMITS.maxOverflowRetries),
    maxOutputTokens: intSetting(problems, env, AgentLoopEnv.MAX_OUTPUT_TOKENS, AGENT_LOOP_DEFAULTS.maxOutputTokens, AGENT_LOOP_LIMITS.maxOutputTokens),
    maxToolResultChars: intSetting(problems, env, AgentLoopEnv.MAX_TOOL_RESULT_CHARS, AGENT_LOOP_DEFAULTS.maxToolResultChars, AGENT_LOOP_LIMITS.maxToolResultChars),
    maxPromptChars: intSetting(problems, env, AgentLoopEnv.MAX_PROMPT_CHARS, AGENT_LOOP_DEFAULTS.maxPromptChars, AGENT_LOOP_LIMITS.maxPromptChars),
    timeoutMs: intSetting(problems, env, AgentLoopEnv.TIMEOUT_MS, AGENT_LOOP_DEFAULTS.timeoutMs, AGENT_LOOP_LIMITS.timeoutMs),
    toolTimeoutMs: intSetting(problems, env, AgentLoopEnv.TOOL_TIMEOUT_MS, AGENT_LOOP_DEFAULTS.toolTimeoutMs, AGENT_LOOP_LIMITS.toolTimeoutMs),
  };
  problems.push(...limitProblems(limits).filter((p) => p.includes('at most')));

  let definition: AgentDefinition | undefined;
  if (definitionText === undefined) {
    problems.push(`the definition file ${DEFINITION_RUNTIME_PATH} could not be read`);
  } else {
    const parsed = parseDefinition(definitionText, env[AgentLoopEnv.DEFINITION_SHA256] ?? '');
    if (parsed.ok) definition = parsed.definition;
    else problems.push(...parsed.problems);
  }

  const functions = jsonSetting(problems, env, AgentLoopEnv.LOCAL_TOOL_FUNCTIONS, {});
  const localToolFunctions: Record<string, string> = Object.create(null);
  if (!isPlainObject(functions)) {
    problems.push(`${AgentLoopEnv.LOCAL_TOOL_FUNCTIONS} must be a JSON object of tool name to function ARN`);
  } else {
    for (const [name, arn] of Object.entries(functions)) {
      if (typeof arn !== 'string' || !LAMBDA_ARN.test(arn)) problems.push(`${AgentLoopEnv.LOCAL_TOOL_FUNCTIONS}: the function of ${name} is not a Lambda function ARN`);
      else localToolFunctions[name] = arn;
    }
  }
  const hooks = jsonSetting(problems, env, AgentLoopEnv.HOOK_FUNCTIONS, []);
  const hookFunctions: HookFunctionEntry[] = [];
  if (!Array.isArray(hooks) || hooks.length > AGENT_LOOP_LIMITS.hookFunctions[1]) {
    problems.push(`${AgentLoopEnv.HOOK_FUNCTIONS} must be a JSON array of at most ${AGENT_LOOP_LIMITS.hookFunctions[1]} hooks`);
  } else {
    for (const h of hooks) {
      const ok =
        isPlainObject(h) &&
        Object.keys(h).length === 2 &&
        (Object.values(HookPoint) as unknown[]).includes(h.point) &&
        typeof h.arn === 'string' &&
        LAMBDA_ARN.test(h.arn);
      if (ok) hookFunctions.push({ point: h.point as HookPoint, arn: h.arn as string });
      else problems.push(`${AgentLoopEnv.HOOK_FUNCTIONS}: every hook must be { point: ${Object.values(HookPoint).join('|')}, arn: <Lambda function ARN> }`);
    }
  }

  if (definition) {
    const localNames = definition.localTools.map((t) => t.name).sort();
    const wired = Object.keys(localToolFunctions).sort();
    if (JSON.stringify(localNames) !== JSON.stringify(wired)) {
      problems.push(`${AgentLoopEnv.LOCAL_TOOL_FUNCTIONS} must name exactly the definition's local tools (${localNames.join(', ') || 'none'})`);
    }
    if (definition.gatewayTools.length > 0 && gatewayUrl === undefined) {
      problems.push(`${AgentLoopEnv.GATEWAY_URL} is required when the definition has gateway tools`);
    }
  }

  if (problems.length > 0 || !definition) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      modelId,
      guardrailIdentifier,
      guardrailVersion,
      ...(gatewayUrl !== undefined ? { gatewayUrl } : {}),
      definition,
      localToolFunctions,
      hookFunctions,
      limits,
    },
  };
}
