/**
 * The REQUEST interceptor end to end: AWS-shaped events, real tokens signed with keys generated here, real Cedar
 * evaluation of the default tool policy, the session-taint table as an in-memory fake behind aws-sdk-client-mock, and
 * faults injected into the dependencies a call can wait on (the issuer's JWKS, the session-taint table and the
 * approval gate).
 */
import { DynamoDBClient, GetItemCommand, InternalServerError, ProvisionedThroughputExceededException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_TOOL_POLICIES, createToolAuthorizer, cedarEngine, CedarEngine } from '../../../lambda/tool-interceptor/cedar';
import { ApprovalGate, ApprovalCheck, DenyAllApprovalGate } from '../../../lambda/tool-interceptor/approval-gate';
import { DynamoDbSessionTaintStore, InterceptorClients, SessionTaintStore, createDynamoDbSessionTaintStore, defaultClients } from '../../../lambda/tool-interceptor/clients';
import { DynamoDbApprovalGate } from '../../../lambda/approval/gate';
import { GatewayConfigDocument, GatewayConfigEnv, SessionTaintEnv, loadGatewayConfig } from '../../../lambda/tool-interceptor/config';
import { NO_SESSION } from '../../../lambda/tool-interceptor/decide';
import { RegisteredTool } from '../../../lambda/tool-interceptor/registry';
import { taintKey } from '../../../lambda/tool-interceptor/session-taint';
import { InterceptorConfig, configFromEnv, createHandler, handler, misconfiguredHandler } from '../../../lambda/tool-interceptor/index';
import { CALLER_TOKEN_ARGUMENT } from '../../../lambda/shared/caller-context';
import { IdentityConfig } from '../../../lambda/shared/identity';
import { IDENTITY_ENV_VAR } from '../../../lambda/shared/identity-env';
import { allow, deny } from '../../../lambda/shared/decision';
import { MalformedResponseError } from '../../../lambda/shared/errors';
import { createTestIssuer } from '../shared/jwt-helper';
import { captureStdout, configDocument, configFile, decisionLines, requestEvent, toolsCall } from '../response-interceptor/gateway-fixtures';
import { FakeTaintTable, TAINT_TABLE, testTaintClient } from './taint-table';

const ddb = mockClient(DynamoDBClient);
let table: FakeTaintTable;
beforeEach(() => {
  ddb.reset();
  table = new FakeTaintTable();
  table.install(ddb);
});

const idp = createTestIssuer();
const otherIdp = createTestIssuer({ kid: 'test-key-1' });
const IDENTITY: IdentityConfig = { issuer: idp.issuer, audience: 'gateway', jwks: idp.jwks, groupsClaim: 'groups' };

const alice = (claims: Record<string, unknown> = {}): string => idp.sign({ sub: 'alice', aud: 'gateway', groups: ['staff', 'hr'], email: 'alice@example.com', ...claims });
const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A gate that records what it was asked and answers with `answer`. */
class RecordingGate implements ApprovalGate {
  public readonly checks: ApprovalCheck[] = [];
  public constructor(private readonly answer: (check: ApprovalCheck) => Promise<unknown>) {}
  public async check(check: ApprovalCheck): Promise<never> {
    this.checks.push(check);
    return (await this.answer(check)) as never;
  }
}

function config(doc: GatewayConfigDocument = configDocument(), overrides: Partial<InterceptorConfig> = {}): InterceptorConfig {
  const gateway = loadGatewayConfig(JSON.parse(JSON.stringify(doc)));
  return { gateway, authorizer: createToolAuthorizer(gateway.policyText), identity: IDENTITY, timeoutMs: 5_000, ...overrides };
}

const NOW = 1_700_000_000_000;

function taintStore(options: { timeoutMs?: number; now?: () => number } = {}): DynamoDbSessionTaintStore {
  return createDynamoDbSessionTaintStore({ tableName: TAINT_TABLE, client: testTaintClient(), now: options.now ?? (() => NOW), timeoutMs: options.timeoutMs });
}

function clients(gate: ApprovalGate = new DenyAllApprovalGate(), sessionTaint: SessionTaintStore = taintStore()): InterceptorClients {
  return { approvalGate: gate, sessionTaint, now: () => NOW };
}

const NOW_HANDLER = createHandler(config(), clients());

type Output = { mcp: { transformedGatewayRequest?: { body: any }; transformedGatewayResponse?: { statusCode: number; body: any } } };

async function call(event: unknown, h = NOW_HANDLER): Promise<{ out: Output; lines: Array<Record<string, unknown>>; text: string }> {
  const { value, lines, raw: text } = await captureStdout(() => h(event, { awsRequestId: 'req-1' }));
  return { out: value as Output, lines: decisionLines(lines), text };
}

/** The arguments the target receives, or fails the test with the deny. */
function forwarded(out: Output): Record<string, unknown> {
  if (!out.mcp.transformedGatewayRequest) throw new Error(`denied: ${JSON.stringify(out.mcp.transformedGatewayResponse?.body)}`);
  return out.mcp.transformedGatewayRequest.body.params.arguments;
}

function reasonOf(out: Output): string | undefined {
  return out.mcp.transformedGatewayResponse?.body?.error?.data?.reasonCode;
}

describe('allowed calls and identity passing', () => {
  test('a LOW library tool: arguments forwarded as validated, the verified token added for the target to verify again', async () => {
    const token = alice();
    const { out, lines, text } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'vacation policy', maxResults: 3 }), { headers: bearer(token) }));
    // The decision log never carries the token or the arguments.
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain('vacation policy');
    expect(out.mcp.transformedGatewayResponse).toBeUndefined();
    expect(out.mcp.transformedGatewayRequest).toEqual({
      body: {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'knowledge___search_knowledge', arguments: { query: 'vacation policy', maxResults: 3, [CALLER_TOKEN_ARGUMENT]: token } },
      },
    });
    // Never headers: the inbound Authorization header is not handed on by the interceptor.
    expect(JSON.stringify(out)).not.toMatch(/Authorization|headers/i);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ control: 'tool-call', outcome: 'ALLOW', reasonCode: 'ALLOWED', requestId: 'req-1' });
    expect(lines[0].fields).toMatchObject({ tool: 'search_knowledge', target: 'knowledge', risk: 'LOW', approval: 'NOT_NEEDED', targetKind: 'LIBRARY', sessionCapabilityCount: 0, sessionTaint: 'RECORDED' });
    expect(lines[0].fields).not.toHaveProperty('decisionCode');
    expect(lines[0].subjectHash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a token value the model wrote into the reserved argument is replaced by the verified token', async () => {
    const token = alice();
    const forged = idp.sign({ sub: 'mallory', aud: 'gateway', groups: ['staff'] });
    const { out, lines } = await call(
      requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q', [CALLER_TOKEN_ARGUMENT]: forged }), { headers: bearer(token) }),
    );
    expect(forwarded(out)[CALLER_TOKEN_ARGUMENT]).toBe(token);
    expect(JSON.stringify(out)).not.toContain(forged);
    expect(lines[0].fields).toMatchObject({ removedArguments: [CALLER_TOKEN_ARGUMENT] });
  });

  test('a customer tool: the identity-bound argument comes from the verified sub, whatever the model wrote, and the token is never passed', async () => {
    const token = alice();
    const { out } = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234', userId: 'bob' }), { headers: bearer(token) }));
    expect(forwarded(out)).toEqual({ employeeId: 'E1234', userId: 'alice' });
    const text = JSON.stringify(out);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[1]);
    expect(text).not.toContain('bob');
  });

  test('identity-like arguments the model supplied (any spelling) are stripped before validation and never reach the target', async () => {
    const { out, lines } = await call(
      requestEvent(toolsCall('hr___add_note', { note: { text: 'hi' }, USER_ID: 'bob', 'tenant-id': 't2', Email: 'bob@example.com', actor_id: 'x' }), { headers: bearer(alice()) }),
    );
    expect(forwarded(out)).toEqual({ note: { text: 'hi' } });
    expect((lines[0].fields as { removedArguments: string[] }).removedArguments.sort()).toEqual(['Email', 'USER_ID', 'actor_id', 'tenant-id']);
  });

  test('the principal is the token subject: groups or sub written into arguments change nothing', async () => {
    // bob is not in "hr"; the model claims otherwise in the arguments.
    const bob = idp.sign({ sub: 'bob', aud: 'gateway', groups: ['staff'] });
    const { out } = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234', groups: ['hr'], sub: 'alice' }), { headers: bearer(bob) }));
    expect(reasonOf(out)).toBe('TOOL_POLICY_DENIED');
  });

  test('with DENY, a forged identity argument denies the call (CALLER_CHOSE_PROTECTED_SETTING)', async () => {
    const h = createHandler(config(configDocument({ forgedIdentityArguments: 'DENY' })), clients());
    const forgedBound = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234', userId: 'bob' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(forgedBound.out)).toBe('CALLER_CHOSE_PROTECTED_SETTING');
    const forgedLike = await call(requestEvent(toolsCall('hr___add_note', { note: {}, tenantId: 't2' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(forgedLike.out)).toBe('CALLER_CHOSE_PROTECTED_SETTING');
    const forgedToken = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q', [CALLER_TOKEN_ARGUMENT]: 'a.b.c' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(forgedToken.out)).toBe('CALLER_CHOSE_PROTECTED_SETTING');
    const clean = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234' }), { headers: bearer(alice()) }), h);
    expect(forwarded(clean.out)).toEqual({ employeeId: 'E1234', userId: 'alice' });
  });

  test('a bound claim that is missing from the token denies (IDENTITY_CLAIMS_INVALID)', async () => {
    const doc = configDocument({ identityArguments: [{ target: 'hr', tool: 'get_record', argument: 'userId', claim: 'employee_number' }] });
    const h = createHandler(config(doc), clients());
    const { out } = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(out)).toBe('IDENTITY_CLAIMS_INVALID');
  });
});

describe('denied calls', () => {
  test('an unknown tool is denied (TOOL_UNKNOWN, -32602), with the request id echoed', async () => {
    const { out, lines } = await call(requestEvent(toolsCall('hr___delete_everything', {}, 'abc'), { headers: bearer(alice()) }));
    expect(out.mcp.transformedGatewayRequest).toBeUndefined();
    expect(out.mcp.transformedGatewayResponse).toEqual({
      statusCode: 200,
      body: { jsonrpc: '2.0', id: 'abc', error: { code: -32602, message: 'Denied: TOOL_UNKNOWN', data: { reasonCode: 'TOOL_UNKNOWN', requestId: 'req-1' } } },
    });
    expect(lines[0]).toMatchObject({ control: 'tool-call', outcome: 'DENY', reasonCode: 'TOOL_UNKNOWN' });
  });

  test.each([
    ['an extra key', { query: 'q', extra: 1 }],
    ['a wrong type', { query: 42 }],
    ['a too long string', { query: 'x'.repeat(101) }],
    ['a missing required argument', { maxResults: 2 }],
    ['an out-of-range number', { query: 'q', maxResults: 11 }],
  ])('arguments with %s are denied (TOOL_ARGUMENTS_INVALID)', async (_name, args) => {
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', args), { headers: bearer(alice()) }));
    expect(reasonOf(out)).toBe('TOOL_ARGUMENTS_INVALID');
    expect(out.mcp.transformedGatewayResponse?.body.error.code).toBe(-32602);
  });

  test.each([
    ['a duplicate key', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"knowledge___search_knowledge","arguments":{"query":"a","query":"b"}}}'],
    ['a __proto__ key', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"knowledge___search_knowledge","arguments":{"query":"a","__proto__":{"admin":true}}}}'],
    ['a constructor key', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"knowledge___search_knowledge","arguments":{"query":"a","constructor":{}}}}'],
    ['trailing text', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"knowledge___search_knowledge","arguments":{"query":"a"}}} x'],
  ])('a raw body with %s is denied (MALFORMED_REQUEST)', async (_name, raw) => {
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'a' }, 1), { raw, headers: bearer(alice()) }));
    expect(reasonOf(out)).toBe('MALFORMED_REQUEST');
    expect(out.mcp.transformedGatewayResponse?.body.error.code).toBe(-32600);
  });

  test('a raw body that names another tool than the parsed body is denied (no parser differential)', async () => {
    const raw = JSON.stringify(toolsCall('ops___block_ip', { ip: '10.0.0.1' }));
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'a' }), { raw, headers: bearer(alice()) }));
    expect(reasonOf(out)).toBe('MALFORMED_REQUEST');
  });

  test('without a raw body the parsed body is used, and prototype keys in it are still refused', async () => {
    const okEvent = requestEvent(toolsCall('knowledge___search_knowledge', { query: 'a' }), { raw: null, headers: bearer(alice()) });
    expect(forwarded((await call(okEvent)).out)).toMatchObject({ query: 'a' });
    const args = JSON.parse('{"query":"a","__proto__":{"x":1}}');
    const bad = requestEvent(toolsCall('knowledge___search_knowledge', args), { raw: null, headers: bearer(alice()) });
    expect(reasonOf((await call(bad)).out)).toBe('MALFORMED_REQUEST');
  });

  test('a tool without a registered schema is checked for shape: plain data only, bounded depth', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const { out } = await call(requestEvent(toolsCall('hr___add_note', { note: deep }), { headers: bearer(alice()) }));
    expect(reasonOf(out)).toBe('MALFORMED_REQUEST'); // deeper than the strict parser accepts for a request body
    const { out: shallow } = await call(requestEvent(toolsCall('hr___add_note', { note: { a: [1, 2, { b: null }] } }), { headers: bearer(alice()) }));
    expect(forwarded(shallow)).toEqual({ note: { a: [1, 2, { b: null }] } });
  });

  test.each([
    ['no Authorization header', {}, 'IDENTITY_MISSING'],
    ['a non-bearer scheme', { Authorization: 'Basic YWxpY2U6cHc=' }, 'IDENTITY_MISSING'],
    ['two Authorization headers', { Authorization: `Bearer ${alice()}`, authorization: `Bearer ${alice()}` }, 'IDENTITY_MISSING'],
    ['an expired token', bearer(alice({ exp: Math.floor(Date.now() / 1000) - 60 })), 'IDENTITY_EXPIRED'],
    ['another audience', bearer(alice({ aud: 'another-api' })), 'IDENTITY_INVALID'],
    ['another issuer', bearer(idp.sign({ sub: 'alice', aud: 'gateway', iss: 'https://evil.example.test' })), 'IDENTITY_INVALID'],
    ['a key the issuer never published', bearer(otherIdp.sign({ sub: 'alice', aud: 'gateway', iss: idp.issuer })), 'IDENTITY_INVALID'],
    ['alg none', bearer(idp.sign({ sub: 'alice', aud: 'gateway' }, { alg: 'none' })), 'IDENTITY_INVALID'],
    ['HS256 signed with the public key', bearer(idp.sign({ sub: 'alice', aud: 'gateway' }, { alg: 'HS256' })), 'IDENTITY_INVALID'],
  ])('%s is denied (%s)', async (_name, headers, code) => {
    const { out, text } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers }));
    expect(reasonOf(out)).toBe(code);
    expect(out.mcp.transformedGatewayResponse?.body.error.code).toBe(-32001);
    // The token never reaches the decision log.
    const auth = (headers as Record<string, string>).Authorization;
    if (auth?.startsWith('Bearer ')) expect(text).not.toContain(auth.slice(7));
  });

  test('a user outside the allowed groups is denied by the default policy (TOOL_POLICY_DENIED)', async () => {
    const carol = idp.sign({ sub: 'carol', aud: 'gateway', groups: ['contractors'] });
    const { out, lines } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: bearer(carol) }));
    expect(reasonOf(out)).toBe('TOOL_POLICY_DENIED');
    expect(lines[0]).toMatchObject({ reasonCode: 'TOOL_POLICY_DENIED', fields: { tool: 'search_knowledge' } });
  });

  test('an invalid Mcp-Session-Id is refused on tools/call', async () => {
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: { ...bearer(alice()), 'Mcp-Session-Id': 'bad id' } }));
    expect(reasonOf(out)).toBe('MALFORMED_REQUEST');
  });
});

describe('Cedar errors deny', () => {
  test('a forbid policy that errors (an overflow) denies, where Cedar alone would skip it and allow', async () => {
    const policies = `${DEFAULT_TOOL_POLICIES}
@id("forbid-overflowing")
forbid (principal is CdkAiDefense::User, action == CdkAiDefense::Action::"invoke", resource is CdkAiDefense::Tool)
when { resource.riskLevel >= 1 && 9223372036854775807 + resource.riskLevel > 0 };
`;
    const h = createHandler(config(configDocument({ policy: { version: 1, policies } })), clients());
    const erroring = await call(requestEvent(toolsCall('hr___get_record', { employeeId: 'E1234' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(erroring.out)).toBe('TOOL_POLICY_ERROR');
    expect(erroring.lines[0].fields).toMatchObject({ policies: ['forbid-overflowing'] });
    const clean = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: bearer(alice()) }), h);
    expect(forwarded(clean.out)).toMatchObject({ query: 'q' });
  });

  test.each([
    ['throws', () => {
      throw new Error('wasm trap');
    }],
    ['answers failure', () => ({ type: 'failure', errors: [{ message: 'bad request' }], warnings: [] })],
    ['answers garbage', () => ({ type: 'success', response: { decision: 'allow' } })],
    ['allows with no determining policy', () => ({ type: 'success', response: { decision: 'allow', diagnostics: { reason: [], errors: [] } }, warnings: [] })],
  ])('an engine that %s denies (TOOL_POLICY_ERROR)', async (_name, fake) => {
    const real = cedarEngine();
    const engine: CedarEngine = { ...real, statefulIsAuthorized: fake as unknown as CedarEngine['statefulIsAuthorized'] };
    const gateway = loadGatewayConfig(JSON.parse(JSON.stringify(configDocument())));
    const h = createHandler({ ...config(), authorizer: createToolAuthorizer(gateway.policyText, { engine }) }, clients());
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(out)).toBe('TOOL_POLICY_ERROR');
  });
});

describe('approval of high-risk tools', () => {
  const secops = (): string => idp.sign({ sub: 'sam', aud: 'gateway', groups: ['secops'] });
  const blockCall = (ip = '10.0.0.9'): Record<string, unknown> => requestEvent(toolsCall('ops___block_ip', { ip, principal: 'root' }), { headers: { ...bearer(secops()), 'Mcp-Session-Id': 'sess-42' } });

  test('without an approval workflow a HIGH tool is denied (APPROVAL_REQUIRED)', async () => {
    const { out, lines } = await call(blockCall());
    expect(reasonOf(out)).toBe('APPROVAL_REQUIRED');
    expect(lines[0].fields).toMatchObject({ approval: 'REQUIRED', risk: 'HIGH' });
  });

  test('the gate is asked about the exact call (tool, pin, scrubbed arguments, principal from the token, session) and its allow lets the call through', async () => {
    const gate = new RecordingGate(async () => allow());
    const { out, lines } = await call(blockCall(), createHandler(config(), clients(gate)));
    expect(forwarded(out)).toEqual({ ip: '10.0.0.9' });
    expect(gate.checks).toHaveLength(1);
    expect(gate.checks[0]).toEqual({
      subject: {
        tool: 'ops___block_ip',
        toolPin: expect.stringMatching(/^[0-9a-f]{64}$/),
        arguments: { ip: '10.0.0.9' },
        principal: `${idp.issuer}|sam`,
        session: 'sess-42',
      },
      requestId: 'req-1',
      now: 1_700_000_000_000,
    });
    expect(lines[0].fields).toMatchObject({ approval: 'GRANTED', policies: ['permit-high-critical-with-approval-to-allowed-groups'] });
  });

  test('a pending approval keeps denying (APPROVAL_PENDING)', async () => {
    const gate = new RecordingGate(async () => deny('APPROVAL_PENDING'));
    const { out } = await call(blockCall(), createHandler(config(), clients(gate)));
    expect(reasonOf(out)).toBe('APPROVAL_PENDING');
  });

  test('the gate is not asked when no approval could permit the call (caller outside the allowed groups)', async () => {
    const gate = new RecordingGate(async () => allow());
    const { out } = await call(requestEvent(toolsCall('ops___block_ip', { ip: '10.0.0.9' }), { headers: bearer(alice()) }), createHandler(config(), clients(gate)));
    expect(reasonOf(out)).toBe('TOOL_POLICY_DENIED');
    expect(gate.checks).toHaveLength(0);
  });

  const faults: Array<[string, string, () => unknown]> = [
    ['throttle', 'UPSTREAM_THROTTLED', () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['5xx', 'UPSTREAM_UNAVAILABLE', () => Object.assign(new Error('boom'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } })],
    ['timeout', 'UPSTREAM_TIMEOUT', () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['AccessDenied', 'UPSTREAM_ACCESS_DENIED', () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } })],
    ['malformed response', 'UPSTREAM_MALFORMED_RESPONSE', () => new MalformedResponseError('item without a status')],
  ];
  test.each(faults)('a gate fault (%s) denies with %s', async (_kind, code, fault) => {
    const gate = new RecordingGate(async () => {
      throw fault();
    });
    const { out } = await call(blockCall(), createHandler(config(), clients(gate)));
    expect(reasonOf(out)).toBe(code);
  });

  test('a gate answer that is not a decision denies (UPSTREAM_MALFORMED_RESPONSE)', async () => {
    const gate = new RecordingGate(async () => ({ outcome: 'ALLOW', reasonCode: 'YES_PLEASE' }));
    const { out } = await call(blockCall(), createHandler(config(), clients(gate)));
    expect(reasonOf(out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
  });

  test('a gate that never answers hits the deadline (UPSTREAM_TIMEOUT)', async () => {
    const gate = new RecordingGate(() => new Promise(() => undefined));
    const { out } = await call(blockCall(), createHandler(config(configDocument(), { timeoutMs: 1_000 }), clients(gate)));
    expect(reasonOf(out)).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('JWKS faults deny', () => {
  const faults: Array<[string, string, () => Promise<ArrayBuffer>]> = [
    ['throttle', 'UPSTREAM_THROTTLED', async () => Promise.reject(Object.assign(new Error('429'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }))],
    ['5xx', 'UPSTREAM_UNAVAILABLE', async () => Promise.reject(Object.assign(new Error('503'), { $metadata: { httpStatusCode: 503 } }))],
    ['timeout', 'UPSTREAM_TIMEOUT', async () => Promise.reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }))],
    ['AccessDenied', 'UPSTREAM_ACCESS_DENIED', async () => Promise.reject(Object.assign(new Error('403'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))],
    ['malformed response', 'UPSTREAM_MALFORMED_RESPONSE', async () => new TextEncoder().encode('{"keys": "not a list"}').buffer as ArrayBuffer],
  ];
  test.each(faults)('a JWKS fetch fault (%s) denies with %s', async (_kind, code, fetch) => {
    const identity: IdentityConfig = { issuer: idp.issuer, audience: 'gateway', jwksUri: `${idp.issuer}/jwks-${_kind.replace(/\W/g, '')}.json`, jwksFetcher: { fetch } };
    const h = createHandler(config(configDocument(), { identity }), clients());
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: bearer(alice()) }), h);
    expect(reasonOf(out)).toBe(code);
  });
});

describe('other methods and malformed requests', () => {
  test('tools/list passes through unchanged (NOT_APPLICABLE), without headers', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { cursor: 'abc' } };
    const { out, lines } = await call(requestEvent(body, { headers: bearer(alice()) }));
    expect(out).toEqual({ interceptorOutputVersion: '1.0', mcp: { transformedGatewayRequest: { body } } });
    expect(lines[0]).toMatchObject({ control: 'mcp-request', outcome: 'NOT_APPLICABLE', reasonCode: 'NOT_APPLICABLE', fields: { method: 'tools/list' } });
  });

  test('a GET or DELETE without a body (event stream, session end) passes through; with a body it is decided like a POST', async () => {
    const get = { interceptorInputVersion: '1.0', mcp: { rawGatewayRequest: { body: '' }, gatewayRequest: { path: '/mcp', httpMethod: 'GET', headers: {} } } };
    const { out, lines } = await call(get);
    expect(out.mcp.transformedGatewayRequest).toBeDefined();
    expect(out.mcp.transformedGatewayResponse).toBeUndefined();
    expect(lines[0]).toMatchObject({ outcome: 'NOT_APPLICABLE', fields: { method: 'http:GET' } });
    const smuggled = requestEvent(toolsCall('ops___block_ip', { ip: '10.0.0.1' }));
    (smuggled.mcp as { gatewayRequest: { httpMethod: string } }).gatewayRequest.httpMethod = 'DELETE';
    expect(reasonOf((await call(smuggled)).out)).toBe('IDENTITY_MISSING');
  });

  test('a notification passes through', async () => {
    const body = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const { out } = await call(requestEvent(body));
    expect(out.mcp.transformedGatewayRequest?.body).toEqual(body);
  });

  test.each([
    ['not an object', 'nope'],
    ['another interceptor version', { interceptorInputVersion: '2.0', mcp: {} }],
    ['a RESPONSE event', { interceptorInputVersion: '1.0', mcp: { gatewayRequest: { body: {} }, gatewayResponse: { statusCode: 200, body: {} } } }],
    ['jsonrpc 1.0', requestEvent({ jsonrpc: '1.0', id: 1, method: 'tools/list' })],
    ['a batch', requestEvent([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }])],
    ['no method', requestEvent({ jsonrpc: '2.0', id: 1 })],
    ['an object id', requestEvent({ jsonrpc: '2.0', id: { x: 1 }, method: 'tools/list' })],
    ['tools/call without an id', requestEvent({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'x', arguments: {} } }, { headers: bearer(alice()) })],
    ['tools/call without params', requestEvent({ jsonrpc: '2.0', id: 2, method: 'tools/call' }, { headers: bearer(alice()) })],
    ['a body that is too large', requestEvent({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { pad: 'x'.repeat(1_000_001) } })],
  ])('%s is denied', async (_name, event) => {
    const { out } = await call(event);
    expect(['MALFORMED_REQUEST', 'REQUEST_TOO_LARGE']).toContain(reasonOf(out));
    expect(out.mcp.transformedGatewayRequest).toBeUndefined();
  });
});

describe('configuration', () => {
  const identityEnv = { [IDENTITY_ENV_VAR]: JSON.stringify({ issuer: idp.issuer, audience: 'gateway' }) };

  test('configFromEnv reads the layer file, checks its hash, and builds a working handler', async () => {
    const file = configFile();
    const cfg = configFromEnv({ ...identityEnv, ...file.env }, file.read);
    expect(cfg.gateway.registry.document.tools).toHaveLength(4);
    expect(cfg.timeoutMs).toBe(8_000);
  });

  test.each([
    ['a file whose hash differs from the environment', (f: ReturnType<typeof configFile>) => ({ env: { ...f.env, [GatewayConfigEnv.CONFIG_SHA256]: '0'.repeat(64) }, read: f.read })],
    ['no hash in the environment', (f: ReturnType<typeof configFile>) => ({ env: { [GatewayConfigEnv.CONFIG_FILE]: f.env[GatewayConfigEnv.CONFIG_FILE] }, read: f.read })],
    ['a missing file', (f: ReturnType<typeof configFile>) => ({ env: { ...f.env, [GatewayConfigEnv.CONFIG_FILE]: '/opt/elsewhere.json' }, read: f.read })],
    ['an invalid timeout', (f: ReturnType<typeof configFile>) => ({ env: { ...f.env, [GatewayConfigEnv.TIMEOUT_MS]: '5' }, read: f.read })],
  ])('fails with MISCONFIGURED problems for %s', (_name, make) => {
    const { env, read } = make(configFile());
    expect(() => configFromEnv({ ...identityEnv, ...env }, read)).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED' }));
  });

  test('fails when the policies do not validate against the schema', () => {
    const f = configFile(configDocument({ policy: { version: 1, policies: 'permit(principal, action, resource) when { resource.nope };' } }));
    expect(() => configFromEnv({ ...identityEnv, ...f.env }, f.read)).toThrow(/tool policy/);
  });

  test('the approval gate comes from the environment: none configured → deny-all; an approval table → the DynamoDB gate; invalid → MISCONFIGURED', () => {
    const taintEnv = { [SessionTaintEnv.TABLE_NAME]: TAINT_TABLE, AWS_REGION: 'us-east-1' };
    expect(defaultClients(taintEnv).approvalGate).toBeInstanceOf(DenyAllApprovalGate);
    expect(defaultClients({ ...taintEnv, CAD_APPROVAL_TABLE_NAME: 'approvals-table' }).approvalGate).toBeInstanceOf(DynamoDbApprovalGate);
    expect(() => defaultClients({ ...taintEnv, CAD_APPROVAL_TABLE_NAME: 'no' })).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED' }));
  });

  test('the session-taint table comes from the environment; without it there is no fallback (MISCONFIGURED)', () => {
    expect(defaultClients({ [SessionTaintEnv.TABLE_NAME]: TAINT_TABLE, AWS_REGION: 'us-east-1' }).sessionTaint).toBeInstanceOf(DynamoDbSessionTaintStore);
    expect(() => defaultClients({ AWS_REGION: 'us-east-1' })).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED', problems: [expect.stringContaining(SessionTaintEnv.TABLE_NAME)] }));
    expect(() => defaultClients({ [SessionTaintEnv.TABLE_NAME]: 'x' })).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED' }));
  });

  test('the taint lifetime comes from the environment: 12 hours by default, 1 hour to 30 days allowed', () => {
    const file = configFile();
    expect(configFromEnv({ ...identityEnv, ...file.env }, file.read).taintTtlSeconds).toBe(43_200);
    expect(configFromEnv({ ...identityEnv, ...file.env, [SessionTaintEnv.TTL_SECONDS]: '3600' }, file.read).taintTtlSeconds).toBe(3_600);
    for (const bad of ['3599', '2592001', '1e4', '-1', 'forever']) {
      expect(() => configFromEnv({ ...identityEnv, ...file.env, [SessionTaintEnv.TTL_SECONDS]: bad }, file.read)).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED' }));
    }
  });

  test('a misconfigured handler denies every request, pass-through methods included', async () => {
    const h = misconfiguredHandler(['CAD_GATEWAY_CONFIG_SHA256 must be the 64 hex characters']);
    const list = await call(requestEvent({ jsonrpc: '2.0', id: 4, method: 'tools/list' }), h);
    expect(reasonOf(list.out)).toBe('MISCONFIGURED');
    expect(list.out.mcp.transformedGatewayResponse?.body.id).toBe(4);
    expect(list.lines[0]).toMatchObject({ outcome: 'DENY', reasonCode: 'MISCONFIGURED' });
  });

  test('the Lambda entry point imports without throwing and, with no configuration in the environment, denies (MISCONFIGURED)', async () => {
    const { out } = await call(requestEvent(toolsCall('knowledge___search_knowledge', { query: 'q' }), { headers: bearer(alice()) }), handler);
    expect(reasonOf(out)).toBe('MISCONFIGURED');
  });
});

describe('session taint: the lethal trifecta across the calls of a session', () => {
  const schema = (props: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', properties: props, required: Object.keys(props), additionalProperties: false });
  const text = { type: 'string', minLength: 1, maxLength: 200 };
  const extra: RegisteredTool[] = [
    { name: 'fetch_page', target: 'web', risk: 'LOW', capabilities: ['UNTRUSTED_CONTENT'], owner: 'platform', allowedGroups: ['staff'], inputSchema: schema({ url: text }) },
    { name: 'send_email', target: 'mail', risk: 'MEDIUM', capabilities: ['EXTERNAL_ACCESS'], owner: 'platform', allowedGroups: ['staff'], inputSchema: schema({ to: text, body: text }) },
    { name: 'transfer', target: 'pay', risk: 'CRITICAL', capabilities: ['EXTERNAL_ACCESS'], owner: 'finance', allowedGroups: ['staff'], inputSchema: schema({ amount: { type: 'integer', minimum: 1, maximum: 1000 } }) },
    // What ToolRegistry writes for a tool registered without capability labels.
    { name: 'do_anything', target: 'misc', risk: 'LOW', capabilities: ['SENSITIVE_DATA', 'UNTRUSTED_CONTENT', 'EXTERNAL_ACCESS'], owner: 'platform', allowedGroups: ['staff'], inputSchema: schema({ what: text }) },
  ];
  const base = configDocument();
  const doc = configDocument({
    registry: { version: 1, tools: [...base.registry.tools, ...extra] },
    targets: [...base.targets, ...['web', 'mail', 'pay', 'misc'].map((name) => ({ name, kind: 'CUSTOMER' as const }))],
  });
  const PRINCIPAL = `${idp.issuer}|alice`;
  const SENSITIVE = ['hr___get_record', { employeeId: 'E1234' }] as const;
  const UNTRUSTED = ['web___fetch_page', { url: 'https://example.test/inbox' }] as const;
  const EXTERNAL = ['mail___send_email', { to: 'someone@example.test', body: 'hello' }] as const;

  /** A tools/call in `session` (`null`: without an Mcp-Session-Id header). */
  const inSession = (session: string | null, [name, args]: readonly [string, Record<string, unknown>], token = alice()): Record<string, unknown> => {
    const event = requestEvent(toolsCall(name, args), { headers: { ...bearer(token), ...(session === null ? {} : { 'Mcp-Session-Id': session }) } });
    const headers = (event.mcp as { gatewayRequest: { headers: Record<string, string> } }).gatewayRequest.headers;
    if (session === null) delete headers['Mcp-Session-Id'];
    return event;
  };
  const stored = (session: string, principal = PRINCIPAL): string[] => table.capabilitiesOf(taintKey(principal, session));

  test('sensitive data, then untrusted content, then external access: the third call needs an approval of the exact call', async () => {
    const h = createHandler(config(doc), clients());
    const first = await call(inSession('conv-1', SENSITIVE), h);
    expect(forwarded(first.out)).toEqual({ employeeId: 'E1234', userId: 'alice' });
    expect(first.lines[0].fields).toMatchObject({ sessionCapabilityCount: 0, sessionTaint: 'RECORDED', approval: 'NOT_NEEDED' });
    expect(stored('conv-1')).toEqual(['SENSITIVE_DATA']);

    const second = await call(inSession('conv-1', UNTRUSTED), h);
    expect(forwarded(second.out)).toEqual({ url: 'https://example.test/inbox' });
    expect(second.lines[0].fields).toMatchObject({ sessionCapabilityCount: 1, sessionTaint: 'RECORDED' });
    expect(stored('conv-1')).toEqual(['SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);

    // A MEDIUM tool its caller may use: only the session's taint makes the trifecta forbid apply.
    const third = await call(inSession('conv-1', EXTERNAL), h);
    expect(reasonOf(third.out)).toBe('APPROVAL_REQUIRED');
    expect(third.out.mcp.transformedGatewayRequest).toBeUndefined();
    expect(third.lines[0]).toMatchObject({ outcome: 'DENY', reasonCode: 'APPROVAL_REQUIRED', fields: { sessionCapabilityCount: 2, approval: 'REQUIRED', tool: 'send_email' } });
    // A denied call records nothing.
    expect(stored('conv-1')).toEqual(['SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);

    // Sticky: asking again changes nothing.
    expect(reasonOf((await call(inSession('conv-1', EXTERNAL), h)).out)).toBe('APPROVAL_REQUIRED');
    // The same call in another session, or by another principal in the same session id, starts clean.
    expect(forwarded((await call(inSession('conv-2', EXTERNAL), h)).out)).toEqual({ to: 'someone@example.test', body: 'hello' });
    const bob = idp.sign({ sub: 'bob', aud: 'gateway', groups: ['staff'] });
    expect(forwarded((await call(inSession('conv-1', EXTERNAL, bob), h)).out)).toMatchObject({ to: 'someone@example.test' });
    expect(stored('conv-2')).toEqual(['EXTERNAL_ACCESS']);
    expect(stored('conv-1', `${idp.issuer}|bob`)).toEqual(['EXTERNAL_ACCESS']);
  });

  test('the policy decides, not the interceptor: without the trifecta forbid the same tainted session may call out', async () => {
    const h = createHandler(config(doc), clients());
    await call(inSession('conv-p', SENSITIVE), h);
    await call(inSession('conv-p', UNTRUSTED), h);
    expect(reasonOf((await call(inSession('conv-p', EXTERNAL), h)).out)).toBe('APPROVAL_REQUIRED');
    const policies = DEFAULT_TOOL_POLICIES.replace(/@id\("forbid-lethal-trifecta-without-approval"\)[\s\S]*$/, '');
    expect(policies).not.toContain('trifecta');
    const lenient = createHandler(config(configDocument({ ...doc, policy: { version: 1, policies } })), clients());
    expect(forwarded((await call(inSession('conv-p', EXTERNAL), lenient)).out)).toMatchObject({ to: 'someone@example.test' });
  });

  test('with an approval, the external call runs once approved, is recorded, and from then on every call of the session needs an approval', async () => {
    const gate = new RecordingGate(async () => allow());
    const h = createHandler(config(doc), clients(gate));
    await call(inSession('conv-3', SENSITIVE), h);
    await call(inSession('conv-3', UNTRUSTED), h);
    expect(gate.checks).toHaveLength(0);
    const approved = await call(inSession('conv-3', EXTERNAL), h);
    expect(forwarded(approved.out)).toEqual({ to: 'someone@example.test', body: 'hello' });
    expect(gate.checks).toHaveLength(1);
    expect(gate.checks[0].subject).toMatchObject({ tool: 'mail___send_email', principal: PRINCIPAL, session: 'conv-3', arguments: { to: 'someone@example.test', body: 'hello' } });
    expect(approved.lines[0].fields).toMatchObject({ approval: 'GRANTED', sessionCapabilityCount: 2, sessionTaint: 'RECORDED' });
    expect(stored('conv-3')).toEqual(['EXTERNAL_ACCESS', 'SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);
    // A LOW tool without capabilities: the session holds all three legs, so the default policy wants an approval.
    const note = await call(inSession('conv-3', ['hr___add_note', { note: { text: 'x' } }]), createHandler(config(doc), clients()));
    expect(reasonOf(note.out)).toBe('APPROVAL_REQUIRED');
  });

  test('the order does not matter: untrusted content and external access first, then sensitive data needs the approval', async () => {
    const h = createHandler(config(doc), clients());
    expect(forwarded((await call(inSession('conv-4', UNTRUSTED), h)).out)).toBeDefined();
    expect(forwarded((await call(inSession('conv-4', EXTERNAL), h)).out)).toBeDefined();
    const { out, lines } = await call(inSession('conv-4', SENSITIVE), h);
    expect(reasonOf(out)).toBe('APPROVAL_REQUIRED');
    expect(lines[0].fields).toMatchObject({ tool: 'get_record', sessionCapabilityCount: 2 });
  });

  test('a CRITICAL tool after untrusted content is denied even with an approval, and the gate is not asked', async () => {
    const gate = new RecordingGate(async () => allow());
    const h = createHandler(config(doc), clients(gate));
    const transfer = ['pay___transfer', { amount: 10 }] as const;
    // Clean session: CRITICAL needs an approval, which the gate grants.
    expect(forwarded((await call(inSession('conv-5', transfer), h)).out)).toEqual({ amount: 10 });
    expect(gate.checks).toHaveLength(1);
    await call(inSession('conv-6', UNTRUSTED), h);
    const { out, lines } = await call(inSession('conv-6', transfer), h);
    expect(reasonOf(out)).toBe('TOOL_POLICY_DENIED');
    expect(lines[0].fields).toMatchObject({ policies: expect.arrayContaining(['forbid-critical-after-untrusted-content']), sessionCapabilityCount: 1 });
    expect(gate.checks).toHaveLength(1);
  });

  test('an unlabeled tool counts as all three legs on its own, and once approved taints the session with all three', async () => {
    const gate = new RecordingGate(async () => allow());
    const { out } = await call(inSession('conv-7', ['misc___do_anything', { what: 'x' }]), createHandler(config(doc), clients()));
    expect(reasonOf(out)).toBe('APPROVAL_REQUIRED');
    expect(stored('conv-7')).toEqual([]);
    await call(inSession('conv-7', ['misc___do_anything', { what: 'x' }]), createHandler(config(doc), clients(gate)));
    expect(stored('conv-7')).toEqual(['EXTERNAL_ACCESS', 'SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);
  });

  test('without an Mcp-Session-Id every call of the principal shares one bucket: leaving the header out never starts clean', async () => {
    const h = createHandler(config(doc), clients());
    await call(inSession(null, SENSITIVE), h);
    await call(inSession(null, UNTRUSTED), h);
    expect(stored(NO_SESSION)).toEqual(['SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);
    expect(reasonOf((await call(inSession(null, EXTERNAL), h)).out)).toBe('APPROVAL_REQUIRED');
    // An empty or repeated header is not "no session": it is refused.
    for (const headers of [{ 'Mcp-Session-Id': '' }, { 'Mcp-Session-Id': 'a', 'mcp-session-id': 'b' }] as Array<Record<string, string>>) {
      const event = requestEvent(toolsCall(...EXTERNAL), { headers: { ...bearer(alice()), ...headers } });
      expect(reasonOf((await call(event, h)).out)).toBe('MALFORMED_REQUEST');
    }
  });

  test('calls the policy denies record nothing; a capability-free tool in a clean session writes nothing', async () => {
    const carol = idp.sign({ sub: 'carol', aud: 'gateway', groups: ['contractors'] });
    const h = createHandler(config(doc), clients());
    expect(reasonOf((await call(inSession('conv-8', UNTRUSTED, carol), h)).out)).toBe('TOOL_POLICY_DENIED');
    const note = await call(inSession('conv-8', ['hr___add_note', { note: {} }]), h);
    expect(forwarded(note.out)).toEqual({ note: {} });
    expect(note.lines[0].fields).toMatchObject({ sessionCapabilityCount: 0, sessionTaint: 'CLEAN' });
    expect(table.writes).toBe(0);
    expect(table.items.size).toBe(0);
  });

  test('each allowed call in a tainted session pushes the expiry to now + TTL; the item holds no identifiers', async () => {
    let now = NOW;
    const h = createHandler(config(doc, { taintTtlSeconds: 3_600 }), clients(undefined, taintStore({ now: () => now })));
    await call(inSession('conv-9', SENSITIVE), h);
    const id = taintKey(PRINCIPAL, 'conv-9');
    expect(table.items.get(id)).toEqual({ id: { S: id }, caps: { SS: ['SENSITIVE_DATA'] }, expiresAt: { N: String(NOW / 1000 + 3_600) } });
    now += 600_500;
    // A capability-free tool keeps the taint alive without adding to it.
    await call(inSession('conv-9', ['hr___add_note', { note: {} }]), h);
    expect(table.items.get(id)).toEqual({ id: { S: id }, caps: { SS: ['SENSITIVE_DATA'] }, expiresAt: { N: String(Math.ceil(now / 1000) + 3_600) } });
    const dump = JSON.stringify([...table.items]);
    for (const secret of ['alice', 'conv-9', idp.issuer]) expect(dump).not.toContain(secret);
  });

  test('concurrent calls of one session each add their label: the union lands, and the next external call needs an approval', async () => {
    const h = createHandler(config(doc), clients());
    const both = await Promise.all([call(inSession('conv-10', SENSITIVE), h), call(inSession('conv-10', UNTRUSTED), h)]);
    for (const r of both) expect(r.out.mcp.transformedGatewayRequest).toBeDefined();
    expect(stored('conv-10')).toEqual(['SENSITIVE_DATA', 'UNTRUSTED_CONTENT']);
    expect(reasonOf((await call(inSession('conv-10', EXTERNAL), h)).out)).toBe('APPROVAL_REQUIRED');
  });

  const faults: Array<[string, string, () => unknown]> = [
    ['throttle', 'UPSTREAM_THROTTLED', () => new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
    ['5xx', 'UPSTREAM_UNAVAILABLE', () => new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } })],
    ['timeout', 'UPSTREAM_TIMEOUT', () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['AccessDenied', 'UPSTREAM_ACCESS_DENIED', () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } })],
  ];

  test.each(faults)('a read fault (%s) denies with %s before the policy or the gate is consulted', async (_kind, code, fault) => {
    ddb.on(GetItemCommand).rejects(fault() as Error);
    const gate = new RecordingGate(async () => allow());
    const { out, lines } = await call(inSession('conv-11', EXTERNAL), createHandler(config(doc), clients(gate)));
    expect(reasonOf(out)).toBe(code);
    expect(out.mcp.transformedGatewayRequest).toBeUndefined();
    expect(lines[0]).toMatchObject({ outcome: 'DENY', reasonCode: code, fields: { sessionTaint: 'UNREAD' } });
    expect(lines[0].fields).not.toHaveProperty('policies');
    expect(gate.checks).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test.each<[string, Record<string, unknown>]>([
    ['an unknown capability label', { caps: { SS: ['SENSITIVE_DATA', 'ROOT'] } }],
    ['capabilities that are not a string set', { caps: { S: 'SENSITIVE_DATA' } }],
    ['an item of another key', { id: { S: 'f'.repeat(64) } }],
    ['an expiry that is not a number', { expiresAt: { S: 'soon' } }],
  ])('a read answered with %s denies (UPSTREAM_MALFORMED_RESPONSE)', async (_name, patch) => {
    const id = taintKey(PRINCIPAL, 'conv-12');
    ddb.on(GetItemCommand).resolves({ Item: { id: { S: id }, ...patch } as never });
    const { out } = await call(inSession('conv-12', SENSITIVE), createHandler(config(doc), clients()));
    expect(reasonOf(out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
  });

  test.each(faults)('a write fault (%s) denies with %s: the allowed call does not run untracked', async (_kind, code, fault) => {
    ddb.on(UpdateItemCommand).rejects(fault() as Error);
    const { out, lines } = await call(inSession('conv-13', SENSITIVE), createHandler(config(doc), clients()));
    expect(reasonOf(out)).toBe(code);
    expect(out.mcp.transformedGatewayRequest).toBeUndefined();
    expect(lines[0]).toMatchObject({ outcome: 'DENY', reasonCode: code, fields: { sessionTaint: 'UNRECORDED', approval: 'NOT_NEEDED', sessionCapabilityCount: 0 } });
  });

  test('a write answered without the item, or with an item that does not show the labels, denies (UPSTREAM_MALFORMED_RESPONSE)', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    expect(reasonOf((await call(inSession('conv-14', SENSITIVE), createHandler(config(doc), clients()))).out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
    const id = taintKey(PRINCIPAL, 'conv-14');
    ddb.on(UpdateItemCommand).resolves({ Attributes: { id: { S: id }, caps: { SS: ['UNTRUSTED_CONTENT'] }, expiresAt: { N: String(NOW / 1000 + 43_200) } } });
    expect(reasonOf((await call(inSession('conv-14', SENSITIVE), createHandler(config(doc), clients()))).out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
  });

  test('a write fault after an approval denies too (the approval is spent; the call never runs untracked)', async () => {
    const gate = new RecordingGate(async () => allow());
    const h = createHandler(config(doc), clients(gate));
    await call(inSession('conv-15', SENSITIVE), h);
    await call(inSession('conv-15', UNTRUSTED), h);
    ddb.on(UpdateItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    const { out, lines } = await call(inSession('conv-15', EXTERNAL), h);
    expect(gate.checks).toHaveLength(1);
    expect(reasonOf(out)).toBe('UPSTREAM_UNAVAILABLE');
    expect(lines[0].fields).toMatchObject({ approval: 'GRANTED', sessionTaint: 'UNRECORDED' });
  });

  test('a table that never answers hits the store deadline (UPSTREAM_TIMEOUT)', async () => {
    ddb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
    const { out } = await call(inSession('conv-16', SENSITIVE), createHandler(config(doc), clients(undefined, taintStore({ timeoutMs: 150 }))));
    expect(reasonOf(out)).toBe('UPSTREAM_TIMEOUT');
  });

  test('a custom store that answers with something other than capability labels denies (UPSTREAM_MALFORMED_RESPONSE)', async () => {
    const liar = { readTaint: async () => ['ROOT'] as never, addTaint: async () => [] as never };
    expect(reasonOf((await call(inSession('conv-17', SENSITIVE), createHandler(config(doc), clients(undefined, liar)))).out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
    // A store that claims to have recorded the call without showing its label.
    const forgetful = { readTaint: async () => [], addTaint: async () => [] };
    expect(reasonOf((await call(inSession('conv-17', SENSITIVE), createHandler(config(doc), clients(undefined, forgetful)))).out)).toBe('UPSTREAM_MALFORMED_RESPONSE');
  });
});
