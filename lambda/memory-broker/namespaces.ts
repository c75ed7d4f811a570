/**
 * The namespace hierarchy of an `IsolatedMemory`, and the derivation of every identifier in it from a verified
 * identity. Pure: no SDK, no environment, no clock. Shared by the memory broker, the CDK constructs (namespace
 * templates, IAM condition patterns) and customers' own agent code.
 *
 * ```
 * /actor/a-<64 hex>/                          one caller's memory (no tenant configured)
 * /tenant/<tenantId>/actor/a-<64 hex>/        one caller's memory (tenant claim configured)
 *     facts/                                  semantic facts        (built-in SEMANTIC strategy)
 *     preferences/                            user preferences      (built-in USER_PREFERENCE strategy)
 *     summaries/<sessionId>/                  session summaries     (built-in SUMMARIZATION strategy)
 *     notes/                                  records written by the broker's `remember`
 * /group/<groupId>/shared/                    a configured group's shared space (no tenant)
 * /tenant/<tenantId>/group/<groupId>/shared/  a configured group's shared space inside a tenant
 * /tenant/<tenantId>/shared/                  the tenant's shared space
 * ```
 *
 * Every namespace is a sequence of segments that each contain no `/`, and every namespace ends with `/`. The actor
 * segment has a fixed length (`a-` + 64 hex). So a namespace is a prefix of another only when it is an ancestor in
 * this tree, and no caller's namespace is an ancestor of another caller's. Identifiers that would not fit (a
 * separator, a traversal segment, a wildcard, a template brace, a non-ASCII look-alike, an empty or overlong value)
 * are rejected, never normalized into something else.
 */
import { canonicalize, sha256Hex } from '../shared/canonical-json';

/** Domain separator hashed with (issuer, subject): actor ids of this scheme never equal hashes of anything else. */
export const ACTOR_ID_DOMAIN = 'cdk-ai-defense/memory-actor/v1';
/** The fixed prefix of an actor segment. */
export const ACTOR_SEGMENT_PREFIX = 'a-';
/** An actor segment: `a-` and the 64 lowercase hex digits of SHA-256. Fixed length, so never a prefix of another. */
export const ACTOR_SEGMENT_PATTERN = /^a-[0-9a-f]{64}$/;
/** Length of an actor segment. */
export const ACTOR_SEGMENT_LENGTH = 66;
/** A group or tenant id: one segment of ASCII letters, digits, `_` and `-`, starting with a letter or digit, 1 to 64. */
export const SPACE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A memory session id: AgentCore's own pattern, 1 to 100 characters (so no `/`, `.`, `*`, `:` or braces). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** A memory record id as AgentCore issues it (`mem-` then 36 to 46 id characters: 40 to 50 in all). */
export const MEMORY_RECORD_ID_PATTERN = /^mem-[A-Za-z0-9_-]{36,46}$/;
/** Longest `sub` accepted: OpenID Connect caps it at 255 ASCII characters. */
export const MAX_SUBJECT_LENGTH = 255;
/** Longest `iss` accepted. */
export const MAX_ISSUER_LENGTH = 2048;
/** Visible ASCII only: no space, no control character, nothing outside ASCII (so no look-alikes). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** A namespace as AgentCore accepts it, without wildcards: segments of id characters, `/`-separated. */
const NAMESPACE_CHARS = /^\/[A-Za-z0-9_:/-]*$/;

/** The literal segments of the hierarchy. */
export const NamespaceSegment = {
  ACTOR: 'actor',
  TENANT: 'tenant',
  GROUP: 'group',
  SHARED: 'shared',
  FACTS: 'facts',
  PREFERENCES: 'preferences',
  SUMMARIES: 'summaries',
  NOTES: 'notes',
} as const;

/** Namespace templates of the built-in strategies. `{actorId}` is the full actor id (`actor/a-…` or `tenant/<t>/actor/a-…`). */
export const STRATEGY_NAMESPACE_TEMPLATES = {
  SEMANTIC: `/{actorId}/${NamespaceSegment.FACTS}/`,
  USER_PREFERENCE: `/{actorId}/${NamespaceSegment.PREFERENCES}/`,
  SUMMARIZATION: `/{actorId}/${NamespaceSegment.SUMMARIES}/{sessionId}/`,
} as const;

/** True when `issuer` may be hashed into an actor id: 1 to 2048 visible ASCII characters. */
export function isValidIssuer(issuer: unknown): issuer is string {
  return typeof issuer === 'string' && issuer.length <= MAX_ISSUER_LENGTH && VISIBLE_ASCII.test(issuer);
}

/** True when `subject` may be hashed into an actor id: 1 to 255 visible ASCII characters. */
export function isValidSubject(subject: unknown): subject is string {
  return typeof subject === 'string' && subject.length <= MAX_SUBJECT_LENGTH && VISIBLE_ASCII.test(subject);
}

/** True for an actor segment (`a-` + 64 lowercase hex). */
export function isValidActorSegment(value: unknown): value is string {
  return typeof value === 'string' && ACTOR_SEGMENT_PATTERN.test(value);
}

/** True for a group or tenant id (see {@link SPACE_ID_PATTERN}). */
export function isValidSpaceId(value: unknown): value is string {
  return typeof value === 'string' && SPACE_ID_PATTERN.test(value);
}

/** True for a memory session id (see {@link SESSION_ID_PATTERN}). */
export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}

/** True for a memory record id (see {@link MEMORY_RECORD_ID_PATTERN}). */
export function isValidRecordId(value: unknown): value is string {
  return typeof value === 'string' && MEMORY_RECORD_ID_PATTERN.test(value);
}

/** Thrown when an identifier does not fit the hierarchy. It is never "fixed" into another value. */
export class InvalidIdentifierError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'InvalidIdentifierError';
  }
}

/**
 * The actor segment of a verified caller: `a-` + SHA-256 of the canonical JSON `[domain, issuer, subject]`, hex.
 * Deterministic, fixed length, collision-resistant, and free of any character the caller chose. Throws an
 * {@link InvalidIdentifierError} for an issuer or subject that is empty, too long, or not visible ASCII.
 */
export function deriveActorSegment(issuer: string, subject: string): string {
  if (!isValidIssuer(issuer)) throw new InvalidIdentifierError('issuer is not 1 to 2048 visible ASCII characters');
  if (!isValidSubject(subject)) throw new InvalidIdentifierError('subject is not 1 to 255 visible ASCII characters');
  return `${ACTOR_SEGMENT_PREFIX}${sha256Hex(canonicalize([ACTOR_ID_DOMAIN, issuer, subject]))}`;
}

/**
 * The AgentCore `actorId` for an actor segment: `actor/<segment>`, or `tenant/<tenantId>/actor/<segment>` when the
 * caller belongs to a tenant. Throws an {@link InvalidIdentifierError} for an invalid segment or tenant id.
 */
export function actorIdFor(actorSegment: string, tenantId?: string): string {
  if (!isValidActorSegment(actorSegment)) throw new InvalidIdentifierError('actor segment is not a-<64 hex>');
  if (tenantId === undefined) return `${NamespaceSegment.ACTOR}/${actorSegment}`;
  if (!isValidSpaceId(tenantId)) throw new InvalidIdentifierError('tenant id does not match the space id pattern');
  return `${NamespaceSegment.TENANT}/${tenantId}/${NamespaceSegment.ACTOR}/${actorSegment}`;
}

/** The namespace root of one actor id (`/<actorId>/`). */
export function actorRoot(actorId: string): string {
  return `/${actorId}/`;
}

/** The namespace of one session's summaries. Throws for an invalid session id (never normalizes it). */
export function sessionSummariesNamespace(personalRoot: string, sessionId: string): string {
  if (!isValidSessionId(sessionId)) throw new InvalidIdentifierError('session id does not match the session id pattern');
  return `${personalRoot}${NamespaceSegment.SUMMARIES}/${sessionId}/`;
}

/** The shared namespace of a group (inside the tenant when there is one). */
export function groupSharedNamespace(groupId: string, tenantId?: string): string {
  if (!isValidSpaceId(groupId)) throw new InvalidIdentifierError('group id does not match the space id pattern');
  const base = tenantId === undefined ? '/' : `${tenantRoot(tenantId)}`;
  return `${base}${NamespaceSegment.GROUP}/${groupId}/${NamespaceSegment.SHARED}/`;
}

/** The shared namespace of a tenant. */
export function tenantSharedNamespace(tenantId: string): string {
  return `${tenantRoot(tenantId)}${NamespaceSegment.SHARED}/`;
}

function tenantRoot(tenantId: string): string {
  if (!isValidSpaceId(tenantId)) throw new InvalidIdentifierError('tenant id does not match the space id pattern');
  return `/${NamespaceSegment.TENANT}/${tenantId}/`;
}

/**
 * True when `namespace` lies inside `prefix` (a namespace ending in `/`), compared literally. A namespace with a
 * wildcard, a `.` segment or any character outside the namespace alphabet is never inside anything.
 */
export function isWithinNamespace(namespace: unknown, prefix: string): boolean {
  if (typeof namespace !== 'string' || !prefix.endsWith('/') || namespace.length > 1024) return false;
  if (!NAMESPACE_CHARS.test(namespace)) return false;
  return namespace.startsWith(prefix);
}

/** The name of a shared space as the tools and logs name it: `tenant` or `group:<groupId>`. */
export type SharedSpaceName = string;

/** A shared space the caller may read (and, when configured, write). */
export interface SharedSpace {
  /** `tenant` or `group:<groupId>`. */
  readonly name: SharedSpaceName;
  /** Its namespace. */
  readonly namespace: string;
}

/** Everything one verified caller may address, derived from the verified identity and configuration only. */
export interface CallerScope {
  /** The actor segment (`a-<64 hex>`). */
  readonly actorSegment: string;
  /** The AgentCore `actorId`. */
  readonly actorId: string;
  /** The caller's tenant, when tenants are configured. */
  readonly tenantId?: string;
  /** The root of the caller's own memory (`/<actorId>/`). */
  readonly personalRoot: string;
  /** Where `remember` writes the caller's own records. */
  readonly notesNamespace: string;
  /** Shared spaces the caller belongs to, in configuration order. */
  readonly sharedSpaces: readonly SharedSpace[];
}

/** How shared spaces and tenants are derived (validated configuration). */
export interface ScopeRules {
  /**
   * Verified claim that names the caller's tenant (a string matching {@link SPACE_ID_PATTERN}).
   * @default - no tenants: actors are at `/actor/…`
   */
  readonly tenantClaim?: string;
  /** Groups that have a shared space; a caller gets one when its verified groups contain the exact name. */
  readonly sharedGroups: readonly string[];
  /** Whether the tenant has a shared space (requires `tenantClaim`). */
  readonly shareTenantSpace: boolean;
}

/** The verified identity fields the scope is derived from (a `VerifiedIdentity` fits). */
export interface ScopeIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Result of {@link deriveCallerScope}. */
export type ScopeResult = { readonly ok: true; readonly scope: CallerScope } | { readonly ok: false; readonly detail: string };

/** Name of the tenant's shared space. */
export const TENANT_SPACE = 'tenant';
/** Prefix of a group's shared space name. */
export const GROUP_SPACE_PREFIX = 'group:';

/**
 * Derives a caller's scope from a verified identity. The actor comes from (issuer, subject) only; the tenant from
 * the configured claim only (it must be a valid space id: anything else fails, it is never cleaned up); shared
 * groups are the configured groups that appear, exactly, in the verified groups claim. Never throws.
 */
export function deriveCallerScope(identity: ScopeIdentity, rules: ScopeRules): ScopeResult {
  try {
    if (!isValidIssuer(identity.issuer)) return { ok: false, detail: 'issuer is not 1 to 2048 visible ASCII characters' };
    if (!isValidSubject(identity.subject)) return { ok: false, detail: 'subject is not 1 to 255 visible ASCII characters' };
    let tenantId: string | undefined;
    if (rules.tenantClaim !== undefined) {
      const claims = identity.claims;
      const value = Object.prototype.hasOwnProperty.call(claims, rules.tenantClaim) ? claims[rules.tenantClaim] : undefined;
      if (value === undefined) return { ok: false, detail: `tenant claim ${rules.tenantClaim} is missing` };
      if (!isValidSpaceId(value)) return { ok: false, detail: `tenant claim ${rules.tenantClaim} is not a valid space id` };
      tenantId = value;
    }
    const actorSegment = deriveActorSegment(identity.issuer, identity.subject);
    const actorId = actorIdFor(actorSegment, tenantId);
    const personalRoot = actorRoot(actorId);
    const sharedSpaces: SharedSpace[] = [];
    if (rules.shareTenantSpace && tenantId !== undefined) {
      sharedSpaces.push({ name: TENANT_SPACE, namespace: tenantSharedNamespace(tenantId) });
    }
    const groups = Array.isArray(identity.groups) ? identity.groups : [];
    for (const group of rules.sharedGroups) {
      if (isValidSpaceId(group) && groups.some((g) => g === group)) {
        sharedSpaces.push({ name: `${GROUP_SPACE_PREFIX}${group}`, namespace: groupSharedNamespace(group, tenantId) });
      }
    }
    return {
      ok: true,
      scope: Object.freeze({
        actorSegment,
        actorId,
        ...(tenantId !== undefined ? { tenantId } : {}),
        personalRoot,
        notesNamespace: `${personalRoot}${NamespaceSegment.NOTES}/`,
        sharedSpaces: Object.freeze(sharedSpaces),
      }),
    };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : 'scope derivation failed' };
  }
}

/** Every namespace of a caller's own memory (for tests and audits), with one session's summaries. */
export function personalNamespaces(scope: CallerScope, sessionId?: string): string[] {
  const root = scope.personalRoot;
  const out = [root, `${root}${NamespaceSegment.FACTS}/`, `${root}${NamespaceSegment.PREFERENCES}/`, `${root}${NamespaceSegment.SUMMARIES}/`, scope.notesNamespace];
  if (sessionId !== undefined) out.push(sessionSummariesNamespace(root, sessionId));
  return out;
}
