/**
 * Pure logic of the jwks-pin handler: strict validation and canonical form of a JWKS document, the OpenID discovery
 * document, the function's configuration, CloudFormation custom resource requests and responses, and the drift
 * verdict. No I/O, no SDK, no environment, no clock.
 */
import { canonicalize, parseStrictJson, sha256Hex } from '../shared/canonical-json';
import { DRIFT_CHECK_ACTION, JWKS_LIMITS, JwksPinAttribute, JwksPinEnv, JwksPinProperty } from './contract';

/** A value, or every problem found. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly string[] };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = <T>(...problems: string[]): Checked<T> => ({ ok: false, problems: Object.freeze(problems) });

/** One public signing key as pinned: only these members are kept (in canonical order when serialized). */
export interface PinnedJwk {
  readonly kty: 'RSA' | 'EC';
  readonly kid: string;
  readonly use?: 'sig';
  readonly alg?: string;
  readonly n?: string;
  readonly e?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
}

/** The pinned key set. */
export interface PinnedJwks {
  /** `{ keys }`, keys sorted by `kid`. */
  readonly jwks: { readonly keys: readonly PinnedJwk[] };
  /** Canonical JSON (RFC 8785) of {@link PinnedJwks.jwks}. */
  readonly canonical: string;
  /** Lowercase hex SHA-256 of {@link PinnedJwks.canonical}. */
  readonly sha256: string;
  /** Keys of the document that are not signing keys (`use: enc`, encryption algorithms, `key_ops` without verify), left out. */
  readonly ignored: readonly string[];
}

/** Members of a JWK that are kept in the pin; everything else (x5c, x5t, key_ops, ...) is dropped. */
export const PINNED_JWK_MEMBERS = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const;
/** Members that only private or symmetric keys carry: a document holding any of them is rejected as a whole. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const SIGNING_ALGORITHMS: Record<string, readonly string[]> = {
  RSA: ['RS256', 'RS384', 'RS512'],
  EC: ['ES256', 'ES384', 'ES512'],
};
const ENCRYPTION_ALGORITHMS = new Set([
  'RSA1_5',
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A192KW',
  'ECDH-ES+A256KW',
]);
const EC_CURVES: Record<string, { bytes: number; alg: string }> = {
  'P-256': { bytes: 32, alg: 'ES256' },
  'P-384': { bytes: 48, alg: 'ES384' },
  'P-521': { bytes: 66, alg: 'ES512' },
};
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KID = /^[\x21-\x7e]{1,128}$/;

/** UTF-8 length of a string. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A short, printable rendering of an untrusted value for a problem message. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Problem with an https URL, or undefined. Only https, no credentials, no fragment. */
export function httpsUrlProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return `${name} must be an https URL of 1 to 2048 characters, got ${show(value)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} must be an absolute https URL, got ${show(value)}`;
  }
  if (url.protocol !== 'https:') return `${name} must use https, got ${show(value)}`;
  if (url.username || url.password || url.hash || value.includes('#')) return `${name} must not carry credentials or a fragment, got ${show(value)}`;
  if (url.hostname === '') return `${name} has no host, got ${show(value)}`;
  return undefined;
}

function base64urlBytes(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) return undefined;
  return Buffer.from(value, 'base64url');
}

function rsaModulusBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
}

type KeyVerdict = { kind: 'signing'; key: PinnedJwk } | { kind: 'ignored'; why: string } | { kind: 'rejected'; problems: string[] };

function examineKey(raw: unknown, label: string): KeyVerdict {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'rejected', problems: [`${label} is not a JSON object`] };
  const key = raw as Record<string, unknown>;
  const problems: string[] = [];
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => Object.prototype.hasOwnProperty.call(key, m));
  if (privateMembers.length > 0) problems.push(`${label} carries private or symmetric key material (${privateMembers.join(', ')})`);
  const kty = key.kty;
  if (kty === 'oct') problems.push(`${label} is a symmetric key (kty "oct"); only public RSA and EC keys can be pinned`);
  else if (kty !== 'RSA' && kty !== 'EC') problems.push(`${label} has key type ${show(kty)}; only RSA and EC are accepted`);
  if (key.kid === undefined) problems.push(`${label} has no kid`);
  else if (typeof key.kid !== 'string' || !KID.test(key.kid)) problems.push(`${label} has an invalid kid ${show(key.kid)} (1 to 128 visible ASCII characters)`);
  for (const m of PINNED_JWK_MEMBERS) {
    if (key[m] !== undefined && typeof key[m] !== 'string') problems.push(`${label} member ${m} is not a string`);
  }
  if (problems.length > 0) return { kind: 'rejected', problems };

  // Not a signing key: left out of the pin (an encryption key never verifies a token).
  const use = key.use;
  const alg = key.alg as string | undefined;
  if (use !== undefined && use !== 'sig' && use !== 'enc') return { kind: 'rejected', problems: [`${label} has use ${show(use)}; allowed: "sig" or "enc"`] };
  if (use === 'enc') return { kind: 'ignored', why: `${label}: an encryption key (use "enc")` };
  if (alg !== undefined && ENCRYPTION_ALGORITHMS.has(alg)) return { kind: 'ignored', why: `${label}: an encryption key (alg ${show(alg)})` };
  if (key.key_ops !== undefined) {
    if (!Array.isArray(key.key_ops) || key.key_ops.some((op) => typeof op !== 'string')) return { kind: 'rejected', problems: [`${label} key_ops is not an array of strings`] };
    if (!key.key_ops.includes('verify')) return { kind: 'ignored', why: `${label}: key_ops without "verify"` };
  }

  if (alg !== undefined && !SIGNING_ALGORITHMS[kty as string].includes(alg)) {
    problems.push(`${label} has alg ${show(alg)}; allowed for ${kty as string}: ${SIGNING_ALGORITHMS[kty as string].join(', ')}`);
  }
  const pinned: Record<string, string> = { kty: kty as string, kid: key.kid as string };
  if (use === 'sig') pinned.use = 'sig';
  if (alg !== undefined) pinned.alg = alg;
  if (kty === 'RSA') {
    const n = base64urlBytes(key.n);
    const e = base64urlBytes(key.e);
    if (!n) problems.push(`${label} has no valid modulus n (base64url)`);
    else {
      const bits = rsaModulusBits(n);
      if (bits < JWKS_LIMITS.minRsaBits || bits > JWKS_LIMITS.maxRsaBits) {
        problems.push(`${label} has a ${bits}-bit RSA modulus; allowed: ${JWKS_LIMITS.minRsaBits} to ${JWKS_LIMITS.maxRsaBits} bits`);
      }
    }
    if (!e || e.length > 8 || (e[e.length - 1] & 1) === 0 || (e.length === 1 && e[0] < 3)) problems.push(`${label} has no valid public exponent e`);
    if (key.crv !== undefined || key.x !== undefined || key.y !== undefined) problems.push(`${label} is an RSA key with EC members`);
    pinned.n = key.n as string;
    pinned.e = key.e as string;
  } else {
    const curve = typeof key.crv === 'string' ? EC_CURVES[key.crv] : undefined;
    if (!curve || !Object.prototype.hasOwnProperty.call(EC_CURVES, key.crv as string)) {
      problems.push(`${label} has curve ${show(key.crv)}; allowed: ${Object.keys(EC_CURVES).join(', ')}`);
    } else {
      if (base64urlBytes(key.x)?.length !== curve.bytes || base64urlBytes(key.y)?.length !== curve.bytes) {
        problems.push(`${label} has no valid ${key.crv as string} point (x and y of ${curve.bytes} bytes, base64url)`);
      }
      if (alg !== undefined && alg !== curve.alg) problems.push(`${label} has alg ${show(alg)}, which does not fit curve ${key.crv as string} (${curve.alg})`);
    }
    if (key.n !== undefined || key.e !== undefined) problems.push(`${label} is an EC key with RSA members`);
    pinned.crv = key.crv as string;
    pinned.x = key.x as string;
    pinned.y = key.y as string;
  }
  return problems.length > 0 ? { kind: 'rejected', problems } : { kind: 'signing', key: Object.freeze(pinned) as unknown as PinnedJwk };
}

/**
 * Validates a JWKS document strictly and returns its canonical pinned form, or every problem. The whole document is
 * rejected when it is larger than {@link JWKS_LIMITS.maxDocumentBytes}, is not strict JSON (duplicate member names
 * included), has no `keys` array, has more than {@link JWKS_LIMITS.maxKeys} keys, or has any key that carries private
 * or symmetric key material, is not RSA or EC, lacks a `kid`, repeats a `kid`, or is malformed (RSA modulus under
 * 2048 bits, a point of the wrong size, an algorithm that does not fit). Encryption keys are left out; at least one
 * signing key must remain, and the canonical set must fit {@link JWKS_LIMITS.maxPinnedBytes}. Never pins a partial set.
 */
export function pinJwksDocument(text: string): Checked<PinnedJwks> {
  if (typeof text !== 'string') return fail('the JWKS document is not text');
  const size = byteLength(text);
  if (size > JWKS_LIMITS.maxDocumentBytes) return fail(`the JWKS document is ${size} bytes; allowed: at most ${JWKS_LIMITS.maxDocumentBytes}`);
  let doc: unknown;
  try {
    doc = parseStrictJson(text, { maxDepth: 8 });
  } catch (err) {
    return fail(`the JWKS document is not strict JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('the JWKS document is not a JSON object');
  const keys = (doc as Record<string, unknown>).keys;
  if (!Array.isArray(keys)) return fail('the JWKS document has no "keys" array');
  if (keys.length === 0) return fail('the JWKS document has no keys');
  if (keys.length > JWKS_LIMITS.maxKeys) return fail(`the JWKS document has ${keys.length} keys; allowed: at most ${JWKS_LIMITS.maxKeys}`);

  const problems: string[] = [];
  const ignored: string[] = [];
  const signing: PinnedJwk[] = [];
  const seenKids = new Map<string, number>();
  keys.forEach((raw, i) => {
    const kid = typeof raw === 'object' && raw !== null && typeof (raw as { kid?: unknown }).kid === 'string' ? (raw as { kid: string }).kid : undefined;
    const label = kid === undefined ? `keys[${i}]` : `keys[${i}] (kid ${show(kid)})`;
    if (kid !== undefined) {
      const first = seenKids.get(kid);
      if (first !== undefined) problems.push(`${label} repeats the kid of keys[${first}]`);
      else seenKids.set(kid, i);
    }
    const verdict = examineKey(raw, label);
    if (verdict.kind === 'rejected') problems.push(...verdict.problems);
    else if (verdict.kind === 'ignored') ignored.push(verdict.why);
    else signing.push(verdict.key);
  });
  if (problems.length > 0) return fail(...problems);
  if (signing.length === 0) return fail('the JWKS document has no signing keys');

  signing.sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
  const jwks = Object.freeze({ keys: Object.freeze(signing) });
  const canonical = canonicalize(jwks);
  const pinnedSize = byteLength(canonical);
  if (pinnedSize > JWKS_LIMITS.maxPinnedBytes) {
    return fail(
      `the pinned key set is ${pinnedSize} bytes; allowed: at most ${JWKS_LIMITS.maxPinnedBytes} (it travels in a CloudFormation response and in Lambda environments, both limited to 4 KB)`,
    );
  }
  return ok(Object.freeze({ jwks, canonical, sha256: sha256Hex(canonical), ignored: Object.freeze(ignored) }));
}

/**
 * Reads `jwks_uri` from an OpenID discovery document, whose `issuer` must equal the configured issuer exactly
 * (OpenID Connect Discovery 1.0, section 4.3) and whose `jwks_uri` must be an https URL.
 */
export function jwksUriFromDiscovery(text: string, expectedIssuer: string): Checked<string> {
  const size = byteLength(text);
  if (size > JWKS_LIMITS.maxDiscoveryBytes) return fail(`the discovery document is ${size} bytes; allowed: at most ${JWKS_LIMITS.maxDiscoveryBytes}`);
  let doc: unknown;
  try {
    doc = parseStrictJson(text, { maxDepth: 16 });
  } catch (err) {
    return fail(`the discovery document is not strict JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('the discovery document is not a JSON object');
  const { issuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  const problems: string[] = [];
  if (issuer !== expectedIssuer) problems.push(`the discovery document names issuer ${show(issuer)}, not the configured ${show(expectedIssuer)}`);
  const uriProblem = httpsUrlProblem('the discovery jwks_uri', jwksUri);
  if (uriProblem) problems.push(uriProblem);
  return problems.length > 0 ? fail(...problems) : ok(jwksUri as string);
}

/** Where the pin reads the issuer's keys. */
export interface PinConfig {
  /** The issuer, an https URL. */
  readonly issuer: string;
  /** The JWKS URL; when absent, `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string;
}

/** The OpenID discovery URL of an issuer. */
export function discoveryUrlOf(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** Reads the function's configuration from its environment (passed in). */
export function pinConfigFromEnv(env: Readonly<Record<string, string | undefined>>): Checked<PinConfig> {
  const issuer = env[JwksPinEnv.ISSUER];
  const jwksUri = env[JwksPinEnv.JWKS_URI] === '' ? undefined : env[JwksPinEnv.JWKS_URI];
  const problems = [httpsUrlProblem(JwksPinEnv.ISSUER, issuer), jwksUri === undefined ? undefined : httpsUrlProblem(JwksPinEnv.JWKS_URI, jwksUri)].filter(
    (p): p is string => p !== undefined,
  );
  if (problems.length > 0) return fail(...problems);
  return ok(Object.freeze({ issuer: issuer as string, ...(jwksUri !== undefined ? { jwksUri } : {}) }));
}

/** The stable physical id of a pin: one per issuer and JWKS URL. */
export function physicalIdOf(config: PinConfig): string {
  return `jwks-pin-${sha256Hex(`${config.issuer}\n${config.jwksUri ?? ''}`).slice(0, 24)}`;
}

/** A CloudFormation custom resource request, as far as the pin reads it. */
export interface CfnRequest {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly responseUrl: string;
  readonly stackId: string;
  readonly requestId: string;
  readonly logicalResourceId: string;
  readonly physicalResourceId?: string;
  readonly issuer?: unknown;
  readonly jwksUri?: unknown;
}

/** Hosts CloudFormation's presigned response URLs use (its response buckets in S3). */
const RESPONSE_HOST = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;

function boundedString(value: unknown, max = 2048): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** True when the event looks like a CloudFormation custom resource request (it may still be invalid). */
export function isCloudFormationEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event;
}

/**
 * Parses a CloudFormation custom resource request. The response URL must be an https URL on an amazonaws.com host
 * (CloudFormation's presigned S3 URL), so that a forged event cannot make the function send anything elsewhere.
 */
export function parseCfnRequest(event: unknown): Checked<CfnRequest> {
  if (!isCloudFormationEvent(event)) return fail('not a CloudFormation custom resource request');
  const e = event as Record<string, unknown>;
  const problems: string[] = [];
  if (e.RequestType !== 'Create' && e.RequestType !== 'Update' && e.RequestType !== 'Delete') problems.push(`RequestType ${show(e.RequestType)} is not Create, Update or Delete`);
  const urlProblem = httpsUrlProblem('ResponseURL', e.ResponseURL);
  if (urlProblem) problems.push(urlProblem);
  else if (!RESPONSE_HOST.test(new URL(e.ResponseURL as string).hostname)) problems.push('ResponseURL is not on an amazonaws.com host');
  for (const field of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
    if (!boundedString(e[field])) problems.push(`${field} is missing or invalid`);
  }
  if (e.RequestType !== 'Create' && !boundedString(e.PhysicalResourceId, 1024)) problems.push('PhysicalResourceId is missing or invalid');
  const props = e.ResourceProperties;
  if (e.RequestType !== 'Delete' && (typeof props !== 'object' || props === null || Array.isArray(props))) problems.push('ResourceProperties is missing');
  if (problems.length > 0) return fail(...problems);
  const p = (props ?? {}) as Record<string, unknown>;
  return ok(
    Object.freeze({
      requestType: e.RequestType as CfnRequest['requestType'],
      responseUrl: e.ResponseURL as string,
      stackId: e.StackId as string,
      requestId: e.RequestId as string,
      logicalResourceId: e.LogicalResourceId as string,
      ...(typeof e.PhysicalResourceId === 'string' ? { physicalResourceId: e.PhysicalResourceId } : {}),
      issuer: p[JwksPinProperty.ISSUER],
      jwksUri: p[JwksPinProperty.JWKS_URI],
    }),
  );
}

/**
 * The resource's properties must name exactly the issuer and JWKS URL of the function's configuration: they exist so
 * that a change makes CloudFormation call the function again, never to point it somewhere else.
 */
export function propertiesMatchConfig(request: CfnRequest, config: PinConfig): string[] {
  const problems: string[] = [];
  if (request.issuer !== config.issuer) problems.push(`the resource's ${JwksPinProperty.ISSUER} ${show(request.issuer)} is not the function's issuer ${show(config.issuer)}`);
  const uri = request.jwksUri === '' ? undefined : request.jwksUri;
  if (uri !== config.jwksUri) problems.push(`the resource's ${JwksPinProperty.JWKS_URI} ${show(uri)} is not the function's JWKS URL ${show(config.jwksUri)}`);
  return problems;
}

/** What the pin answers CloudFormation. */
export type PinOutcome = { readonly status: 'SUCCESS'; readonly physicalResourceId: string; readonly pinned?: PinnedJwks } | { readonly status: 'FAILED'; readonly reason: string };

const MAX_REASON = 1_000;

/**
 * The response body for CloudFormation (at most {@link JWKS_LIMITS.maxResponseBytes} bytes). A success that would not
 * fit becomes a failure that says so; a failure keeps the request's physical id (so an Update failure rolls back
 * cleanly) and carries the reason, truncated.
 */
export function cfnResponseBody(request: CfnRequest, outcome: PinOutcome, fallbackPhysicalId: string): string {
  const common = { StackId: request.stackId, RequestId: request.requestId, LogicalResourceId: request.logicalResourceId };
  if (outcome.status === 'SUCCESS') {
    const body = JSON.stringify({
      Status: 'SUCCESS',
      PhysicalResourceId: outcome.physicalResourceId,
      ...common,
      ...(outcome.pinned
        ? {
            Data: {
              [JwksPinAttribute.JWKS]: outcome.pinned.canonical,
              [JwksPinAttribute.SHA256]: outcome.pinned.sha256,
              [JwksPinAttribute.KEY_COUNT]: String(outcome.pinned.jwks.keys.length),
            },
          }
        : {}),
    });
    if (byteLength(body) <= JWKS_LIMITS.maxResponseBytes) return body;
    return cfnResponseBody(
      request,
      { status: 'FAILED', reason: `the response would be ${byteLength(body)} bytes; CloudFormation accepts at most ${JWKS_LIMITS.maxResponseBytes}` },
      fallbackPhysicalId,
    );
  }
  const reason = outcome.reason.length > MAX_REASON ? `${outcome.reason.slice(0, MAX_REASON - 1)}…` : outcome.reason;
  return JSON.stringify({ Status: 'FAILED', Reason: reason, PhysicalResourceId: request.physicalResourceId ?? fallbackPhysicalId, ...common });
}

/** Parses the scheduled drift-check event: exactly `{ action, pinnedSha256 }`. */
export function parseDriftEvent(event: unknown): Checked<string> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return fail('the drift event is not an object');
  const e = event as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => k !== 'action' && k !== 'pinnedSha256');
  if (e.action !== DRIFT_CHECK_ACTION) return fail(`action ${show(e.action)} is not ${DRIFT_CHECK_ACTION}`);
  if (extra.length > 0) return fail(`the drift event has unexpected members: ${extra.join(', ')}`);
  if (typeof e.pinnedSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.pinnedSha256)) return fail('pinnedSha256 is not a lowercase hex SHA-256');
  return ok(e.pinnedSha256);
}

/** Why the drift metric has its value. */
export const DriftStatus = {
  /** The issuer's current key set is the pinned one. */
  UNCHANGED: 'UNCHANGED',
  /** The issuer serves a different key set: redeploy to re-pin. */
  CHANGED: 'CHANGED',
  /** The current key set could not be fetched or failed validation. */
  UNVERIFIABLE: 'UNVERIFIABLE',
} as const;
export type DriftStatus = (typeof DriftStatus)[keyof typeof DriftStatus];

/** The drift verdict: 0 only when the current key set is known and equal to the pinned one; 1 otherwise. */
export function driftOf(pinnedSha256: string, current: Checked<PinnedJwks>): { readonly value: 0 | 1; readonly status: DriftStatus } {
  if (!current.ok) return { value: 1, status: DriftStatus.UNVERIFIABLE };
  return current.value.sha256 === pinnedSha256 ? { value: 0, status: DriftStatus.UNCHANGED } : { value: 1, status: DriftStatus.CHANGED };
}
