/**
 * AWS I/O of the security-operations tools: DynamoDB reads (reputation, assets, approval records) and the ticket
 * write, and the WAF IP set read-modify-write. Answers are returned raw and read strictly by `decide.ts`.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ApprovalStore } from '../approval/store';
import { ConfigurationError, MalformedResponseError } from '../shared/errors';
import { IpSetRef } from './config';
import { Attr } from './decide';

/**
 * The two WAFv2 calls the remediation makes (GetIPSet, UpdateIPSet with the lock token), behind an interface so
 * that tests can fake WAF's optimistic locking. The handler uses `wafv2IpSetApi` (`./wafv2`). Each call rejects with
 * the SDK's error on a fault and resolves with the raw answer.
 */
export interface IpSetApi {
  /** GetIPSet `{ Name, Scope, Id }`; resolves with `{ IPSet: { Addresses, Description? }, LockToken }`. */
  getIpSet(ref: IpSetRef, scope: 'REGIONAL' | 'CLOUDFRONT', signal: AbortSignal): Promise<unknown>;
  /**
   * UpdateIPSet `{ Name, Scope, Id, Addresses, LockToken, Description? }`; resolves with `{ NextLockToken }`. The
   * description is the one GetIPSet returned (UpdateIPSet replaces every mutable setting, so leaving it out would
   * clear it).
   */
  updateIpSet(ref: IpSetRef, scope: 'REGIONAL' | 'CLOUDFRONT', addresses: string[], lockToken: string, signal: AbortSignal, description?: string): Promise<unknown>;
}

/**
 * An IP set API whose every call fails MISCONFIGURED, so the remediation fails closed (nothing is blocked, the
 * workflow fails with the code) instead of pretending to block. For tests and for embedding without WAF.
 */
export const UNAVAILABLE_IP_SET_API: IpSetApi = {
  getIpSet: async () => {
    throw new ConfigurationError(['the WAFv2 client is not bundled in this build']);
  },
  updateIpSet: async () => {
    throw new ConfigurationError(['the WAFv2 client is not bundled in this build']);
  },
};

/** What the handler talks to. */
export interface SocToolsClients {
  readonly dynamodb: DynamoDBClient;
  readonly ipSets: IpSetApi;
  /** The approval table's store (block_ip only). */
  readonly approvals?: ApprovalStore;
  /** @default Date.now */
  readonly now?: () => number;
}

/** GetItem by a string partition key; resolves with the item, or undefined when there is none. */
export async function getItemByKey(ddb: DynamoDBClient, table: string, keyName: string, key: string, signal: AbortSignal): Promise<Record<string, Attr> | undefined> {
  const out: unknown = await ddb.send(new GetItemCommand({ TableName: table, Key: { [keyName]: { S: key } } }), { abortSignal: signal });
  if (typeof out !== 'object' || out === null) throw new MalformedResponseError('GetItem returned no response');
  const item = (out as { Item?: unknown }).Item;
  if (item === undefined) return undefined;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new MalformedResponseError('GetItem returned a malformed item');
  return item as Record<string, Attr>;
}

/** Writes a ticket once (conditional on its id being new); EXISTS when a retried call already wrote it. */
export async function putTicketOnce(ddb: DynamoDBClient, table: string, item: Record<string, Attr>, signal: AbortSignal): Promise<'WRITTEN' | 'EXISTS'> {
  try {
    const out: unknown = await ddb.send(
      new PutItemCommand({ TableName: table, Item: item as Record<string, AttributeValue>, ConditionExpression: 'attribute_not_exists(ticketId)' }),
      { abortSignal: signal },
    );
    if (typeof out !== 'object' || out === null) throw new MalformedResponseError('PutItem returned no response');
    return 'WRITTEN';
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException') return 'EXISTS';
    throw err;
  }
}

/** Whether a WAF error is the optimistic-lock conflict (another writer changed the set since it was read). */
export function isLockConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'WAFOptimisticLockException';
}
