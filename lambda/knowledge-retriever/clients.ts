/**
 * AWS SDK I/O of the knowledge retriever: Retrieve (never RetrieveAndGenerate, which offers no hook between
 * retrieval and generation), and the user-scoped calls of the Access Grants check. Responses are returned as the SDK
 * gives them and read (and distrusted) by decide.ts and grants.ts.
 *
 * S3 Control clients are only ever created with a USER session's credentials (`s3ControlFor`); there is no S3
 * Control client with the Lambda's own credentials, so the Lambda role can never answer for the user.
 */
import { BedrockAgentRuntimeClient, RetrieveCommand, RetrievalFilter } from '@aws-sdk/client-bedrock-agent-runtime';
import { GetDataAccessCommand, ListCallerAccessGrantsCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreateTokenWithIAMCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { RetrievalFilterNode } from './filter';
import { GrantsIo, IDENTITY_CENTER, SessionCredentials } from './grants';

/** The SDK clients the handler needs (S3 Control clients are made per user session). */
export interface RetrieverClients {
  readonly bedrockAgentRuntime: BedrockAgentRuntimeClient;
  readonly sts: STSClient;
  readonly ssoOidc: SSOOIDCClient;
  /** Makes an S3 Control client that signs with a user session's credentials. */
  readonly s3ControlFor: (credentials: SessionCredentials) => S3ControlClient;
}

/** Clients for the Lambda environment; the SDK retries throttles and 5xx a few times itself, then the fault denies. */
export function defaultClients(): RetrieverClients {
  // One S3 Control client per user session (sessions are cached per identity, so clients are too).
  const perSession = new WeakMap<SessionCredentials, S3ControlClient>();
  return {
    bedrockAgentRuntime: new BedrockAgentRuntimeClient({ maxAttempts: 3 }),
    sts: new STSClient({ maxAttempts: 3 }),
    ssoOidc: new SSOOIDCClient({ maxAttempts: 3 }),
    s3ControlFor: (credentials) => {
      let client = perSession.get(credentials);
      if (!client) {
        client = new S3ControlClient({ maxAttempts: 3, credentials: { ...credentials } });
        perSession.set(credentials, client);
      }
      return client;
    },
  };
}

/** One Retrieve request. The identity filter is mandatory; there is no implicit (model-written) filter. */
export interface RetrieveInput {
  readonly knowledgeBaseId: string;
  readonly query: string;
  readonly numberOfResults: number;
  readonly filter: RetrievalFilterNode;
}

/** Calls Retrieve with exactly the built filter. Rejects with the SDK's error on any fault. */
export async function retrieve(clients: RetrieverClients, input: RetrieveInput, abortSignal?: AbortSignal): Promise<unknown> {
  return clients.bedrockAgentRuntime.send(
    new RetrieveCommand({
      knowledgeBaseId: input.knowledgeBaseId,
      retrievalQuery: { text: input.query },
      retrievalConfiguration: {
        vectorSearchConfiguration: {
          numberOfResults: input.numberOfResults,
          filter: input.filter as RetrievalFilter,
        },
      },
    }),
    { abortSignal },
  );
}

/** The user-scoped I/O of the Access Grants check, over these clients. */
export function grantsIo(clients: RetrieverClients): GrantsIo {
  return {
    assumeRoleWithTags: (input, abortSignal) =>
      clients.sts.send(
        new AssumeRoleCommand({ RoleArn: input.roleArn, RoleSessionName: input.sessionName, DurationSeconds: input.durationSeconds, Tags: input.tags }),
        { abortSignal },
      ),
    createTokenWithIam: (input, abortSignal) =>
      clients.ssoOidc.send(new CreateTokenWithIAMCommand({ clientId: input.clientId, grantType: IDENTITY_CENTER.grantType, assertion: input.assertion }), { abortSignal }),
    assumeRoleWithContext: (input, abortSignal) =>
      clients.sts.send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.sessionName,
          DurationSeconds: input.durationSeconds,
          ProvidedContexts: [{ ProviderArn: IDENTITY_CENTER.contextProviderArn, ContextAssertion: input.contextAssertion }],
        }),
        { abortSignal },
      ),
    listCallerAccessGrants: (credentials, input, abortSignal) =>
      clients
        .s3ControlFor(credentials)
        .send(new ListCallerAccessGrantsCommand({ AccountId: input.accountId, MaxResults: 1000, ...(input.nextToken ? { NextToken: input.nextToken } : {}) }), { abortSignal }),
    getDataAccess: (credentials, input, abortSignal) =>
      clients.s3ControlFor(credentials).send(
        new GetDataAccessCommand({
          AccountId: input.accountId,
          Target: input.target,
          Permission: 'READ',
          Privilege: 'Minimal',
          TargetType: 'Object',
          DurationSeconds: input.durationSeconds,
        }),
        { abortSignal },
      ),
  };
}
