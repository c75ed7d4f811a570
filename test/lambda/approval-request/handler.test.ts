import {
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandInput,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, FaultKind, awsFault } from '../../rig/faults';
import { callDigest, principalCounterId, taskApprovalId } from '../../../lambda/approval/hash';
import { SnsApprovalNotifier } from '../../../lambda/approval/notify';
import { ApprovalStore } from '../../../lambda/approval/store';
import { ApprovalRequestError, createHandler, handler as envHandler } from '../../../lambda/approval-request/index';
import { FakeTable, testDynamoClient } from '../approval/fake-table';

const ddb = mockClient(DynamoDBClient);
const sns = mockClient(SNSClient);

const TABLE = 'approvals';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:approvals';
const NOW = 1_760_000_000_000;
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:refunds';
const ALICE = 'https://idp.example.test/tenant-1|alice';
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake+task/token=1';
const PAYLOAD = {
  taskToken: TASK_TOKEN,
  tool: 'approve-refund',
  toolPin: STATE_MACHINE,
  arguments: { orderId: 'o-1', amount: 50 },
  principal: ALICE,
  session: 'arn:aws:states:us-east-1:123456789012:execution:refunds:run-1',
};
const TASK_ID = taskApprovalId(TASK_TOKEN);

let table: FakeTable;

const request = (maxPendingPerPrincipal = 5) =>
  createHandler(
    { tableName: TABLE, topicArn: TOPIC, ttlSeconds: 900, maxPendingPerPrincipal, timeoutMs: 2_000 },
    {
      store: new ApprovalStore(testDynamoClient(), TABLE),
      notifier: new SnsApprovalNotifier(new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }), TOPIC),
      now: () => NOW,
    },
  );

async function rejection(promise: Promise<unknown>): Promise<ApprovalRequestError> {
  try {
    await promise;
  } catch (err) {
    return err as ApprovalRequestError;
  }
  throw new Error('expected the handler to throw');
}

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  ddb.reset();
  sns.reset();
  table = new FakeTable();
  table.install(ddb);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

afterEach(() => jest.restoreAllMocks());

describe('approval-request: a workflow waits for a human', () => {
  test('stores a PENDING workflow approval holding the task token, counted and notified (without the token)', async () => {
    const result = await request()(PAYLOAD, { awsRequestId: 'lambda-1' });
    expect(result).toEqual({ ok: true, approvalId: TASK_ID, expiresAt: NOW + 900_000 });
    expect(table.items.get(TASK_ID)).toEqual(
      expect.objectContaining({ kind: { S: 'TASK' }, status: { S: 'PENDING' }, taskToken: { S: TASK_TOKEN }, tool: { S: 'approve-refund' }, toolPin: { S: STATE_MACHINE }, principal: { S: ALICE } }),
    );
    expect(table.items.get(principalCounterId(ALICE))!.entries.SS).toEqual([`${NOW + 900_000}#${TASK_ID}`]);
    const publish = sns.commandCalls(PublishCommand);
    expect(publish).toHaveLength(1);
    expect(publish[0].args[0].input.Message).not.toContain(TASK_TOKEN);
    expect(JSON.parse(publish[0].args[0].input.Message!)).toEqual(expect.objectContaining({ approvalId: TASK_ID, kind: 'TASK', tool: 'approve-refund' }));
  });

  test('a Step Functions retry of the same task changes nothing and notifies no one again', async () => {
    await request()(PAYLOAD);
    ddb.resetHistory();
    expect(await request()(PAYLOAD)).toEqual({ ok: true, approvalId: TASK_ID, expiresAt: NOW + 900_000 });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  test('workflow approvals and tool-call approvals never share an id', async () => {
    await request()(PAYLOAD);
    const asCall = { tool: PAYLOAD.tool, toolPin: PAYLOAD.toolPin, arguments: PAYLOAD.arguments, principal: PAYLOAD.principal, session: PAYLOAD.session };
    expect(callDigest(asCall)).not.toBe(TASK_ID);
  });

  test('the cap on pending requests applies to workflows too: the task fails APPROVAL_CAP_REACHED at once', async () => {
    await request(1)(PAYLOAD);
    const err = await rejection(request(1)({ ...PAYLOAD, taskToken: 'another-token' }));
    expect(err).toBeInstanceOf(ApprovalRequestError);
    expect(err.name).toBe('APPROVAL_CAP_REACHED');
    expect(err.message).toBe('APPROVAL_CAP_REACHED');
    expect(table.items.has(taskApprovalId('another-token'))).toBe(false);
  });

  test.each<[string, unknown]>([
    ['not an object', 'approve'],
    ['an extra key', { ...PAYLOAD, approver: 'bob' }],
    ['no task token', { ...PAYLOAD, taskToken: undefined }],
    ['a task token with a space', { ...PAYLOAD, taskToken: 'a b' }],
    ['a principal without issuer', { ...PAYLOAD, principal: 'alice' }],
    ['arguments that are an array', { ...PAYLOAD, arguments: [1] }],
    ['an empty session', { ...PAYLOAD, session: '' }],
  ])('fails the task MALFORMED_REQUEST for %s, before any AWS call', async (_name, payload) => {
    const err = await rejection(request()(payload));
    expect(err.name).toBe('MALFORMED_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });

  test('a misconfigured function fails every task MISCONFIGURED', async () => {
    const err = await rejection(envHandler(PAYLOAD));
    expect(err.name).toBe('MISCONFIGURED');
  });
});

describe('approval-request: the five fault kinds fail the task at every AWS call site', () => {
  const isCounter = (input: GetItemCommandInput) => String(input.Key?.id?.S).startsWith('principal#');
  const inject: Record<string, (f: FaultKind) => void> = {
    'GetItem (approval)': (f) =>
      ddb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
        if (isCounter(input)) return {};
        if (f === 'malformed') return { Item: { id: { S: TASK_ID }, kind: { N: '1' } } };
        throw awsFault(f);
      }),
    'GetItem (counter)': (f) =>
      ddb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
        if (!isCounter(input)) return {};
        if (f === 'malformed') return { Item: { id: { S: principalCounterId(ALICE) } } };
        throw awsFault(f);
      }),
    TransactWriteItems: (f) => (f === 'malformed' ? ddb.on(TransactWriteItemsCommand).resolves(null as never) : ddb.on(TransactWriteItemsCommand).rejects(awsFault(f))),
    Publish: (f) => (f === 'malformed' ? sns.on(PublishCommand).resolves({}) : sns.on(PublishCommand).rejects(awsFault(f))),
  };
  const matrix = Object.keys(inject).flatMap((site) => FAULT_KINDS.map(([fault, code]) => [site, fault, code] as const));

  test.each(matrix)('%s %s → the task fails %s', async (site, fault, code) => {
    inject[site](fault);
    const err = await rejection(request()(PAYLOAD));
    expect(err).toBeInstanceOf(ApprovalRequestError);
    expect(err.name).toBe(code);
    // Step Functions shows the message as the cause: the code only, never the dependency's text.
    expect(err.message).toBe(code);
  });
});
