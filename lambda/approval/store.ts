/**
 * The approval table (DynamoDB, used directly): approval requests keyed by approval id, one pending-request counter
 * per principal, and a sparse index of pending requests by expiry. Every response is distrusted: a missing or
 * mistyped attribute is a `MalformedResponseError`; every state change is a conditional write.
 *
 * Table layout (partition key `id`, string; TTL attribute `ttl`):
 * - an approval: `id` = 64 hex (the call digest, or the task-token hash), `kind`, `status`, the bound call (`tool`,
 *   `toolPin`, `arguments` as canonical JSON, `principal`, `session`), `nonce`, `createdAt`, `expiresAt` (ms),
 *   `approvalHash`, `queue` = `PENDING` while pending (the sparse index key), optional `taskToken`, `decidedAt`,
 *   `decidedBy`, `usedAt`, `usedBy`;
 * - a counter: `id` = `principal#<sha256 of the principal>`, `entries` (string set of `<expiresAt>#<approvalId>`),
 *   `version` (optimistic concurrency), `ttl`.
 */
import { randomBytes } from 'node:crypto';
import {
  AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { canonicalize, parseStrictJson } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError } from '../shared/errors';
import { ApprovalKind, ApprovalRecord, ApprovalStatus, CounterPlan, PendingCounter, PendingEntry, parsePendingEntry, pendingEntryText } from './decide';
import { BoundCall, HEX256_PATTERN, boundCallProblems, principalCounterId } from './hash';

/** Attribute names of the approval table. */
export const ApprovalAttribute = {
  ID: 'id',
  KIND: 'kind',
  STATUS: 'status',
  TOOL: 'tool',
  TOOL_PIN: 'toolPin',
  ARGUMENTS: 'arguments',
  PRINCIPAL: 'principal',
  SESSION: 'session',
  NONCE: 'nonce',
  CREATED_AT: 'createdAt',
  EXPIRES_AT: 'expiresAt',
  APPROVAL_HASH: 'approvalHash',
  /** `PENDING` while the request is pending; removed when it is decided (the sparse index's key). */
  QUEUE: 'queue',
  TTL: 'ttl',
  TASK_TOKEN: 'taskToken',
  DECIDED_AT: 'decidedAt',
  DECIDED_BY: 'decidedBy',
  USED_AT: 'usedAt',
  USED_BY: 'usedBy',
  /** Counter items: the pending entries. */
  ENTRIES: 'entries',
  /** Counter items: the version of the last write. */
  VERSION: 'version',
} as const;

/** The sparse global secondary index of pending requests (partition key `queue`, sort key `expiresAt`). */
export const PENDING_INDEX_NAME = 'PendingByExpiry';
/** The `queue` value of pending requests. */
export const QUEUE_PENDING = 'PENDING';
/** Attributes the pending index projects besides its keys and the table key. */
export const PENDING_INDEX_PROJECTION: readonly string[] = Object.freeze([ApprovalAttribute.KIND, ApprovalAttribute.TOOL, ApprovalAttribute.PRINCIPAL, ApprovalAttribute.CREATED_AT]);
/** How long an item is kept after it expires (the `ttl` attribute), in seconds: a day, for investigation. */
export const RECORD_RETENTION_SECONDS = 86_400;
/** Longest Step Functions task token accepted. */
export const MAX_TASK_TOKEN_LENGTH = 4_096;
const TASK_TOKEN_PATTERN = /^[\x21-\x7e]+$/;
const PRINCIPAL_TEXT = /^[^\p{Cc}]{1,1024}$/u;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:/@+=,#-]{1,128}$/;

/** A fresh 256-bit nonce as lowercase hex. */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

/** True for a Step Functions task token the store accepts. */
export function isTaskToken(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TASK_TOKEN_LENGTH && TASK_TOKEN_PATTERN.test(value);
}

/** A pending request as the index lists it. */
export interface ApprovalSummary {
  readonly approvalId: string;
  readonly kind: ApprovalKind;
  readonly tool: string;
  readonly principal: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Outcome of a conditional write. */
export type WriteResult = 'WRITTEN' | 'CONDITION_FAILED';

function ttlOf(expiresAt: number): string {
  return String(Math.ceil(expiresAt / 1000) + RECORD_RETENTION_SECONDS);
}

/** The DynamoDB item of an approval record (pending or not). */
export function recordToItem(record: ApprovalRecord, usedBy?: string): Record<string, AttributeValue> {
  const A = ApprovalAttribute;
  const item: Record<string, AttributeValue> = {
    [A.ID]: { S: record.approvalId },
    [A.KIND]: { S: record.kind },
    [A.STATUS]: { S: record.status },
    [A.TOOL]: { S: record.call.tool },
    [A.TOOL_PIN]: { S: record.call.toolPin },
    [A.ARGUMENTS]: { S: canonicalize(record.call.arguments) },
    [A.PRINCIPAL]: { S: record.call.principal },
    [A.SESSION]: { S: record.call.session },
    [A.NONCE]: { S: record.nonce },
    [A.CREATED_AT]: { N: String(record.createdAt) },
    [A.EXPIRES_AT]: { N: String(record.expiresAt) },
    [A.APPROVAL_HASH]: { S: record.approvalHash },
    [A.TTL]: { N: ttlOf(record.expiresAt) },
  };
  if (record.status === ApprovalStatus.PENDING) item[A.QUEUE] = { S: QUEUE_PENDING };
  if (record.taskToken !== undefined) item[A.TASK_TOKEN] = { S: record.taskToken };
  if (record.decidedAt !== undefined) item[A.DECIDED_AT] = { N: String(record.decidedAt) };
  if (record.decidedBy !== undefined) item[A.DECIDED_BY] = { S: record.decidedBy };
  if (record.usedAt !== undefined) item[A.USED_AT] = { N: String(record.usedAt) };
  if (usedBy !== undefined) item[A.USED_BY] = { S: usedBy };
  return item;
}

type AttrType = 'S' | 'N' | 'SS';

function attr(item: Record<string, unknown>, name: string, type: AttrType, required: boolean): string | string[] | undefined {
  const value = Object.prototype.hasOwnProperty.call(item, name) ? item[name] : undefined;
  if (value === undefined) {
    if (required) throw new MalformedResponseError(`approval item has no ${name}`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1 || !Object.prototype.hasOwnProperty.call(value, type)) {
    throw new MalformedResponseError(`approval attribute ${name} is not of type ${type}`);
  }
  const inner = (value as Record<string, unknown>)[type];
  if (type === 'SS') {
    if (!Array.isArray(inner) || inner.some((v) => typeof v !== 'string')) throw new MalformedResponseError(`approval attribute ${name} is not a string set`);
    return inner as string[];
  }
  if (typeof inner !== 'string') throw new MalformedResponseError(`approval attribute ${name} has a malformed value`);
  return inner;
}

function str(item: Record<string, unknown>, name: string, required: true): string;
function str(item: Record<string, unknown>, name: string, required: false): string | undefined;
function str(item: Record<string, unknown>, name: string, required: boolean): string | undefined {
  return attr(item, name, 'S', required) as string | undefined;
}

function num(item: Record<string, unknown>, name: string, required: true): number;
function num(item: Record<string, unknown>, name: string, required: false): number | undefined;
function num(item: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const text = attr(item, name, 'N', required) as string | undefined;
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) throw new MalformedResponseError(`approval attribute ${name} is not a whole number`);
  return Number(text);
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedResponseError(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function oneOf<T extends string>(value: string, allowed: Record<string, T>, name: string): T {
  if (!(Object.values(allowed) as string[]).includes(value)) throw new MalformedResponseError(`approval attribute ${name} has an unknown value`);
  return value as T;
}

/**
 * Reads an approval item strictly: every attribute of the right type and shape, arguments in canonical JSON, and the
 * status consistent with the decision and use timestamps; otherwise a `MalformedResponseError`. (Whether the hashes
 * are right is for `recordIntegrity` and `assessCall` to say.)
 */
export function recordFromItem(raw: unknown): ApprovalRecord {
  const A = ApprovalAttribute;
  const item = asObject(raw, 'approval item');
  const approvalId = str(item, A.ID, true);
  if (!HEX256_PATTERN.test(approvalId)) throw new MalformedResponseError('approval id is not 64 hex');
  const kind = oneOf(str(item, A.KIND, true), ApprovalKind, A.KIND);
  const status = oneOf(str(item, A.STATUS, true), ApprovalStatus, A.STATUS);
  const argumentsText = str(item, A.ARGUMENTS, true);
  let args: unknown;
  try {
    args = parseStrictJson(argumentsText);
  } catch (err) {
    throw new MalformedResponseError('approval arguments are not strict JSON', { cause: err });
  }
  const call = { tool: str(item, A.TOOL, true), toolPin: str(item, A.TOOL_PIN, true), arguments: args, principal: str(item, A.PRINCIPAL, true), session: str(item, A.SESSION, true) };
  if (boundCallProblems(call).length > 0) throw new MalformedResponseError('approval call fields are malformed');
  if (canonicalize(args) !== argumentsText) throw new MalformedResponseError('approval arguments are not in canonical form');
  const nonce = str(item, A.NONCE, true);
  const approvalHash = str(item, A.APPROVAL_HASH, true);
  if (!HEX256_PATTERN.test(nonce) || !HEX256_PATTERN.test(approvalHash)) throw new MalformedResponseError('approval nonce or hash is not 64 hex');
  const createdAt = num(item, A.CREATED_AT, true);
  const expiresAt = num(item, A.EXPIRES_AT, true);
  const taskToken = str(item, A.TASK_TOKEN, false);
  const decidedAt = num(item, A.DECIDED_AT, false);
  const decidedBy = str(item, A.DECIDED_BY, false);
  const usedAt = num(item, A.USED_AT, false);
  if ((kind === ApprovalKind.TASK) !== (taskToken !== undefined) || (taskToken !== undefined && !isTaskToken(taskToken))) {
    throw new MalformedResponseError('approval task token does not fit its kind');
  }
  if (decidedBy !== undefined && !PRINCIPAL_TEXT.test(decidedBy)) throw new MalformedResponseError('approval decidedBy is malformed');
  const decided = decidedAt !== undefined && decidedBy !== undefined;
  const undecided = decidedAt === undefined && decidedBy === undefined;
  const consistent =
    status === ApprovalStatus.PENDING
      ? undecided && usedAt === undefined
      : status === ApprovalStatus.USED
        ? decided && usedAt !== undefined && kind === ApprovalKind.CALL
        : decided && usedAt === undefined;
  if (!consistent) throw new MalformedResponseError(`approval status ${status} does not fit its timestamps`);
  return Object.freeze({
    approvalId,
    kind,
    status,
    call: Object.freeze(call as BoundCall),
    nonce,
    createdAt,
    expiresAt,
    approvalHash,
    ...(taskToken !== undefined ? { taskToken } : {}),
    ...(decidedAt !== undefined ? { decidedAt } : {}),
    ...(decidedBy !== undefined ? { decidedBy } : {}),
    ...(usedAt !== undefined ? { usedAt } : {}),
  });
}

/** Reads a counter item strictly. */
export function counterFromItem(raw: unknown): PendingCounter {
  const item = asObject(raw, 'counter item');
  const id = str(item, ApprovalAttribute.ID, true);
  if (!/^principal#[0-9a-f]{64}$/.test(id)) throw new MalformedResponseError('counter id is malformed');
  const version = num(item, ApprovalAttribute.VERSION, true);
  const texts = (attr(item, ApprovalAttribute.ENTRIES, 'SS', false) as string[] | undefined) ?? [];
  const entries: PendingEntry[] = [];
  for (const text of texts) {
    const entry = parsePendingEntry(text);
    if (!entry) throw new MalformedResponseError('counter entry is malformed');
    entries.push(entry);
  }
  return Object.freeze({ entries: Object.freeze(entries), version });
}

/** Reads one summary from the pending index. */
export function summaryFromItem(raw: unknown): ApprovalSummary {
  const A = ApprovalAttribute;
  const item = asObject(raw, 'index item');
  const approvalId = str(item, A.ID, true);
  if (!HEX256_PATTERN.test(approvalId)) throw new MalformedResponseError('approval id is not 64 hex');
  const tool = str(item, A.TOOL, true);
  const principal = str(item, A.PRINCIPAL, true);
  if (!PRINCIPAL_TEXT.test(principal) || !/^[A-Za-z0-9_.-]{1,256}$/.test(tool)) throw new MalformedResponseError('index item fields are malformed');
  return Object.freeze({
    approvalId,
    kind: oneOf(str(item, A.KIND, true), ApprovalKind, A.KIND),
    tool,
    principal,
    createdAt: num(item, A.CREATED_AT, true),
    expiresAt: num(item, A.EXPIRES_AT, true),
  });
}

function requireObject(response: unknown, what: string): Record<string, unknown> {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) throw new MalformedResponseError(`${what} returned no response object`);
  return response as Record<string, unknown>;
}

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : '';
}

function cancellationCodes(err: unknown): string[] {
  const reasons = typeof err === 'object' && err !== null ? (err as { CancellationReasons?: unknown }).CancellationReasons : undefined;
  if (!Array.isArray(reasons)) return [];
  return reasons.map((r) => (typeof r === 'object' && r !== null && typeof (r as { Code?: unknown }).Code === 'string' ? (r as { Code: string }).Code : ''));
}

/**
 * Maps a failed transaction: a failed condition or a conflicting concurrent write is `CONDITION_FAILED` (the caller
 * re-reads and decides again); throttling inside the transaction is rethrown as a throttle; anything else as is.
 */
function transactionOutcome(err: unknown): WriteResult {
  const name = errorName(err);
  if (name === 'TransactionConflictException') return 'CONDITION_FAILED';
  if (name !== 'TransactionCanceledException') throw err;
  const codes = cancellationCodes(err);
  if (codes.some((c) => c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded' || c === 'RequestLimitExceeded')) {
    throw new EnforcementError('UPSTREAM_THROTTLED', 'the approval transaction was throttled', { cause: err });
  }
  if (codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return 'CONDITION_FAILED';
  throw new EnforcementError('UPSTREAM_UNAVAILABLE', `the approval transaction was cancelled (${codes.join(',') || 'no reasons'})`, { cause: err });
}

/** The approval table. */
export class ApprovalStore {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** The approval stored under an id (consistent read), or undefined. */
  public async get(approvalId: string, signal?: AbortSignal): Promise<ApprovalRecord | undefined> {
    const response = requireObject(
      await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [ApprovalAttribute.ID]: { S: approvalId } }, ConsistentRead: true }), { abortSignal: signal }),
      'GetItem',
    );
    if (response.Item === undefined) return undefined;
    return recordFromItem(response.Item);
  }

  /** A principal's pending-request counter (consistent read), or undefined. */
  public async getCounter(principal: string, signal?: AbortSignal): Promise<PendingCounter | undefined> {
    const response = requireObject(
      await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { [ApprovalAttribute.ID]: { S: principalCounterId(principal) } }, ConsistentRead: true }),
        { abortSignal: signal },
      ),
      'GetItem',
    );
    if (response.Item === undefined) return undefined;
    return counterFromItem(response.Item);
  }

  /**
   * Stores a new PENDING request and the principal's counter in one transaction. The request replaces `replaces`
   * only if that record is still exactly as read (status and nonce); otherwise no item may exist under its id. The
   * counter write is conditioned on the version the plan was made from. `CONDITION_FAILED`: something changed
   * meanwhile; read again.
   */
  public async createPending(record: ApprovalRecord, plan: Extract<CounterPlan, { ok: true }>, replaces: ApprovalRecord | undefined, signal?: AbortSignal): Promise<WriteResult> {
    const A = ApprovalAttribute;
    const maxExpiry = Math.max(...plan.entries.map((e) => e.expiresAt));
    const put: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } = replaces
      ? {
          ConditionExpression: '#status = :priorStatus AND #nonce = :priorNonce',
          ExpressionAttributeNames: { '#status': A.STATUS, '#nonce': A.NONCE },
          ExpressionAttributeValues: { ':priorStatus': { S: replaces.status }, ':priorNonce': { S: replaces.nonce } },
        }
      : { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': A.ID } };
    const counterCondition: { ConditionExpression: string; values: Record<string, AttributeValue> } =
      plan.expectedVersion !== undefined
        ? { ConditionExpression: '#version = :expected', values: { ':expected': { N: String(plan.expectedVersion) } } }
        : { ConditionExpression: 'attribute_not_exists(#id)', values: {} };
    try {
      requireObject(
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: recordToItem(record), ...put } },
              {
                Update: {
                  TableName: this.tableName,
                  Key: { [A.ID]: { S: principalCounterId(record.call.principal) } },
                  UpdateExpression: 'SET #entries = :entries, #version = :next, #ttl = :ttl',
                  ConditionExpression: counterCondition.ConditionExpression,
                  ExpressionAttributeNames: {
                    '#entries': A.ENTRIES,
                    '#version': A.VERSION,
                    '#ttl': A.TTL,
                    ...(plan.expectedVersion === undefined ? { '#id': A.ID } : {}),
                  },
                  ExpressionAttributeValues: {
                    ':entries': { SS: plan.entries.map(pendingEntryText) },
                    ':next': { N: String(plan.nextVersion) },
                    ':ttl': { N: ttlOf(maxExpiry) },
                    ...counterCondition.values,
                  },
                },
              },
            ],
          }),
          { abortSignal: signal },
        ),
        'TransactWriteItems',
      );
      return 'WRITTEN';
    } catch (err) {
      return transactionOutcome(err);
    }
  }

  /**
   * Uses an approval, atomically and only once: only if it is still APPROVED, unused, unexpired at `now`, and of
   * exactly this hash and nonce. Of two concurrent uses, exactly one is `WRITTEN`.
   */
  public async consume(approvalId: string, expected: { readonly approvalHash: string; readonly nonce: string; readonly now: number; readonly usedBy?: string }, signal?: AbortSignal): Promise<WriteResult> {
    const A = ApprovalAttribute;
    const usedBy = expected.usedBy !== undefined && REQUEST_ID_PATTERN.test(expected.usedBy) ? expected.usedBy : undefined;
    try {
      requireObject(
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [A.ID]: { S: approvalId } },
            UpdateExpression: usedBy !== undefined ? 'SET #status = :used, #usedAt = :now, #usedBy = :usedBy' : 'SET #status = :used, #usedAt = :now',
            ConditionExpression: '#status = :approved AND attribute_not_exists(#usedAt) AND #expiresAt > :now AND #approvalHash = :hash AND #nonce = :nonce',
            ExpressionAttributeNames: {
              '#status': A.STATUS,
              '#usedAt': A.USED_AT,
              '#expiresAt': A.EXPIRES_AT,
              '#approvalHash': A.APPROVAL_HASH,
              '#nonce': A.NONCE,
              ...(usedBy !== undefined ? { '#usedBy': A.USED_BY } : {}),
            },
            ExpressionAttributeValues: {
              ':used': { S: ApprovalStatus.USED },
              ':approved': { S: ApprovalStatus.APPROVED },
              ':now': { N: String(expected.now) },
              ':hash': { S: expected.approvalHash },
              ':nonce': { S: expected.nonce },
              ...(usedBy !== undefined ? { ':usedBy': { S: usedBy } } : {}),
            },
            ReturnValues: 'NONE',
          }),
          { abortSignal: signal },
        ),
        'UpdateItem',
      );
      return 'WRITTEN';
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return 'CONDITION_FAILED';
      throw err;
    }
  }

  /**
   * Records an approver's decision, atomically and only once: only if the request is still PENDING, unexpired at
   * `now`, of exactly the hash and nonce the approver saw, and not requested by the approver. In the same
   * transaction the request leaves its principal's pending count.
   */
  public async decide(
    record: ApprovalRecord,
    decision: { readonly status: typeof ApprovalStatus.APPROVED | typeof ApprovalStatus.REJECTED; readonly approver: string; readonly approvalHash: string; readonly now: number },
    signal?: AbortSignal,
  ): Promise<WriteResult> {
    const A = ApprovalAttribute;
    try {
      requireObject(
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: { [A.ID]: { S: record.approvalId } },
                  UpdateExpression: 'SET #status = :status, #decidedAt = :now, #decidedBy = :approver REMOVE #queue',
                  ConditionExpression: '#status = :pending AND #approvalHash = :hash AND #nonce = :nonce AND #expiresAt > :now AND #principal <> :approver',
                  ExpressionAttributeNames: {
                    '#status': A.STATUS,
                    '#decidedAt': A.DECIDED_AT,
                    '#decidedBy': A.DECIDED_BY,
                    '#queue': A.QUEUE,
                    '#approvalHash': A.APPROVAL_HASH,
                    '#nonce': A.NONCE,
                    '#expiresAt': A.EXPIRES_AT,
                    '#principal': A.PRINCIPAL,
                  },
                  ExpressionAttributeValues: {
                    ':status': { S: decision.status },
                    ':pending': { S: ApprovalStatus.PENDING },
                    ':now': { N: String(decision.now) },
                    ':approver': { S: decision.approver },
                    ':hash': { S: decision.approvalHash },
                    ':nonce': { S: record.nonce },
                  },
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: { [A.ID]: { S: principalCounterId(record.call.principal) } },
                  UpdateExpression: 'DELETE #entries :entry SET #version = if_not_exists(#version, :zero) + :one, #ttl = if_not_exists(#ttl, :ttl)',
                  ExpressionAttributeNames: { '#entries': A.ENTRIES, '#version': A.VERSION, '#ttl': A.TTL },
                  ExpressionAttributeValues: {
                    ':entry': { SS: [pendingEntryText({ approvalId: record.approvalId, expiresAt: record.expiresAt })] },
                    ':zero': { N: '0' },
                    ':one': { N: '1' },
                    ':ttl': { N: ttlOf(record.expiresAt) },
                  },
                },
              },
            ],
          }),
          { abortSignal: signal },
        ),
        'TransactWriteItems',
      );
      return 'WRITTEN';
    } catch (err) {
      return transactionOutcome(err);
    }
  }

  /** Pending requests that expire after `now`, soonest first (from the eventually consistent index). */
  public async listPending(now: number, limit: number, signal?: AbortSignal): Promise<ApprovalSummary[]> {
    const A = ApprovalAttribute;
    const response = requireObject(
      await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_INDEX_NAME,
          KeyConditionExpression: '#queue = :pending AND #expiresAt > :now',
          ExpressionAttributeNames: { '#queue': A.QUEUE, '#expiresAt': A.EXPIRES_AT },
          ExpressionAttributeValues: { ':pending': { S: QUEUE_PENDING }, ':now': { N: String(now) } },
          ScanIndexForward: true,
          Limit: limit,
        }),
        { abortSignal: signal },
      ),
      'Query',
    );
    const items = response.Items;
    if (!Array.isArray(items)) throw new MalformedResponseError('Query returned no Items list');
    return items.map(summaryFromItem);
  }
}
