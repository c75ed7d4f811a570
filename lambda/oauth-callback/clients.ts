/**
 * AWS SDK I/O of the 3LO session binding: the binding store (DynamoDB, used directly) and the AgentCore Identity
 * data plane. Every response is distrusted: a missing or mistyped field is a `MalformedResponseError`.
 */
import {
  BedrockAgentCoreClient,
  CompleteResourceTokenAuthCommand,
  GetResourceOauth2TokenCommand,
  GetWorkloadAccessTokenForJWTCommand,
} from '@aws-sdk/client-bedrock-agentcore';
import { AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { MalformedResponseError } from '../shared/errors';
import { BINDING_RETENTION_SECONDS, BindingRecord, PROVIDER_NAME_PATTERN, SESSION_URI_PATTERN } from './decide';

/** Item attribute names of the binding table (partition key: `stateHash`, TTL attribute: `ttl`). */
export const BindingAttribute = {
  STATE_HASH: 'stateHash',
  SESSION_URI: 'sessionUri',
  USER_KEY: 'userKey',
  PROVIDER_NAME: 'providerName',
  CREATED_AT: 'createdAt',
  EXPIRES_AT: 'expiresAt',
  USED: 'used',
  USED_AT: 'usedAt',
  TTL: 'ttl',
} as const;

/** The result of consuming a binding: done, or its condition no longer held (used, expired or changed meanwhile). */
export type ConsumeResult = 'CONSUMED' | 'CONDITION_FAILED';

/** Where bindings live. */
export interface BindingStore {
  /** The binding stored under a state hash (consistent read), or undefined. */
  get(stateHash: string, signal?: AbortSignal): Promise<BindingRecord | undefined>;
  /** Stores a new binding; rejects if one already exists under its state hash. */
  put(record: BindingRecord, signal?: AbortSignal): Promise<void>;
  /**
   * Marks a binding used, atomically and only if it is still unused, unexpired at `now`, of the same user and session
   * (a conditional write: of two concurrent callbacks, exactly one consumes it).
   */
  consume(stateHash: string, expected: { readonly sessionUri: string; readonly userKey: string; readonly now: number }, signal?: AbortSignal): Promise<ConsumeResult>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The DynamoDB item of a binding. */
export function bindingToItem(record: BindingRecord): Record<string, AttributeValue> {
  return {
    [BindingAttribute.STATE_HASH]: { S: record.stateHash },
    [BindingAttribute.SESSION_URI]: { S: record.sessionUri },
    [BindingAttribute.USER_KEY]: { S: record.userKey },
    ...(record.providerName !== undefined ? { [BindingAttribute.PROVIDER_NAME]: { S: record.providerName } } : {}),
    [BindingAttribute.CREATED_AT]: { N: String(record.createdAt) },
    [BindingAttribute.EXPIRES_AT]: { N: String(record.expiresAt) },
    [BindingAttribute.USED]: { BOOL: record.used },
    ...(record.usedAt !== undefined ? { [BindingAttribute.USED_AT]: { N: String(record.usedAt) } } : {}),
    [BindingAttribute.TTL]: { N: String(Math.ceil(record.expiresAt / 1000) + BINDING_RETENTION_SECONDS) },
  };
}

function attr(item: Record<string, unknown>, name: string, type: 'S' | 'N' | 'BOOL', required: boolean): string | boolean | undefined {
  const value = Object.prototype.hasOwnProperty.call(item, name) ? item[name] : undefined;
  if (value === undefined) {
    if (required) throw new MalformedResponseError(`binding item has no ${name}`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1 || !Object.prototype.hasOwnProperty.call(value, type)) {
    throw new MalformedResponseError(`binding attribute ${name} is not of type ${type}`);
  }
  const inner = (value as Record<string, unknown>)[type];
  if (type === 'BOOL' ? typeof inner !== 'boolean' : typeof inner !== 'string') throw new MalformedResponseError(`binding attribute ${name} has a malformed value`);
  return inner as string | boolean;
}

function epochMs(item: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const text = attr(item, name, 'N', required) as string | undefined;
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new MalformedResponseError(`binding attribute ${name} is not an epoch time`);
  return Number(text);
}

/** Reads a binding item strictly: every attribute of the right type and shape, or a `MalformedResponseError`. */
export function bindingFromItem(item: unknown): BindingRecord {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new MalformedResponseError('binding item is not an object');
  const i = item as Record<string, unknown>;
  const stateHash = attr(i, BindingAttribute.STATE_HASH, 'S', true) as string;
  const sessionUri = attr(i, BindingAttribute.SESSION_URI, 'S', true) as string;
  const userKey = attr(i, BindingAttribute.USER_KEY, 'S', true) as string;
  const providerName = attr(i, BindingAttribute.PROVIDER_NAME, 'S', false) as string | undefined;
  const used = attr(i, BindingAttribute.USED, 'BOOL', true) as boolean;
  const createdAt = epochMs(i, BindingAttribute.CREATED_AT, true) as number;
  const expiresAt = epochMs(i, BindingAttribute.EXPIRES_AT, true) as number;
  const usedAt = epochMs(i, BindingAttribute.USED_AT, false);
  if (!HEX64.test(stateHash) || !HEX64.test(userKey)) throw new MalformedResponseError('binding hashes are not SHA-256 hex');
  if (!SESSION_URI_PATTERN.test(sessionUri)) throw new MalformedResponseError('binding sessionUri is not a request URI');
  if (providerName !== undefined && !PROVIDER_NAME_PATTERN.test(providerName)) throw new MalformedResponseError('binding providerName is malformed');
  return Object.freeze({
    stateHash,
    sessionUri,
    userKey,
    ...(providerName !== undefined ? { providerName } : {}),
    createdAt,
    expiresAt,
    used,
    ...(usedAt !== undefined ? { usedAt } : {}),
  });
}

function isConditionalCheckFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

function requireObject(response: unknown, what: string): Record<string, unknown> {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) throw new MalformedResponseError(`${what} returned no response object`);
  return response as Record<string, unknown>;
}

/** The binding store on a DynamoDB table created by `AgentIdentity` (partition key `stateHash`, string). */
export class DynamoBindingStore implements BindingStore {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  public async get(stateHash: string, signal?: AbortSignal): Promise<BindingRecord | undefined> {
    const response = requireObject(
      await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [BindingAttribute.STATE_HASH]: { S: stateHash } }, ConsistentRead: true }), { abortSignal: signal }),
      'GetItem',
    );
    if (response.Item === undefined) return undefined;
    return bindingFromItem(response.Item);
  }

  public async put(record: BindingRecord, signal?: AbortSignal): Promise<void> {
    requireObject(
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: bindingToItem(record),
          ConditionExpression: 'attribute_not_exists(#state)',
          ExpressionAttributeNames: { '#state': BindingAttribute.STATE_HASH },
        }),
        { abortSignal: signal },
      ),
      'PutItem',
    );
  }

  public async consume(stateHash: string, expected: { sessionUri: string; userKey: string; now: number }, signal?: AbortSignal): Promise<ConsumeResult> {
    try {
      requireObject(
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [BindingAttribute.STATE_HASH]: { S: stateHash } },
            UpdateExpression: 'SET #used = :true, #usedAt = :now',
            ConditionExpression: 'attribute_exists(#state) AND #used = :false AND #expiresAt > :now AND #userKey = :userKey AND #sessionUri = :sessionUri',
            ExpressionAttributeNames: {
              '#state': BindingAttribute.STATE_HASH,
              '#used': BindingAttribute.USED,
              '#usedAt': BindingAttribute.USED_AT,
              '#expiresAt': BindingAttribute.EXPIRES_AT,
              '#userKey': BindingAttribute.USER_KEY,
              '#sessionUri': BindingAttribute.SESSION_URI,
            },
            ExpressionAttributeValues: {
              ':true': { BOOL: true },
              ':false': { BOOL: false },
              ':now': { N: String(expected.now) },
              ':userKey': { S: expected.userKey },
              ':sessionUri': { S: expected.sessionUri },
            },
            ReturnValues: 'NONE',
          }),
          { abortSignal: signal },
        ),
        'UpdateItem',
      );
      return 'CONSUMED';
    } catch (err) {
      if (isConditionalCheckFailure(err)) return 'CONDITION_FAILED';
      throw err;
    }
  }
}

/** The OAuth2 flows of GetResourceOauth2Token the library uses. */
export type OAuth2FlowName = 'M2M' | 'USER_FEDERATION';

/** One GetResourceOauth2Token request. */
export interface ResourceTokenRequest {
  readonly workloadIdentityToken: string;
  readonly providerName: string;
  readonly scopes: readonly string[];
  readonly flow: OAuth2FlowName;
  readonly returnUrl?: string;
  readonly customState?: string;
  readonly sessionUri?: string;
  readonly forceAuthentication?: boolean;
}

/** GetResourceOauth2Token's answer, checked: a token, an authorization to send the user to, or a failed session. */
export type ResourceTokenResponse =
  | { readonly kind: 'TOKEN'; readonly accessToken: string }
  | { readonly kind: 'AUTHORIZE'; readonly authorizationUrl: string; readonly sessionUri: string }
  | { readonly kind: 'FAILED' };

/** The AgentCore Identity data-plane calls of the library. Identity is always the user's token, never a user id. */
export interface AgentCoreIdentity {
  /** GetWorkloadAccessTokenForJWT: a workload access token for the workload acting for the user of `userToken`. */
  workloadAccessTokenForJwt(workloadName: string, userToken: string, signal?: AbortSignal): Promise<string>;
  /** GetResourceOauth2Token. */
  resourceOauth2Token(request: ResourceTokenRequest, signal?: AbortSignal): Promise<ResourceTokenResponse>;
  /** CompleteResourceTokenAuth with `userIdentifier: { userToken }`. */
  completeResourceTokenAuth(sessionUri: string, userToken: string, signal?: AbortSignal): Promise<void>;
}

/** Reads a GetResourceOauth2Token response strictly. */
export function readResourceTokenResponse(response: unknown): ResourceTokenResponse {
  const r = requireObject(response, 'GetResourceOauth2Token');
  const { accessToken, authorizationUrl, sessionUri, sessionStatus } = r;
  if (sessionStatus !== undefined && sessionStatus !== 'IN_PROGRESS' && sessionStatus !== 'FAILED') throw new MalformedResponseError('unknown sessionStatus');
  if (sessionStatus === 'FAILED') return { kind: 'FAILED' };
  if (accessToken !== undefined) {
    if (typeof accessToken !== 'string' || accessToken.length === 0) throw new MalformedResponseError('accessToken is not a non-empty string');
    return { kind: 'TOKEN', accessToken };
  }
  if (typeof authorizationUrl !== 'string' || typeof sessionUri !== 'string') throw new MalformedResponseError('neither an access token nor an authorization URL and session');
  let url: URL;
  try {
    url = new URL(authorizationUrl);
  } catch {
    throw new MalformedResponseError('authorizationUrl is not a URL');
  }
  if (url.protocol !== 'https:') throw new MalformedResponseError('authorizationUrl is not https');
  if (!SESSION_URI_PATTERN.test(sessionUri)) throw new MalformedResponseError('sessionUri is not a request URI');
  return { kind: 'AUTHORIZE', authorizationUrl, sessionUri };
}

/** The AgentCore Identity calls on an SDK client. */
export function agentCoreIdentity(client: BedrockAgentCoreClient): AgentCoreIdentity {
  return {
    async workloadAccessTokenForJwt(workloadName, userToken, signal) {
      const r = requireObject(await client.send(new GetWorkloadAccessTokenForJWTCommand({ workloadName, userToken }), { abortSignal: signal }), 'GetWorkloadAccessTokenForJWT');
      if (typeof r.workloadAccessToken !== 'string' || r.workloadAccessToken.length === 0) throw new MalformedResponseError('workloadAccessToken is not a non-empty string');
      return r.workloadAccessToken;
    },
    async resourceOauth2Token(request, signal) {
      const response = await client.send(
        new GetResourceOauth2TokenCommand({
          workloadIdentityToken: request.workloadIdentityToken,
          resourceCredentialProviderName: request.providerName,
          scopes: [...request.scopes],
          oauth2Flow: request.flow,
          ...(request.returnUrl !== undefined ? { resourceOauth2ReturnUrl: request.returnUrl } : {}),
          ...(request.customState !== undefined ? { customState: request.customState } : {}),
          ...(request.sessionUri !== undefined ? { sessionUri: request.sessionUri } : {}),
          ...(request.forceAuthentication !== undefined ? { forceAuthentication: request.forceAuthentication } : {}),
        }),
        { abortSignal: signal },
      );
      return readResourceTokenResponse(response);
    },
    async completeResourceTokenAuth(sessionUri, userToken, signal) {
      requireObject(
        await client.send(new CompleteResourceTokenAuthCommand({ sessionUri, userIdentifier: { userToken } }), { abortSignal: signal }),
        'CompleteResourceTokenAuth',
      );
    },
  };
}

/** The SDK clients of the handler. */
export interface CallbackClients {
  readonly store: BindingStore;
  readonly agentCore: AgentCoreIdentity;
  /** The clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Clients for the Lambda environment (region and credentials from the environment). */
export function defaultClients(tableName: string): CallbackClients {
  // The SDK retries throttles and 5xx a few times itself (standard mode); a fault left after that is a deny.
  return {
    store: new DynamoBindingStore(new DynamoDBClient({ maxAttempts: 3 }), tableName),
    agentCore: agentCoreIdentity(new BedrockAgentCoreClient({ maxAttempts: 3 })),
  };
}
