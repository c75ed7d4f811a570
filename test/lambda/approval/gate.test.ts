import {
  AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandInput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AuthorizationErrorException, InternalErrorException, PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, FaultKind, awsFault } from '../../rig/faults';
import fc from 'fast-check';
import { DecisionLogEntry, decisionLogAttributes } from '../../../lambda/shared/decision-log';
import { DenyAllApprovalGate } from '../../../lambda/tool-interceptor/approval-gate';
import { ApprovalEnv } from '../../../lambda/approval/config';
import { ApprovalStep } from '../../../lambda/approval/decide';
import { ApprovalGateResult, DynamoDbApprovalGate, approvalGateFromEnv, createDynamoDbApprovalGate } from '../../../lambda/approval/gate';
import { BoundCall, boundCallProblems, callDigest, principalCounterId } from '../../../lambda/approval/hash';
import { callArb, mutateCall, mutationArb, same } from './arbitraries';
import { FakeTable, testDynamoClient } from './fake-table';

const ddb = mockClient(DynamoDBClient);
const sns = mockClient(SNSClient);

const TABLE = 'approvals';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:approvals';
const NOW = 1_760_000_000_000;
const TTL_MS = 15 * 60 * 1000;
const ALICE = 'https://idp.example.test/tenant-1|alice';
const BOB = 'https://idp.example.test/tenant-1|bob';
const CALL: BoundCall = {
  tool: 'Payments___transfer',
  toolPin: 'b'.repeat(64),
  arguments: { amount: 100, currency: 'EUR', to: { iban: 'DE00 1234', name: 'Carol' } },
  principal: ALICE,
  session: 'mcp-session-1',
};
const ID = callDigest(CALL);

let table: FakeTable;
let lines: DecisionLogEntry[];

function gate(options: { maxPendingPerPrincipal?: number; timeoutMs?: number; topic?: boolean; silent?: boolean } = {}): DynamoDbApprovalGate {
  return createDynamoDbApprovalGate({
    tableName: TABLE,
    ...(options.topic === false ? {} : { topicArn: TOPIC }),
    ttlSeconds: TTL_MS / 1000,
    maxPendingPerPrincipal: options.maxPendingPerPrincipal ?? 5,
    timeoutMs: options.timeoutMs ?? 2_000,
    clients: { dynamodb: testDynamoClient(), sns: new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }) },
    decisionLogger: { logDecision: (entry) => (options.silent ? undefined : lines.push(entry)) },
  });
}

/** What the approver API does on APPROVE (or REJECT), straight in the table. */
function decideInTable(id: string, status: 'APPROVED' | 'REJECTED', at = NOW + 1_000): void {
  const item = table.items.get(id)!;
  const { queue: _queue, ...rest } = item;
  table.items.set(id, { ...rest, status: { S: status }, decidedAt: { N: String(at) }, decidedBy: { S: BOB } });
}

const statusOf = (id = ID): string | undefined => table.items.get(id)?.status?.S;
const stepsOf = (): string[] => lines.map((l) => String(l.fields?.step));
const codeOf = (r: ApprovalGateResult) => r.decision.reasonCode;

beforeEach(() => {
  ddb.reset();
  sns.reset();
  table = new FakeTable();
  table.install(ddb);
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
  lines = [];
});

describe('gate: request, approve, proceed exactly once', () => {
  test('a first call is denied APPROVAL_REQUIRED and stores one PENDING request, counted and notified', async () => {
    const r = await gate().evaluate({ subject: CALL, requestId: 'req-1', now: NOW });
    expect(r.decision).toEqual({ outcome: 'DENY', reasonCode: 'APPROVAL_REQUIRED' });
    expect(r.step).toBe(ApprovalStep.REQUESTED);
    const item = table.items.get(ID)!;
    expect(item).toEqual(
      expect.objectContaining({
        kind: { S: 'CALL' },
        status: { S: 'PENDING' },
        queue: { S: 'PENDING' },
        tool: { S: CALL.tool },
        toolPin: { S: CALL.toolPin },
        arguments: { S: '{"amount":100,"currency":"EUR","to":{"iban":"DE00 1234","name":"Carol"}}' },
        principal: { S: ALICE },
        session: { S: CALL.session },
        createdAt: { N: String(NOW) },
        expiresAt: { N: String(NOW + TTL_MS) },
        ttl: { N: String((NOW + TTL_MS) / 1000 + 86_400) },
      }),
    );
    expect(item.nonce.S).toMatch(/^[0-9a-f]{64}$/);
    expect(table.items.get(principalCounterId(ALICE))).toEqual({ id: { S: principalCounterId(ALICE) }, entries: { SS: [`${NOW + TTL_MS}#${ID}`] }, version: { N: '1' }, ttl: expect.any(Object) });
    const tx = ddb.commandCalls(TransactWriteItemsCommand)[0].args[0].input;
    expect(tx.TransactItems![0].Put!.ConditionExpression).toBe('attribute_not_exists(#id)');
    expect(tx.TransactItems![1].Update!.ConditionExpression).toBe('attribute_not_exists(#id)');
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { id: { S: ID } }, ConsistentRead: true });
    // The notification names the tool, the id and the expiry: no arguments, principal, session or token.
    const publish = sns.commandCalls(PublishCommand);
    expect(publish).toHaveLength(1);
    const message = JSON.parse(publish[0].args[0].input.Message!);
    expect(message).toEqual({ type: 'cdk-ai-defense.approval-request', version: 1, approvalId: ID, kind: 'CALL', tool: CALL.tool, createdAt: new Date(NOW).toISOString(), expiresAt: new Date(NOW + TTL_MS).toISOString() });
    expect(publish[0].args[0].input.Message).not.toMatch(/Carol|alice|mcp-session|DE00/);
    expect(stepsOf()).toEqual(['requested']);
    expect(lines[0]).toEqual(expect.objectContaining({ control: 'approval-gate', decision: { outcome: 'DENY', reasonCode: 'APPROVAL_REQUIRED' }, subject: ALICE, requestId: 'req-1', fields: { step: 'requested', approvalId: ID, tool: CALL.tool } }));
  });

  test('asked again while pending: APPROVAL_PENDING, nothing written, no second notification', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    ddb.resetHistory();
    const d = await g.check({ subject: CALL, requestId: 'req-2', now: NOW + 60_000 });
    expect(d).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: 'APPROVAL_PENDING' }));
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(stepsOf()).toEqual(['requested', 'pending']);
  });

  test('after approval the same call proceeds exactly once; the next identical call is a replay and asks again', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    // Same call, arguments in another key order: the same JSON data, so the same call.
    const reordered = { ...CALL, arguments: { to: { name: 'Carol', iban: 'DE00 1234' }, currency: 'EUR', amount: 100 } };
    const first = await g.check({ subject: reordered, requestId: 'req-2', now: NOW + 120_000 });
    expect(first).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED' });
    expect(statusOf()).toBe('USED');
    expect(table.items.get(ID)).toEqual(expect.objectContaining({ usedAt: { N: String(NOW + 120_000) }, usedBy: { S: 'req-2' } }));
    const update = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update.ConditionExpression).toBe('#status = :approved AND attribute_not_exists(#usedAt) AND #expiresAt > :now AND #approvalHash = :hash AND #nonce = :nonce');

    const replay = await g.evaluate({ subject: CALL, requestId: 'req-3', now: NOW + 130_000 });
    expect(replay.decision.outcome).toBe('DENY');
    // The precise code, on the decision and on its log line.
    expect(codeOf(replay)).toBe('APPROVAL_REPLAYED');
    expect(lines.filter((l) => l.fields?.step === 'denied-replay').map((l) => l.decision.reasonCode)).toEqual(['APPROVAL_REPLAYED']);
    // A new request replaced the used approval (only if it was still exactly that one).
    expect(statusOf()).toBe('PENDING');
    const tx = ddb.commandCalls(TransactWriteItemsCommand)[1].args[0].input;
    expect(tx.TransactItems![0].Put!.ConditionExpression).toBe('#status = :priorStatus AND #nonce = :priorNonce');
    expect(tx.TransactItems![0].Put!.ExpressionAttributeValues![':priorStatus']).toEqual({ S: 'USED' });
    expect(stepsOf()).toEqual(['requested', 'consumed', 'denied-replay', 'requested']);
  });

  test('two concurrent uses of one approval: exactly one proceeds, the other is denied as a replay', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    const results = await Promise.all([1, 2, 3, 4].map((i) => g.evaluate({ subject: CALL, requestId: `req-c${i}`, now: NOW + 60_000 })));
    expect(results.filter((r) => r.decision.outcome === 'ALLOW')).toHaveLength(1);
    expect(results.filter((r) => r.decision.outcome === 'DENY').map(codeOf)).toEqual(['APPROVAL_REPLAYED', 'APPROVAL_REPLAYED', 'APPROVAL_REPLAYED']);
  });

  test.each<[string, Partial<BoundCall>]>([
    ['tool', { tool: 'Payments___transfer_all' }],
    ['tool pin', { toolPin: 'c'.repeat(64) }],
    ['an argument', { arguments: { ...CALL.arguments, amount: 10_000 } }],
    ['an added argument', { arguments: { ...CALL.arguments, memo: 'x' } }],
    ['principal', { principal: 'https://idp.example.test/tenant-1|mallory' }],
    ['session', { session: 'mcp-session-2' }],
  ])('an approval does not cover the call with another %s: denied, and the approval stays unused', async (_name, change) => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    const r = await g.evaluate({ subject: { ...CALL, ...change }, requestId: 'req-2', now: NOW + 60_000 });
    expect(r.decision.outcome).toBe('DENY');
    expect(codeOf(r)).toBe('APPROVAL_REQUIRED');
    expect(r.approvalId).not.toBe(ID);
    expect(statusOf()).toBe('APPROVED');
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('an expired approval is denied APPROVAL_EXPIRED and replaced by a new request', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    const oldNonce = table.items.get(ID)!.nonce.S;
    const r = await g.evaluate({ subject: CALL, requestId: 'req-2', now: NOW + TTL_MS });
    expect(codeOf(r)).toBe('APPROVAL_EXPIRED');
    expect(r.decision.outcome).toBe('DENY');
    expect(statusOf()).toBe('PENDING');
    expect(table.items.get(ID)!.nonce.S).not.toBe(oldNonce);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(stepsOf()).toEqual(['requested', 'denied-expired', 'requested']);
  });

  test('a rejection stands until it expires (no new request, no notification); then the call may be asked again', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'REJECTED');
    const r = await g.evaluate({ subject: CALL, requestId: 'req-2', now: NOW + 60_000 });
    expect(codeOf(r)).toBe('APPROVAL_REJECTED');
    expect(statusOf()).toBe('REJECTED');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    const later = await g.evaluate({ subject: CALL, requestId: 'req-3', now: NOW + TTL_MS + 1 });
    expect(codeOf(later)).toBe('APPROVAL_REQUIRED');
    expect(statusOf()).toBe('PENDING');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  test.each<[string, Record<string, AttributeValue>]>([
    ['its arguments', { arguments: { S: '{"amount":1000000,"currency":"EUR","to":{"iban":"DE00 1234","name":"Carol"}}' } }],
    ['its expiry (extended)', { expiresAt: { N: String(NOW + 10 * TTL_MS) } }],
    ['its nonce', { nonce: { S: 'c'.repeat(64) } }],
    ['its hash', { approvalHash: { S: 'c'.repeat(64) } }],
    ['its session', { session: { S: 'other-session' } }],
  ])('an approval whose stored record was changed (%s) is denied APPROVAL_HASH_MISMATCH and left in place', async (_name, change) => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    table.items.set(ID, { ...table.items.get(ID)!, ...change });
    ddb.resetHistory();
    const r = await g.evaluate({ subject: CALL, requestId: 'req-2', now: NOW + 60_000 });
    expect(codeOf(r)).toBe('APPROVAL_HASH_MISMATCH');
    expect(r.step).toBe(ApprovalStep.DENIED_TAMPERED);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  test('the cap on pending requests per principal: the next request is refused until one expires or is decided', async () => {
    const g = gate({ maxPendingPerPrincipal: 2 });
    const call = (n: number): BoundCall => ({ ...CALL, arguments: { amount: n } });
    expect(codeOf(await g.evaluate({ subject: call(1), requestId: 'r1', now: NOW }))).toBe('APPROVAL_REQUIRED');
    expect(codeOf(await g.evaluate({ subject: call(2), requestId: 'r2', now: NOW + 1 }))).toBe('APPROVAL_REQUIRED');
    const third = await g.evaluate({ subject: call(3), requestId: 'r3', now: NOW + 2 });
    expect(codeOf(third)).toBe('APPROVAL_CAP_REACHED');
    expect(third.decision.outcome).toBe('DENY');
    expect(table.items.has(callDigest(call(3)))).toBe(false);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    // Another principal has a cap of its own.
    expect(codeOf(await g.evaluate({ subject: { ...call(3), principal: BOB }, requestId: 'r4', now: NOW + 3 }))).toBe('APPROVAL_REQUIRED');
    // Once the first two expired, the principal may ask again.
    expect(codeOf(await g.evaluate({ subject: call(3), requestId: 'r5', now: NOW + TTL_MS + 2 }))).toBe('APPROVAL_REQUIRED');
    expect(table.items.get(principalCounterId(ALICE))!.entries.SS).toEqual([`${NOW + TTL_MS + 2 + TTL_MS}#${callDigest(call(3))}`]);
  });

  test('two concurrent first calls: one stores the request, the other loses the condition, reads again and is pending', async () => {
    const g = gate();
    const results = await Promise.all([g.evaluate({ subject: CALL, requestId: 'req-a', now: NOW }), g.evaluate({ subject: CALL, requestId: 'req-b', now: NOW })]);
    expect(results.map(codeOf).sort()).toEqual(['APPROVAL_PENDING', 'APPROVAL_REQUIRED']);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(table.items.get(principalCounterId(ALICE))!.entries.SS).toHaveLength(1);
  });

  test('concurrent requests of one principal cannot pass the cap together (versioned counter)', async () => {
    const g = gate({ maxPendingPerPrincipal: 1 });
    const results = await Promise.all([1, 2, 3].map((n) => g.evaluate({ subject: { ...CALL, arguments: { amount: n } }, requestId: `r${n}`, now: NOW })));
    expect(results.map(codeOf).sort()).toEqual(['APPROVAL_CAP_REACHED', 'APPROVAL_CAP_REACHED', 'APPROVAL_REQUIRED']);
    expect([...table.items.values()].filter((i) => i.status?.S === 'PENDING')).toHaveLength(1);
  });

  test('write conflicts every time: denied UPSTREAM_THROTTLED after three attempts, nothing stored', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] }));
    const r = await gate().evaluate({ subject: CALL, requestId: 'req-1', now: NOW });
    expect(r.decision).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: 'UPSTREAM_THROTTLED' }));
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(3);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  test.each<[string, unknown]>([
    ['no subject', undefined],
    ['a principal without issuer', { ...CALL, principal: 'alice' }],
    ['arguments that are not JSON data', { ...CALL, arguments: { when: new Date(0) } }],
    ['a tool with a space', { ...CALL, tool: 'a b' }],
  ])('fails closed on a malformed call (%s), before any AWS call', async (_name, subject) => {
    const r = await gate().evaluate({ subject: subject as BoundCall, requestId: 'req-1', now: NOW });
    expect(r.decision).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: 'MALFORMED_REQUEST' }));
    expect(ddb.calls()).toHaveLength(0);
  });

  test('fails closed on an invalid time', async () => {
    const r = await gate().evaluate({ subject: CALL, requestId: 'req-1', now: Number.NaN });
    expect(r.decision.reasonCode).toBe('MALFORMED_REQUEST');
  });

  test('without a topic the request is stored and nothing is published', async () => {
    const r = await gate({ topic: false }).evaluate({ subject: CALL, requestId: 'req-1', now: NOW });
    expect(codeOf(r)).toBe('APPROVAL_REQUIRED');
    expect(statusOf()).toBe('PENDING');
    expect(sns.calls()).toHaveLength(0);
  });

  test('a dependency that never answers: denied UPSTREAM_TIMEOUT at the deadline, nothing written', async () => {
    ddb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
    const r = await gate({ timeoutMs: 100 }).evaluate({ subject: CALL, requestId: 'req-1', now: NOW });
    expect(r.decision).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: 'UPSTREAM_TIMEOUT' }));
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  test('decision lines carry hashes and codes only: never the principal, the arguments or the session in clear', async () => {
    const g = gate();
    await g.check({ subject: CALL, requestId: 'req-1', now: NOW });
    decideInTable(ID, 'APPROVED');
    await g.check({ subject: CALL, requestId: 'req-2', now: NOW + 1 });
    const written = JSON.stringify(lines.map((l) => decisionLogAttributes(l)));
    expect(written).not.toMatch(/alice|Carol|DE00|mcp-session/);
    expect(written).toContain('"subjectHash"');
    expect(lines.map((l) => l.decision.outcome)).toEqual(['DENY', 'ALLOW']);
  });
});

function snsFault(fault: Exclude<FaultKind, 'malformed'>): Error {
  switch (fault) {
    case 'throttle':
      return new ThrottledException({ message: 'rate exceeded', $metadata: { httpStatusCode: 400 } });
    case 'server':
      return new InternalErrorException({ message: 'internal error', $metadata: { httpStatusCode: 500 } });
    case 'timeout':
      return Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    case 'accessDenied':
      return new AuthorizationErrorException({ message: 'not authorized', $metadata: { httpStatusCode: 403 } });
  }
}

describe('gate: the five fault kinds deny at every AWS call site', () => {
  const isCounter = (input: GetItemCommandInput) => String(input.Key?.id?.S).startsWith('principal#');

  /** Makes one call site fail; the rest of the table keeps working. */
  const inject: Record<string, (fault: FaultKind) => void> = {
    'GetItem (approval)': (fault) =>
      ddb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
        if (isCounter(input)) return table.items.has(String(input.Key!.id.S)) ? { Item: table.items.get(String(input.Key!.id.S)) } : {};
        if (fault === 'malformed') return { Item: { id: { S: ID }, status: { S: 'APPROVED' }, arguments: { N: '1' } } };
        throw awsFault(fault);
      }),
    'GetItem (counter)': (fault) =>
      ddb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
        if (!isCounter(input)) return table.items.has(ID) ? { Item: table.items.get(ID) } : {};
        if (fault === 'malformed') return { Item: { id: { S: principalCounterId(ALICE) }, version: { N: '1' }, entries: { SS: ['not-an-entry'] } } };
        throw awsFault(fault);
      }),
    TransactWriteItems: (fault) => (fault === 'malformed' ? ddb.on(TransactWriteItemsCommand).resolves(null as never) : ddb.on(TransactWriteItemsCommand).rejects(awsFault(fault))),
    'UpdateItem (consume)': (fault) => (fault === 'malformed' ? ddb.on(UpdateItemCommand).resolves(null as never) : ddb.on(UpdateItemCommand).rejects(awsFault(fault))),
    Publish: (fault) => (fault === 'malformed' ? sns.on(PublishCommand).resolves({}) : sns.on(PublishCommand).rejects(snsFault(fault))),
  };
  const matrix = Object.keys(inject).flatMap((site) => FAULT_KINDS.map(([fault, code]) => [site, fault, code] as const));

  test.each(matrix)('%s %s → DENY %s, never ALLOW', async (site, fault, code) => {
    const g = gate();
    if (site === 'UpdateItem (consume)') {
      await g.check({ subject: CALL, requestId: 'req-0', now: NOW });
      decideInTable(ID, 'APPROVED');
    }
    lines = [];
    inject[site](fault);
    const r = await g.evaluate({ subject: CALL, requestId: 'req-1', now: NOW + 1_000 });
    expect(r.decision).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: code }));
    expect(r.step).toBe(ApprovalStep.DENIED_FAULT);
    expect(lines.at(-1)!.decision).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: code }));
    if (site === 'UpdateItem (consume)') expect(statusOf()).toBe('APPROVED');
  });
});

describe('gate configuration', () => {
  test('approvalGateFromEnv: no table → the deny-all gate; a table → the DynamoDB gate; invalid values → MISCONFIGURED', async () => {
    expect(approvalGateFromEnv({})).toBeInstanceOf(DenyAllApprovalGate);
    expect(await approvalGateFromEnv({}).check({ subject: CALL, requestId: 'r', now: NOW })).toEqual(expect.objectContaining({ outcome: 'DENY', reasonCode: 'APPROVAL_REQUIRED' }));
    const env = { [ApprovalEnv.TABLE_NAME]: TABLE, [ApprovalEnv.TOPIC_ARN]: TOPIC, [ApprovalEnv.TTL_SECONDS]: '600', [ApprovalEnv.MAX_PENDING]: '3' };
    expect(approvalGateFromEnv(env, { clients: { dynamodb: testDynamoClient() } })).toBeInstanceOf(DynamoDbApprovalGate);
    expect(() => approvalGateFromEnv({ ...env, [ApprovalEnv.TTL_SECONDS]: '59' })).toThrow(/CAD_APPROVAL_TTL_SECONDS is "59"; allowed: a whole number from 60 to 3600/);
    expect(() => approvalGateFromEnv({ ...env, [ApprovalEnv.MAX_PENDING]: '0' })).toThrow(/CAD_APPROVAL_MAX_PENDING/);
    expect(() => approvalGateFromEnv({ ...env, [ApprovalEnv.TOPIC_ARN]: 'not-an-arn' })).toThrow(/CAD_APPROVAL_TOPIC_ARN/);
    expect(() => approvalGateFromEnv({ ...env, [ApprovalEnv.TABLE_NAME]: 'a b' })).toThrow(/CAD_APPROVAL_TABLE_NAME/);
  });

  test('createDynamoDbApprovalGate refuses invalid options, naming each', () => {
    expect(() => createDynamoDbApprovalGate({ tableName: 'x', ttlSeconds: 0, maxPendingPerPrincipal: 1000, timeoutMs: 5 })).toThrow(
      /tableName is not a DynamoDB table name; approval gate: ttlSeconds is 0.*maxPendingPerPrincipal is 1000.*timeoutMs is 5/,
    );
  });
});

describe('property: through the gate, an approval covers exactly one call (fast-check, seed 42, 10,000 runs)', () => {
  test('the call with any bound field changed is denied and the approval stays unused; the same call proceeds once', async () => {
    const g = gate({ topic: false, silent: true });
    await fc.assert(
      fc.asyncProperty(callArb, mutationArb, async (call, m) => {
        fc.pre(boundCallProblems(call).length === 0);
        const mutated = mutateCall(call, m);
        fc.pre(boundCallProblems(mutated).length === 0);
        table.items.clear();
        await g.check({ subject: call, requestId: 'r1', now: NOW });
        decideInTable(callDigest(call), 'APPROVED');
        const d = await g.check({ subject: mutated, requestId: 'r2', now: NOW + 2_000 });
        const unchanged = same(call, mutated);
        expect(d.outcome === 'ALLOW').toBe(unchanged);
        expect(statusOf(callDigest(call))).toBe(unchanged ? 'USED' : 'APPROVED');
        if (unchanged) expect((await g.check({ subject: mutated, requestId: 'r3', now: NOW + 3_000 })).outcome).toBe('DENY');
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });
});
