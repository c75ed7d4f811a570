/**
 * I/O of the step runner: the workflow identity's access token (client credentials grant at the user pool's token
 * endpoint, with the app client's secret read from Secrets Manager through the AWS Parameters and Secrets Lambda
 * extension), and the synchronous invocation of an agent's function. Faults reject with errors that
 * `classifyFault` maps to the five fault kinds.
 *
 * The token lives only in this function's memory: it is never returned to Step Functions, so it never appears in
 * the execution history or its logs.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeJson } from '../agent-loop/clients';
import { parseStrictJson } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError, withTimeout } from '../shared/errors';

/** A `fetch` (tests pass a fake). */
export type FetchFunction = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<Response>;

/** An HTTP answer that is not a success, shaped so that `classifyFault` reads its status. */
export class HttpStatusError extends Error {
  public readonly $metadata: { httpStatusCode: number };

  public constructor(what: string, status: number) {
    super(`${what} answered HTTP ${status}`);
    this.name = 'HttpStatusError';
    this.$metadata = { httpStatusCode: status };
  }
}

/** Largest secret or token response read, in bytes. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

async function readBody(response: Response, what: string): Promise<string> {
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new MalformedResponseError(`${what} answer is too large`);
  return text;
}

function statusError(what: string, status: number, body: string): Error {
  // The extension relays Secrets Manager's errors (AccessDeniedException, ThrottlingException) with their status.
  if (/AccessDenied/.test(body)) return new EnforcementError('UPSTREAM_ACCESS_DENIED', `${what} was denied access`);
  if (/Throttl/.test(body)) return new HttpStatusError(what, 429);
  return new HttpStatusError(what, status);
}

/** Reads secrets by ARN. */
export type SecretReader = (secretArn: string, signal: AbortSignal) => Promise<string>;

const SECRET_TEXT = /^[\x21-\x7e]{8,512}$/;

/**
 * Reads a secret through the AWS Parameters and Secrets Lambda extension (`localhost:<port>`, authenticated with the
 * function's session token); the extension caches it. The answer is GetSecretValue's, read strictly.
 */
export function extensionSecretReader(fetcher: FetchFunction, port: number, sessionToken: string | undefined): SecretReader {
  return async (secretArn, signal) => {
    if (!sessionToken) throw new EnforcementError('MISCONFIGURED', 'no session token for the secrets extension');
    const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretArn)}`;
    const response = await fetcher(url, { method: 'GET', headers: { 'X-Aws-Parameters-Secrets-Token': sessionToken }, signal });
    const body = await readBody(response, 'the secrets extension');
    if (response.status !== 200) throw statusError('the secrets extension', response.status, body);
    let parsed: unknown;
    try {
      parsed = parseStrictJson(body);
    } catch {
      throw new MalformedResponseError('the secrets extension answer is not JSON');
    }
    const secret = typeof parsed === 'object' && parsed !== null ? (parsed as { SecretString?: unknown }).SecretString : undefined;
    if (typeof secret !== 'string' || !SECRET_TEXT.test(secret)) throw new MalformedResponseError('the secret is missing or malformed');
    return secret;
  };
}

/** The workflow identity's token settings. */
export interface TokenSettings {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecretArn: string;
  readonly scope: string;
  readonly timeoutMs: number;
}

/** Gives access tokens of the workflow identity, cached per container until they get too close to expiry. */
export interface TokenSource {
  /** A token valid for at least `minValidityMs` more. */
  token(minValidityMs: number): Promise<string>;
  /** Forget the cached token (the agent said it expired). */
  invalidate(): void;
}

const JWT = /^[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{2,8192}$/;
/** A token is not reused when it expires within this margin beyond what the caller needs. */
export const TOKEN_MARGIN_MS = 30_000;

/** Reads a token endpoint answer strictly: a Bearer JWT access token with a positive lifetime of at most a day. */
export function readTokenResponse(body: string): { accessToken: string; expiresInMs: number } {
  let parsed: unknown;
  try {
    parsed = parseStrictJson(body);
  } catch {
    throw new MalformedResponseError('the token endpoint answer is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MalformedResponseError('the token endpoint answer is not an object');
  const t = parsed as Record<string, unknown>;
  if (typeof t.access_token !== 'string' || !JWT.test(t.access_token)) throw new MalformedResponseError('the token endpoint returned no access token');
  if (typeof t.token_type !== 'string' || t.token_type.toLowerCase() !== 'bearer') throw new MalformedResponseError('the token endpoint returned another token type');
  if (typeof t.expires_in !== 'number' || !Number.isInteger(t.expires_in) || t.expires_in <= 0 || t.expires_in > 86_400) throw new MalformedResponseError('the token endpoint returned no valid lifetime');
  return { accessToken: t.access_token, expiresInMs: t.expires_in * 1000 };
}

/**
 * The client credentials grant (RFC 6749 section 4.4) at the user pool's token endpoint, with HTTP Basic client
 * authentication. A 400 or 401 (invalid client, unauthorized scope) is an access denial of the workflow itself.
 */
export function createTokenSource(settings: TokenSettings, readSecret: SecretReader, fetcher: FetchFunction, clock: () => number = Date.now): TokenSource {
  let cached: { token: string; expiresAt: number } | undefined;
  const fetchToken = async (signal: AbortSignal): Promise<{ token: string; expiresAt: number }> => {
    const secret = await readSecret(settings.clientSecretArn, signal);
    const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    const startedAt = clock();
    const response = await fetcher(settings.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: settings.scope }).toString(),
      signal,
    });
    const body = await readBody(response, 'the token endpoint');
    if (response.status === 400 || response.status === 401) throw new EnforcementError('UPSTREAM_ACCESS_DENIED', `the token endpoint refused the workflow client (HTTP ${response.status})`);
    if (response.status !== 200) throw new HttpStatusError('the token endpoint', response.status);
    const { accessToken, expiresInMs } = readTokenResponse(body);
    return { token: accessToken, expiresAt: startedAt + expiresInMs };
  };
  return {
    async token(minValidityMs) {
      if (cached && cached.expiresAt - clock() > minValidityMs + TOKEN_MARGIN_MS) return cached.token;
      cached = undefined;
      const controller = new AbortController();
      try {
        const fresh = await withTimeout(fetchToken(controller.signal), settings.timeoutMs, 'workflow token');
        if (fresh.expiresAt - clock() <= minValidityMs) {
          // A token that would expire during the step is no good: the agent would stop with IDENTITY_EXPIRED.
          throw new EnforcementError('MISCONFIGURED', 'the workflow token lives shorter than a step');
        }
        cached = fresh;
        return fresh.token;
      } finally {
        controller.abort();
      }
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** Invokes an agent's function with `{ callerToken, sessionId, prompt }` and resolves with its parsed JSON answer. */
export async function invokeAgent(lambda: LambdaClient, functionArn: string, payload: { callerToken: string; sessionId: string; prompt: string }, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController();
  try {
    return await invokeJson(lambda, functionArn, payload, controller.signal, timeoutMs);
  } finally {
    controller.abort();
  }
}
