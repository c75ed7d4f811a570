/**
 * Configuration of the knowledge retriever: one JSON environment variable written by the `KnowledgeRetriever`
 * construct (the identity configuration travels separately, in `CAD_IDENTITY_CONFIG`). The document type is shared
 * by the construct (which writes it) and the handler (which validates it at cold start). Pure, no side effects.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import { FilterPolicySpec, isValidMetadataKey, parseFilterPolicy } from './filter';
import { GRANTS_DEFAULTS, GrantsCheckMode, GrantsConfig, GrantsIdentityMode } from './grants';
import { KnowledgeBaseTarget, Route, RouteKind, RoutingSpec } from './routing';
import { SEARCH_LIMITS } from './tools';
import { parseGrantScope } from './uri-authorizer';

/** Environment variable holding the {@link KnowledgeConfigDocument}. */
export const KNOWLEDGE_CONFIG_ENV_VAR = 'CAD_KNOWLEDGE_CONFIG';

/** Access Grants part of the document. */
export interface GrantsConfigDocument {
  readonly accountId: string;
  readonly identityMode: GrantsIdentityMode;
  readonly groupRoles?: ReadonlyArray<{ readonly group: string; readonly roleArn: string }>;
  readonly identityCenter?: { readonly applicationArn: string; readonly bearerRoleArn: string };
  readonly checkMode: GrantsCheckMode;
  readonly revocationWindowSeconds: number;
  readonly maxRolesPerCaller?: number;
}

/** The JSON document in {@link KNOWLEDGE_CONFIG_ENV_VAR}. */
export interface KnowledgeConfigDocument {
  readonly version: 1;
  readonly knowledgeBases: ReadonlyArray<{ readonly id: string; readonly sourceScopes: readonly string[] }>;
  /** `null`: one knowledge base for every verified caller. */
  readonly routes: ReadonlyArray<{ readonly kind: RouteKind; readonly value: string; readonly knowledgeBase: number }> | null;
  readonly maxKnowledgeBasesPerRequest: number;
  readonly filterPolicy: FilterPolicySpec;
  /** Metadata keys returned with each chunk (the metadata contract's keys). */
  readonly returnedMetadataKeys: readonly string[];
  /** `null` only together with `unsafeMetadataFilterOnly`. */
  readonly accessGrants: GrantsConfigDocument | null;
  readonly unsafeMetadataFilterOnly: boolean;
  readonly defaultResults: number;
  /** Deadline of one request, below the Lambda timeout. */
  readonly timeoutMs: number;
  /** Deadline of one AWS call. */
  readonly callTimeoutMs: number;
}

/** The validated configuration. */
export interface RetrieverConfig {
  readonly routing: RoutingSpec;
  readonly filterPolicy: FilterPolicySpec;
  readonly returnedMetadataKeys: readonly string[];
  /** Undefined only with `unsafeMetadataFilterOnly`. */
  readonly grants?: GrantsConfig;
  readonly unsafeMetadataFilterOnly: boolean;
  readonly defaultResults: number;
  readonly timeoutMs: number;
  readonly callTimeoutMs: number;
}

/** Allowed ranges (inclusive). */
export const RETRIEVER_LIMITS = {
  timeoutMs: [1_000, 900_000],
  callTimeoutMs: [500, 60_000],
  revocationWindowSeconds: [0, 900],
  maxRolesPerCaller: [1, 20],
  maxKnowledgeBasesPerRequest: [1, 10],
} as const;

const KNOWLEDGE_BASE_ID = /^[0-9A-Za-z]{10}$/;
const ACCOUNT_ID = /^[0-9]{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/;
const APPLICATION_ARN = /^arn:aws[a-z-]*:sso::[0-9]{12}:application\/(sso)?ins-[a-zA-Z0-9-.]{16}\/apl-[a-zA-Z0-9]{16}$/;
const NAME = /^[\p{L}\p{N}\p{M}_.:@+=,/ -]{1,256}$/u;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inRange(problems: string[], name: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    problems.push(`${name} is ${JSON.stringify(value)}; allowed: a whole number from ${min} to ${max}`);
    return min;
  }
  return value as number;
}

function parseGrants(problems: string[], raw: unknown, callTimeoutMs: number): GrantsConfig | undefined {
  if (!isObject(raw)) return void problems.push('accessGrants must be an object');
  const identityMode = raw.identityMode;
  const checkMode = raw.checkMode;
  if (typeof raw.accountId !== 'string' || !ACCOUNT_ID.test(raw.accountId)) problems.push(`accessGrants.accountId ${JSON.stringify(raw.accountId)} is not an account id`);
  if (!Object.values(GrantsIdentityMode).includes(identityMode as GrantsIdentityMode)) problems.push(`accessGrants.identityMode ${JSON.stringify(identityMode)} is unknown`);
  if (!Object.values(GrantsCheckMode).includes(checkMode as GrantsCheckMode)) problems.push(`accessGrants.checkMode ${JSON.stringify(checkMode)} is unknown`);
  const window = inRange(problems, 'accessGrants.revocationWindowSeconds', raw.revocationWindowSeconds, RETRIEVER_LIMITS.revocationWindowSeconds);
  const maxRoles = raw.maxRolesPerCaller === undefined ? GRANTS_DEFAULTS.maxRolesPerCaller : inRange(problems, 'accessGrants.maxRolesPerCaller', raw.maxRolesPerCaller, RETRIEVER_LIMITS.maxRolesPerCaller);
  const groupRoles: Array<{ group: string; roleArn: string }> = [];
  if (identityMode === GrantsIdentityMode.GROUP_ROLES) {
    const list = raw.groupRoles;
    if (!Array.isArray(list) || list.length === 0) problems.push('accessGrants.groupRoles must list at least one group and role');
    else {
      const seen = new Set<string>();
      list.forEach((g: unknown, i: number) => {
        if (!isObject(g) || typeof g.group !== 'string' || !NAME.test(g.group) || typeof g.roleArn !== 'string' || !ROLE_ARN.test(g.roleArn)) {
          return void problems.push(`accessGrants.groupRoles[${i}] needs a group name and a role ARN`);
        }
        if (seen.has(g.group)) problems.push(`accessGrants.groupRoles: group ${JSON.stringify(g.group)} appears twice`);
        seen.add(g.group);
        groupRoles.push({ group: g.group, roleArn: g.roleArn });
      });
    }
  }
  let identityCenter: { applicationArn: string; bearerRoleArn: string } | undefined;
  if (identityMode === GrantsIdentityMode.IDENTITY_CENTER) {
    const ic = raw.identityCenter;
    if (!isObject(ic) || typeof ic.applicationArn !== 'string' || !APPLICATION_ARN.test(ic.applicationArn) || typeof ic.bearerRoleArn !== 'string' || !ROLE_ARN.test(ic.bearerRoleArn)) {
      problems.push('accessGrants.identityCenter needs an Identity Center application ARN and a bearer role ARN');
    } else {
      identityCenter = { applicationArn: ic.applicationArn, bearerRoleArn: ic.bearerRoleArn };
    }
  }
  return {
    accountId: raw.accountId as string,
    identityMode: identityMode as GrantsIdentityMode,
    groupRoles,
    ...(identityCenter ? { identityCenter } : {}),
    checkMode: checkMode as GrantsCheckMode,
    revocationWindowMs: window * 1000,
    maxRolesPerCaller: maxRoles,
    callTimeoutMs,
    concurrency: GRANTS_DEFAULTS.concurrency,
    maxListPages: GRANTS_DEFAULTS.maxListPages,
    maxCachedIdentities: GRANTS_DEFAULTS.maxCachedIdentities,
  };
}

/** Validates a parsed configuration document. Throws a {@link ConfigurationError} naming every problem. */
export function parseKnowledgeConfig(doc: unknown): RetrieverConfig {
  if (!isObject(doc)) throw new ConfigurationError([`${KNOWLEDGE_CONFIG_ENV_VAR} must be a JSON object`]);
  const problems: string[] = [];
  if (doc.version !== 1) problems.push(`version must be 1, got ${JSON.stringify(doc.version)}`);
  const knowledgeBases: KnowledgeBaseTarget[] = [];
  if (!Array.isArray(doc.knowledgeBases) || doc.knowledgeBases.length === 0) problems.push('knowledgeBases must list at least one knowledge base');
  else {
    doc.knowledgeBases.forEach((kb: unknown, i: number) => {
      if (!isObject(kb) || typeof kb.id !== 'string' || !KNOWLEDGE_BASE_ID.test(kb.id)) return void problems.push(`knowledgeBases[${i}].id is not a knowledge base id`);
      const scopes = kb.sourceScopes;
      if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => parseGrantScope(s) !== undefined)) {
        return void problems.push(`knowledgeBases[${i}].sourceScopes must be usable S3 scopes such as s3://bucket/prefix/*`);
      }
      knowledgeBases.push(Object.freeze({ id: kb.id, sourceScopes: Object.freeze([...(scopes as string[])]) }));
    });
  }
  let routes: Route[] | undefined;
  if (doc.routes === null || doc.routes === undefined) {
    if (knowledgeBases.length > 1) problems.push('routes are required when there is more than one knowledge base');
  } else if (!Array.isArray(doc.routes) || doc.routes.length === 0) {
    problems.push('routes must be null or a non-empty array');
  } else {
    routes = [];
    const seen = new Set<string>();
    doc.routes.forEach((r: unknown, i: number) => {
      if (!isObject(r) || (r.kind !== RouteKind.GROUP && r.kind !== RouteKind.SUBJECT) || typeof r.value !== 'string' || !NAME.test(r.value)) {
        return void problems.push(`routes[${i}] needs kind GROUP or SUBJECT and a value`);
      }
      if (!Number.isInteger(r.knowledgeBase) || (r.knowledgeBase as number) < 0 || (r.knowledgeBase as number) >= (doc.knowledgeBases as unknown[]).length) {
        return void problems.push(`routes[${i}].knowledgeBase is not an index of knowledgeBases`);
      }
      const id = `${r.kind}\u0000${r.value}`;
      if (seen.has(id)) problems.push(`routes: ${r.kind} ${JSON.stringify(r.value)} is routed twice`);
      seen.add(id);
      routes!.push(Object.freeze({ kind: r.kind, value: r.value, knowledgeBase: r.knowledgeBase as number }));
    });
  }
  const maxKb = inRange(problems, 'maxKnowledgeBasesPerRequest', doc.maxKnowledgeBasesPerRequest, RETRIEVER_LIMITS.maxKnowledgeBasesPerRequest);
  let filterPolicy: FilterPolicySpec | undefined;
  try {
    filterPolicy = parseFilterPolicy(doc.filterPolicy);
  } catch (err) {
    problems.push(...(err instanceof ConfigurationError ? err.problems : ['filter policy is invalid']));
  }
  const returned = doc.returnedMetadataKeys;
  if (!Array.isArray(returned) || !returned.every(isValidMetadataKey)) problems.push('returnedMetadataKeys must be an array of metadata keys');
  const unsafe = doc.unsafeMetadataFilterOnly;
  if (typeof unsafe !== 'boolean') problems.push('unsafeMetadataFilterOnly must be a boolean');
  const timeoutMs = inRange(problems, 'timeoutMs', doc.timeoutMs, RETRIEVER_LIMITS.timeoutMs);
  const callTimeoutMs = inRange(problems, 'callTimeoutMs', doc.callTimeoutMs, RETRIEVER_LIMITS.callTimeoutMs);
  const defaultResults = inRange(problems, 'defaultResults', doc.defaultResults, [SEARCH_LIMITS.minResults, SEARCH_LIMITS.maxResults]);
  let grants: GrantsConfig | undefined;
  if (doc.accessGrants === null || doc.accessGrants === undefined) {
    if (unsafe !== true) problems.push('accessGrants is required unless unsafeMetadataFilterOnly is true');
  } else {
    if (unsafe === true) problems.push('unsafeMetadataFilterOnly must be false when accessGrants is configured');
    grants = parseGrants(problems, doc.accessGrants, callTimeoutMs);
  }
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `${KNOWLEDGE_CONFIG_ENV_VAR}: ${p}`));
  return Object.freeze({
    routing: Object.freeze({ knowledgeBases: Object.freeze(knowledgeBases), ...(routes ? { routes: Object.freeze(routes) } : {}), maxKnowledgeBasesPerRequest: maxKb }),
    filterPolicy: filterPolicy as FilterPolicySpec,
    returnedMetadataKeys: Object.freeze([...(returned as string[])]),
    ...(grants ? { grants: Object.freeze(grants) } : {}),
    unsafeMetadataFilterOnly: unsafe as boolean,
    defaultResults,
    timeoutMs,
    callTimeoutMs,
  });
}

/** Reads the configuration document from the environment. Throws a {@link ConfigurationError}. */
export function knowledgeConfigFromEnv(env: Readonly<Record<string, string | undefined>>): RetrieverConfig {
  const raw = env[KNOWLEDGE_CONFIG_ENV_VAR];
  if (raw === undefined || raw.trim() === '') throw new ConfigurationError([`${KNOWLEDGE_CONFIG_ENV_VAR} is not set`]);
  let parsed: unknown;
  try {
    parsed = parseStrictJson(raw);
  } catch (err) {
    throw new ConfigurationError([`${KNOWLEDGE_CONFIG_ENV_VAR} is not valid JSON: ${(err as Error).message}`]);
  }
  return parseKnowledgeConfig(parsed);
}
