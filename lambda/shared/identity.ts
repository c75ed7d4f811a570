/**
 * Verified identity from a bearer JWT, with `aws-jwt-verify`: Amazon Cognito user pools (`CognitoJwtVerifier`) and
 * any OIDC issuer that publishes a JWKS (`JwtVerifier`). Identity comes only from a token whose signature,
 * algorithm, issuer, audience or client, token use, expiry and not-before all check out.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify/cognito-verifier';
import {
  FetchError,
  JwksValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
  JwtWithoutValidKidError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import type { Jwk, Jwks, JwksCache, JwkWithKid } from 'aws-jwt-verify/jwk';
import { findJwkInJwks, isJwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { parseStrictJson } from './canonical-json';
import { AllowDecision, DenyDecision, allow, deny } from './decision';
import { ConfigurationError, EnforcementError, classifyFault, describeFault } from './errors';
import { ReasonCode } from './reason-codes';

export type { Fetcher } from 'aws-jwt-verify/https';
export type { Jwk, Jwks } from 'aws-jwt-verify/jwk';

/** Signature algorithms a verifier may accept: asymmetric only, never `none` or HS*. */
export const JwtAlgorithm = {
  RS256: 'RS256',
  RS384: 'RS384',
  RS512: 'RS512',
  ES256: 'ES256',
  ES384: 'ES384',
  ES512: 'ES512',
} as const;
export type JwtAlgorithm = (typeof JwtAlgorithm)[keyof typeof JwtAlgorithm];

/** Cognito token use (`token_use` claim). */
export const TokenUse = {
  ACCESS: 'access',
  ID: 'id',
} as const;
export type TokenUse = (typeof TokenUse)[keyof typeof TokenUse];

/** Reason codes an {@link IdentityError} carries for problems with the token itself. */
export const IdentityReason = {
  MISSING: 'IDENTITY_MISSING',
  INVALID: 'IDENTITY_INVALID',
  EXPIRED: 'IDENTITY_EXPIRED',
  CLAIMS_INVALID: 'IDENTITY_CLAIMS_INVALID',
} as const satisfies Record<string, ReasonCode>;

/** Largest clock skew a verifier may tolerate, in seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 60;
/** Default largest token accepted, in characters. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16_384;
/** The default groups claim (Cognito's). */
export const DEFAULT_GROUPS_CLAIM = 'cognito:groups';

/**
 * How to verify tokens of one issuer. A Cognito user pool is recognised by its issuer
 * (`https://cognito-idp.<region>.amazonaws.com/<userPoolId>`) and then needs `clientId` and `tokenUse`;
 * any other issuer is verified as OIDC and needs `audience` or `clientId`.
 */
export interface IdentityConfig {
  /** Expected `iss`, compared exactly. */
  readonly issuer: string;
  /**
   * Where the issuer publishes its keys. For a Cognito user pool it is fixed (and must match if given).
   * @default `<issuer>/.well-known/jwks.json`
   */
  readonly jwksUri?: string;
  /**
   * OIDC: accepted `aud` values (at least one must be in the token). Not used for Cognito (use `clientId`).
   * @default - `aud` is not checked; then `clientId` is required
   */
  readonly audience?: string | readonly string[];
  /**
   * Accepted app clients. Cognito: `client_id` of access tokens, `aud` of ID tokens (required).
   * OIDC: the `client_id` claim, or `azp` when there is no `client_id`.
   * @default - the client is not checked (OIDC with `audience` only)
   */
  readonly clientId?: string | readonly string[];
  /** Cognito only (required there): the accepted `token_use`. */
  readonly tokenUse?: TokenUse;
  /**
   * Scopes that must ALL be in the token's `scope` claim.
   * @default - no scope is required
   */
  readonly requiredScopes?: readonly string[];
  /**
   * Claim that holds the caller's groups (an array of strings).
   * @default 'cognito:groups'
   */
  readonly groupsClaim?: string;
  /**
   * Tolerated clock difference for `exp` and `nbf`, an integer from 0 to 60 seconds.
   * @default 0
   */
  readonly clockSkewSeconds?: number;
  /**
   * Accepted signature algorithms, a non-empty subset of {@link JwtAlgorithm}.
   * @default all of RS256, RS384, RS512, ES256, ES384, ES512
   */
  readonly algorithms?: readonly JwtAlgorithm[];
  /**
   * Pinned public keys: verify only with these and never fetch (offline use, tests, or key pinning).
   * Must hold public RSA/EC keys only. Exclusive with `jwksFetcher`.
   * @default - keys are fetched from `jwksUri` and cached per container
   */
  readonly jwks?: Jwks;
  /**
   * Fetches the JWKS (for a proxy, a private endpoint, or tests). Keys it returns are cached per container and
   * fetcher, exactly as with the default fetcher; verification is the same.
   * @default - aws-jwt-verify's HTTPS fetcher (1.5 s idle, 3 s response timeouts, one retry)
   */
  readonly jwksFetcher?: Fetcher;
  /**
   * Largest token accepted, in characters.
   * @default 16384
   */
  readonly maxTokenLength?: number;
}

/** The caller, as proven by a verified token. Frozen, claims included. */
export interface VerifiedIdentity {
  /** `sub`. */
  readonly subject: string;
  /** `iss`. */
  readonly issuer: string;
  /** The groups claim (empty when absent). */
  readonly groups: readonly string[];
  /** `client_id`, else `azp`, else (Cognito ID token) `aud`. */
  readonly clientId?: string;
  /** `token_use` (Cognito). */
  readonly tokenUse?: string;
  /** The `scope` claim split on spaces. */
  readonly scopes: readonly string[];
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
  /** Every claim of the payload (null-prototype objects, deep-frozen). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies bearer tokens of one issuer. */
export interface TokenVerifier {
  /** Resolves to the verified identity, or rejects with an {@link IdentityError}. */
  verify(token: string): Promise<VerifiedIdentity>;
  /** Fetches and caches the issuer's keys ahead of the first request (no-op with pinned `jwks`). */
  hydrate(): Promise<void>;
}

/** A token was missing or failed verification; `reasonCode` says which way (see {@link IdentityReason}). */
export class IdentityError extends EnforcementError {
  public constructor(reasonCode: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(reasonCode, message, options);
    this.name = 'IdentityError';
  }
}

const ALL_ALGORITHMS: readonly JwtAlgorithm[] = Object.values(JwtAlgorithm);
const COGNITO_ISSUER = /^https:\/\/(?:issuer-)?cognito-idp\.((?:eusc-[a-z]{2}|[a-z]{2})(?:-gov)?-[a-z]+-\d)\.amazonaws\.com\/(\1_[A-Za-z0-9]+)$/;
/** Header parameters that offer a key or key location, or demand extensions: keys come from configuration only. */
const FORBIDDEN_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const FORBIDDEN_CLAIM_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const EC_CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

function asList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

function httpsUrlProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `${name} must be a non-empty string, got ${JSON.stringify(value)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} must be an absolute https URL, got ${JSON.stringify(value)}`;
  }
  if (url.protocol !== 'https:') return `${name} must use https, got ${JSON.stringify(value)}`;
  if (url.hash || url.username || url.password) return `${name} must not carry a fragment or credentials, got ${JSON.stringify(value)}`;
  return undefined;
}

function stringListProblem(name: string, value: unknown): string | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v.length === 0 || v.trim() !== v)) {
    return `${name} must be a non-empty string or a non-empty array of non-empty strings without surrounding spaces, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

function jwksProblems(jwks: unknown): string[] {
  if (!isJwks(jwks as Jwks)) return ['jwks must be a JWKS object ({"keys": [...]}) of valid JWKs'];
  const problems: string[] = [];
  (jwks as Jwks).keys.forEach((key, i) => {
    if (key.kty !== 'RSA' && key.kty !== 'EC') problems.push(`jwks.keys[${i}] must be an RSA or EC public key, got kty ${JSON.stringify(key.kty)}`);
    const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
    if (privateMembers.length > 0) problems.push(`jwks.keys[${i}] carries private or symmetric key material (${privateMembers.join(', ')})`);
  });
  if ((jwks as Jwks).keys.length === 0) problems.push('jwks must contain at least one key');
  return problems;
}

/** Every problem with an identity configuration (empty when it is valid). */
export function validateIdentityConfig(config: IdentityConfig): string[] {
  if (typeof config !== 'object' || config === null) return ['identity configuration must be an object'];
  const problems: string[] = [];
  const issuerProblem = httpsUrlProblem('issuer', config.issuer);
  if (issuerProblem) problems.push(issuerProblem);
  const cognito = typeof config.issuer === 'string' ? COGNITO_ISSUER.exec(config.issuer) : null;

  if (config.jwksUri !== undefined) {
    const p = httpsUrlProblem('jwksUri', config.jwksUri);
    if (p) problems.push(p);
    else if (cognito && config.jwksUri !== `${config.issuer}/.well-known/jwks.json`) {
      problems.push(`jwksUri of a Cognito user pool must be ${config.issuer}/.well-known/jwks.json, got ${JSON.stringify(config.jwksUri)}`);
    }
  }
  if (config.audience !== undefined) {
    const p = stringListProblem('audience', config.audience);
    if (p) problems.push(p);
    if (cognito) problems.push('audience does not apply to a Cognito user pool: set clientId (checked against client_id or aud)');
  }
  if (config.clientId !== undefined) {
    const p = stringListProblem('clientId', config.clientId);
    if (p) problems.push(p);
  }
  if (cognito) {
    if (config.clientId === undefined) problems.push('clientId is required for a Cognito user pool');
    if (config.tokenUse !== TokenUse.ACCESS && config.tokenUse !== TokenUse.ID) {
      problems.push(`tokenUse must be "access" or "id" for a Cognito user pool, got ${JSON.stringify(config.tokenUse)}`);
    }
  } else {
    if (config.audience === undefined && config.clientId === undefined) problems.push('audience or clientId is required for an OIDC issuer');
    if (config.tokenUse !== undefined) problems.push('tokenUse applies only to a Cognito user pool issuer');
  }
  if (config.requiredScopes !== undefined) {
    if (!Array.isArray(config.requiredScopes) || config.requiredScopes.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s))) {
      problems.push(`requiredScopes must be an array of scope tokens (no spaces or quotes), got ${JSON.stringify(config.requiredScopes)}`);
    }
  }
  if (config.groupsClaim !== undefined) {
    const g = config.groupsClaim;
    if (typeof g !== 'string' || g.length === 0 || g.length > 128 || FORBIDDEN_CLAIM_NAMES.has(g)) {
      problems.push(`groupsClaim must be a claim name of 1 to 128 characters, got ${JSON.stringify(g)}`);
    }
  }
  if (config.clockSkewSeconds !== undefined) {
    const s = config.clockSkewSeconds;
    if (!Number.isInteger(s) || s < 0 || s > MAX_CLOCK_SKEW_SECONDS) {
      problems.push(`clockSkewSeconds must be an integer from 0 to ${MAX_CLOCK_SKEW_SECONDS}, got ${JSON.stringify(s)}`);
    }
  }
  if (config.algorithms !== undefined) {
    const a = config.algorithms;
    if (!Array.isArray(a) || a.length === 0 || a.some((x) => !ALL_ALGORITHMS.includes(x))) {
      problems.push(`algorithms must be a non-empty subset of ${ALL_ALGORITHMS.join(', ')}, got ${JSON.stringify(a)}`);
    }
  }
  if (config.jwks !== undefined) problems.push(...jwksProblems(config.jwks));
  if (config.jwks !== undefined && config.jwksFetcher !== undefined) problems.push('jwks (pinned keys) and jwksFetcher are exclusive');
  if (config.jwksFetcher !== undefined && typeof (config.jwksFetcher as Fetcher)?.fetch !== 'function') {
    problems.push('jwksFetcher must have a fetch(uri) method');
  }
  if (config.maxTokenLength !== undefined) {
    const m = config.maxTokenLength;
    if (!Number.isInteger(m) || m < 256 || m > 65_536) problems.push(`maxTokenLength must be an integer from 256 to 65536, got ${JSON.stringify(m)}`);
  }
  return problems;
}

/** A key source that only ever serves the pinned keys: nothing is fetched, an unknown `kid` fails. */
class PinnedJwksCache implements JwksCache {
  public constructor(private readonly jwks: Jwks) {}

  public getCachedJwk(_jwksUri: string, decomposedJwt: { header: JwtHeader }): JwkWithKid {
    const kid = decomposedJwt.header.kid;
    if (typeof kid !== 'string') throw new JwtWithoutValidKidError('JWT header does not have valid kid claim');
    const jwk = findJwkInJwks(this.jwks, kid);
    if (!jwk) throw new KidNotFoundInJwksError('JWK for the token kid not found in the pinned JWKS');
    return jwk;
  }

  public async getJwk(jwksUri: string, decomposedJwt: { header: JwtHeader }): Promise<JwkWithKid> {
    return this.getCachedJwk(jwksUri, decomposedJwt);
  }

  public addJwks(): void {
    throw new Error('pinned JWKS cannot be replaced');
  }

  public async getJwks(): Promise<Jwks> {
    return this.jwks;
  }
}

/** Keys fetched from a JWKS URI stay cached for the life of the container, per fetcher. */
const DEFAULT_FETCHER: Fetcher = new SimpleFetcher();
const containerJwksCaches = new WeakMap<Fetcher, SimpleJwksCache>();

/** A failed JWKS fetch is a fault of the issuer (or the path to it), not of the token. */
function failingAsUpstream(fetcher: Fetcher): Fetcher {
  return {
    fetch: async (uri, requestOptions, data) => {
      try {
        return await fetcher.fetch(uri, requestOptions, data);
      } catch (err) {
        const code = classifyFault(err);
        throw new IdentityError(code.startsWith('UPSTREAM_') ? code : 'UPSTREAM_UNAVAILABLE', `the issuer JWKS could not be fetched (${describeFault(err)})`, {
          cause: err,
        });
      }
    },
  };
}

function containerJwksCache(fetcher: Fetcher): SimpleJwksCache {
  let cache = containerJwksCaches.get(fetcher);
  if (!cache) {
    cache = new SimpleJwksCache({ fetcher: failingAsUpstream(fetcher) });
    containerJwksCaches.set(fetcher, cache);
  }
  return cache;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseStrictJson(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch (err) {
    throw new IdentityError(IdentityReason.INVALID, `token ${what} is not strict JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IdentityError(IdentityReason.INVALID, `token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

interface Preflight {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
}

/** Cheap structural checks before any key lookup: shape, size, strict JSON, allowed algorithm, no offered keys. */
function preflight(token: unknown, algorithms: readonly string[], maxLength: number): Preflight {
  if (typeof token !== 'string' || token.length === 0) throw new IdentityError(IdentityReason.MISSING, 'no token');
  if (token.length > maxLength) throw new IdentityError(IdentityReason.INVALID, `token longer than ${maxLength} characters`);
  if (!JWT_SHAPE.test(token)) throw new IdentityError(IdentityReason.INVALID, 'token is not a compact JWS');
  const [h, p] = token.split('.');
  const header = decodeSegment(h, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new IdentityError(IdentityReason.INVALID, `token algorithm ${JSON.stringify(alg)} is not allowed`);
  }
  for (const name of FORBIDDEN_HEADER_PARAMETERS) {
    if (Object.prototype.hasOwnProperty.call(header, name)) {
      throw new IdentityError(IdentityReason.INVALID, `token header parameter "${name}" is not accepted`);
    }
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new IdentityError(IdentityReason.INVALID, 'token has no kid');
  const payload = decodeSegment(p, 'payload');
  return { header, payload };
}

/** The JWK's key type and curve fit the token's algorithm (aws-jwt-verify checks `alg` only when the JWK has one). */
function checkKeyFitsAlgorithm(props: { header: JwtHeader; jwk: Jwk }): void {
  const alg = props.header.alg ?? '';
  const jwk = props.jwk;
  const fits = alg.startsWith('RS') ? jwk.kty === 'RSA' : alg.startsWith('ES') ? jwk.kty === 'EC' && jwk.crv === EC_CURVES[alg] : false;
  if (!fits) throw new IdentityError(IdentityReason.INVALID, `key type does not fit algorithm ${alg}`);
}

function toIdentityError(err: unknown): IdentityError {
  if (err instanceof IdentityError) return err;
  if (err instanceof JwtExpiredError || err instanceof JwtNotBeforeError) {
    return new IdentityError(IdentityReason.EXPIRED, err.message, { cause: err });
  }
  if (err instanceof JwksValidationError) {
    return new IdentityError('UPSTREAM_MALFORMED_RESPONSE', 'the issuer JWKS is invalid', { cause: err });
  }
  if (err instanceof FetchError) {
    return new IdentityError('UPSTREAM_UNAVAILABLE', 'the issuer JWKS could not be fetched', { cause: err });
  }
  if (err instanceof JwtBaseError) return new IdentityError(IdentityReason.INVALID, err.message, { cause: err });
  const code = classifyFault(err);
  return new IdentityError(code === 'INTERNAL_ERROR' ? IdentityReason.INVALID : code, describeFault(err), { cause: err });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function claimsInvalid(message: string): IdentityError {
  return new IdentityError(IdentityReason.CLAIMS_INVALID, message);
}

interface ResolvedConfig {
  readonly cognito: boolean;
  readonly oidcClientIds?: readonly string[];
  readonly requiredScopes: readonly string[];
  readonly groupsClaim: string;
}

function buildIdentity(payload: Record<string, unknown>, rc: ResolvedConfig): VerifiedIdentity {
  const { sub, iss, exp } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw claimsInvalid('token has no exp');
  if (typeof sub !== 'string' || sub.length === 0) throw claimsInvalid('token has no sub');
  if (typeof iss !== 'string') throw claimsInvalid('token has no iss');
  const clientIdClaim = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
  if (rc.oidcClientIds && (clientIdClaim === undefined || !rc.oidcClientIds.includes(clientIdClaim))) {
    throw new IdentityError(IdentityReason.INVALID, 'token client is not accepted');
  }
  const scopeClaim = payload.scope;
  if (scopeClaim !== undefined && typeof scopeClaim !== 'string') throw claimsInvalid('scope claim is not a string');
  const scopes = typeof scopeClaim === 'string' ? scopeClaim.split(' ').filter((s) => s.length > 0) : [];
  const missing = rc.requiredScopes.filter((s) => !scopes.includes(s));
  if (missing.length > 0) throw claimsInvalid(`token lacks required scope(s) ${missing.join(' ')}`);
  const groupsClaim = payload[rc.groupsClaim];
  let groups: string[] = [];
  if (groupsClaim !== undefined) {
    if (!Array.isArray(groupsClaim) || groupsClaim.some((g) => typeof g !== 'string' || g.length === 0)) {
      throw claimsInvalid(`claim ${rc.groupsClaim} is not an array of non-empty strings`);
    }
    groups = [...(groupsClaim as string[])];
  }
  const tokenUse = typeof payload.token_use === 'string' ? payload.token_use : undefined;
  const clientId = clientIdClaim ?? (rc.cognito && tokenUse === 'id' && typeof payload.aud === 'string' ? payload.aud : undefined);
  const identity: VerifiedIdentity = {
    subject: sub,
    issuer: iss,
    groups: Object.freeze(groups),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(tokenUse !== undefined ? { tokenUse } : {}),
    scopes: Object.freeze(scopes),
    expiresAt: exp,
    claims: deepFreeze(payload),
  };
  return Object.freeze(identity);
}

interface InnerVerifier {
  verify(token: string): Promise<JwtPayload>;
  hydrate(): Promise<void>;
}

/**
 * Creates a verifier for one issuer; call it once at module scope so keys are fetched once per container.
 * Throws a {@link ConfigurationError} (reason `MISCONFIGURED`) listing every problem of an invalid configuration.
 *
 * Verification: the token must be a compact JWS of at most `maxTokenLength` characters whose header and payload
 * are strict JSON (no duplicate keys); its `alg` must be in `algorithms`; its header must not offer keys
 * (`jwk`, `jku`, `x5u`, `x5c`) or `crit`; its `kid` must name a configured or fetched key whose type fits the
 * algorithm; the signature must verify; `iss`, `aud`/client, `token_use` (Cognito), `exp` (required) and `nbf`
 * must check out within `clockSkewSeconds`; `sub` must be present; every required scope present; the groups claim,
 * when present, an array of strings.
 */
export function createTokenVerifier(config: IdentityConfig): TokenVerifier {
  const problems = validateIdentityConfig(config);
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `identity: ${p}`));

  const algorithms: readonly string[] = [...(config.algorithms ?? ALL_ALGORITHMS)];
  const maxLength = config.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const graceSeconds = config.clockSkewSeconds ?? 0;
  const jwksCache: JwksCache = config.jwks
    ? new PinnedJwksCache(deepFreeze(JSON.parse(JSON.stringify(config.jwks)) as Jwks))
    : containerJwksCache(config.jwksFetcher ?? DEFAULT_FETCHER);
  const cognito = COGNITO_ISSUER.exec(config.issuer);
  const clientIds = asList(config.clientId);
  const rc: ResolvedConfig = {
    cognito: cognito !== null,
    oidcClientIds: cognito ? undefined : clientIds,
    requiredScopes: [...(config.requiredScopes ?? [])],
    groupsClaim: config.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
  };

  let inner: InnerVerifier;
  if (cognito) {
    inner = CognitoJwtVerifier.create(
      {
        userPoolId: cognito[2],
        tokenUse: config.tokenUse as TokenUse,
        clientId: [...(clientIds as readonly string[])],
        graceSeconds,
        customJwtCheck: checkKeyFitsAlgorithm,
      },
      { jwksCache },
    ) as unknown as InnerVerifier;
  } else {
    const audience = asList(config.audience);
    inner = JwtVerifier.create(
      {
        issuer: config.issuer,
        ...(config.jwksUri ? { jwksUri: config.jwksUri } : {}),
        audience: audience ? [...audience] : null,
        graceSeconds,
        customJwtCheck: checkKeyFitsAlgorithm,
      },
      { jwksCache },
    ) as unknown as InnerVerifier;
  }

  return Object.freeze({
    async verify(token: string): Promise<VerifiedIdentity> {
      const { payload } = preflight(token, algorithms, maxLength);
      try {
        await inner.verify(token);
      } catch (err) {
        throw toIdentityError(err);
      }
      // The signature covers these exact bytes; use our strict parse of them (null-prototype, no duplicate keys).
      return buildIdentity(payload, rc);
    },
    async hydrate(): Promise<void> {
      if (config.jwks) return;
      try {
        await inner.hydrate();
      } catch (err) {
        throw toIdentityError(err);
      }
    },
  });
}

/** Header values as API Gateway, ALB, Lambda URLs and AgentCore Gateway deliver them. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined | null>>;

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * The bearer token of a request: exactly one `Authorization` header (name matched case-insensitively; a
 * multi-value header must hold exactly one value) whose value is `Bearer <compact JWT>` (scheme
 * case-insensitive, one space, nothing else) and at most {@link DEFAULT_MAX_TOKEN_LENGTH} characters.
 * Anything else, including two Authorization headers, is `undefined` (treat as `IDENTITY_MISSING`).
 */
export function bearerTokenFrom(headers: HeaderMap | undefined | null): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  let found: string | readonly string[] | undefined | null;
  let count = 0;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') {
      count++;
      found = headers[name];
    }
  }
  if (count !== 1) return undefined;
  let value: unknown = found;
  if (Array.isArray(value)) {
    if (value.length !== 1) return undefined;
    value = value[0];
  }
  if (typeof value !== 'string' || value.length > DEFAULT_MAX_TOKEN_LENGTH + 7) return undefined;
  const match = BEARER.exec(value);
  return match ? match[1] : undefined;
}

/** An allow that carries the verified identity. */
export interface IdentityAllowDecision extends AllowDecision {
  readonly identity: VerifiedIdentity;
}

/** Result of {@link verifyIdentity}: an allow with the identity, or a deny with the reason code. */
export type IdentityDecision = IdentityAllowDecision | DenyDecision;

/**
 * Decision-style verification: `allow()` with `identity`, or `deny(code, detail)` where code is
 * `IDENTITY_MISSING` (no token), `IDENTITY_INVALID`, `IDENTITY_EXPIRED`, `IDENTITY_CLAIMS_INVALID`, or an
 * `UPSTREAM_*` code when the issuer's keys could not be fetched. Never throws.
 */
export async function verifyIdentity(verifier: TokenVerifier, token: string | undefined): Promise<IdentityDecision> {
  if (token === undefined || token === '') return deny(IdentityReason.MISSING, 'no bearer token');
  try {
    const identity = await verifier.verify(token);
    return Object.freeze({ ...allow(), identity });
  } catch (err) {
    return deny(classifyFault(err), describeFault(err));
  }
}
