/**
 * Identity configuration as the library's constructs hand it to handlers: one JSON environment variable, written by
 * `CallerIdentity` (lib/common/caller-identity.ts) and read here once per container.
 */
import { parseStrictJson } from './canonical-json';
import { ConfigurationError } from './errors';
import { IdentityConfig, validateIdentityConfig } from './identity';

/** Environment variable that holds the JSON identity configuration. */
export const IDENTITY_ENV_VAR = 'CAD_IDENTITY_CONFIG';

/**
 * Keys of {@link IdentityConfig} that may come from the environment. `jwks` is the key set pinned at deploy time by
 * the library's `JwksPin` (written by `CallerIdentity.withPinnedKeys`); fetchers stay code-only.
 */
const ENV_KEYS = ['issuer', 'jwksUri', 'audience', 'clientId', 'tokenUse', 'requiredScopes', 'groupsClaim', 'clockSkewSeconds', 'algorithms', 'jwks'] as const;

/** Most keys a pinned key set may hold (as `JwksPin` enforces when it pins). */
export const MAX_PINNED_KEYS = 10;
/** The only members a pinned key carries: the public members of RSA and EC signing keys. */
const PINNED_KEY_MEMBERS = new Set(['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y']);
const PINNED_KID = /^[\x21-\x7e]{1,128}$/;

/**
 * Problems of a pinned key set in the shape `JwksPin` writes: exactly `{ "keys": [...] }` with 1 to 10 keys, each
 * with a unique `kid` and only public members. `createTokenVerifier` then checks key types and key material again.
 */
export function pinnedJwksProblems(jwks: unknown): string[] {
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks)) return ['jwks must be a JSON object'];
  const extra = Object.keys(jwks).filter((k) => k !== 'keys');
  if (extra.length > 0) return [`jwks has unsupported members: ${extra.join(', ')}`];
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_PINNED_KEYS) return [`jwks.keys must be an array of 1 to ${MAX_PINNED_KEYS} keys`];
  const problems: string[] = [];
  const kids = new Set<string>();
  keys.forEach((key: unknown, i) => {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      problems.push(`jwks.keys[${i}] must be a JSON object`);
      return;
    }
    const members = Object.keys(key).filter((m) => !PINNED_KEY_MEMBERS.has(m));
    if (members.length > 0) problems.push(`jwks.keys[${i}] has members a pinned public key never has: ${members.join(', ')}`);
    const kid = (key as { kid?: unknown }).kid;
    if (typeof kid !== 'string' || !PINNED_KID.test(kid)) problems.push(`jwks.keys[${i}] has no valid kid`);
    else if (kids.has(kid)) problems.push(`jwks.keys[${i}] repeats kid ${JSON.stringify(kid)}`);
    else kids.add(kid);
  });
  return problems;
}

/**
 * Reads and validates the identity configuration from the environment. Throws a {@link ConfigurationError}
 * (reason MISCONFIGURED) naming every problem; handlers turn that into a deny of every request.
 */
export function identityConfigFromEnv(env: Readonly<Record<string, string | undefined>>): IdentityConfig {
  const raw = env[IDENTITY_ENV_VAR];
  if (raw === undefined || raw.trim() === '') throw new ConfigurationError([`${IDENTITY_ENV_VAR} is not set`]);
  let parsed: unknown;
  try {
    parsed = parseStrictJson(raw);
  } catch (err) {
    throw new ConfigurationError([`${IDENTITY_ENV_VAR} is not valid JSON: ${(err as Error).message}`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError([`${IDENTITY_ENV_VAR} must be a JSON object`]);
  }
  const source = parsed as Record<string, unknown>;
  const unknownKeys = Object.keys(source).filter((k) => !(ENV_KEYS as readonly string[]).includes(k));
  if (unknownKeys.length > 0) throw new ConfigurationError([`${IDENTITY_ENV_VAR} has unsupported keys: ${unknownKeys.join(', ')}`]);
  const config: Record<string, unknown> = {};
  for (const k of ENV_KEYS) if (source[k] !== undefined && source[k] !== null) config[k] = source[k];
  const errors = [
    ...(config.jwks !== undefined ? pinnedJwksProblems(config.jwks) : []),
    ...validateIdentityConfig(config as unknown as IdentityConfig),
  ];
  if (errors.length > 0) throw new ConfigurationError([`${IDENTITY_ENV_VAR} is invalid: ${errors.join('; ')}`]);
  return Object.freeze(config) as unknown as IdentityConfig;
}
