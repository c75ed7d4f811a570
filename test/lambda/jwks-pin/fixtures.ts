/**
 * Fixtures of the jwks-pin tests: real RSA/EC keys as JWKs, Cognito-shaped key sets, an injectable fetch that serves
 * canned responses and records calls, CloudFormation events, and a recording reporter.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FetchFunction, PinReporter } from '../../../lambda/jwks-pin/clients';
import { DRIFT_CHECK_ACTION, JWKS_PIN_RESOURCE_TYPE } from '../../../lambda/jwks-pin/contract';

export type JwkRecord = Record<string, unknown>;

/** A public RSA signing JWK (and its private form). */
export function rsaJwk(kid: string, options: { bits?: number; alg?: string | null; use?: string | null } = {}): { publicJwk: JwkRecord; privateJwk: JwkRecord } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  const extra = { kid, ...(options.alg === null ? {} : { alg: options.alg ?? 'RS256' }), ...(options.use === null ? {} : { use: options.use ?? 'sig' }) };
  return {
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JwkRecord), ...extra },
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JwkRecord), ...extra },
  };
}

/** A public EC signing JWK. */
export function ecJwk(kid: string, crv: 'P-256' | 'P-384' | 'P-521' = 'P-256'): JwkRecord {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: crv });
  const alg = crv === 'P-256' ? 'ES256' : crv === 'P-384' ? 'ES384' : 'ES512';
  return { ...(publicKey.export({ format: 'jwk' }) as JwkRecord), kid, alg, use: 'sig' };
}

/** Two RSA-2048 keys as Cognito publishes them (44-character base64 kids, alg RS256, use sig). */
export function cognitoShapedJwks(): { keys: JwkRecord[] } {
  const kid = (c: string): string => `${c.repeat(20)}+/abcdEFGH1234567890AB=`.slice(0, 43) + '=';
  return { keys: [rsaJwk(kid('A')).publicJwk, rsaJwk(kid('B')).publicJwk].map(({ kty, e, n, kid: k, alg, use }) => ({ alg, e, kid: k, kty, n, use })) };
}

export const ISSUER = 'https://idp.example.test/tenant-1';
export const JWKS_URI = 'https://idp.example.test/tenant-1/keys';
export const DISCOVERY_URI = 'https://idp.example.test/tenant-1/.well-known/openid-configuration';
export const RESPONSE_URL = 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/Pin?X-Amz-Signature=abc';

/** A JSON response. */
export function json(body: unknown, init: { status?: number; contentType?: string; headers?: Record<string, string> } = {}): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { 'content-type': init.contentType ?? 'application/json;charset=UTF-8', ...init.headers },
  });
}

/** A response whose body never ends (one chunk of `chunkBytes` after another), with no content-length. */
export function endlessBody(chunkBytes = 1024): Response {
  const chunk = new TextEncoder().encode(' '.repeat(chunkBytes));
  return new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }), { status: 200, headers: { 'content-type': 'application/json' } });
}

/** What a route answers: a response, a thrown error, or `'hang'` (never answers until aborted). */
export type Route = Response | Error | 'hang' | (() => Response | Error | 'hang');

export interface RecordedCall {
  readonly url: string;
  readonly init: RequestInit;
}

/**
 * A fetch that answers GETs from `routes` (each route is a list used in order, the last one repeating) and
 * accepts PUTs to the CloudFormation response URL with `putStatus`.
 */
export function fakeFetch(routes: Record<string, Route | Route[]>, putStatus = 200): { fetch: FetchFunction; calls: RecordedCall[]; puts: () => any[] } {
  const calls: RecordedCall[] = [];
  const served = new Map<string, number>();
  const fetchFn: FetchFunction = async (url, init) => {
    calls.push({ url, init });
    if (init.method === 'PUT') return new Response(null, { status: putStatus });
    const entry = routes[url];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${new URL(url).hostname}`), { code: 'ENOTFOUND' });
    const list = Array.isArray(entry) ? entry : [entry];
    const n = served.get(url) ?? 0;
    served.set(url, n + 1);
    const listed = list[Math.min(n, list.length - 1)];
    const fresh = typeof listed === 'function';
    const route = fresh ? listed() : listed;
    if (route === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })));
      });
    }
    if (route instanceof Error) throw route;
    // A listed response may be served again: serve copies. A route function makes a fresh one each time.
    return fresh ? route : route.clone();
  };
  return { fetch: fetchFn, calls, puts: () => calls.filter((c) => c.init.method === 'PUT').map((c) => JSON.parse(String(c.init.body))) };
}

/** A reporter that records what it is told. */
export function recordingReporter(): PinReporter & { drift: Array<{ issuer: string; value: 0 | 1 }>; lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> } {
  const drift: Array<{ issuer: string; value: 0 | 1 }> = [];
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  return {
    drift,
    lines,
    publishDrift: (issuer, value) => drift.push({ issuer, value }),
    log: (level, message, fields) => lines.push({ level, message, fields }),
  };
}

/** A CloudFormation custom resource request for the pin. */
export function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', props: Record<string, unknown> = { Issuer: ISSUER, JwksUri: JWKS_URI }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:pin',
    ResponseURL: RESPONSE_URL,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/TestStack/5b918d10-cd98-11ea-90d5-0a9cd3354c10',
    RequestId: 'a5b3f7c2-3a43-4c6b-9a1b-6e1f0f6b8c11',
    LogicalResourceId: 'CdkAiDefenseJwksPinABCDEF1234',
    ResourceType: JWKS_PIN_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:pin', ...props },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'jwks-pin-previous' }),
    ...overrides,
  };
}

/** The scheduled drift-check event. */
export function driftEvent(pinnedSha256: string): Record<string, unknown> {
  return { action: DRIFT_CHECK_ACTION, pinnedSha256 };
}
