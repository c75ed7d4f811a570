import {
  BedrockAgentCoreClient,
  CompleteResourceTokenAuthCommand,
  GetResourceOauth2TokenCommand,
  GetWorkloadAccessTokenForJWTCommand,
  GetWorkloadAccessTokenForUserIdCommand,
} from '@aws-sdk/client-bedrock-agentcore';
import {
  AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, FaultKind, awsFault } from '../../rig/faults';
import { captureStdout, decisionLines } from '../../rig/decision-log-capture';
import { CallbackClients, DynamoBindingStore, agentCoreIdentity, bindingToItem } from '../../../lambda/oauth-callback/clients';
import { CallbackConfig } from '../../../lambda/oauth-callback/config';
import { BINDING_LIFETIME_MS, createBinding, stateHashOf, userKeyOf } from '../../../lambda/oauth-callback/decide';
import { CONTROL, createHandler, handler } from '../../../lambda/oauth-callback/index';
import { StartAuthorizationDependencies, StartAuthorizationRequest, createAuthorizationStarter, newState, startUserAuthorization } from '../../../lambda/oauth-callback/start';
import { createTokenVerifier } from '../../../lambda/shared/identity';
import { createTestIssuer } from '../shared/jwt-helper';

const ddb = mockClient(DynamoDBClient);
const ac = mockClient(BedrockAgentCoreClient);

const idp = createTestIssuer();
const otherIdp = createTestIssuer({ issuer: 'https://other-idp.example.test' });
const IDENTITY = { issuer: idp.issuer, audience: 'agent-app', jwks: idp.jwks };
const aliceToken = (claims: Record<string, unknown> = {}): string => idp.sign({ sub: 'alice', aud: 'agent-app', ...claims });
const malloryToken = (): string => idp.sign({ sub: 'mallory', aud: 'agent-app' });
const ALICE = { issuer: idp.issuer, subject: 'alice' };

const NOW = 1_760_000_000_000;
const STATE = newState();
const SESSION = 'urn:ietf:params:oauth:request_uri:7f3e0c2a-5b1d-4c8e-9a6f-1d2e3f4a5b6c';
const RETURN_URL = 'https://app.example.com/oauth/callback';
let clock = NOW;

const CONFIG: CallbackConfig = {
  identity: IDENTITY,
  tableName: 'bindings',
  tokenSource: 'AUTHORIZATION_HEADER',
  stateParameter: 'state',
  sessionParameter: 'session_id',
  timeoutMs: 2_000,
};

function clients(): CallbackClients {
  return {
    store: new DynamoBindingStore(new DynamoDBClient({ region: 'us-east-1' }), 'bindings'),
    agentCore: agentCoreIdentity(new BedrockAgentCoreClient({ region: 'us-east-1' })),
    now: () => clock,
  };
}

const callback = (config: Partial<CallbackConfig> = {}) => createHandler({ ...CONFIG, ...config }, clients());

function aliceBindingItem(overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  const b = createBinding({ state: STATE, sessionUri: SESSION, user: ALICE, providerName: 'github', now: NOW });
  if (!b.ok) throw new Error('fixture');
  return { ...bindingToItem(b.value), ...overrides };
}

function event(token: string | undefined, query = `state=${STATE}&session_id=${encodeURIComponent(SESSION)}`, extra: Record<string, unknown> = {}) {
  return {
    version: '2.0',
    rawPath: '/oauth/callback',
    rawQueryString: query,
    headers: { accept: 'text/html', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    requestContext: { http: { method: 'GET', path: '/oauth/callback' }, requestId: 'req-1' },
    ...extra,
  };
}

const reasonOf = (body: string): string => JSON.parse(body).reasonCode;

beforeEach(() => {
  // Decision lines of tests that do not capture them stay out of the test output.
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  ddb.reset();
  ac.reset();
  clock = NOW + 60_000;
  ddb.on(GetItemCommand).resolves({ Item: aliceBindingItem() });
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(PutItemCommand).resolves({});
  ac.on(CompleteResourceTokenAuthCommand).resolves({});
});

afterEach(() => {
  jest.restoreAllMocks();
  // No flow of this suite may ever ask AgentCore for a token by user id.
  expect(ac.commandCalls(GetWorkloadAccessTokenForUserIdCommand)).toHaveLength(0);
});

describe('callback: the same user completes the flow', () => {
  test('completes with the user token (never a user id), once, after a consistent read and a conditional write', async () => {
    // Prepare
    const token = aliceToken();
    // Act
    const { value: response, lines, raw } = await captureStdout(() => callback()(event(token), { awsRequestId: 'req-1' }));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('Authorization complete');
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'bindings', Key: { stateHash: { S: stateHashOf(STATE) } }, ConsistentRead: true });
    const update = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update.ConditionExpression).toBe('attribute_exists(#state) AND #used = :false AND #expiresAt > :now AND #userKey = :userKey AND #sessionUri = :sessionUri');
    expect(update.ExpressionAttributeValues).toEqual(
      expect.objectContaining({ ':now': { N: String(clock) }, ':userKey': { S: userKeyOf(ALICE) }, ':sessionUri': { S: SESSION }, ':false': { BOOL: false } }),
    );
    const complete = ac.commandCalls(CompleteResourceTokenAuthCommand);
    expect(complete).toHaveLength(1);
    expect(complete[0].args[0].input).toEqual({ sessionUri: SESSION, userIdentifier: { userToken: token } });
    expect(complete[0].args[0].input.userIdentifier).not.toHaveProperty('userId');
    const [line] = decisionLines(lines);
    expect(line).toEqual(expect.objectContaining({ control: CONTROL, outcome: 'ALLOW', requestId: 'req-1', reasonCode: 'ALLOWED', fields: { integration: 'API_GATEWAY' } }));
    expect(line.subjectHash).toMatch(/^[0-9a-f]{64}$/);
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(STATE);
    expect(raw).not.toContain('alice');
  });

  test('one millisecond before the ten-minute boundary still completes', async () => {
    clock = NOW + BINDING_LIFETIME_MS - 1;
    expect((await callback()(event(aliceToken()))).statusCode).toBe(200);
  });

  test('JSON clients get {ok:true}; browsers can be redirected to the completion URL', async () => {
    const json = await callback()(event(aliceToken(), undefined, { headers: { authorization: `Bearer ${aliceToken()}`, accept: 'application/json' } }));
    expect(JSON.parse(json.body)).toEqual({ ok: true });
    const redirect = await callback({ completionRedirectUrl: 'https://app.example.com/connected' })(event(aliceToken()));
    expect(redirect).toEqual(expect.objectContaining({ statusCode: 303 }));
    expect(redirect.headers!.location).toBe('https://app.example.com/connected');
  });

  test('reads the token from a cookie or from the load balancer header when configured so', async () => {
    const cookie = await callback({ tokenSource: 'COOKIE', tokenCookieName: '__Host-id' })(event(undefined, undefined, { cookies: [`__Host-id=${aliceToken()}`] }));
    expect(cookie.statusCode).toBe(200);
    const alb = await callback({ tokenSource: 'ALB_OIDC_ACCESS_TOKEN' })({
      httpMethod: 'GET',
      requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1' } },
      queryStringParameters: { state: STATE, session_id: encodeURIComponent(SESSION) },
      headers: { 'x-amzn-oidc-accesstoken': aliceToken(), accept: 'text/html' },
    });
    expect(alb).toEqual(expect.objectContaining({ statusCode: 200, statusDescription: '200 OK' }));
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(2);
  });
});

describe('callback: every mismatch denies and completes nothing', () => {
  async function denied(response: Promise<{ statusCode: number; body: string }>, status: number, code: string): Promise<void> {
    const r = await response;
    expect(r.statusCode).toBe(status);
    expect(r.body).toContain(code);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
  }

  test('wrong (unknown) state → OAUTH_STATE_UNKNOWN, nothing consumed', async () => {
    ddb.on(GetItemCommand).resolves({});
    await denied(callback()(event(aliceToken(), `state=${newState()}&session_id=${encodeURIComponent(SESSION)}`)), 403, 'OAUTH_STATE_UNKNOWN');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('another user → OAUTH_USER_MISMATCH, nothing consumed', async () => {
    const { value, lines } = await captureStdout(() => callback()(event(malloryToken())));
    expect(value.statusCode).toBe(403);
    expect(value.body).toContain('OAUTH_USER_MISMATCH');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
    // The precise binding code is the logged reason code, under the callback's own control.
    expect(decisionLines(lines)[0]).toEqual(expect.objectContaining({ control: CONTROL, outcome: 'DENY', reasonCode: 'OAUTH_USER_MISMATCH', fields: { integration: expect.any(String) } }));
  });

  test('another session → OAUTH_SESSION_MISMATCH', async () => {
    await denied(callback()(event(aliceToken(), `state=${STATE}&session_id=${encodeURIComponent(`${SESSION}0`)}`)), 403, 'OAUTH_SESSION_MISMATCH');
  });

  test('exactly ten minutes after the start → OAUTH_BINDING_EXPIRED', async () => {
    clock = NOW + BINDING_LIFETIME_MS;
    await denied(callback()(event(aliceToken())), 403, 'OAUTH_BINDING_EXPIRED');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('a used binding → OAUTH_BINDING_REPLAYED', async () => {
    ddb.on(GetItemCommand).resolves({ Item: aliceBindingItem({ used: { BOOL: true }, usedAt: { N: String(NOW + 1) } }) });
    await denied(callback()(event(aliceToken())), 403, 'OAUTH_BINDING_REPLAYED');
  });

  test('a binding consumed between read and write (conditional write fails) → OAUTH_BINDING_REPLAYED', async () => {
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await denied(callback()(event(aliceToken())), 403, 'OAUTH_BINDING_REPLAYED');
  });

  test('two concurrent callbacks with the same state: exactly one completes', async () => {
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const fn = callback();
    const results = await Promise.all([fn(event(aliceToken())), fn(event(aliceToken()))]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 403]);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(1);
  });

  test.each([
    ['no state', `session_id=${encodeURIComponent(SESSION)}`],
    ['no session', `state=${STATE}`],
    ['two states', `state=${STATE}&state=${STATE}&session_id=${encodeURIComponent(SESSION)}`],
    ['a short state', `state=abc&session_id=${encodeURIComponent(SESSION)}`],
  ])('%s → MALFORMED_REQUEST (400), the table is not read', async (_name, query) => {
    await denied(callback()(event(aliceToken(), query)), 400, 'MALFORMED_REQUEST');
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  test.each([
    ['no token', () => undefined, 'IDENTITY_MISSING'],
    ['a token of another issuer', () => otherIdp.sign({ sub: 'alice', aud: 'agent-app' }), 'IDENTITY_INVALID'],
    ['a token for another audience', () => idp.sign({ sub: 'alice', aud: 'other-app' }), 'IDENTITY_INVALID'],
    ['an expired token', () => aliceToken({ exp: Math.floor(Date.now() / 1000) - 60 }), 'IDENTITY_EXPIRED'],
    ['an unsigned token', () => idp.sign({ sub: 'alice', aud: 'agent-app' }, { alg: 'none' }), 'IDENTITY_INVALID'],
  ])('%s → 401 %s before any binding is read', async (_name, token, code) => {
    const r = await callback()(event(token()));
    expect(r.statusCode).toBe(401);
    expect(r.body).toContain(code);
    expect(r.headers!['www-authenticate']).toBe('Bearer');
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
  });

  test('a user id in the query is ignored: identity comes only from the verified token', async () => {
    await denied(callback()(event(malloryToken(), `state=${STATE}&session_id=${encodeURIComponent(SESSION)}&userId=alice&sub=alice`)), 403, 'OAUTH_USER_MISMATCH');
  });

  test('a method other than GET → 405', async () => {
    const r = await callback()(event(aliceToken(), undefined, { requestContext: { http: { method: 'POST' } } }));
    expect(r).toEqual(expect.objectContaining({ statusCode: 405 }));
    expect(r.headers!.allow).toBe('GET');
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });
});

describe('callback: the five fault kinds fail closed at every AWS call', () => {
  test.each(FAULT_KINDS)('GetItem %s → %s (503), nothing consumed or completed', async (fault, code) => {
    if (fault === 'malformed') ddb.on(GetItemCommand).resolves({ Item: { stateHash: { S: stateHashOf(STATE) }, used: { S: 'no' } } });
    else ddb.on(GetItemCommand).rejects(awsFault(fault));
    const r = await callback()(event(aliceToken(), undefined, { headers: { authorization: `Bearer ${aliceToken()}`, accept: 'application/json' } }));
    expect(r.statusCode).toBe(503);
    expect(reasonOf(r.body)).toBe(code);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
  });

  test.each(FAULT_KINDS)('UpdateItem %s → %s (503), nothing completed', async (fault, code) => {
    if (fault === 'malformed') ddb.on(UpdateItemCommand).resolves(null as never);
    else ddb.on(UpdateItemCommand).rejects(awsFault(fault));
    const r = await callback()(event(aliceToken(), undefined, { headers: { authorization: `Bearer ${aliceToken()}`, accept: 'application/json' } }));
    expect(r.statusCode).toBe(503);
    expect(reasonOf(r.body)).toBe(code);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
  });

  test.each(FAULT_KINDS)('CompleteResourceTokenAuth %s → %s (503), the binding stays spent', async (fault, code) => {
    if (fault === 'malformed') ac.on(CompleteResourceTokenAuthCommand).resolves(null as never);
    else ac.on(CompleteResourceTokenAuthCommand).rejects(awsFault(fault));
    const token = aliceToken();
    const { value: r, lines } = await captureStdout(() => callback()(event(token, undefined, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } })));
    expect(r.statusCode).toBe(503);
    // The user sees the code only; the fault's description goes to the decision log.
    expect(JSON.parse(r.body)).toEqual({ ok: false, reasonCode: code });
    expect(decisionLines(lines)[0]).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: code }));
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  test('a hanging table read hits the deadline (UPSTREAM_TIMEOUT) and nothing runs after it', async () => {
    ddb.on(GetItemCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ Item: aliceBindingItem() }), 150)));
    const r = await callback({ timeoutMs: 50 })(event(aliceToken()));
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('UPSTREAM_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(0);
  });

  test('a hanging CompleteResourceTokenAuth hits the deadline (UPSTREAM_TIMEOUT)', async () => {
    ac.on(CompleteResourceTokenAuthCommand).callsFake(() => new Promise(() => undefined));
    const r = await callback({ timeoutMs: 50 })(event(aliceToken()));
    expect(r.body).toContain('UPSTREAM_TIMEOUT');
  });

  test('the environment-configured handler denies every call (MISCONFIGURED) when its configuration is missing', async () => {
    const { value: r } = await captureStdout(() => handler(event(aliceToken())));
    expect(r.statusCode).toBe(500);
    expect(r.body).toContain('MISCONFIGURED');
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });
});

describe('start of a flow: the binding is recorded before the user gets the authorization URL', () => {
  const AUTH_URL = 'https://github.com/login/oauth/authorize?client_id=abc&request_uri=x';
  const request = (overrides: Partial<StartAuthorizationRequest> = {}): StartAuthorizationRequest => ({
    userToken: aliceToken(),
    providerName: 'github',
    scopes: ['repo'],
    returnUrl: RETURN_URL,
    ...overrides,
  });
  const deps = (overrides: Partial<StartAuthorizationDependencies> = {}): StartAuthorizationDependencies => {
    const c = clients();
    return { verifier: createTokenVerifier(IDENTITY), store: c.store, agentCore: c.agentCore, workloadName: 'support-agent', now: () => clock, newState: () => STATE, ...overrides };
  };

  beforeEach(() => {
    ac.on(GetWorkloadAccessTokenForJWTCommand).resolves({ workloadAccessToken: 'wat-alice' });
    ac.on(GetResourceOauth2TokenCommand).resolves({ authorizationUrl: AUTH_URL, sessionUri: SESSION, sessionStatus: 'IN_PROGRESS' });
  });

  test('uses the user JWT for the workload token, USER_FEDERATION with the state, and records the binding', async () => {
    clock = NOW;
    const r = request();
    const result = await startUserAuthorization(deps(), r);
    expect(result).toEqual({ status: 'AUTHORIZATION_REQUIRED', authorizationUrl: AUTH_URL });
    expect(ac).toHaveReceivedCommandWith(GetWorkloadAccessTokenForJWTCommand, { workloadName: 'support-agent', userToken: r.userToken });
    expect(ac.commandCalls(GetResourceOauth2TokenCommand)[0].args[0].input).toEqual({
      workloadIdentityToken: 'wat-alice',
      resourceCredentialProviderName: 'github',
      scopes: ['repo'],
      oauth2Flow: 'USER_FEDERATION',
      resourceOauth2ReturnUrl: RETURN_URL,
      customState: STATE,
    });
    const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(#state)');
    expect(put.Item).toEqual(aliceBindingItem());
    expect(JSON.stringify(put.Item)).not.toContain(STATE);
  });

  test('a fresh state has 256 random bits and never repeats', () => {
    const states = new Set(Array.from({ length: 1000 }, () => newState()));
    expect(states.size).toBe(1000);
    for (const s of states) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('a token already in the vault is returned without a binding', async () => {
    ac.on(GetResourceOauth2TokenCommand).resolves({ accessToken: 'gho_secret' });
    expect(await startUserAuthorization(deps(), request())).toEqual({ status: 'TOKEN', accessToken: 'gho_secret' });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('a FAILED session → OAUTH_FLOW_FAILED, no binding', async () => {
    ac.on(GetResourceOauth2TokenCommand).resolves({ sessionStatus: 'FAILED' });
    expect(await startUserAuthorization(deps(), request())).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'OAUTH_FLOW_FAILED' }));
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test.each([
    ['an invalid user token', { userToken: otherIdp.sign({ sub: 'alice', aud: 'agent-app' }) }, 'IDENTITY_INVALID'],
    ['no user token', { userToken: '' }, 'IDENTITY_MISSING'],
    ['a wildcard return URL', { returnUrl: 'https://*.example.com/cb' }, 'MALFORMED_REQUEST'],
    ['an http return URL', { returnUrl: 'http://app.example.com/oauth/callback' }, 'MALFORMED_REQUEST'],
    ['no scopes', { scopes: [] }, 'MALFORMED_REQUEST'],
    ['a malformed provider name', { providerName: 'git hub' }, 'MALFORMED_REQUEST'],
  ])('%s → %s before AgentCore is called', async (_name, overrides, code) => {
    expect(await startUserAuthorization(deps(), request(overrides))).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: code }));
    expect(ac.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  test('createAuthorizationStarter builds the same flow from plain options', async () => {
    const c = clients();
    const start = createAuthorizationStarter({ identity: IDENTITY, tableName: 'bindings', workloadName: 'support-agent' }, { store: c.store, agentCore: c.agentCore, now: () => clock });
    expect(await start(request())).toEqual({ status: 'AUTHORIZATION_REQUIRED', authorizationUrl: AUTH_URL });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
    expect(() => createAuthorizationStarter({ identity: { issuer: 'http://insecure' } as never, tableName: 'bindings', workloadName: 'support-agent' })).toThrow(/issuer/);
  });

  test('a bad workload name → MISCONFIGURED', async () => {
    expect(await startUserAuthorization(deps({ workloadName: 'x' }), request())).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'MISCONFIGURED' }));
  });

  const inject: Record<string, (fault: FaultKind) => void> = {
    GetWorkloadAccessTokenForJWT: (fault) =>
      fault === 'malformed' ? ac.on(GetWorkloadAccessTokenForJWTCommand).resolves({ workloadAccessToken: '' }) : ac.on(GetWorkloadAccessTokenForJWTCommand).rejects(awsFault(fault)),
    GetResourceOauth2Token: (fault) =>
      fault === 'malformed'
        ? ac.on(GetResourceOauth2TokenCommand).resolves({ authorizationUrl: 'http://insecure.example.com/authorize', sessionUri: SESSION })
        : ac.on(GetResourceOauth2TokenCommand).rejects(awsFault(fault)),
    PutItem: (fault) => (fault === 'malformed' ? ddb.on(PutItemCommand).resolves(null as never) : ddb.on(PutItemCommand).rejects(awsFault(fault))),
  };
  const matrix = Object.keys(inject).flatMap((site) => FAULT_KINDS.map(([fault, code]) => [site, fault, code] as const));

  test.each(matrix)('%s %s → DENIED %s, no authorization URL handed out', async (site, fault, code) => {
    inject[site](fault);
    const result = await startUserAuthorization(deps(), request());
    expect(result).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: code }));
    expect(result).not.toHaveProperty('authorizationUrl');
  });

  test('a hanging AgentCore call hits the deadline (UPSTREAM_TIMEOUT) and no binding is written after it', async () => {
    ac.on(GetResourceOauth2TokenCommand).callsFake(
      () => new Promise((resolve) => setTimeout(() => resolve({ authorizationUrl: AUTH_URL, sessionUri: SESSION }), 150)),
    );
    expect(await startUserAuthorization(deps({ timeoutMs: 50 }), request())).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'UPSTREAM_TIMEOUT' }));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('end to end over one table: start, complete once, never again, never for someone else', () => {
  test('alice starts and completes; a replay and mallory are denied', async () => {
    // A table in memory behind the DynamoDB mock, enforcing the conditions the store writes.
    const table = new Map<string, Record<string, AttributeValue>>();
    ddb.on(PutItemCommand).callsFake((input) => {
      const key = input.Item.stateHash.S;
      if (table.has(key)) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      table.set(key, input.Item);
      return {};
    });
    ddb.on(GetItemCommand).callsFake((input) => (table.has(input.Key.stateHash.S) ? { Item: table.get(input.Key.stateHash.S) } : {}));
    ddb.on(UpdateItemCommand).callsFake((input) => {
      const item = table.get(input.Key.stateHash.S);
      const v = input.ExpressionAttributeValues;
      const holds = item && item.used.BOOL === false && Number(item.expiresAt.N) > Number(v[':now'].N) && item.userKey.S === v[':userKey'].S && item.sessionUri.S === v[':sessionUri'].S;
      if (!holds) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      table.set(input.Key.stateHash.S, { ...item, used: { BOOL: true }, usedAt: v[':now'] });
      return {};
    });
    ac.on(GetWorkloadAccessTokenForJWTCommand).resolves({ workloadAccessToken: 'wat' });
    ac.on(GetResourceOauth2TokenCommand).resolves({ authorizationUrl: 'https://idp.example.com/authorize', sessionUri: SESSION });
    clock = NOW;
    const state = newState();
    const c = clients();
    const started = await startUserAuthorization(
      { verifier: createTokenVerifier(IDENTITY), store: c.store, agentCore: c.agentCore, workloadName: 'support-agent', now: () => clock, newState: () => state },
      { userToken: aliceToken(), providerName: 'github', scopes: ['repo'], returnUrl: RETURN_URL },
    );
    expect(started.status).toBe('AUTHORIZATION_REQUIRED');
    clock = NOW + 30_000;
    const query = `state=${state}&session_id=${encodeURIComponent(SESSION)}`;
    const fn = callback();
    expect((await fn(event(malloryToken(), query))).body).toContain('OAUTH_USER_MISMATCH');
    expect((await fn(event(aliceToken(), query))).statusCode).toBe(200);
    expect((await fn(event(aliceToken(), query))).body).toContain('OAUTH_BINDING_REPLAYED');
    expect(ac.commandCalls(CompleteResourceTokenAuthCommand)).toHaveLength(1);
  });
});
