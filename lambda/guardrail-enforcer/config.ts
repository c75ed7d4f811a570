/**
 * Configuration of the guardrail enforcer: the environment variables `GuardrailEnforcer` sets, their defaults and
 * limits, and a pure parser. Shared by the handler and the construct so that the names exist once.
 * No SDK, no side effects on import.
 */
import { intSetting } from '../shared/env-settings';

/** Names of the environment variables the handler reads. */
export const EnforcerEnv = {
  /** Guardrail id or ARN (required). */
  GUARDRAIL_IDENTIFIER: 'GUARDRAIL_IDENTIFIER',
  /** Published guardrail version number (required; DRAFT is refused). */
  GUARDRAIL_VERSION: 'GUARDRAIL_VERSION',
  /** REQUEST | INPUT | OUTPUT: who chooses the source of standalone requests. */
  SOURCE_MODE: 'SOURCE_MODE',
  /** INPUT | OUTPUT: the source tool results are screened as in the gateway interceptor. */
  TOOL_RESULT_SOURCE: 'TOOL_RESULT_SOURCE',
  /** DENY | STRIP: what happens to invisible (smuggling) characters. */
  SMUGGLING_MODE: 'SMUGGLING_MODE',
  /** Characters sent per ApplyGuardrail call. */
  MAX_CHARS_PER_CALL: 'MAX_CHARS_PER_CALL',
  /** Hard maximum of characters per request; larger requests are rejected, never truncated. */
  MAX_TOTAL_CHARS: 'MAX_TOTAL_CHARS',
  /** Characters on each side of a partition boundary that a seam window screens again. */
  SEAM_CHARS: 'SEAM_CHARS',
  /** Maximum ApplyGuardrail calls one request may need. */
  MAX_CALLS: 'MAX_CALLS',
  /** Deadline of one request in milliseconds (below the Lambda timeout, so that a timeout is a deny). */
  TIMEOUT_MS: 'TIMEOUT_MS',
} as const;

/** Who chooses whether standalone text is screened as INPUT or OUTPUT. */
export const SourceMode = {
  /** The request says (`source`: INPUT or OUTPUT); a request without one is malformed. */
  REQUEST: 'REQUEST',
  /** Always INPUT; a request asking for OUTPUT is denied (CALLER_CHOSE_PROTECTED_SETTING). */
  INPUT: 'INPUT',
  /** Always OUTPUT; a request asking for INPUT is denied (CALLER_CHOSE_PROTECTED_SETTING). */
  OUTPUT: 'OUTPUT',
} as const;
export type SourceMode = (typeof SourceMode)[keyof typeof SourceMode];

/** The two sources of ApplyGuardrail. */
export type GuardrailSourceName = 'INPUT' | 'OUTPUT';

/** What happens to text that carries invisible characters (tag characters, variation selectors, zero-width, bidi). */
export const SmugglingMode = {
  /** Deny the request with SMUGGLED_CHARACTERS (the default). */
  DENY: 'DENY',
  /** Remove the characters, then screen and return the cleaned text. */
  STRIP: 'STRIP',
} as const;
export type SmugglingMode = (typeof SmugglingMode)[keyof typeof SmugglingMode];

/** The enforcer's configuration, validated. */
export interface EnforcerConfig {
  readonly guardrailIdentifier: string;
  readonly guardrailVersion: string;
  readonly sourceMode: SourceMode;
  readonly toolResultSource: GuardrailSourceName;
  readonly smugglingMode: SmugglingMode;
  readonly maxCharsPerCall: number;
  readonly maxTotalChars: number;
  readonly seamChars: number;
  readonly maxCalls: number;
  readonly timeoutMs: number;
  /** ApplyGuardrail calls in flight at once for one request. */
  readonly concurrency: number;
}

/**
 * Defaults. ApplyGuardrail bills and limits text in units of 1,000 characters, and rejects requests above a
 * per-request quota of text units that depends on region and tier (25 units, i.e. 25,000 characters, is the
 * commonly reported figure); 20,000 characters per call stays under it with margin.
 */
export const ENFORCER_DEFAULTS = {
  sourceMode: SourceMode.REQUEST,
  toolResultSource: 'INPUT' as GuardrailSourceName,
  smugglingMode: SmugglingMode.DENY,
  maxCharsPerCall: 20_000,
  maxTotalChars: 200_000,
  seamChars: 500,
  maxCalls: 50,
  timeoutMs: 25_000,
  concurrency: 4,
} as const;

/** Allowed ranges, inclusive. */
export const ENFORCER_LIMITS = {
  maxCharsPerCall: [1_000, 100_000],
  maxTotalChars: [1_000, 1_000_000],
  seamChars: [50, 5_000],
  maxCalls: [1, 500],
  timeoutMs: [1_000, 900_000],
} as const;

const GUARDRAIL_IDENTIFIER = /^([a-z0-9]{1,64}|arn:aws[a-z-]*:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]{1,64})$/;
const GUARDRAIL_VERSION = /^[1-9][0-9]{0,7}$/;

function choice<T extends string>(problems: string[], env: Readonly<Record<string, string | undefined>>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} is "${raw}"; allowed: ${allowed.join(', ')}`);
    return fallback;
  }
  return raw as T;
}

/** The result of reading configuration: a config, or every problem found. */
export type ConfigResult = { readonly ok: true; readonly config: EnforcerConfig } | { readonly ok: false; readonly problems: string[] };

/** Reads and validates the configuration from an environment map (pass `process.env`). Pure. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const problems: string[] = [];
  const guardrailIdentifier = env[EnforcerEnv.GUARDRAIL_IDENTIFIER] ?? '';
  const guardrailVersion = env[EnforcerEnv.GUARDRAIL_VERSION] ?? '';
  if (!GUARDRAIL_IDENTIFIER.test(guardrailIdentifier)) {
    problems.push(`${EnforcerEnv.GUARDRAIL_IDENTIFIER} is "${guardrailIdentifier}"; allowed: a guardrail id or guardrail ARN`);
  }
  if (!GUARDRAIL_VERSION.test(guardrailVersion)) {
    problems.push(`${EnforcerEnv.GUARDRAIL_VERSION} is "${guardrailVersion}"; allowed: a published version number (DRAFT is refused)`);
  }
  const sourceMode = choice(problems, env, EnforcerEnv.SOURCE_MODE, Object.values(SourceMode), ENFORCER_DEFAULTS.sourceMode);
  const toolResultSource = choice<GuardrailSourceName>(problems, env, EnforcerEnv.TOOL_RESULT_SOURCE, ['INPUT', 'OUTPUT'], ENFORCER_DEFAULTS.toolResultSource);
  const smugglingMode = choice(problems, env, EnforcerEnv.SMUGGLING_MODE, Object.values(SmugglingMode), ENFORCER_DEFAULTS.smugglingMode);
  const maxCharsPerCall = intSetting(problems, env, EnforcerEnv.MAX_CHARS_PER_CALL, ENFORCER_DEFAULTS.maxCharsPerCall, ENFORCER_LIMITS.maxCharsPerCall);
  const maxTotalChars = intSetting(problems, env, EnforcerEnv.MAX_TOTAL_CHARS, ENFORCER_DEFAULTS.maxTotalChars, ENFORCER_LIMITS.maxTotalChars);
  const seamChars = intSetting(problems, env, EnforcerEnv.SEAM_CHARS, ENFORCER_DEFAULTS.seamChars, ENFORCER_LIMITS.seamChars);
  const maxCalls = intSetting(problems, env, EnforcerEnv.MAX_CALLS, ENFORCER_DEFAULTS.maxCalls, ENFORCER_LIMITS.maxCalls);
  const timeoutMs = intSetting(problems, env, EnforcerEnv.TIMEOUT_MS, ENFORCER_DEFAULTS.timeoutMs, ENFORCER_LIMITS.timeoutMs);
  if (seamChars * 2 > maxCharsPerCall) {
    problems.push(`${EnforcerEnv.SEAM_CHARS} is ${seamChars}; allowed: at most half of ${EnforcerEnv.MAX_CHARS_PER_CALL} (${Math.floor(maxCharsPerCall / 2)})`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      guardrailIdentifier,
      guardrailVersion,
      sourceMode,
      toolResultSource,
      smugglingMode,
      maxCharsPerCall,
      maxTotalChars,
      seamChars,
      maxCalls,
      timeoutMs,
      concurrency: ENFORCER_DEFAULTS.concurrency,
    },
  };
}
