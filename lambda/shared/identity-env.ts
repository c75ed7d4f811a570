/**
 * Identity configuration as the library's constructs hand it to handlers: one JSON environment variable, written by
 * `CallerIdentity` (lib/common/caller-identity.ts) and read here once per container.
 */
import { parseStrictJson } from './canonical-json';
import { ConfigurationError } from './errors';
import { IdentityConfig, validateIdentityConfig } from './identity';

/** Environment variable that holds the JSON identity configuration. */
export const IDENTITY_ENV_VAR = 'CAD_IDENTITY_CONFIG';

/** Keys of {@link IdentityConfig} that may come from the environment (pinned keys and fetchers are code-only). */
const ENV_KEYS = ['issuer', 'jwksUri', 'audience', 'clientId', 'tokenUse', 'requiredScopes', 'groupsClaim', 'clockSkewSeconds', 'algorithms'] as const;

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
  const errors = validateIdentityConfig(config as unknown as IdentityConfig);
  if (errors.length > 0) throw new ConfigurationError([`${IDENTITY_ENV_VAR} is invalid: ${errors.join('; ')}`]);
  return Object.freeze(config) as unknown as IdentityConfig;
}
