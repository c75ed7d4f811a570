import fc from 'fast-check';
import { bindingFromItem, bindingToItem, readResourceTokenResponse } from '../../../lambda/oauth-callback/clients';
import { CallbackEnv, callbackSettingsFromEnv, isExactHttpsUrl } from '../../../lambda/oauth-callback/config';
import {
  BINDING_LIFETIME_MS,
  BindingRecord,
  ParseOptions,
  ResponseStyle,
  allowCallback,
  checkBinding,
  createBinding,
  denyCallback,
  parseCallbackRequest,
  renderCallbackResponse,
  stateHashOf,
  statusOf,
  userKeyOf,
} from '../../../lambda/oauth-callback/decide';
import { sha256Hex } from '../../../lambda/shared/canonical-json';
import { ReasonCatalogue } from '../../../lambda/shared/reason-codes';

const NOW = 1_760_000_000_000;
const STATE = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg';
const SESSION = 'urn:ietf:params:oauth:request_uri:abc-123_XYZ.~';
const ALICE = { issuer: 'https://idp.example.test/tenant-1', subject: 'alice' };
const MALLORY = { issuer: 'https://idp.example.test/tenant-1', subject: 'mallory' };
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
const OPTIONS: ParseOptions = { tokenSource: 'AUTHORIZATION_HEADER', stateParameter: 'state', sessionParameter: 'session_id' };

function binding(overrides: Partial<BindingRecord> = {}): BindingRecord {
  const created = createBinding({ state: STATE, sessionUri: SESSION, user: ALICE, providerName: 'github', now: NOW });
  if (!created.ok) throw new Error('fixture');
  return { ...created.value, ...overrides };
}

const attempt = (overrides: Partial<{ stateHash: string; sessionUri: string; userKey: string; now: number }> = {}) => ({
  stateHash: stateHashOf(STATE),
  sessionUri: SESSION,
  userKey: userKeyOf(ALICE),
  now: NOW + 1,
  ...overrides,
});

describe('createBinding', () => {
  test('records the hashes, the session, ten minutes of life and unused', () => {
    const b = binding();
    expect(b).toEqual({
      stateHash: sha256Hex(STATE),
      sessionUri: SESSION,
      userKey: sha256Hex(JSON.stringify([ALICE.issuer, ALICE.subject])),
      providerName: 'github',
      createdAt: NOW,
      expiresAt: NOW + 600_000,
      used: false,
    });
    const created = createBinding({ state: STATE, sessionUri: SESSION, user: ALICE, now: NOW });
    expect(created.ok && Object.isFrozen(created.value)).toBe(true);
    expect(JSON.stringify(b)).not.toContain(STATE);
    expect(JSON.stringify(b)).not.toContain('alice');
  });

  test('issuer and subject are hashed unambiguously (no concatenation collisions)', () => {
    expect(userKeyOf({ issuer: 'https://a/b', subject: 'c' })).not.toEqual(userKeyOf({ issuer: 'https://a/', subject: 'bc' }));
    expect(userKeyOf({ issuer: 'https://a', subject: 'x","y' })).not.toEqual(userKeyOf({ issuer: 'https://a","x', subject: 'y' }));
  });

  test.each([
    ['a state shorter than 128 bits', { state: 'short-state-123' }, 'MALFORMED_REQUEST'],
    ['a state with characters outside base64url', { state: `${STATE}+/` }, 'MALFORMED_REQUEST'],
    ['a session that is not a request URI', { sessionUri: 'https://evil.example.com' }, 'UPSTREAM_MALFORMED_RESPONSE'],
    ['a user without subject', { user: { issuer: ALICE.issuer, subject: '' } }, 'IDENTITY_CLAIMS_INVALID'],
    ['a user without issuer', { user: { issuer: '', subject: 'alice' } }, 'IDENTITY_CLAIMS_INVALID'],
    ['a malformed provider name', { providerName: 'git hub' }, 'MALFORMED_REQUEST'],
    ['a clock that is not epoch milliseconds', { now: 1.5 }, 'INTERNAL_ERROR'],
  ])('fails for %s', (_name, overrides, code) => {
    const result = createBinding({ state: STATE, sessionUri: SESSION, user: ALICE, now: NOW, ...overrides });
    expect(result).toEqual(expect.objectContaining({ ok: false, reasonCode: code }));
  });
});

describe('checkBinding', () => {
  test('allows the same user, same session, unused, inside ten minutes', () => {
    expect(checkBinding(binding(), attempt())).toEqual(allowCallback());
  });

  test.each<[string, BindingRecord | undefined, ReturnType<typeof attempt>, string]>([
    ['an unknown state (no binding)', undefined, attempt(), 'OAUTH_STATE_UNKNOWN'],
    ['a wrong state (binding of another state)', binding(), attempt({ stateHash: stateHashOf(`${STATE}x`) }), 'OAUTH_STATE_UNKNOWN'],
    ['another user', binding(), attempt({ userKey: userKeyOf(MALLORY) }), 'OAUTH_USER_MISMATCH'],
    ['the same subject at another issuer', binding(), attempt({ userKey: userKeyOf({ issuer: 'https://other.example', subject: 'alice' }) }), 'OAUTH_USER_MISMATCH'],
    ['another session', binding(), attempt({ sessionUri: `${SESSION}0` }), 'OAUTH_SESSION_MISMATCH'],
    ['a used binding (replay)', binding({ used: true, usedAt: NOW + 5 }), attempt(), 'OAUTH_BINDING_REPLAYED'],
    ['exactly ten minutes after creation', binding(), attempt({ now: NOW + BINDING_LIFETIME_MS }), 'OAUTH_BINDING_EXPIRED'],
    ['an hour later', binding(), attempt({ now: NOW + 3_600_000 }), 'OAUTH_BINDING_EXPIRED'],
    ['a binding written with a longer lifetime', binding({ expiresAt: NOW + BINDING_LIFETIME_MS + 1 }), attempt(), 'UPSTREAM_MALFORMED_RESPONSE'],
    ['a clock that is not epoch milliseconds', binding(), attempt({ now: Number.NaN }), 'INTERNAL_ERROR'],
  ])('denies %s', (_name, record, a, code) => {
    expect(checkBinding(record, a)).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: code }));
  });

  test('one millisecond before the ten-minute boundary is still valid', () => {
    expect(checkBinding(binding(), attempt({ now: NOW + BINDING_LIFETIME_MS - 1 })).outcome).toBe('ALLOW');
  });

  test('another user learns nothing about a used or expired binding', () => {
    const used = binding({ used: true });
    expect(checkBinding(used, attempt({ userKey: userKeyOf(MALLORY), now: NOW + 3_600_000 })).reasonCode).toBe('OAUTH_USER_MISMATCH');
  });

  test('property: allowed exactly when user, session and state match, unused, and now < expiresAt', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: -5_000, max: BINDING_LIFETIME_MS + 5_000 }), (sameUser, sameSession, sameState, used, offset) => {
        const decision = checkBinding(
          binding({ used }),
          attempt({
            userKey: userKeyOf(sameUser ? ALICE : MALLORY),
            sessionUri: sameSession ? SESSION : `${SESSION}9`,
            stateHash: stateHashOf(sameState ? STATE : `${STATE}9`),
            now: NOW + offset,
          }),
        );
        const expected = sameUser && sameSession && sameState && !used && offset < BINDING_LIFETIME_MS;
        return (decision.outcome === 'ALLOW') === expected;
      }),
      { seed: 42, numRuns: 10000 },
    );
  });
});

describe('binding items', () => {
  test('round-trip through the DynamoDB item shape with a TTL a day after expiry', () => {
    const b = binding({ used: true, usedAt: NOW + 10 });
    const item = bindingToItem(b);
    expect(item.ttl).toEqual({ N: String(Math.ceil((NOW + BINDING_LIFETIME_MS) / 1000) + 86_400) });
    expect(bindingFromItem(item)).toEqual(b);
  });

  test.each([
    ['not an object', null],
    ['a missing user key', (() => { const i = bindingToItem(binding()); delete (i as Record<string, unknown>).userKey; return i; })()],
    ['a number as string', { ...bindingToItem(binding()), createdAt: { S: String(NOW) } }],
    ['a boolean as string', { ...bindingToItem(binding()), used: { S: 'false' } }],
    ['a non-integer time', { ...bindingToItem(binding()), expiresAt: { N: '1e3' } }],
    ['a state hash that is not SHA-256 hex', { ...bindingToItem(binding()), stateHash: { S: 'abc' } }],
    ['a session that is not a request URI', { ...bindingToItem(binding()), sessionUri: { S: 'https://x' } }],
    ['an attribute with two types', { ...bindingToItem(binding()), used: { BOOL: false, S: 'x' } }],
  ])('reading fails closed (malformed response) for %s', (_name, item) => {
    expect(() => bindingFromItem(item)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
  });
});

describe('parseCallbackRequest', () => {
  const query = `state=${STATE}&session_id=${encodeURIComponent(SESSION)}`;
  const v2 = (overrides: Record<string, unknown> = {}) => ({
    version: '2.0',
    rawQueryString: query,
    headers: { authorization: `Bearer ${JWT}`, accept: 'text/html' },
    requestContext: { http: { method: 'GET' } },
    ...overrides,
  });

  test('reads an HTTP API (v2) event', () => {
    expect(parseCallbackRequest(v2(), OPTIONS)).toEqual({
      style: ResponseStyle.API_GATEWAY,
      wantsJson: false,
      method: 'GET',
      token: JWT,
      parameters: { ok: true, value: { state: STATE, sessionUri: SESSION } },
    });
  });

  test('reads a REST API (v1) event with multi-value parameters', () => {
    const r = parseCallbackRequest(
      {
        httpMethod: 'GET',
        multiValueQueryStringParameters: { state: [STATE], session_id: [SESSION] },
        multiValueHeaders: { Authorization: [`Bearer ${JWT}`], Accept: ['application/json'] },
      },
      OPTIONS,
    );
    expect(r).toEqual(expect.objectContaining({ style: 'API_GATEWAY', wantsJson: true, token: JWT, parameters: { ok: true, value: { state: STATE, sessionUri: SESSION } } }));
  });

  test('reads an ALB event (undecoded parameters) and keeps the multi-value style', () => {
    const alb = parseCallbackRequest(
      { httpMethod: 'GET', requestContext: { elb: { targetGroupArn: 'arn' } }, queryStringParameters: { state: STATE, session_id: encodeURIComponent(SESSION) }, headers: { authorization: `Bearer ${JWT}` } },
      OPTIONS,
    );
    expect(alb).toEqual(expect.objectContaining({ style: 'ALB', parameters: { ok: true, value: { state: STATE, sessionUri: SESSION } } }));
    const multi = parseCallbackRequest(
      {
        httpMethod: 'GET',
        requestContext: { elb: {} },
        multiValueQueryStringParameters: { state: [STATE], session_id: [encodeURIComponent(SESSION)] },
        multiValueHeaders: { 'x-amzn-oidc-accesstoken': [JWT] },
      },
      { ...OPTIONS, tokenSource: 'ALB_OIDC_ACCESS_TOKEN' },
    );
    expect(multi).toEqual(expect.objectContaining({ style: 'ALB_MULTI_VALUE', token: JWT }));
  });

  test.each([
    ['no state', `session_id=${encodeURIComponent(SESSION)}`],
    ['no session', `state=${STATE}`],
    ['two states', `${query}&state=${STATE}`],
    ['two sessions', `${query}&session_id=${encodeURIComponent(SESSION)}`],
    ['a short state', `state=abc&session_id=${encodeURIComponent(SESSION)}`],
    ['a session that is a URL', `state=${STATE}&session_id=${encodeURIComponent('https://evil.example.com/x')}`],
    ['an empty query', ''],
  ])('parameters are MALFORMED_REQUEST with %s', (_name, raw) => {
    expect(parseCallbackRequest(v2({ rawQueryString: raw }), OPTIONS).parameters).toEqual(expect.objectContaining({ ok: false, reasonCode: 'MALFORMED_REQUEST' }));
  });

  test('REST API events with a parameter twice are malformed', () => {
    const r = parseCallbackRequest({ httpMethod: 'GET', multiValueQueryStringParameters: { state: [STATE, STATE], session_id: [SESSION] } }, OPTIONS);
    expect(r.parameters.ok).toBe(false);
  });

  test.each([
    ['no Authorization header', { accept: 'text/html' }],
    ['a non-Bearer scheme', { authorization: `Basic ${JWT}` }],
    ['two tokens joined by API Gateway', { authorization: `Bearer ${JWT}, Bearer ${JWT}` }],
    ['a token that is not a JWT', { authorization: 'Bearer not-a-jwt' }],
  ])('no token with %s', (_name, headers) => {
    expect(parseCallbackRequest(v2({ headers }), OPTIONS).token).toBeUndefined();
  });

  test('reads the token only from the configured source', () => {
    const cookieOptions: ParseOptions = { ...OPTIONS, tokenSource: 'COOKIE', tokenCookieName: '__Host-id' };
    expect(parseCallbackRequest(v2({ cookies: ['a=b', `__Host-id=${JWT}`] }), cookieOptions).token).toBe(JWT);
    expect(parseCallbackRequest({ httpMethod: 'GET', headers: { Cookie: `x=1; __Host-id=${JWT}` } }, cookieOptions).token).toBe(JWT);
    // The Authorization header does not count when the source is a cookie, and vice versa.
    expect(parseCallbackRequest(v2(), cookieOptions).token).toBeUndefined();
    expect(parseCallbackRequest(v2({ headers: {}, cookies: [`__Host-id=${JWT}`] }), OPTIONS).token).toBeUndefined();
    // A cookie set twice, or a similarly named cookie, is no token.
    expect(parseCallbackRequest(v2({ cookies: [`__Host-id=${JWT}`, `__Host-id=${JWT}`] }), cookieOptions).token).toBeUndefined();
    expect(parseCallbackRequest(v2({ cookies: [`__Host-idx=${JWT}`] }), cookieOptions).token).toBeUndefined();
    expect(parseCallbackRequest({ httpMethod: 'GET', headers: { cookie: `__Host-idX; __Host-id=${JWT}` } }, cookieOptions).token).toBe(JWT);
    // The ALB header is only read with its source.
    expect(parseCallbackRequest(v2({ headers: { 'x-amzn-oidc-accesstoken': JWT } }), OPTIONS).token).toBeUndefined();
  });

  test('never throws on hostile or empty events', () => {
    for (const event of [undefined, null, 42, 'x', [], {}, { headers: 7, rawQueryString: 5, version: '2.0' }, { queryStringParameters: { state: 1 } }]) {
      const r = parseCallbackRequest(event, OPTIONS);
      expect(r.parameters.ok).toBe(false);
      expect(r.token).toBeUndefined();
    }
  });
});

describe('renderCallbackResponse', () => {
  const html = { style: ResponseStyle.API_GATEWAY, wantsJson: false } as const;

  test('a deny shows the reason code and nothing else, never cached or framed', () => {
    const r = renderCallbackResponse(denyCallback('OAUTH_USER_MISMATCH', `secret detail ${JWT}`), html);
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain('OAUTH_USER_MISMATCH');
    expect(r.body).not.toContain('secret detail');
    expect(r.body).not.toContain(JWT);
    expect(r.headers).toEqual(
      expect.objectContaining({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        'content-type': 'text/html; charset=utf-8',
      }),
    );
    expect(r.headers!['content-security-policy']).toContain("default-src 'none'");
  });

  test('JSON clients get {ok:false, reasonCode} only', () => {
    const r = renderCallbackResponse(denyCallback('UPSTREAM_THROTTLED', 'ThrottlingException: rate'), { ...html, wantsJson: true });
    expect(JSON.parse(r.body)).toEqual({ ok: false, reasonCode: 'UPSTREAM_THROTTLED' });
    expect(r.statusCode).toBe(503);
  });

  test('status codes by reason', () => {
    expect(statusOf('MALFORMED_REQUEST')).toBe(400);
    expect(statusOf('IDENTITY_MISSING')).toBe(401);
    expect(statusOf('OAUTH_BINDING_EXPIRED')).toBe(403);
    expect(statusOf('UPSTREAM_TIMEOUT')).toBe(503);
    expect(statusOf('MISCONFIGURED')).toBe(500);
    expect(renderCallbackResponse(denyCallback('IDENTITY_MISSING'), { ...html, bearerChallenge: true }).headers!['www-authenticate']).toBe('Bearer');
    expect(renderCallbackResponse(denyCallback('MALFORMED_REQUEST'), { ...html, methodNotAllowed: true })).toEqual(expect.objectContaining({ statusCode: 405 }));
  });

  test('an allow confirms, or redirects browsers to the completion URL', () => {
    expect(renderCallbackResponse(allowCallback(), html)).toEqual(expect.objectContaining({ statusCode: 200 }));
    const redirect = renderCallbackResponse(allowCallback(), { ...html, completionRedirectUrl: 'https://app.example.com/done' });
    expect(redirect).toEqual(expect.objectContaining({ statusCode: 303, body: '' }));
    expect(redirect.headers!.location).toBe('https://app.example.com/done');
    expect(JSON.parse(renderCallbackResponse(allowCallback(), { ...html, wantsJson: true, completionRedirectUrl: 'https://app.example.com/done' }).body)).toEqual({ ok: true });
  });

  test('ALB responses carry a status description, and multi-value headers when the target group uses them', () => {
    expect(renderCallbackResponse(allowCallback(), { style: ResponseStyle.ALB, wantsJson: false })).toEqual(expect.objectContaining({ statusDescription: '200 OK', headers: expect.any(Object) }));
    const multi = renderCallbackResponse(denyCallback('OAUTH_STATE_UNKNOWN'), { style: ResponseStyle.ALB_MULTI_VALUE, wantsJson: false });
    expect(multi.headers).toBeUndefined();
    expect(multi.multiValueHeaders!['cache-control']).toEqual(['no-store']);
    expect(multi.statusDescription).toBe('403 Forbidden');
  });
});

describe('configuration and responses from AWS', () => {
  test('settings from the environment, with defaults', () => {
    expect(callbackSettingsFromEnv({ [CallbackEnv.BINDING_TABLE]: 'bindings' })).toEqual({
      ok: true,
      settings: { tableName: 'bindings', tokenSource: 'AUTHORIZATION_HEADER', stateParameter: 'state', sessionParameter: 'session_id', timeoutMs: 5000 },
    });
  });

  test('every problem of a bad environment is reported', () => {
    const r = callbackSettingsFromEnv({
      [CallbackEnv.TOKEN_SOURCE]: 'QUERY',
      [CallbackEnv.STATE_PARAMETER]: 'x y',
      [CallbackEnv.COMPLETION_REDIRECT_URL]: 'http://app.example.com/*',
      [CallbackEnv.TIMEOUT_MS]: '100000',
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.length).toBe(5);
    expect(callbackSettingsFromEnv({ [CallbackEnv.BINDING_TABLE]: 't1b', [CallbackEnv.TOKEN_SOURCE]: 'COOKIE' })).toEqual(expect.objectContaining({ ok: false }));
  });

  test.each([
    ['https://app.example.com/oauth/callback', true],
    ['http://app.example.com/oauth/callback', false],
    ['https://*.example.com/callback', false],
    ['https://app.example.com/callback?x=1', false],
    ['https://app.example.com/callback#x', false],
    ['https://user:pw@app.example.com/callback', false],
    ['https://app.example.com/ callback', false],
  ])('isExactHttpsUrl(%s) is %s', (url, expected) => {
    expect(isExactHttpsUrl(url)).toBe(expected);
  });

  test('GetResourceOauth2Token responses are read strictly', () => {
    expect(readResourceTokenResponse({ accessToken: 'tok' })).toEqual({ kind: 'TOKEN', accessToken: 'tok' });
    expect(readResourceTokenResponse({ authorizationUrl: 'https://idp.example.com/authorize?x', sessionUri: SESSION, sessionStatus: 'IN_PROGRESS' })).toEqual({
      kind: 'AUTHORIZE',
      authorizationUrl: 'https://idp.example.com/authorize?x',
      sessionUri: SESSION,
    });
    expect(readResourceTokenResponse({ sessionStatus: 'FAILED' })).toEqual({ kind: 'FAILED' });
    for (const bad of [null, {}, { accessToken: '' }, { authorizationUrl: 'http://idp/x', sessionUri: SESSION }, { authorizationUrl: 'https://idp/x', sessionUri: 'x' }, { sessionStatus: 'DONE' }]) {
      expect(() => readResourceTokenResponse(bad)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
    }
  });

  test('the binding codes are in the shared catalogue and answer 403', () => {
    const codes = ['OAUTH_STATE_UNKNOWN', 'OAUTH_USER_MISMATCH', 'OAUTH_SESSION_MISMATCH', 'OAUTH_BINDING_REPLAYED', 'OAUTH_BINDING_EXPIRED', 'OAUTH_FLOW_FAILED'] as const;
    expect(Object.keys(ReasonCatalogue).filter((c) => c.startsWith('OAUTH_')).sort()).toEqual([...codes].sort());
    for (const code of codes) expect(statusOf(code)).toBe(403);
  });
});
