/**
 * Configuration of the 3LO callback handler: the environment variables `AgentIdentity` sets, their defaults and a
 * pure parser. Shared by the handler and the construct so that the names exist once. No SDK, no side effects.
 */
import { IdentityConfig } from '../shared/identity';

/** Names of the environment variables the handler reads (besides the identity configuration, `CAD_IDENTITY_CONFIG`). */
export const CallbackEnv = {
  /** Name of the DynamoDB table that holds the pending bindings (required). */
  BINDING_TABLE: 'OAUTH_BINDING_TABLE',
  /** Where the user's token is read: AUTHORIZATION_HEADER | COOKIE | ALB_OIDC_ACCESS_TOKEN. */
  TOKEN_SOURCE: 'OAUTH_TOKEN_SOURCE',
  /** Cookie that holds the user's token when TOKEN_SOURCE is COOKIE. */
  TOKEN_COOKIE: 'OAUTH_TOKEN_COOKIE',
  /** Query parameter that carries the state (the `customState` given to GetResourceOauth2Token). */
  STATE_PARAMETER: 'OAUTH_STATE_PARAMETER',
  /** Query parameter that carries the session URI. */
  SESSION_PARAMETER: 'OAUTH_SESSION_PARAMETER',
  /** Exact https URL the user is sent to (303) after a completed binding; unset: a short confirmation page. */
  COMPLETION_REDIRECT_URL: 'OAUTH_COMPLETION_REDIRECT_URL',
  /** Deadline of one callback in milliseconds (below the Lambda timeout, so that a timeout is a deny). */
  TIMEOUT_MS: 'OAUTH_TIMEOUT_MS',
} as const;

/** Where the callback reads the signed-in user's token. */
export const TokenSource = {
  /** `Authorization: Bearer <JWT>` (an app page calls the callback API with the user's token). */
  AUTHORIZATION_HEADER: 'AUTHORIZATION_HEADER',
  /** A cookie the application sets with the user's JWT (named by TOKEN_COOKIE). */
  COOKIE: 'COOKIE',
  /** `x-amzn-oidc-accesstoken`, which an Application Load Balancer with an authenticate action adds (AiFrontDoor). */
  ALB_OIDC_ACCESS_TOKEN: 'ALB_OIDC_ACCESS_TOKEN',
} as const;
export type TokenSource = (typeof TokenSource)[keyof typeof TokenSource];

/** Defaults of the optional settings. */
export const CALLBACK_DEFAULTS = {
  tokenSource: TokenSource.AUTHORIZATION_HEADER as TokenSource,
  stateParameter: 'state',
  sessionParameter: 'session_id',
  timeoutMs: 5_000,
} as const;

/** Limits of the numeric settings. */
export const CALLBACK_LIMITS = {
  timeoutMs: { min: 500, max: 60_000 },
} as const;

/** Cookie names: RFC 6265 token characters, optionally with the `__Host-`/`__Secure-` prefix. */
export const COOKIE_NAME_PATTERN = /^(?:__Host-|__Secure-)?[A-Za-z0-9_-]{1,64}$/;
/** Query parameter names the callback accepts for the state and the session. */
export const PARAMETER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** The handler's configuration, validated. */
export interface CallbackConfig {
  /** How the user's token is verified. */
  readonly identity: IdentityConfig;
  readonly tableName: string;
  readonly tokenSource: TokenSource;
  readonly tokenCookieName?: string;
  readonly stateParameter: string;
  readonly sessionParameter: string;
  readonly completionRedirectUrl?: string;
  readonly timeoutMs: number;
}

/** Result of {@link callbackSettingsFromEnv}. */
export type SettingsResult = { readonly ok: true; readonly settings: Omit<CallbackConfig, 'identity'> } | { readonly ok: false; readonly problems: string[] };

/** True for an absolute https URL without credentials, query or fragment, and without wildcards or whitespace. */
export function isExactHttpsUrl(value: string): boolean {
  if (value.length === 0 || value.length > 2048 || /[\s*]/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname.length > 0 && !url.username && !url.password && !url.search && !url.hash && !value.includes('?') && !value.includes('#');
}

/**
 * Reads every setting but the identity (read with `identityConfigFromEnv`) from the environment; returns every
 * problem at once. A handler with problems denies every request (MISCONFIGURED).
 */
export function callbackSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): SettingsResult {
  const problems: string[] = [];
  const tableName = env[CallbackEnv.BINDING_TABLE];
  if (!tableName || !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) problems.push(`${CallbackEnv.BINDING_TABLE} must be a DynamoDB table name, got ${JSON.stringify(tableName)}`);

  const tokenSource = (env[CallbackEnv.TOKEN_SOURCE] ?? CALLBACK_DEFAULTS.tokenSource) as TokenSource;
  if (!(Object.values(TokenSource) as string[]).includes(tokenSource)) {
    problems.push(`${CallbackEnv.TOKEN_SOURCE} must be one of ${Object.values(TokenSource).join(', ')}, got ${JSON.stringify(tokenSource)}`);
  }
  const tokenCookieName = env[CallbackEnv.TOKEN_COOKIE];
  if (tokenSource === TokenSource.COOKIE && (!tokenCookieName || !COOKIE_NAME_PATTERN.test(tokenCookieName))) {
    problems.push(`${CallbackEnv.TOKEN_COOKIE} must name the token cookie (${COOKIE_NAME_PATTERN}) when the token source is COOKIE, got ${JSON.stringify(tokenCookieName)}`);
  }
  if (tokenSource !== TokenSource.COOKIE && tokenCookieName !== undefined) problems.push(`${CallbackEnv.TOKEN_COOKIE} is set but the token source is ${tokenSource}`);

  const stateParameter = env[CallbackEnv.STATE_PARAMETER] ?? CALLBACK_DEFAULTS.stateParameter;
  const sessionParameter = env[CallbackEnv.SESSION_PARAMETER] ?? CALLBACK_DEFAULTS.sessionParameter;
  for (const [name, value] of [
    [CallbackEnv.STATE_PARAMETER, stateParameter],
    [CallbackEnv.SESSION_PARAMETER, sessionParameter],
  ] as const) {
    if (!PARAMETER_NAME_PATTERN.test(value)) problems.push(`${name} must be a query parameter name (${PARAMETER_NAME_PATTERN}), got ${JSON.stringify(value)}`);
  }
  if (stateParameter === sessionParameter) problems.push(`${CallbackEnv.STATE_PARAMETER} and ${CallbackEnv.SESSION_PARAMETER} must differ`);

  const completionRedirectUrl = env[CallbackEnv.COMPLETION_REDIRECT_URL];
  if (completionRedirectUrl !== undefined && !isExactHttpsUrl(completionRedirectUrl)) {
    problems.push(`${CallbackEnv.COMPLETION_REDIRECT_URL} must be an https URL without query or fragment, got ${JSON.stringify(completionRedirectUrl)}`);
  }

  const rawTimeout = env[CallbackEnv.TIMEOUT_MS];
  const timeoutMs = rawTimeout === undefined ? CALLBACK_DEFAULTS.timeoutMs : Number(rawTimeout);
  const { min, max } = CALLBACK_LIMITS.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < min || timeoutMs > max) {
    problems.push(`${CallbackEnv.TIMEOUT_MS} must be a whole number of milliseconds from ${min} to ${max}, got ${JSON.stringify(rawTimeout)}`);
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      tableName: tableName as string,
      tokenSource,
      ...(tokenSource === TokenSource.COOKIE ? { tokenCookieName } : {}),
      stateParameter,
      sessionParameter,
      ...(completionRedirectUrl !== undefined ? { completionRedirectUrl } : {}),
      timeoutMs,
    },
  };
}
