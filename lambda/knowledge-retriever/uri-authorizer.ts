/**
 * Literal S3 URI authorization: which retrieved chunk sources fall inside the caller's granted scopes.
 *
 * Rules (DESIGN.md, "Literal comparison"):
 * - the scheme is exactly `s3://`; the bucket is compared exactly (and must be a valid bucket name, so no case
 *   folding can ever be needed); the key is the raw text after the first `/`, compared byte for byte;
 * - no URL decoding, no normalization (`..`, `//`, `%2F` stay what they are: S3 keys are literal strings);
 * - a prefix grant (`s3://bucket/a/b/*`) admits keys that start with `a/b/`: prefixes only ever match at a `/`
 *   boundary, so `s3://bucket/projectA/*` never admits `s3://bucket/projectA-secret/x`;
 * - a character-level wildcard (`s3://bucket/proj*`), a `*` anywhere but at the end after `/`, or the default
 *   location `s3://` is not a usable scope and admits nothing.
 *
 * Pure: no SDK, no environment, no clock. Exported for customers' own agent code.
 */

/** An S3 object location exactly as written: bucket name and raw key, never decoded or normalized. */
export interface S3ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/** What a grant scope covers. */
export const GrantScopeKind = {
  /** `s3://bucket/*`: every key of the bucket. */
  BUCKET: 'BUCKET',
  /** `s3://bucket/prefix/*`: keys that start with `prefix/` (the prefix always ends with `/`). */
  PREFIX: 'PREFIX',
  /** `s3://bucket/exact/key.pdf`: that one key. */
  OBJECT: 'OBJECT',
} as const;
export type GrantScopeKind = (typeof GrantScopeKind)[keyof typeof GrantScopeKind];

/** A usable grant scope. */
export interface GrantScope {
  readonly bucket: string;
  readonly kind: GrantScopeKind;
  /** BUCKET: `''`; PREFIX: the key prefix, ending with `/`; OBJECT: the exact key. */
  readonly path: string;
}

/** Longest S3 URI accepted (GetDataAccess `Target` allows 2,000 characters). */
export const MAX_S3_URI_LENGTH = 2000;
/** Longest S3 key, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;

const SCHEME = 's3://';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True for a valid general-purpose bucket name (lower case only, so names compare exactly). */
export function isValidBucketName(name: string): boolean {
  return (
    typeof name === 'string' &&
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !IP_ADDRESS.test(name)
  );
}

function validKey(key: string): boolean {
  return key.length > 0 && !LONE_SURROGATE.test(key) && !CONTROL.test(key) && Buffer.byteLength(key, 'utf8') <= MAX_S3_KEY_BYTES;
}

/** Splits `s3://bucket/rest` into bucket and rest; undefined unless the scheme and bucket are exactly right. */
function splitUri(uri: unknown): { bucket: string; rest: string } | undefined {
  if (typeof uri !== 'string' || uri.length > MAX_S3_URI_LENGTH || !uri.startsWith(SCHEME)) return undefined;
  const tail = uri.slice(SCHEME.length);
  const slash = tail.indexOf('/');
  if (slash <= 0) return undefined;
  const bucket = tail.slice(0, slash);
  if (!isValidBucketName(bucket)) return undefined;
  return { bucket, rest: tail.slice(slash + 1) };
}

/**
 * Parses an S3 object URI `s3://bucket/key` literally. Undefined for anything else: another scheme or case
 * (`S3://`), an invalid bucket name (upper case, `..`, IP-shaped), an empty key, a key with control characters or
 * lone surrogates, or one longer than 1,024 UTF-8 bytes. The key is returned exactly as written (never decoded).
 */
export function parseS3Uri(uri: unknown): S3ObjectLocation | undefined {
  const split = splitUri(uri);
  if (!split || !validKey(split.rest)) return undefined;
  return { bucket: split.bucket, key: split.rest };
}

/** The canonical text of a location (`s3://bucket/key`); `parseS3Uri(formatS3Uri(l))` returns `l`. */
export function formatS3Uri(location: S3ObjectLocation): string {
  return `${SCHEME}${location.bucket}/${location.key}`;
}

/**
 * Parses a grant scope as S3 Access Grants reports it (`GrantScope`, `MatchedGrantTarget`): `s3://bucket/*`,
 * `s3://bucket/prefix/*` or an exact object. Undefined for scopes this library does not honour: character-level
 * wildcards (`s3://bucket/proj*`), a `*` anywhere else, the default location `s3://`, or a malformed URI.
 */
export function parseGrantScope(scope: unknown): GrantScope | undefined {
  const split = splitUri(scope);
  if (!split) return undefined;
  const path = split.rest;
  if (path === '*') return { bucket: split.bucket, kind: GrantScopeKind.BUCKET, path: '' };
  if (path.endsWith('/*')) {
    const prefix = path.slice(0, -1);
    if (prefix.includes('*') || !validKey(prefix)) return undefined;
    return { bucket: split.bucket, kind: GrantScopeKind.PREFIX, path: prefix };
  }
  if (path.includes('*') || !validKey(path)) return undefined;
  return { bucket: split.bucket, kind: GrantScopeKind.OBJECT, path };
}

/** True when a usable scope covers a location (exact bucket; prefix at a `/` boundary; exact object key). */
export function scopeCovers(scope: GrantScope, location: S3ObjectLocation): boolean {
  if (scope.bucket !== location.bucket) return false;
  switch (scope.kind) {
    case GrantScopeKind.BUCKET:
      return true;
    case GrantScopeKind.PREFIX:
      return scope.path.endsWith('/') && location.key.length >= scope.path.length && location.key.startsWith(scope.path);
    case GrantScopeKind.OBJECT:
      return location.key === scope.path;
    default:
      return false;
  }
}

interface BucketScopes {
  all: boolean;
  readonly prefixes: string[];
  readonly objects: Set<string>;
}

/**
 * Decides whether S3 locations fall inside a set of grant scopes. Build it once per caller from the caller's
 * scopes, then ask it about each chunk source. Immutable after construction.
 */
export class UriAuthorizer {
  /** Builds an authorizer from raw scope strings; unusable scopes are returned separately (they admit nothing). */
  public static fromScopes(scopes: readonly unknown[]): { authorizer: UriAuthorizer; unusable: string[] } {
    const usable: GrantScope[] = [];
    const unusable: string[] = [];
    for (const raw of scopes) {
      const parsed = parseGrantScope(raw);
      if (parsed) usable.push(parsed);
      else unusable.push(typeof raw === 'string' ? raw : String(raw));
    }
    return { authorizer: new UriAuthorizer(usable), unusable };
  }

  private readonly byBucket = new Map<string, BucketScopes>();
  /** The usable scopes this authorizer holds. */
  public readonly scopes: readonly GrantScope[];

  public constructor(scopes: readonly GrantScope[]) {
    const kept: GrantScope[] = [];
    for (const s of scopes) {
      // Re-check shape: a hand-built scope must obey the same rules as a parsed one.
      if (!s || !isValidBucketName(s.bucket)) continue;
      if (s.kind === GrantScopeKind.PREFIX && (!s.path.endsWith('/') || s.path.includes('*') || !validKey(s.path))) continue;
      if (s.kind === GrantScopeKind.OBJECT && (s.path.includes('*') || !validKey(s.path))) continue;
      if (s.kind !== GrantScopeKind.BUCKET && s.kind !== GrantScopeKind.PREFIX && s.kind !== GrantScopeKind.OBJECT) continue;
      let entry = this.byBucket.get(s.bucket);
      if (!entry) {
        entry = { all: false, prefixes: [], objects: new Set() };
        this.byBucket.set(s.bucket, entry);
      }
      if (s.kind === GrantScopeKind.BUCKET) entry.all = true;
      else if (s.kind === GrantScopeKind.PREFIX) entry.prefixes.push(s.path);
      else entry.objects.add(s.path);
      kept.push(Object.freeze({ bucket: s.bucket, kind: s.kind, path: s.kind === GrantScopeKind.BUCKET ? '' : s.path }));
    }
    this.scopes = Object.freeze(kept);
  }

  /** True when some scope covers the location. */
  public admits(location: S3ObjectLocation): boolean {
    if (!location || typeof location.bucket !== 'string' || typeof location.key !== 'string') return false;
    const entry = this.byBucket.get(location.bucket);
    if (!entry || !validKey(location.key)) return false;
    if (entry.all) return true;
    if (entry.objects.has(location.key)) return true;
    for (const prefix of entry.prefixes) {
      if (location.key.startsWith(prefix)) return true;
    }
    return false;
  }

  /** True when the URI parses (see {@link parseS3Uri}) and some scope covers it. */
  public admitsUri(uri: unknown): boolean {
    const location = parseS3Uri(uri);
    return location !== undefined && this.admits(location);
  }
}

/** Result of {@link authorizeUris}: each distinct input URI lands in exactly one list, in first-seen order. */
export interface UriAuthorization {
  readonly allowed: string[];
  readonly denied: string[];
  /** Inputs that are not S3 object URIs at all (never admitted). */
  readonly invalid: string[];
  /** Scopes that were ignored because this library does not honour them. */
  readonly unusableScopes: string[];
}

/** Authorizes URIs against raw grant scopes; duplicates are checked once. */
export function authorizeUris(uris: readonly unknown[], scopes: readonly unknown[]): UriAuthorization {
  const { authorizer, unusable } = UriAuthorizer.fromScopes(scopes);
  const allowed: string[] = [];
  const denied: string[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const uri of uris) {
    const text = typeof uri === 'string' ? uri : String(uri);
    if (seen.has(text)) continue;
    seen.add(text);
    const location = typeof uri === 'string' ? parseS3Uri(uri) : undefined;
    if (!location) invalid.push(text);
    else if (authorizer.admits(location)) allowed.push(text);
    else denied.push(text);
  }
  return { allowed, denied, invalid, unusableScopes: unusable };
}
