/**
 * Configuration of the agent-workflow step runner: the environment `AgentWorkflow` writes, its limits, and pure
 * parsers shared by the handler and the construct so that names and rules exist once. No SDK, no side effects.
 *
 * The step table (which agent function each step runs, what output it expects) lives in the function's
 * KMS-encrypted environment, never in the Step Functions payload: the state machine names a step, it cannot point
 * the runner at another function or change how a verdict is read.
 */
import { compileToolSchema } from '../tool-interceptor/schema-validate';

/** Names of the environment variables the runner reads. */
export const WorkflowEnv = {
  /** JSON object: step name → {@link StepConfig}. */
  STEPS: 'WORKFLOW_STEPS',
  /** JSON Schema (the strict subset of `tool-interceptor/schema-validate`) of the execution input. */
  INPUT_SCHEMA: 'WORKFLOW_INPUT_SCHEMA',
  /** `<issuer>|<client id>`: the workflow's own principal (it requests approvals). */
  PRINCIPAL: 'WORKFLOW_PRINCIPAL',
  /** The OAuth 2.0 token endpoint of the workflow identity (`https://<domain>/oauth2/token`). */
  TOKEN_URL: 'WORKFLOW_TOKEN_URL',
  /** The workflow's app client id. */
  CLIENT_ID: 'WORKFLOW_CLIENT_ID',
  /** ARN of the Secrets Manager secret that holds the app client's secret. */
  CLIENT_SECRET_ARN: 'WORKFLOW_CLIENT_SECRET_ARN',
  /** The scope requested with the client credentials grant (`<resource server>/<scope>`). */
  SCOPE: 'WORKFLOW_SCOPE',
  /** Largest prompt built for an agent, in characters (a larger one fails the step, never truncated). */
  MAX_PROMPT_CHARS: 'WORKFLOW_MAX_PROMPT_CHARS',
  /** Deadline of one agent invocation in milliseconds. */
  AGENT_TIMEOUT_MS: 'WORKFLOW_AGENT_TIMEOUT_MS',
  /** Deadline of the secret read and of the token request, in milliseconds. */
  TOKEN_TIMEOUT_MS: 'WORKFLOW_TOKEN_TIMEOUT_MS',
} as const;

/** Error names the runner fails with (the Step Functions error names the state machine retries or catches). */
export const WorkflowErrorName = {
  /** A transient fault: retry with backoff. */
  RETRYABLE: 'WorkflowRetryable',
  /** A step that cannot succeed by retrying. */
  STEP_FAILED: 'WorkflowStepFailed',
  /** The execution input does not match the workflow's schema. */
  INPUT_INVALID: 'WorkflowInputInvalid',
} as const;

/** How a step's agent answer is read. */
export const StepOutputType = {
  /** The screened answer text is the step's output (for a later agent to read). */
  TEXT: 'TEXT',
  /** The answer must be one JSON verdict; it is parsed strictly and anything else becomes the default verdict. */
  VERDICT: 'VERDICT',
} as const;
export type StepOutputType = (typeof StepOutputType)[keyof typeof StepOutputType];

/** One step of the table. */
export interface StepConfig {
  /** The agent's function. */
  readonly functionArn: string;
  readonly output: StepOutputType;
  /** The names of the inputs the state machine passes (exactly these, in this order in the prompt). */
  readonly inputs: readonly string[];
  /** VERDICT: the allowed verdicts. */
  readonly verdicts?: readonly string[];
  /** VERDICT: the safe verdict used whenever the agent's answer is not a valid verdict. */
  readonly defaultVerdict?: string;
  /**
   * VERDICT: fields the verdict must echo, each equal to the value the state machine passes in `expect` (for
   * example the alert's IP address). Required with any verdict other than the default.
   */
  readonly echo?: readonly string[];
}

/** Step names: the Step Functions state id, and part of the session id. */
export const STEP_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
/** Input and echo field names. */
export const FIELD_NAME_PATTERN = /^[a-z][A-Za-z0-9_]{0,31}$/;
/** Verdicts. */
export const VERDICT_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]{1,20}:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$/;
const TOKEN_URL = /^https:\/\/[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?\/oauth2\/token$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]{1,20}:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
const CLIENT_ID = /^[A-Za-z0-9_+-]{1,128}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
const PRINCIPAL = /^[^|\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,511}\|[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,512}$/u;

/** Limits, inclusive. */
export const WORKFLOW_LIMITS = {
  steps: [1, 16],
  inputs: [0, 8],
  verdicts: [2, 8],
  echo: [0, 4],
  maxPromptChars: [1_000, 100_000],
  agentTimeoutMs: [5_000, 880_000],
  tokenTimeoutMs: [1_000, 30_000],
  inputSchemaChars: [2, 2_048],
} as const;

/** Defaults. */
export const WORKFLOW_DEFAULTS = {
  maxPromptChars: 20_000,
  tokenTimeoutMs: 10_000,
} as const;

/** Everything the runner needs, validated. */
export interface WorkflowSettings {
  readonly steps: Readonly<Record<string, StepConfig>>;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly principal: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecretArn: string;
  readonly scope: string;
  readonly maxPromptChars: number;
  readonly agentTimeoutMs: number;
  readonly tokenTimeoutMs: number;
}

/** Every problem with one step's configuration (empty when valid). Used by the construct at synth too. */
export function stepConfigProblems(name: string, step: unknown, checkArn = true): string[] {
  const problems: string[] = [];
  if (!STEP_NAME_PATTERN.test(name)) problems.push(`step name "${name}" must be 1 to 64 letters and digits, starting with a letter`);
  if (typeof step !== 'object' || step === null || Array.isArray(step)) return [...problems, `step ${name} must be an object`];
  const s = step as Record<string, unknown>;
  const allowed = ['functionArn', 'output', 'inputs', 'verdicts', 'defaultVerdict', 'echo'];
  for (const k of Object.keys(s)) if (!allowed.includes(k)) problems.push(`step ${name} has an unknown key ${k}`);
  if (checkArn && (typeof s.functionArn !== 'string' || !LAMBDA_ARN.test(s.functionArn))) problems.push(`step ${name}: functionArn must be an unqualified Lambda function ARN`);
  const inputs = s.inputs;
  if (!Array.isArray(inputs) || inputs.length > WORKFLOW_LIMITS.inputs[1] || inputs.some((i) => typeof i !== 'string' || !FIELD_NAME_PATTERN.test(i)) || new Set(inputs).size !== inputs.length) {
    problems.push(`step ${name}: inputs must be at most ${WORKFLOW_LIMITS.inputs[1]} distinct names (a lower-case letter, then letters, digits or _ , up to 32)`);
  }
  if (s.output === StepOutputType.TEXT) {
    if (s.verdicts !== undefined || s.defaultVerdict !== undefined || s.echo !== undefined) problems.push(`step ${name}: a TEXT step has no verdicts, defaultVerdict or echo`);
  } else if (s.output === StepOutputType.VERDICT) {
    const v = s.verdicts;
    if (!Array.isArray(v) || v.length < WORKFLOW_LIMITS.verdicts[0] || v.length > WORKFLOW_LIMITS.verdicts[1] || v.some((x) => typeof x !== 'string' || !VERDICT_PATTERN.test(x)) || new Set(v).size !== v.length) {
      problems.push(`step ${name}: verdicts must be ${WORKFLOW_LIMITS.verdicts[0]} to ${WORKFLOW_LIMITS.verdicts[1]} distinct upper-case codes (A-Z, 0-9, _)`);
    } else if (typeof s.defaultVerdict !== 'string' || !v.includes(s.defaultVerdict)) {
      problems.push(`step ${name}: defaultVerdict must be one of the verdicts`);
    }
    const e = s.echo ?? [];
    if (!Array.isArray(e) || e.length > WORKFLOW_LIMITS.echo[1] || e.some((x) => typeof x !== 'string' || !FIELD_NAME_PATTERN.test(x) || x === 'verdict') || new Set(e).size !== e.length) {
      problems.push(`step ${name}: echo must be at most ${WORKFLOW_LIMITS.echo[1]} distinct field names other than "verdict"`);
    }
  } else {
    problems.push(`step ${name}: output must be TEXT or VERDICT`);
  }
  return problems;
}

/** Problems with an input schema (it must compile in the strict subset and describe an object). */
export function inputSchemaProblems(schema: unknown): string[] {
  let text: string;
  try {
    text = JSON.stringify(schema);
  } catch {
    return ['inputSchema is not JSON'];
  }
  if (typeof text !== 'string' || text.length > WORKFLOW_LIMITS.inputSchemaChars[1]) return [`inputSchema is longer than ${WORKFLOW_LIMITS.inputSchemaChars[1]} characters of JSON`];
  if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'object') return ['inputSchema must describe an object (type: "object")'];
  try {
    compileToolSchema(schema);
    return [];
  } catch (err) {
    return [`inputSchema is not in the supported subset: ${(err as Error).message}`];
  }
}

function int(env: Readonly<Record<string, string | undefined>>, key: string, range: readonly [number, number], fallback: number | undefined, problems: string[]): number {
  const raw = env[key];
  if (raw === undefined && fallback !== undefined) return fallback;
  const n = raw !== undefined && /^[0-9]{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= range[0] && n <= range[1])) problems.push(`${key} must be an integer from ${range[0]} to ${range[1]}`);
  return n;
}

/** Reads and checks the configuration; every problem is reported. */
export function workflowSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): { ok: true; settings: WorkflowSettings } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  let steps: Record<string, StepConfig> = {};
  try {
    const raw = JSON.parse(env[WorkflowEnv.STEPS] ?? '') as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    const names = Object.keys(raw);
    if (names.length < WORKFLOW_LIMITS.steps[0] || names.length > WORKFLOW_LIMITS.steps[1]) problems.push(`${WorkflowEnv.STEPS} must have 1 to ${WORKFLOW_LIMITS.steps[1]} steps`);
    for (const n of names) problems.push(...stepConfigProblems(n, (raw as Record<string, unknown>)[n]));
    steps = raw as Record<string, StepConfig>;
  } catch {
    problems.push(`${WorkflowEnv.STEPS} must be a JSON object of steps`);
  }
  let inputSchema: Record<string, unknown> = {};
  try {
    inputSchema = JSON.parse(env[WorkflowEnv.INPUT_SCHEMA] ?? '') as Record<string, unknown>;
    problems.push(...inputSchemaProblems(inputSchema));
  } catch {
    problems.push(`${WorkflowEnv.INPUT_SCHEMA} must be a JSON schema`);
  }
  const text = (key: string, pattern: RegExp, what: string): string => {
    const v = env[key];
    if (v === undefined || !pattern.test(v)) problems.push(`${key} must be ${what}`);
    return v ?? '';
  };
  const principal = text(WorkflowEnv.PRINCIPAL, PRINCIPAL, '<issuer>|<subject>');
  const tokenUrl = text(WorkflowEnv.TOKEN_URL, TOKEN_URL, 'an https URL ending in /oauth2/token');
  const clientId = text(WorkflowEnv.CLIENT_ID, CLIENT_ID, 'an app client id');
  const clientSecretArn = text(WorkflowEnv.CLIENT_SECRET_ARN, SECRET_ARN, 'a Secrets Manager secret ARN');
  const scope = text(WorkflowEnv.SCOPE, SCOPE, 'one OAuth scope');
  const maxPromptChars = int(env, WorkflowEnv.MAX_PROMPT_CHARS, WORKFLOW_LIMITS.maxPromptChars, WORKFLOW_DEFAULTS.maxPromptChars, problems);
  const agentTimeoutMs = int(env, WorkflowEnv.AGENT_TIMEOUT_MS, WORKFLOW_LIMITS.agentTimeoutMs, undefined, problems);
  const tokenTimeoutMs = int(env, WorkflowEnv.TOKEN_TIMEOUT_MS, WORKFLOW_LIMITS.tokenTimeoutMs, WORKFLOW_DEFAULTS.tokenTimeoutMs, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, settings: { steps, inputSchema, principal, tokenUrl, clientId, clientSecretArn, scope, maxPromptChars, agentTimeoutMs, tokenTimeoutMs } };
}
