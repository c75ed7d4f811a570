import {
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, FaultKind, awsFault } from '../../rig/faults';
import { captureDecisions } from '../../rig/decision-log-capture';
import { ApprovalEnv } from '../../../lambda/approval/config';
import { createDynamoDbApprovalGate } from '../../../lambda/approval/gate';
import { BoundCall, callDigest, principalCounterId, taskApprovalId } from '../../../lambda/approval/hash';
import { ApprovalStore } from '../../../lambda/approval/store';
import { ApprovalApiClients, REJECTED_TASK_ERROR, SfnTaskSignaller } from '../../../lambda/approval-api/clients';
import { ApprovalApiConfig, approvalApiConfigFromEnv } from '../../../lambda/approval-api/config';
import { approverTokenFrom, parseApiRoute, statusOf } from '../../../lambda/approval-api/decide';
import { createHandler, handler as envHandler } from '../../../lambda/approval-api/index';
import { createHandler as createRequestHandler } from '../../../lambda/approval-request/index';
import { IDENTITY_ENV_VAR } from '../../../lambda/shared/identity-env';
import { FakeTable, testDynamoClient } from '../approval/fake-table';
import { createTestIssuer } from '../shared/jwt-helper';

const ddb = mockClient(DynamoDBClient);
const sns = mockClient(SNSClient);
const sfn = mockClient(SFNClient);

const idp = createTestIssuer();
const otherIdp = createTestIssuer({ issuer: 'https://other-idp.example.test' });
const AUD = 'approvals';
const IDENTITY = { issuer: idp.issuer, audience: AUD, jwks: idp.jwks };
const token = (sub: string, groups: string[] | null = ['approvers'], extra: Record<string, unknown> = {}) =>
  idp.sign({ sub, aud: AUD, ...(groups ? { 'cognito:groups': groups } : {}), ...extra });
const ALICE = `${idp.issuer}|alice`;
const BOB = `${idp.issuer}|bob`;
const TABLE = 'approvals';
const NOW = Date.now();
const TTL_MS = 15 * 60 * 1000;
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:orders';

const CALL: BoundCall = {
  tool: 'Payments___transfer',
  toolPin: 'b'.repeat(64),
  arguments: { amount: 100, currency: 'EUR' },
  principal: ALICE,
  session: 'mcp-session-1',
};
const ID = callDigest(CALL);

let table: FakeTable;
let clock: number;

const CONFIG: ApprovalApiConfig = { identity: IDENTITY, tableName: TABLE, approverGroup: 'approvers', timeoutMs: 2_000 };

function clients(): ApprovalApiClients {
  return { store: new ApprovalStore(testDynamoClient(), TABLE), tasks: new SfnTaskSignaller(new SFNClient({ region: 'us-east-1' })), now: () => clock };
}
const api = (config: Partial<ApprovalApiConfig> = {}) => createHandler({ ...CONFIG, ...config }, clients());

const gate = () =>
  createDynamoDbApprovalGate({ tableName: TABLE, ttlSeconds: TTL_MS / 1000, clients: { dynamodb: testDynamoClient() }, decisionLogger: { logDecision: () => undefined } });

interface EventOptions {
  readonly bearer?: string;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly id?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly base64?: boolean;
}

function event(method: string, resource: string, o: EventOptions = {}) {
  const headers = { ...(o.bearer !== undefined ? { Authorization: `Bearer ${o.bearer}` } : {}), ...o.headers };
  const body = o.rawBody ?? (o.body !== undefined ? JSON.stringify(o.body) : null);
  return {
    resource,
    path: resource.replace('{id}', o.id ?? ''),
    httpMethod: method,
    headers,
    multiValueHeaders: o.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: o.id !== undefined ? { id: o.id } : null,
    body: o.base64 && body !== null ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: o.base64 === true,
    // The authorizer's claims are never read: identity comes only from the verified token.
    requestContext: { requestId: 'api-req-1', authorizer: { claims: { sub: 'spoofed', 'cognito:groups': 'approvers' } } },
  };
}

const list = (bearer: string) => event('GET', '/approvals', { bearer });
const show = (bearer: string, id = ID) => event('GET', '/approvals/{id}', { bearer, id });
const decide = (bearer: string, decision: string, approvalHash: string, id = ID) => event('POST', '/approvals/{id}', { bearer, id, body: { decision, approvalHash } });
const bodyOf = (r: { body: string }) => JSON.parse(r.body);

async function requested(call: BoundCall = CALL): Promise<string> {
  await gate().check({ subject: call, requestId: 'gate-1', now: clock });
  return table.items.get(callDigest(call))!.approvalHash.S!;
}

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  ddb.reset();
  sns.reset();
  sfn.reset();
  table = new FakeTable();
  table.install(ddb);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  clock = NOW;
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('approver API: a human approves exactly the call, and the call proceeds once', () => {
  test('request → list → show → approve (echoing the hash) → the gate lets the same call run once', async () => {
    const hash = await requested();
    clock += 1_000;

    const listed = await api()(list(token('bob')));
    expect(listed.statusCode).toBe(200);
    expect(bodyOf(listed)).toEqual({ ok: true, approvals: [{ approvalId: ID, kind: 'CALL', tool: CALL.tool, principal: ALICE, createdAt: NOW, expiresAt: NOW + TTL_MS }] });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE, IndexName: 'PendingByExpiry', KeyConditionExpression: '#queue = :pending AND #expiresAt > :now' });

    const shown = await api()(show(token('bob')));
    expect(shown.statusCode).toBe(200);
    expect(shown.headers).toEqual(expect.objectContaining({ 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }));
    expect(bodyOf(shown).approval).toEqual({
      approvalId: ID,
      kind: 'CALL',
      status: 'PENDING',
      tool: CALL.tool,
      toolPin: CALL.toolPin,
      arguments: CALL.arguments,
      principal: ALICE,
      session: CALL.session,
      createdAt: NOW,
      expiresAt: NOW + TTL_MS,
      approvalHash: hash,
      selfRequested: false,
    });

    const { value: decided, lines } = await captureDecisions(() => api()(decide(token('bob'), 'APPROVE', hash)));
    expect(decided.statusCode).toBe(200);
    expect(bodyOf(decided)).toEqual({ ok: true, approvalId: ID, status: 'APPROVED' });
    expect(table.items.get(ID)).toEqual(expect.objectContaining({ status: { S: 'APPROVED' }, decidedBy: { S: BOB }, decidedAt: { N: String(clock) } }));
    expect(table.items.get(ID)!.queue).toBeUndefined();
    // The request left Alice's pending count in the same transaction.
    expect(table.items.get(principalCounterId(ALICE))!.entries).toBeUndefined();
    const tx = ddb.commandCalls(TransactWriteItemsCommand).at(-1)!.args[0].input;
    expect(tx.TransactItems![0].Update!.ConditionExpression).toBe('#status = :pending AND #approvalHash = :hash AND #nonce = :nonce AND #expiresAt > :now AND #principal <> :approver');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(expect.objectContaining({ control: 'approval-api', outcome: 'ALLOW', reasonCode: 'ALLOWED', fields: expect.objectContaining({ step: 'approved', approvalId: ID, decision: 'APPROVE' }) }));
    expect(JSON.stringify(lines)).not.toMatch(/alice|bob|eyJ/);

    clock += 1_000;
    expect(await gate().check({ subject: CALL, requestId: 'gate-2', now: clock })).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED' });
    expect((await gate().check({ subject: CALL, requestId: 'gate-3', now: clock + 1 })).outcome).toBe('DENY');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('an approver never sees their own requests in the list, and may not decide them (self-approval denied)', async () => {
    const hash = await requested();
    const aliceAsApprover = token('alice', ['approvers']);
    expect(bodyOf(await api()(list(aliceAsApprover))).approvals).toEqual([]);
    expect(bodyOf(await api()(show(aliceAsApprover))).approval.selfRequested).toBe(true);
    for (const decision of ['APPROVE', 'REJECT']) {
      const r = await api()(decide(aliceAsApprover, decision, hash));
      expect(r.statusCode).toBe(403);
      expect(bodyOf(r)).toEqual({ ok: false, reasonCode: 'APPROVAL_SELF_APPROVAL' });
    }
    expect(table.items.get(ID)!.status.S).toBe('PENDING');
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  test('the conditional write refuses self-approval even if the read was fooled (requester ≠ approver is in the condition)', async () => {
    const hash = await requested();
    // The record read says the requester is someone else; the stored item (what the condition sees) says Alice.
    const store = new ApprovalStore(testDynamoClient(), TABLE);
    const record = (await store.get(ID))!;
    const result = await store.decide(record, { status: 'APPROVED', approver: ALICE, approvalHash: hash, now: clock });
    expect(result).toBe('CONDITION_FAILED');
    expect(table.items.get(ID)!.status.S).toBe('PENDING');
  });

  test('the approver is known only from their own token: a body cannot name the approver, the authorizer claims are ignored', async () => {
    const hash = await requested();
    const withApprover = event('POST', '/approvals/{id}', { bearer: token('alice'), id: ID, body: { decision: 'APPROVE', approvalHash: hash, approver: BOB } });
    expect(bodyOf(await api()(withApprover))).toEqual({ ok: false, reasonCode: 'MALFORMED_REQUEST' });
    const noToken = event('POST', '/approvals/{id}', { id: ID, body: { decision: 'APPROVE', approvalHash: hash } });
    const r = await api()(noToken);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(bodyOf(r)).toEqual({ ok: false, reasonCode: 'IDENTITY_MISSING' });
    expect(table.items.get(ID)!.status.S).toBe('PENDING');
  });

  test('a REJECT is recorded; the gate then denies the call APPROVAL_REJECTED until the request expires', async () => {
    const hash = await requested();
    const r = await api()(decide(token('bob'), 'REJECT', hash));
    expect(bodyOf(r)).toEqual({ ok: true, approvalId: ID, status: 'REJECTED' });
    const g = await gate().evaluate({ subject: CALL, requestId: 'g', now: clock + 1 });
    expect(g.decision.reasonCode).toBe('APPROVAL_REJECTED');
  });

  test('two approvers deciding at once: exactly one decision is recorded, the other gets APPROVAL_NOT_PENDING', async () => {
    const hash = await requested();
    const results = await Promise.all([api()(decide(token('bob'), 'APPROVE', hash)), api()(decide(token('dave'), 'REJECT', hash))]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(bodyOf(results.find((r) => r.statusCode === 409)!)).toEqual({ ok: false, reasonCode: 'APPROVAL_NOT_PENDING' });
    expect(['APPROVED', 'REJECTED']).toContain(table.items.get(ID)!.status.S);
  });

  test('a decision on an already decided request: APPROVAL_NOT_PENDING', async () => {
    const hash = await requested();
    await api()(decide(token('bob'), 'APPROVE', hash));
    const again = await api()(decide(token('dave'), 'REJECT', hash));
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again).reasonCode).toBe('APPROVAL_NOT_PENDING');
    expect(table.items.get(ID)!.status.S).toBe('APPROVED');
  });

  test('an echoed hash of another view (a stale request, another call) is denied APPROVAL_HASH_MISMATCH', async () => {
    const staleHash = await requested();
    // The request expires and the agent asks again: a new nonce, a new hash, the same id.
    clock += TTL_MS;
    await requested();
    clock += 1;
    const r = await api()(decide(token('bob'), 'APPROVE', staleHash));
    expect(r.statusCode).toBe(409);
    expect(bodyOf(r).reasonCode).toBe('APPROVAL_HASH_MISMATCH');
    expect(table.items.get(ID)!.status.S).toBe('PENDING');
  });

  test('an expired request cannot be approved: APPROVAL_EXPIRED', async () => {
    const hash = await requested();
    clock += TTL_MS;
    const r = await api()(decide(token('bob'), 'APPROVE', hash));
    expect(r.statusCode).toBe(409);
    expect(bodyOf(r).reasonCode).toBe('APPROVAL_EXPIRED');
  });

  test('a request changed in the table is neither shown nor decided (APPROVAL_HASH_MISMATCH)', async () => {
    const hash = await requested();
    table.items.set(ID, { ...table.items.get(ID)!, arguments: { S: '{"amount":1000000,"currency":"EUR"}' } });
    expect(bodyOf(await api()(show(token('bob')))).reasonCode).toBe('APPROVAL_HASH_MISMATCH');
    expect(bodyOf(await api()(decide(token('bob'), 'APPROVE', hash))).reasonCode).toBe('APPROVAL_HASH_MISMATCH');
    expect(table.items.get(ID)!.status.S).toBe('PENDING');
  });

  test('an unknown request: 404 APPROVAL_NOT_FOUND', async () => {
    const r = await api()(show(token('bob'), 'f'.repeat(64)));
    expect(r.statusCode).toBe(404);
    expect(bodyOf(await api()(decide(token('bob'), 'APPROVE', 'a'.repeat(64), 'f'.repeat(64)))).reasonCode).toBe('APPROVAL_NOT_FOUND');
  });
});

describe('approver API: who may call', () => {
  test.each<[string, () => ReturnType<typeof event>, number, string]>([
    ['no token', () => event('GET', '/approvals'), 401, 'IDENTITY_MISSING'],
    ['a token of another issuer', () => list(otherIdp.sign({ sub: 'bob', aud: AUD, 'cognito:groups': ['approvers'] })), 401, 'IDENTITY_INVALID'],
    ['a token for another audience', () => list(idp.sign({ sub: 'bob', aud: 'other', 'cognito:groups': ['approvers'] })), 401, 'IDENTITY_INVALID'],
    ['an expired token', () => list(token('bob', ['approvers'], { exp: Math.floor(Date.now() / 1000) - 60 })), 401, 'IDENTITY_EXPIRED'],
    ['an unsigned token', () => list(idp.sign({ sub: 'bob', aud: AUD, 'cognito:groups': ['approvers'] }, { alg: 'none' })), 401, 'IDENTITY_INVALID'],
    ['a user outside the approver group', () => list(token('carol', ['users'])), 403, 'APPROVAL_NOT_APPROVER'],
    ['a user without groups', () => list(token('carol', null)), 403, 'APPROVAL_NOT_APPROVER'],
    ['a group that differs in case', () => list(token('carol', ['Approvers'])), 403, 'APPROVAL_NOT_APPROVER'],
    ['two Authorization headers', () => event('GET', '/approvals', { multiValueHeaders: { Authorization: [`Bearer ${token('bob')}`, `Bearer ${token('bob')}`] } }), 401, 'IDENTITY_MISSING'],
  ])('fails closed: %s → %s %s, nothing read', async (_name, build, status, code) => {
    const r = await api()(build());
    expect(r.statusCode).toBe(status);
    expect(bodyOf(r)).toEqual({ ok: false, reasonCode: code });
    expect(ddb.calls()).toHaveLength(0);
  });

  test('accepts the bare token API Gateway Cognito authorizers also accept', async () => {
    const r = await api()(event('GET', '/approvals', { headers: { authorization: token('bob') } }));
    expect(r.statusCode).toBe(200);
    expect(approverTokenFrom({ headers: { Authorization: 'Basic abc' } })).toBeUndefined();
  });

  test('the approver group is configurable', async () => {
    expect((await api({ approverGroup: 'finance-approvers' })(list(token('bob', ['approvers'])))).statusCode).toBe(403);
    expect((await api({ approverGroup: 'finance-approvers' })(list(token('bob', ['finance-approvers'])))).statusCode).toBe(200);
  });
});

describe('approver API: malformed requests', () => {
  const hash = 'a'.repeat(64);
  test.each<[string, () => ReturnType<typeof event>, number]>([
    ['an id that is not 64 hex', () => event('GET', '/approvals/{id}', { bearer: token('bob'), id: 'ABC' }), 400],
    ['an unknown resource', () => event('GET', '/admin', { bearer: token('bob') }), 404],
    ['DELETE on an approval', () => event('DELETE', '/approvals/{id}', { bearer: token('bob'), id: ID }), 405],
    ['POST on the list', () => event('POST', '/approvals', { bearer: token('bob'), body: {} }), 405],
    ['no body', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID }), 400],
    ['a body that is not JSON', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, rawBody: 'decision=APPROVE' }), 400],
    ['duplicate keys', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, rawBody: `{"decision":"REJECT","decision":"APPROVE","approvalHash":"${hash}"}` }), 400],
    ['a lowercase decision', () => decide(token('bob'), 'approve', hash), 400],
    ['a missing hash', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, body: { decision: 'APPROVE' } }), 400],
    ['an uppercase hash', () => decide(token('bob'), 'APPROVE', 'A'.repeat(64)), 400],
    ['an extra key', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, body: { decision: 'APPROVE', approvalHash: hash, note: 'ok' } }), 400],
    ['a __proto__ key', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, rawBody: `{"decision":"APPROVE","__proto__":{}}` }), 400],
    ['a body too large', () => event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, rawBody: `{"decision":"APPROVE","approvalHash":"${'a'.repeat(2000)}"}` }), 413],
  ])('fails closed: %s', async (_name, build, status) => {
    const r = await api()(build());
    expect(r.statusCode).toBe(status);
    expect(bodyOf(r).ok).toBe(false);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  test('a base64 body (as API Gateway sends binary media types) is decoded', async () => {
    const h = await requested();
    const r = await api()(event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID, body: { decision: 'APPROVE', approvalHash: h }, base64: true }));
    expect(r.statusCode).toBe(200);
    const bad = { ...event('POST', '/approvals/{id}', { bearer: token('bob'), id: ID }), body: '!!!!', isBase64Encoded: true };
    expect(parseApiRoute(bad)).toEqual(expect.objectContaining({ ok: false, code: 'MALFORMED_REQUEST' }));
  });

  test('status codes of the reason codes', () => {
    expect([statusOf('APPROVAL_NOT_FOUND'), statusOf('UPSTREAM_THROTTLED'), statusOf('UPSTREAM_TIMEOUT'), statusOf('UPSTREAM_ACCESS_DENIED'), statusOf('INTERNAL_ERROR')]).toEqual([404, 429, 504, 503, 500]);
  });
});

describe('workflow approvals: the Step Functions task token', () => {
  const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-1';
  const requestHandler = () =>
    createRequestHandler({ tableName: TABLE, ttlSeconds: TTL_MS / 1000, maxPendingPerPrincipal: 5, timeoutMs: 2_000 }, { store: new ApprovalStore(testDynamoClient(), TABLE), now: () => clock });
  const payload = { taskToken: TASK_TOKEN, tool: 'approve-refund', toolPin: STATE_MACHINE, arguments: { orderId: 'o-1', amount: 50 }, principal: ALICE, session: `${STATE_MACHINE.replace('stateMachine', 'execution')}:run-1` };
  const TASK_ID = taskApprovalId(TASK_TOKEN);

  test('APPROVE → SendTaskSuccess with the stored token and the decision (never the token in the API)', async () => {
    await requestHandler()(payload);
    const shown = bodyOf(await api()(show(token('bob'), TASK_ID)));
    expect(shown.approval.kind).toBe('TASK');
    expect(JSON.stringify(shown)).not.toContain(TASK_TOKEN);
    const r = await api()(decide(token('bob'), 'APPROVE', shown.approval.approvalHash, TASK_ID));
    expect(bodyOf(r)).toEqual({ ok: true, approvalId: TASK_ID, status: 'APPROVED' });
    const success = sfn.commandCalls(SendTaskSuccessCommand);
    expect(success).toHaveLength(1);
    expect(success[0].args[0].input.taskToken).toBe(TASK_TOKEN);
    expect(JSON.parse(success[0].args[0].input.output!)).toEqual({ approvalId: TASK_ID, decision: 'APPROVED', approvalHash: shown.approval.approvalHash, decidedAt: clock });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  test('REJECT → SendTaskFailure ApprovalRejected (a code, never free text)', async () => {
    await requestHandler()(payload);
    const hash = table.items.get(TASK_ID)!.approvalHash.S!;
    await api()(decide(token('bob'), 'REJECT', hash, TASK_ID));
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TASK_TOKEN, error: REJECTED_TASK_ERROR, cause: 'APPROVAL_REJECTED' });
  });

  test('the requester of a workflow cannot approve it either', async () => {
    await requestHandler()(payload);
    const hash = table.items.get(TASK_ID)!.approvalHash.S!;
    expect(bodyOf(await api()(decide(token('alice'), 'APPROVE', hash, TASK_ID))).reasonCode).toBe('APPROVAL_SELF_APPROVAL');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a workflow that no longer waits (timed out): the decision stays recorded, the approver gets APPROVAL_EXPIRED', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: { httpStatusCode: 400 } }));
    await requestHandler()(payload);
    const hash = table.items.get(TASK_ID)!.approvalHash.S!;
    const r = await api()(decide(token('bob'), 'APPROVE', hash, TASK_ID));
    expect(r.statusCode).toBe(409);
    expect(bodyOf(r)).toEqual({ ok: false, reasonCode: 'APPROVAL_EXPIRED', decisionRecorded: true, status: 'APPROVED' });
  });

  test('a workflow approval is never consumed by the tool gate', async () => {
    await requestHandler()(payload);
    const hash = table.items.get(TASK_ID)!.approvalHash.S!;
    await api()(decide(token('bob'), 'APPROVE', hash, TASK_ID));
    const asCall = { tool: payload.tool, toolPin: payload.toolPin, arguments: payload.arguments, principal: payload.principal, session: payload.session };
    expect((await gate().check({ subject: asCall, requestId: 'g', now: clock + 1 })).outcome).toBe('DENY');
    expect(table.items.get(TASK_ID)!.status.S).toBe('APPROVED');
  });
});

/** The HTTP status the approver API answers each fault kind with. */
const FAULT_STATUS: Record<FaultKind, number> = { throttle: 429, server: 503, timeout: 504, accessDenied: 503, malformed: 503 };

describe('approver API: the five fault kinds deny at every AWS call site', () => {
  const TASK_TOKEN = 'fault-task-token';
  const TASK_ID = taskApprovalId(TASK_TOKEN);
  const prepareTask = async () => {
    const h = createRequestHandler({ tableName: TABLE, ttlSeconds: 900, maxPendingPerPrincipal: 5, timeoutMs: 2_000 }, { store: new ApprovalStore(testDynamoClient(), TABLE), now: () => clock });
    await h({ taskToken: TASK_TOKEN, tool: 'refund', toolPin: STATE_MACHINE, arguments: {}, principal: ALICE, session: 'exec-1' });
    return table.items.get(TASK_ID)!.approvalHash.S!;
  };
  const sites: Record<string, { prepare: () => Promise<string>; inject: (f: FaultKind) => void; request: (hash: string) => ReturnType<typeof event>; recorded: boolean }> = {
    'Query (list)': {
      prepare: requested,
      inject: (f) => (f === 'malformed' ? ddb.on(QueryCommand).resolves({ Items: [{ id: { S: 'x' } }] }) : ddb.on(QueryCommand).rejects(awsFault(f))),
      request: () => list(token('bob')),
      recorded: false,
    },
    'GetItem (show)': {
      prepare: requested,
      inject: (f) => (f === 'malformed' ? ddb.on(GetItemCommand).resolves({ Item: { id: { S: ID }, status: { BOOL: true } } }) : ddb.on(GetItemCommand).rejects(awsFault(f))),
      request: () => show(token('bob')),
      recorded: false,
    },
    'GetItem (decide)': {
      prepare: requested,
      inject: (f) => (f === 'malformed' ? ddb.on(GetItemCommand).resolves(null as never) : ddb.on(GetItemCommand).rejects(awsFault(f))),
      request: (h) => decide(token('bob'), 'APPROVE', h),
      recorded: false,
    },
    TransactWriteItems: {
      prepare: requested,
      inject: (f) => (f === 'malformed' ? ddb.on(TransactWriteItemsCommand).resolves(null as never) : ddb.on(TransactWriteItemsCommand).rejects(awsFault(f))),
      request: (h) => decide(token('bob'), 'APPROVE', h),
      recorded: false,
    },
    SendTaskSuccess: {
      prepare: prepareTask,
      inject: (f) => (f === 'malformed' ? sfn.on(SendTaskSuccessCommand).resolves(null as never) : sfn.on(SendTaskSuccessCommand).rejects(awsFault(f))),
      request: (h) => decide(token('bob'), 'APPROVE', h, TASK_ID),
      recorded: true,
    },
    SendTaskFailure: {
      prepare: prepareTask,
      inject: (f) => (f === 'malformed' ? sfn.on(SendTaskFailureCommand).resolves(null as never) : sfn.on(SendTaskFailureCommand).rejects(awsFault(f))),
      request: (h) => decide(token('bob'), 'REJECT', h, TASK_ID),
      recorded: true,
    },
  };
  const matrix = Object.keys(sites).flatMap((site) => FAULT_KINDS.map(([fault, code]) => [site, fault, code, FAULT_STATUS[fault]] as const));

  test.each(matrix)('%s %s → %s (%d)', async (site, fault, code, status) => {
    const s = sites[site];
    const hash = await s.prepare();
    s.inject(fault);
    const { value: r, lines } = await captureDecisions(() => api()(s.request(hash)));
    expect(r.statusCode).toBe(status);
    expect(bodyOf(r)).toEqual({ ok: false, reasonCode: code, ...(s.recorded ? { decisionRecorded: true, status: expect.any(String) } : {}) });
    expect(lines.at(-1)).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: code, fields: expect.objectContaining({ step: 'denied-fault' }) }));
    // The API never answers with internal error text.
    expect(r.body).not.toMatch(/exceeded|internal error|timed out|not authorized/);
    if (!s.recorded) expect([...table.items.values()].some((i) => i.status?.S === 'APPROVED')).toBe(false);
  });

  test('a dependency that never answers: 504 UPSTREAM_TIMEOUT at the deadline, nothing recorded', async () => {
    const hash = await requested();
    ddb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
    const r = await api({ timeoutMs: 100 })(decide(token('bob'), 'APPROVE', hash));
    expect(r.statusCode).toBe(504);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });
});

describe('approver API configuration', () => {
  test('reads its configuration from the environment, and a missing one denies every call MISCONFIGURED', async () => {
    const env = { [IDENTITY_ENV_VAR]: JSON.stringify({ issuer: idp.issuer, audience: AUD }), [ApprovalEnv.TABLE_NAME]: TABLE, [ApprovalEnv.APPROVER_GROUP]: 'finance', [ApprovalEnv.TIMEOUT_MS]: '7000' };
    expect(approvalApiConfigFromEnv(env)).toEqual({ identity: { issuer: idp.issuer, audience: AUD }, tableName: TABLE, approverGroup: 'finance', timeoutMs: 7000 });
    expect(() => approvalApiConfigFromEnv({ ...env, [ApprovalEnv.APPROVER_GROUP]: ' x' })).toThrow(/CAD_APPROVAL_APPROVER_GROUP/);
    expect(() => approvalApiConfigFromEnv({ [ApprovalEnv.TABLE_NAME]: TABLE })).toThrow(/CAD_IDENTITY_CONFIG/);
    const r = await envHandler(list(token('bob')));
    expect(r.statusCode).toBe(500);
    expect(bodyOf(r)).toEqual({ ok: false, reasonCode: 'MISCONFIGURED' });
  });
});
