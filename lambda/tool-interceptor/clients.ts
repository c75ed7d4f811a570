/**
 * I/O of the REQUEST interceptor: the approval gate (chosen from configuration), the session-taint table, the
 * configuration file, and the clock. Besides the issuer's JWKS (fetched by the token verifier) these are the only
 * dependencies a call waits on; every answer they give is distrusted and every fault becomes a deny.
 */
import * as fs from 'node:fs';
import { AttributeValue, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { withDeadline } from '../shared/deadline';
import { Decision, deny, toDecision } from '../shared/decision';
import { ConfigurationError, MalformedResponseError, classifyFault, describeFault, withTimeout } from '../shared/errors';
import { approvalGateFromEnv } from '../approval/gate';
import { ApprovalCheck, ApprovalGate } from './approval-gate';
import { ReadTextFile, TAINT_TABLE_NAME_PATTERN, taintTableNameFromEnv, timeoutFromEnv } from './config';
import { ToolCapability } from './registry';
import { TaintAttribute, capabilitiesOfItem, checkedCapabilities, isCapability, sortedCapabilities, taintExpiresAt, taintKey } from './session-taint';

/**
 * Where the interceptor keeps each session's taint: the capabilities (sensitive data, untrusted content, external
 * access) of the tools the session was allowed to call. Both methods throw on any fault (the caller denies).
 */
export interface SessionTaintStore {
  /** The capabilities `(principal, session)` has used: a strongly consistent read; a clean session has none. */
  readTaint(principal: string, session: string): Promise<readonly ToolCapability[]>;
  /**
   * Adds capabilities to `(principal, session)` and pushes its expiry to now plus `ttlSeconds`. Sticky and safe
   * under concurrency (a set union in one write); it never removes a label. Returns the session's capabilities after
   * the write.
   */
  addTaint(principal: string, session: string, capabilities: readonly ToolCapability[], ttlSeconds: number): Promise<readonly ToolCapability[]>;
}

/** What the handler needs from the outside world. */
export interface InterceptorClients {
  /** The approval gate for calls that need an approval of the exact call. */
  readonly approvalGate: ApprovalGate;
  /** The session-taint table (read before every authorization, written after every allow). */
  readonly sessionTaint: SessionTaintStore;
  /** Current time in milliseconds since the epoch. */
  readonly now: () => number;
}

/**
 * Clients for the Lambda environment. The approval gate is the one the environment describes
 * (`ApprovalWorkflow.gateEnvironment()`): the DynamoDB-backed gate when an approval table is configured, otherwise a
 * `DenyAllApprovalGate` (every call that needs an approval is denied APPROVAL_REQUIRED). The session-taint store is
 * the DynamoDB table the environment names (`CAD_SESSION_TAINT_TABLE_NAME`); there is no fallback. Throws a
 * ConfigurationError (MISCONFIGURED) for a missing taint table and for settings that are set but invalid.
 */
export function defaultClients(env: Readonly<Record<string, string | undefined>>): InterceptorClients {
  const now = (): number => Date.now();
  const sessionTaint = createDynamoDbSessionTaintStore({ tableName: taintTableNameFromEnv(env), timeoutMs: timeoutFromEnv(env), now });
  return { approvalGate: approvalGateFromEnv(env), sessionTaint, now };
}

/** Reads the configuration file from the layer. */
export const readConfigFile: ReadTextFile = (path) => fs.readFileSync(path, 'utf8');

/**
 * Asks the gate, within `timeoutMs`. The answer must be a well-formed Decision (anything else is an untrustworthy
 * answer: UPSTREAM_MALFORMED_RESPONSE); a throw or rejection becomes a deny with the fault's code (throttle, 5xx,
 * timeout, access denied, malformed response). Only an allow lets the call go on. Never throws.
 */
export async function checkApproval(gate: ApprovalGate, check: ApprovalCheck, timeoutMs: number): Promise<Decision> {
  try {
    const answer = await withTimeout(Promise.resolve().then(() => gate.check(check)), timeoutMs, 'approval gate');
    const decision = toDecision(answer);
    if (decision === undefined) throw new MalformedResponseError('the approval gate answered with something that is not a decision');
    return decision;
  } catch (err) {
    return deny(classifyFault(err), describeFault(err));
  }
}

/** Options of {@link createDynamoDbSessionTaintStore}. */
export interface DynamoDbSessionTaintStoreOptions {
  /** The session-taint table (`GuardedGateway.sessionTaintTable`). */
  readonly tableName: string;
  /**
   * Deadline of each read or write, in milliseconds; past it the SDK call is aborted and the call denied
   * (UPSTREAM_TIMEOUT).
   * @default 3000
   */
  readonly timeoutMs?: number;
  /** @default - a new DynamoDBClient for the function's region */
  readonly client?: DynamoDBClient;
  /**
   * Current time in milliseconds since the epoch (for the expiry).
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * The session-taint table, used directly. One item per session (partition key `id` = `taintKey(principal,
 * session)`): `caps`, a string set of labels, and `expiresAt`, the TTL attribute (epoch seconds). Reads are strongly
 * consistent, so a call sees every capability recorded before it was made; writes are `ADD caps :caps SET expiresAt
 * = :exp`, a set union DynamoDB applies atomically, so concurrent calls never lose each other's labels. The write
 * returns the whole item, which must show the labels just added (otherwise UPSTREAM_MALFORMED_RESPONSE).
 */
export class DynamoDbSessionTaintStore implements SessionTaintStore {
  private readonly client: DynamoDBClient;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  public constructor(private readonly tableName: string, options: Omit<DynamoDbSessionTaintStoreOptions, 'tableName'> = {}) {
    this.client = options.client ?? new DynamoDBClient({});
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.now = options.now ?? ((): number => Date.now());
  }

  public async readTaint(principal: string, session: string): Promise<readonly ToolCapability[]> {
    const id = taintKey(principal, session);
    const response = await withDeadline(this.timeoutMs, 'session taint read', (signal) =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [TaintAttribute.ID]: { S: id } }, ConsistentRead: true }), { abortSignal: signal }),
    );
    if (typeof response !== 'object' || response === null) throw new MalformedResponseError('GetItem answered with no response');
    return capabilitiesOfItem((response as { Item?: unknown }).Item, id);
  }

  public async addTaint(principal: string, session: string, capabilities: readonly ToolCapability[], ttlSeconds: number): Promise<readonly ToolCapability[]> {
    const id = taintKey(principal, session);
    const add = checkedCapabilities(capabilities);
    const expiresAt = String(taintExpiresAt(this.now(), ttlSeconds));
    const names: Record<string, string> = { '#exp': TaintAttribute.EXPIRES_AT };
    const values: Record<string, AttributeValue> = { ':exp': { N: expiresAt } };
    let expression = 'SET #exp = :exp';
    if (add.length > 0) {
      names['#caps'] = TaintAttribute.CAPABILITIES;
      values[':caps'] = { SS: [...add] };
      expression = 'ADD #caps :caps SET #exp = :exp';
    }
    const response = await withDeadline(this.timeoutMs, 'session taint write', (signal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [TaintAttribute.ID]: { S: id } },
          UpdateExpression: expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal: signal },
      ),
    );
    const attributes = typeof response === 'object' && response !== null ? (response as { Attributes?: unknown }).Attributes : undefined;
    if (attributes === undefined) throw new MalformedResponseError('UpdateItem answered without the item');
    const after = capabilitiesOfItem(attributes, id);
    const stored = (attributes as Record<string, { N?: unknown }>)[TaintAttribute.EXPIRES_AT]?.N;
    if (!add.every((c) => after.includes(c)) || stored !== expiresAt) throw new MalformedResponseError('UpdateItem answered with an item that does not show the write');
    return after;
  }
}

/** A {@link DynamoDbSessionTaintStore}; throws a ConfigurationError (MISCONFIGURED) for an invalid table name or deadline. */
export function createDynamoDbSessionTaintStore(options: DynamoDbSessionTaintStoreOptions): DynamoDbSessionTaintStore {
  const problems: string[] = [];
  if (typeof options.tableName !== 'string' || !TAINT_TABLE_NAME_PATTERN.test(options.tableName)) problems.push('session taint: tableName is not a DynamoDB table name');
  if (options.timeoutMs !== undefined && (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 100 || options.timeoutMs > 900_000)) {
    problems.push(`session taint: timeoutMs is ${options.timeoutMs}; allowed: a whole number from 100 to 900000`);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const { tableName, ...rest } = options;
  return new DynamoDbSessionTaintStore(tableName, rest);
}

/** A store's answer as capability labels; anything else is an answer that cannot be trusted. */
function answeredCapabilities(value: unknown): ToolCapability[] {
  if (!Array.isArray(value) || !value.every(isCapability)) throw new MalformedResponseError('the session taint store answered with something that is not capability labels');
  return sortedCapabilities(value);
}

/** Reads a session's taint; a fault becomes a deny with its code (never "clean"). Never throws. */
export async function readSessionTaint(store: SessionTaintStore, principal: string, session: string): Promise<{ ok: true; value: readonly ToolCapability[] } | { ok: false; decision: Decision }> {
  try {
    const value = await Promise.resolve().then(() => store.readTaint(principal, session));
    return { ok: true, value: answeredCapabilities(value) };
  } catch (err) {
    return { ok: false, decision: deny(classifyFault(err), `session taint read: ${describeFault(err)}`) };
  }
}

/** Records an allowed call's capabilities; a fault becomes a deny with its code (the call must not run untracked). Never throws. */
export async function recordSessionTaint(
  store: SessionTaintStore,
  principal: string,
  session: string,
  capabilities: readonly ToolCapability[],
  ttlSeconds: number,
): Promise<{ ok: true; value: readonly ToolCapability[] } | { ok: false; decision: Decision }> {
  try {
    const value = await Promise.resolve().then(() => store.addTaint(principal, session, capabilities, ttlSeconds));
    const after = answeredCapabilities(value);
    if (!capabilities.every((c) => after.includes(c))) throw new MalformedResponseError('the session taint store did not record the capabilities');
    return { ok: true, value: after };
  } catch (err) {
    return { ok: false, decision: deny(classifyFault(err), `session taint write: ${describeFault(err)}`) };
  }
}
