/**
 * Configuration of the memory broker: the environment variables `MemoryBroker` sets, their limits, and a pure
 * parser. Shared by the handler and the construct so that the names exist once. No SDK, no side effects on import.
 */
import { isValidSpaceId } from './namespaces';
import { DEFAULT_TOOL_LIMITS, TOOL_LIMIT_RANGES } from './tools';

/** Names of the environment variables the handler reads (identity comes from `CAD_IDENTITY_CONFIG`). */
export const BrokerEnv = {
  /** The AgentCore memory id (required). */
  MEMORY_ID: 'MEMORY_ID',
  /** Verified claim naming the caller's tenant; when set, every actor lives under `/tenant/<id>/`. */
  TENANT_CLAIM: 'TENANT_CLAIM',
  /** JSON array of the groups that have a shared space. */
  SHARED_GROUPS: 'SHARED_GROUPS',
  /** `true` when the tenant has a shared space. */
  SHARE_TENANT_SPACE: 'SHARE_TENANT_SPACE',
  /** NONE | SCREENED: whether `remember` may write to shared spaces (always screened when allowed). */
  SHARED_WRITES: 'SHARED_WRITES',
  /** Guardrail id or ARN that screens writes (with GUARDRAIL_VERSION). */
  GUARDRAIL_IDENTIFIER: 'GUARDRAIL_IDENTIFIER',
  /** Published guardrail version (DRAFT is refused). */
  GUARDRAIL_VERSION: 'GUARDRAIL_VERSION',
  /** Longest text `remember` stores. */
  MAX_TEXT_LENGTH: 'MAX_TEXT_LENGTH',
  /** Most records `recall` returns. */
  MAX_RECALL_RESULTS: 'MAX_RECALL_RESULTS',
  /** Deadline of one call in milliseconds (below the Lambda timeout, so that a timeout is a deny). */
  TIMEOUT_MS: 'TIMEOUT_MS',
} as const;

/** Whether shared spaces accept writes. */
export const SharedWrites = {
  /** Shared spaces are read-only for the broker (the default). */
  NONE: 'NONE',
  /** `remember` may write to a shared space the caller belongs to; every such write is screened by the guardrail. */
  SCREENED: 'SCREENED',
} as const;
export type SharedWrites = (typeof SharedWrites)[keyof typeof SharedWrites];

/** The guardrail that screens writes. */
export interface WriteGuardrail {
  readonly identifier: string;
  readonly version: string;
}

/** The broker's settings (identity configuration aside). */
export interface BrokerSettings {
  readonly memoryId: string;
  readonly tenantClaim?: string;
  readonly sharedGroups: readonly string[];
  readonly shareTenantSpace: boolean;
  readonly sharedWrites: SharedWrites;
  /** When set, every write (own memory included) is screened with it; required for shared writes. */
  readonly guardrail?: WriteGuardrail;
  readonly maxTextLength: number;
  readonly maxRecallResults: number;
  readonly timeoutMs: number;
}

/** Defaults and limits. */
export const BROKER_DEFAULTS = {
  sharedWrites: SharedWrites.NONE,
  maxTextLength: DEFAULT_TOOL_LIMITS.maxTextLength,
  maxRecallResults: DEFAULT_TOOL_LIMITS.maxRecallResults,
  timeoutMs: 12_000,
} as const;

export const BROKER_LIMITS = {
  maxTextLength: TOOL_LIMIT_RANGES.maxTextLength,
  maxRecallResults: TOOL_LIMIT_RANGES.maxRecallResults,
  timeoutMs: [1_000, 900_000],
  /** Most shared groups (each costs one RetrieveMemoryRecords call in `recall` with `space: all`). */
  maxSharedGroups: 10,
} as const;

/** AgentCore memory id. */
export const MEMORY_ID_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,99}-[a-zA-Z0-9]{10}$/;
/** A claim name the tenant may be read from (no prototype keys, no spaces). */
export const CLAIM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_:.-]{0,127}$/;
const GUARDRAIL_IDENTIFIER = /^([a-z0-9]{1,64}|arn:aws[a-z-]*:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]{1,64})$/;
const GUARDRAIL_VERSION = /^[1-9][0-9]{0,7}$/;

/** Problems with settings (shared by the parser and the construct's synth-time validation). */
export function settingsProblems(s: BrokerSettings): string[] {
  const problems: string[] = [];
  if (!MEMORY_ID_PATTERN.test(s.memoryId)) problems.push(`memory id is "${s.memoryId}"; allowed: an AgentCore memory id`);
  if (s.tenantClaim !== undefined && (!CLAIM_NAME_PATTERN.test(s.tenantClaim) || ['__proto__', 'constructor', 'prototype'].includes(s.tenantClaim))) {
    problems.push(`tenant claim is "${s.tenantClaim}"; allowed: a claim name of letters, digits, _ : . - (1 to 128, starting with a letter)`);
  }
  problems.push(...sharedGroupProblems(s.sharedGroups));
  if (s.shareTenantSpace && s.tenantClaim === undefined) problems.push('a tenant shared space needs a tenant claim');
  if (s.sharedWrites === SharedWrites.SCREENED && s.guardrail === undefined) {
    problems.push('shared writes are SCREENED but no guardrail is configured; allowed: a guardrail, or shared writes NONE');
  }
  if (s.guardrail !== undefined) {
    if (!GUARDRAIL_IDENTIFIER.test(s.guardrail.identifier)) problems.push(`guardrail identifier is "${s.guardrail.identifier}"; allowed: a guardrail id or ARN`);
    if (!GUARDRAIL_VERSION.test(s.guardrail.version)) problems.push(`guardrail version is "${s.guardrail.version}"; allowed: a published version number (DRAFT is refused)`);
  }
  problems.push(...rangeProblem('maxTextLength', s.maxTextLength, BROKER_LIMITS.maxTextLength));
  problems.push(...rangeProblem('maxRecallResults', s.maxRecallResults, BROKER_LIMITS.maxRecallResults));
  problems.push(...rangeProblem('timeoutMs', s.timeoutMs, BROKER_LIMITS.timeoutMs));
  return problems;
}

/** Problems with a list of shared groups: each a valid space id, no duplicates, at most 10. */
export function sharedGroupProblems(groups: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (groups.length > BROKER_LIMITS.maxSharedGroups) problems.push(`${groups.length} shared groups; allowed: at most ${BROKER_LIMITS.maxSharedGroups}`);
  for (const g of groups) {
    if (!isValidSpaceId(g)) problems.push(`shared group ${JSON.stringify(g)}; allowed: 1 to 64 ASCII letters, digits, _ and - (starting with a letter or digit)`);
  }
  if (new Set(groups).size !== groups.length) problems.push('shared groups contain duplicates');
  return problems;
}

function rangeProblem(name: string, value: number, [min, max]: readonly [number, number]): string[] {
  return Number.isInteger(value) && value >= min && value <= max ? [] : [`${name} is ${value}; allowed: a whole number from ${min} to ${max}`];
}

/** The result of reading configuration: settings, or every problem found. */
export type SettingsResult = { readonly ok: true; readonly settings: BrokerSettings } | { readonly ok: false; readonly problems: string[] };

function intSetting(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw)) {
    problems.push(`${name} is "${raw}"; allowed: a whole number`);
    return fallback;
  }
  return Number(raw);
}

/** Reads and validates the settings from an environment map (pass `process.env`). Pure. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): SettingsResult {
  const problems: string[] = [];
  let sharedGroups: string[] = [];
  const rawGroups = env[BrokerEnv.SHARED_GROUPS];
  if (rawGroups !== undefined && rawGroups !== '') {
    try {
      const parsed: unknown = JSON.parse(rawGroups);
      if (Array.isArray(parsed)) sharedGroups = parsed as string[];
      else problems.push(`${BrokerEnv.SHARED_GROUPS} is not a JSON array`);
    } catch {
      problems.push(`${BrokerEnv.SHARED_GROUPS} is not valid JSON`);
    }
  }
  const share = env[BrokerEnv.SHARE_TENANT_SPACE] ?? 'false';
  if (share !== 'true' && share !== 'false') problems.push(`${BrokerEnv.SHARE_TENANT_SPACE} is "${share}"; allowed: true, false`);
  const writes = env[BrokerEnv.SHARED_WRITES] || BROKER_DEFAULTS.sharedWrites;
  if (!(Object.values(SharedWrites) as string[]).includes(writes)) {
    problems.push(`${BrokerEnv.SHARED_WRITES} is "${writes}"; allowed: ${Object.values(SharedWrites).join(', ')}`);
  }
  const gid = env[BrokerEnv.GUARDRAIL_IDENTIFIER] || undefined;
  const gver = env[BrokerEnv.GUARDRAIL_VERSION] || undefined;
  if ((gid === undefined) !== (gver === undefined)) problems.push(`${BrokerEnv.GUARDRAIL_IDENTIFIER} and ${BrokerEnv.GUARDRAIL_VERSION} must be set together`);
  const settings: BrokerSettings = {
    memoryId: env[BrokerEnv.MEMORY_ID] ?? '',
    ...(env[BrokerEnv.TENANT_CLAIM] ? { tenantClaim: env[BrokerEnv.TENANT_CLAIM] } : {}),
    sharedGroups,
    shareTenantSpace: share === 'true',
    sharedWrites: writes as SharedWrites,
    ...(gid !== undefined && gver !== undefined ? { guardrail: { identifier: gid, version: gver } } : {}),
    maxTextLength: intSetting(env, BrokerEnv.MAX_TEXT_LENGTH, BROKER_DEFAULTS.maxTextLength, problems),
    maxRecallResults: intSetting(env, BrokerEnv.MAX_RECALL_RESULTS, BROKER_DEFAULTS.maxRecallResults, problems),
    timeoutMs: intSetting(env, BrokerEnv.TIMEOUT_MS, BROKER_DEFAULTS.timeoutMs, problems),
  };
  problems.push(...settingsProblems(settings));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, settings: Object.freeze(settings) };
}
