/**
 * Post-retrieval authorization with S3 Access Grants, for the END USER: every AWS call that asks Access Grants
 * anything is signed with credentials obtained for that user (an identity-enhanced session, or a role assumed for
 * one of the user's verified groups with session tags), never with the Lambda's own role.
 *
 * Two check modes:
 * - LIST_CALLER_GRANTS: one paginated `ListCallerAccessGrants` per user session and revocation window, then pure
 *   literal matching of every chunk source against the READ scopes (see uri-authorizer.ts);
 * - GET_DATA_ACCESS: one `GetDataAccess` (READ, Minimal privilege, object target, shortest duration) per distinct
 *   source URI not already decided for this user within the window; the vended credentials are discarded.
 *
 * Caches are keyed by issuer, subject and role, so they are per identity and never shared; every entry expires
 * within the revocation window (and before the session credentials do). Faults never widen access: a failed check
 * drops the chunk and marks the answer partial. The I/O is injected (`GrantsIo`), the clock is injected.
 */
import { createHash } from 'node:crypto';
import { parseStrictJson } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError, classifyFault, describeFault, withTimeout } from '../shared/errors';
import { ReasonCode } from '../shared/reason-codes';
import { TtlCache } from './cache';
import { GrantScope, GrantScopeKind, UriAuthorizer, parseGrantScope, parseS3Uri, scopeCovers } from './uri-authorizer';

/** How the user's Access Grants identity is established. */
export const GrantsIdentityMode = {
  /** Verified groups map to IAM roles, assumed with session tags; grants are IAM grants on those roles. */
  GROUP_ROLES: 'GROUP_ROLES',
  /** IAM Identity Center identity-enhanced sessions (CreateTokenWithIAM + AssumeRole with ProvidedContexts). */
  IDENTITY_CENTER: 'IDENTITY_CENTER',
} as const;
export type GrantsIdentityMode = (typeof GrantsIdentityMode)[keyof typeof GrantsIdentityMode];

/** How chunk sources are checked. */
export const GrantsCheckMode = {
  LIST_CALLER_GRANTS: 'LIST_CALLER_GRANTS',
  GET_DATA_ACCESS: 'GET_DATA_ACCESS',
} as const;
export type GrantsCheckMode = (typeof GrantsCheckMode)[keyof typeof GrantsCheckMode];

/** Runtime configuration of the checker. */
export interface GrantsConfig {
  /** Account that owns the Access Grants instance (S3 Control `AccountId`). */
  readonly accountId: string;
  readonly identityMode: GrantsIdentityMode;
  /** GROUP_ROLES: verified group → role. */
  readonly groupRoles: ReadonlyArray<{ readonly group: string; readonly roleArn: string }>;
  /** IDENTITY_CENTER: the Identity Center application (OAuth client of CreateTokenWithIAM) and the role to assume. */
  readonly identityCenter?: { readonly applicationArn: string; readonly bearerRoleArn: string };
  readonly checkMode: GrantsCheckMode;
  /** How long any authorization state may be reused for one identity (0: never). */
  readonly revocationWindowMs: number;
  /** Most roles one caller may have in GROUP_ROLES mode; more is denied. */
  readonly maxRolesPerCaller: number;
  /** Deadline of one AWS call. */
  readonly callTimeoutMs: number;
  /** GetDataAccess calls in flight at once. */
  readonly concurrency: number;
  /** Most ListCallerAccessGrants pages read per session. */
  readonly maxListPages: number;
  /** Most identities whose state is cached. */
  readonly maxCachedIdentities: number;
}

/** Defaults of the tunables. */
export const GRANTS_DEFAULTS = {
  revocationWindowMs: 300_000,
  maxRolesPerCaller: 5,
  callTimeoutMs: 5_000,
  concurrency: 8,
  maxListPages: 10,
  maxCachedIdentities: 1_000,
  /** The shortest duration AssumeRole and GetDataAccess accept. */
  sessionDurationSeconds: 900,
} as const;

/** Temporary credentials of a user session. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** The I/O the checker needs; each function returns the SDK output as is (the checker distrusts it). */
export interface GrantsIo {
  assumeRoleWithTags(input: { roleArn: string; sessionName: string; tags: Array<{ Key: string; Value: string }>; durationSeconds: number }, signal: AbortSignal): Promise<unknown>;
  createTokenWithIam(input: { clientId: string; assertion: string }, signal: AbortSignal): Promise<unknown>;
  assumeRoleWithContext(input: { roleArn: string; sessionName: string; contextAssertion: string; durationSeconds: number }, signal: AbortSignal): Promise<unknown>;
  listCallerAccessGrants(credentials: SessionCredentials, input: { accountId: string; nextToken?: string }, signal: AbortSignal): Promise<unknown>;
  getDataAccess(credentials: SessionCredentials, input: { accountId: string; target: string; durationSeconds: number }, signal: AbortSignal): Promise<unknown>;
}

/** The verified caller, as the checker needs it. */
export interface GrantsIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** The verified bearer token (the CreateTokenWithIAM assertion in IDENTITY_CENTER mode). */
  readonly token: string;
}

/** AWS calls made, for logs and the bench. */
export interface GrantsCallCounts {
  sts: number;
  ssoOidc: number;
  listPages: number;
  getDataAccess: number;
}

interface SessionState {
  readonly key: string;
  readonly credentials: SessionCredentials;
  /** LIST mode: the user's READ scopes. */
  scopes?: UriAuthorizer;
  /** LIST mode: the listing stopped at the page limit. */
  truncated?: boolean;
  /** GET_DATA_ACCESS mode: scopes learned from MatchedGrantTarget, and URIs known to be denied. */
  readonly matched: GrantScope[];
  readonly denied: Set<string>;
}

/** A caller ready to be authorized: its sessions for this request. */
export interface PreparedCaller {
  readonly sessions: readonly SessionState[];
  /** Some session could not be established or listed (a fault): what only it would allow is missing. */
  readonly partial: boolean;
  readonly calls: GrantsCallCounts;
}

/** Result of preparing a caller. */
export type PrepareResult =
  | { readonly ok: true; readonly caller: PreparedCaller }
  | { readonly ok: false; readonly reasonCode: ReasonCode; readonly detail: string; readonly calls: GrantsCallCounts };

/** Per-URI outcome of {@link AccessGrantsChecker.authorize}. */
export interface GrantsOutcome {
  readonly allowed: Set<string>;
  readonly denied: Set<string>;
  readonly faulted: Set<string>;
  readonly partial: boolean;
  readonly calls: GrantsCallCounts;
}

const IDENTITY_CENTER_CONTEXT_PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;
/** Expire cached sessions this long before their credentials do. */
const CREDENTIAL_MARGIN_MS = 60_000;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads STS `Credentials`; throws MalformedResponseError unless complete and unexpired. */
export function credentialsFrom(output: unknown, now: number): SessionCredentials {
  const c = isObject(output) ? output.Credentials : undefined;
  if (!isObject(c)) throw new MalformedResponseError('AssumeRole returned no credentials');
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = c;
  if (typeof AccessKeyId !== 'string' || AccessKeyId === '' || typeof SecretAccessKey !== 'string' || SecretAccessKey === '' || typeof SessionToken !== 'string' || SessionToken === '') {
    throw new MalformedResponseError('AssumeRole returned incomplete credentials');
  }
  const expiration = Expiration instanceof Date ? Expiration : typeof Expiration === 'string' ? new Date(Expiration) : undefined;
  if (!expiration || Number.isNaN(expiration.getTime()) || expiration.getTime() <= now) throw new MalformedResponseError('AssumeRole returned expired or undated credentials');
  return Object.freeze({ accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken, expiration });
}

/** Reads the `sts:identity_context` claim of a CreateTokenWithIAM `idToken`; throws MalformedResponseError otherwise. */
export function identityContextFrom(output: unknown): string {
  const idToken = isObject(output) ? output.idToken : undefined;
  if (typeof idToken !== 'string') throw new MalformedResponseError('CreateTokenWithIAM returned no idToken');
  const parts = idToken.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1])) throw new MalformedResponseError('CreateTokenWithIAM idToken is not a JWT');
  let payload: unknown;
  try {
    payload = parseStrictJson(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch (err) {
    throw new MalformedResponseError('CreateTokenWithIAM idToken payload is not JSON', { cause: err });
  }
  const context = isObject(payload) ? payload['sts:identity_context'] : undefined;
  if (typeof context !== 'string' || context.length === 0 || context.length > 4096) throw new MalformedResponseError('CreateTokenWithIAM idToken has no sts:identity_context');
  return context;
}

function emptyCounts(): GrantsCallCounts {
  return { sts: 0, ssoOidc: 0, listPages: 0, getDataAccess: 0 };
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** Authorizes chunk sources for end users with S3 Access Grants. Create once per container. */
export class AccessGrantsChecker {
  private readonly sessions: TtlCache<SessionState>;

  public constructor(
    private readonly config: GrantsConfig,
    private readonly io: GrantsIo,
    private readonly now: () => number = Date.now,
  ) {
    this.sessions = new TtlCache(config.maxCachedIdentities);
  }

  /** GROUP_ROLES: the distinct roles of the verified groups, in configuration order. Pure. */
  public rolesFor(groups: readonly string[]): string[] {
    const mine = new Set(groups);
    const roles: string[] = [];
    for (const { group, roleArn } of this.config.groupRoles) {
      if (mine.has(group) && !roles.includes(roleArn)) roles.push(roleArn);
    }
    return roles;
  }

  private sessionKey(identity: GrantsIdentity, role: string): string {
    return `${identity.issuer}\u0000${identity.subject}\u0000${role}`;
  }

  private sessionName(identity: GrantsIdentity): string {
    return `cad-${sha256(`${identity.issuer}\u0000${identity.subject}`).slice(0, 32)}`;
  }

  private expiryFor(credentials: SessionCredentials, now: number): number {
    return Math.min(now + this.config.revocationWindowMs, credentials.expiration.getTime() - CREDENTIAL_MARGIN_MS);
  }

  private call<T>(promise: Promise<T>, label: string): Promise<T> {
    return withTimeout(promise, this.config.callTimeoutMs, label);
  }

  private async openSession(identity: GrantsIdentity, role: string, signal: AbortSignal, calls: GrantsCallCounts): Promise<SessionState> {
    const key = this.sessionKey(identity, role);
    const cached = this.sessions.get(key, this.now());
    if (cached) return cached;
    let credentials: SessionCredentials;
    if (this.config.identityMode === GrantsIdentityMode.IDENTITY_CENTER) {
      const ic = this.config.identityCenter;
      if (!ic) throw new EnforcementError('MISCONFIGURED', 'identity center configuration is missing');
      calls.ssoOidc++;
      const token = await this.call(this.io.createTokenWithIam({ clientId: ic.applicationArn, assertion: identity.token }, signal), 'CreateTokenWithIAM');
      const contextAssertion = identityContextFrom(token);
      calls.sts++;
      const assumed = await this.call(
        this.io.assumeRoleWithContext({ roleArn: ic.bearerRoleArn, sessionName: this.sessionName(identity), contextAssertion, durationSeconds: GRANTS_DEFAULTS.sessionDurationSeconds }, signal),
        'AssumeRole',
      );
      credentials = credentialsFrom(assumed, this.now());
    } else {
      const subjectTag = TAG_VALUE.test(identity.subject) ? identity.subject : sha256(identity.subject);
      calls.sts++;
      const assumed = await this.call(
        this.io.assumeRoleWithTags(
          { roleArn: role, sessionName: this.sessionName(identity), tags: [{ Key: 'cad-subject', Value: subjectTag }], durationSeconds: GRANTS_DEFAULTS.sessionDurationSeconds },
          signal,
        ),
        'AssumeRole',
      );
      credentials = credentialsFrom(assumed, this.now());
    }
    const state: SessionState = { key, credentials, matched: [], denied: new Set() };
    this.remember(state);
    return state;
  }

  private remember(state: SessionState): void {
    const now = this.now();
    if (this.config.revocationWindowMs > 0) this.sessions.set(state.key, state, this.expiryFor(state.credentials, now), now);
  }

  private async listScopes(state: SessionState, signal: AbortSignal, calls: GrantsCallCounts): Promise<void> {
    if (state.scopes) return;
    const scopes: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    let truncated = false;
    do {
      if (pages >= this.config.maxListPages) {
        truncated = true;
        break;
      }
      pages++;
      calls.listPages++;
      const output = await this.call(this.io.listCallerAccessGrants(state.credentials, { accountId: this.config.accountId, ...(nextToken ? { nextToken } : {}) }, signal), 'ListCallerAccessGrants');
      if (!isObject(output)) throw new MalformedResponseError('ListCallerAccessGrants response is not an object');
      const list = output.CallerAccessGrantsList ?? [];
      if (!Array.isArray(list)) throw new MalformedResponseError('CallerAccessGrantsList is not an array');
      for (const entry of list) {
        if (!isObject(entry) || typeof entry.GrantScope !== 'string' || typeof entry.Permission !== 'string') {
          throw new MalformedResponseError('a caller access grant has no scope or permission');
        }
        if (entry.Permission !== 'READ' && entry.Permission !== 'READWRITE') continue;
        if (!this.applicationAllows(entry.ApplicationArn)) continue;
        scopes.push(entry.GrantScope);
      }
      if (output.NextToken !== undefined && (typeof output.NextToken !== 'string' || output.NextToken === '')) throw new MalformedResponseError('NextToken is not a string');
      nextToken = output.NextToken as string | undefined;
    } while (nextToken);
    state.scopes = UriAuthorizer.fromScopes(scopes).authorizer;
    state.truncated = truncated;
  }

  private applicationAllows(applicationArn: unknown): boolean {
    if (applicationArn === undefined || applicationArn === null || applicationArn === '') return true;
    return this.config.identityMode === GrantsIdentityMode.IDENTITY_CENTER && applicationArn === this.config.identityCenter?.applicationArn;
  }

  /**
   * Establishes the caller's sessions (and, in LIST_CALLER_GRANTS mode, reads the caller's scopes). Denied when the
   * caller has nothing to be authorized with (no mapped role, too many roles) or when every session fails.
   */
  public async prepare(identity: GrantsIdentity, signal: AbortSignal): Promise<PrepareResult> {
    const calls = emptyCounts();
    let roles: string[];
    if (this.config.identityMode === GrantsIdentityMode.GROUP_ROLES) {
      roles = this.rolesFor(identity.groups);
      if (roles.length === 0) return { ok: false, reasonCode: 'KNOWLEDGE_NO_USABLE_CLAIMS', detail: 'no verified group maps to an Access Grants role', calls };
      if (roles.length > this.config.maxRolesPerCaller) {
        return { ok: false, reasonCode: 'KNOWLEDGE_TOO_MANY_VALUES', detail: `${roles.length} Access Grants roles, at most ${this.config.maxRolesPerCaller}`, calls };
      }
    } else {
      roles = [this.config.identityCenter?.bearerRoleArn ?? ''];
    }
    const sessions: SessionState[] = [];
    let firstFault: { code: ReasonCode; detail: string } | undefined;
    for (const role of roles) {
      try {
        const state = await this.openSession(identity, role, signal, calls);
        if (this.config.checkMode === GrantsCheckMode.LIST_CALLER_GRANTS) await this.listScopes(state, signal, calls);
        sessions.push(state);
      } catch (err) {
        // This session is unusable: forget it so the next request starts over.
        this.sessions.delete(this.sessionKey(identity, role));
        firstFault ??= { code: classifyFault(err), detail: describeFault(err) };
      }
    }
    if (sessions.length === 0) {
      const f = firstFault ?? { code: 'INTERNAL_ERROR' as ReasonCode, detail: 'no session' };
      return { ok: false, reasonCode: f.code, detail: f.detail, calls };
    }
    const partial = firstFault !== undefined || sessions.some((s) => s.truncated === true);
    return { ok: true, caller: { sessions, partial, calls } };
  }

  /** Decides each distinct URI for a prepared caller. Never throws; a failed check puts the URI in `faulted`. */
  public async authorize(caller: PreparedCaller, uris: readonly string[], signal: AbortSignal): Promise<GrantsOutcome> {
    const calls = caller.calls;
    const allowed = new Set<string>();
    const denied = new Set<string>();
    const faulted = new Set<string>();
    const distinct = [...new Set(uris)];
    if (this.config.checkMode === GrantsCheckMode.LIST_CALLER_GRANTS) {
      for (const uri of distinct) {
        const admitted = caller.sessions.some((s) => s.scopes?.admitsUri(uri) === true);
        (admitted ? allowed : denied).add(uri);
      }
      return { allowed, denied, faulted, partial: caller.partial, calls };
    }
    await pool(distinct, this.config.concurrency, async (uri) => {
      const location = parseS3Uri(uri);
      if (!location) return void denied.add(uri);
      let fault = false;
      for (const state of caller.sessions) {
        if (state.matched.some((scope) => scopeCovers(scope, location))) return void allowed.add(uri);
        if (state.denied.has(uri)) continue;
        try {
          calls.getDataAccess++;
          const output = await this.call(
            this.io.getDataAccess(state.credentials, { accountId: this.config.accountId, target: uri, durationSeconds: GRANTS_DEFAULTS.sessionDurationSeconds }, signal),
            'GetDataAccess',
          );
          const matched = isObject(output) ? parseGrantScope(output.MatchedGrantTarget) : undefined;
          // The match must cover exactly this object under our literal rules; anything else is not trusted.
          if (!matched || !scopeCovers(matched, location)) throw new MalformedResponseError('GetDataAccess matched a target that does not cover the object');
          if (this.config.revocationWindowMs > 0) state.matched.push(matched.kind === GrantScopeKind.OBJECT ? { bucket: location.bucket, kind: GrantScopeKind.OBJECT, path: location.key } : matched);
          return void allowed.add(uri);
        } catch (err) {
          if (isAccessDenied(err)) {
            if (this.config.revocationWindowMs > 0) state.denied.add(uri);
          } else {
            fault = true;
          }
        }
      }
      (fault ? faulted : denied).add(uri);
    });
    return { allowed, denied, faulted, partial: caller.partial || faulted.size > 0, calls };
  }
}

/** True for the error S3 Access Grants returns when no grant matches (`AccessDenied`, HTTP 403). */
export function isAccessDenied(err: unknown): boolean {
  try {
    const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
    return e?.name === 'AccessDenied' || e?.Code === 'AccessDenied';
  } catch {
    return false;
  }
}

/** Builds the deny-closed identity context assertion input (exported for tests and reuse). */
export const IDENTITY_CENTER = { contextProviderArn: IDENTITY_CENTER_CONTEXT_PROVIDER, grantType: JWT_BEARER_GRANT } as const;
