/**
 * The knowledge-retriever handler with AWS-shaped events, real token verification and mocked SDK clients: the happy
 * paths of both identity modes and both check modes, every deny path, the five fault kinds at every AWS call site,
 * caching per identity within the revocation window, and the property that every Retrieve call carries the identity
 * conditions (10,000 runs).
 */
import { BedrockAgentRuntimeClient, RetrieveCommand } from '@aws-sdk/client-bedrock-agent-runtime';
import { GetDataAccessCommand, ListCallerAccessGrantsCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreateTokenWithIAMCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_CODE, FAULT_KINDS, FaultKind, awsFault, hang } from '../../rig/faults';
import { captureDecisions } from '../../rig/decision-log-capture';
import * as fc from 'fast-check';
import { CALLER_TOKEN_ARGUMENT } from '../../../lambda/shared/caller-context';
import { TokenVerifier, VerifiedIdentity } from '../../../lambda/shared/identity';
import { RetrieverClients } from '../../../lambda/knowledge-retriever/clients';
import { FilterPolicySpec, RetrievalFilterNode, topLevelMembers } from '../../../lambda/knowledge-retriever/filter';
import { GrantsConfig, SessionCredentials } from '../../../lambda/knowledge-retriever/grants';
import { RetrieverSettings, createHandler, handler as envHandler } from '../../../lambda/knowledge-retriever/index';
import { createTestIssuer } from '../shared/jwt-helper';

process.env.AWS_REGION = 'us-east-1';

const bedrock = mockClient(BedrockAgentRuntimeClient);
const sts = mockClient(STSClient);
const ssoOidc = mockClient(SSOOIDCClient);
const s3control = mockClient(S3ControlClient);

const idp = createTestIssuer({ issuer: 'https://idp.example.test/corp' });
const KB = 'KB12345678';
const ACCOUNT = '123456789012';
const FIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/kb-finance`;
const HR_ROLE = `arn:aws:iam::${ACCOUNT}:role/kb-hr`;
const APP_ARN = `arn:aws:sso::${ACCOUNT}:application/ssoins-1234567890abcdef/apl-1234567890abcdef`;
const BEARER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kb-identity-bearer`;

const POLICY: FilterPolicySpec = {
  version: 1,
  identityConditions: [
    { kind: 'CLAIM_EQUALS', key: 'tenant', claim: 'custom:tenant', valueType: 'STRING' },
    { kind: 'GROUPS_CONTAIN', key: 'groups' },
  ],
  staticConditions: [],
  callerFilterKeys: ['tenant', 'groups', 'year'],
  maxValuesPerCondition: 50,
};

const GRANTS: GrantsConfig = {
  accountId: ACCOUNT,
  identityMode: 'GROUP_ROLES',
  groupRoles: [
    { group: 'finance', roleArn: FIN_ROLE },
    { group: 'hr', roleArn: HR_ROLE },
  ],
  checkMode: 'LIST_CALLER_GRANTS',
  revocationWindowMs: 300_000,
  maxRolesPerCaller: 5,
  callTimeoutMs: 150,
  concurrency: 4,
  maxListPages: 3,
  maxCachedIdentities: 100,
};

function settings(patch: Partial<RetrieverSettings> = {}, grants: Partial<GrantsConfig> | null = {}): RetrieverSettings {
  return {
    identity: { issuer: idp.issuer, audience: 'api', jwks: idp.jwks as never, groupsClaim: 'groups' },
    routing: { knowledgeBases: [{ id: KB, sourceScopes: ['s3://docs-bucket/published/*'] }], maxKnowledgeBasesPerRequest: 1 },
    filterPolicy: POLICY,
    returnedMetadataKeys: ['tenant', 'groups'],
    ...(grants === null ? {} : { grants: { ...GRANTS, ...grants } }),
    unsafeMetadataFilterOnly: grants === null,
    defaultResults: 5,
    timeoutMs: 5_000,
    callTimeoutMs: 150,
    ...patch,
  };
}

/** Clients over the mocked SDK; records the credentials of every S3 Control client made. */
function clients(): RetrieverClients & { s3ControlCredentials: SessionCredentials[] } {
  const s3ControlCredentials: SessionCredentials[] = [];
  return {
    bedrockAgentRuntime: new BedrockAgentRuntimeClient({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'us-east-1' }),
    ssoOidc: new SSOOIDCClient({ region: 'us-east-1' }),
    s3ControlFor: (credentials) => {
      s3ControlCredentials.push(credentials);
      return new S3ControlClient({ region: 'us-east-1', credentials: { ...credentials } });
    },
    s3ControlCredentials,
  };
}

const CONTEXT = { awsRequestId: 'req-1', clientContext: { custom: { bedrockAgentCoreToolName: 'Knowledge___search_knowledge' } } };

function token(claims: Record<string, unknown> = {}): string {
  return idp.sign({ sub: 'alice', aud: 'api', groups: ['finance'], 'custom:tenant': 'acme', ...claims });
}

function event(args: Record<string, unknown> = {}, tok: string | null = token()): Record<string, unknown> {
  return { query: 'quarterly revenue', ...args, ...(tok !== null ? { [CALLER_TOKEN_ARGUMENT]: tok } : {}) };
}

const chunk = (uri: string, text: string, score: number) => ({
  content: { type: 'TEXT', text },
  location: { type: 'S3', s3Location: { uri } },
  score,
  metadata: { tenant: 'acme', groups: ['finance'], 'x-amz-bedrock-kb-source-uri': uri, 'x-amz-bedrock-kb-chunk-id': 'c1' },
});

const RETRIEVED = {
  retrievalResults: [
    chunk('s3://docs-bucket/published/finance/q1.pdf', 'Q1 revenue was up.', 0.9),
    chunk('s3://docs-bucket/published/finance-secret/plan.pdf', 'SECRET merger plan', 0.95),
    chunk('s3://docs-bucket/published/hr/salaries.pdf', 'SECRET salaries', 0.8),
    chunk('s3://other-bucket/published/finance/x.pdf', 'SECRET other bucket', 0.7),
    chunk('s3://docs-bucket/published/finance/q2.pdf', 'Q2 revenue was flat.', 0.6),
  ],
};

const SCOPES: Record<string, Array<Record<string, string>>> = {
  [FIN_ROLE]: [
    { GrantScope: 's3://docs-bucket/published/finance/*', Permission: 'READ' },
    { GrantScope: 's3://docs-bucket/published/fin*', Permission: 'READ' },
    { GrantScope: 's3://docs-bucket/published/drafts/*', Permission: 'WRITE' },
    { GrantScope: 's3://docs-bucket/published/apps/*', Permission: 'READ', ApplicationArn: APP_ARN },
  ],
  [HR_ROLE]: [{ GrantScope: 's3://docs-bucket/published/hr/*', Permission: 'READ' }],
  [BEARER_ROLE]: [
    { GrantScope: 's3://docs-bucket/published/finance/*', Permission: 'READWRITE', ApplicationArn: APP_ARN },
    { GrantScope: 's3://docs-bucket/published/hr/*', Permission: 'READ', ApplicationArn: 'arn:aws:sso::123456789012:application/ssoins-1234567890abcdef/apl-0000000000000000' },
  ],
};

/** Role ARN behind an access key id minted by the STS mock. */
const roleOfKey = new Map<string, string>();

function credentialsFor(role: string, n: number): Record<string, unknown> {
  const accessKeyId = `ASIA${role.split('/').pop()!.toUpperCase().replace(/[^A-Z]/g, '')}${n}`;
  roleOfKey.set(accessKeyId, role);
  return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'secret', SessionToken: 'session', Expiration: new Date(Date.now() + 3_600_000) } };
}

async function roleOfClient(getClient: () => unknown): Promise<string> {
  const config = (getClient() as { config: { credentials: () => Promise<{ accessKeyId: string }> } }).config;
  const creds = await config.credentials();
  const role = roleOfKey.get(creds.accessKeyId);
  if (!role) throw new Error(`S3 Control was called with credentials no user session produced: ${creds.accessKeyId}`);
  return role;
}

let minted = 0;
function happyMocks(): void {
  bedrock.on(RetrieveCommand).resolves(RETRIEVED as never);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => credentialsFor(input.RoleArn, ++minted));
  s3control.on(ListCallerAccessGrantsCommand).callsFake(async (_input: unknown, getClient: () => unknown) => ({ CallerAccessGrantsList: SCOPES[await roleOfClient(getClient)] }));
  s3control.on(GetDataAccessCommand).callsFake(async (input: { Target: string }, getClient: () => unknown) => {
    const role = await roleOfClient(getClient);
    const match = SCOPES[role].map((s) => s.GrantScope).find((scope) => scope.endsWith('/*') && input.Target.startsWith(scope.slice(0, -1)));
    if (!match) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
    return { MatchedGrantTarget: match, Credentials: { AccessKeyId: 'ASIAVENDED', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() } };
  });
  ssoOidc.on(CreateTokenWithIAMCommand).resolves({
    accessToken: 'at',
    idToken: `x.${Buffer.from(JSON.stringify({ 'sts:identity_context': 'ctx-alice', sub: 'idc-user' })).toString('base64url')}.y`,
  } as never);
}

beforeEach(() => {
  bedrock.reset();
  sts.reset();
  ssoOidc.reset();
  s3control.reset();
  happyMocks();
});

const retrieveInputs = () => bedrock.commandCalls(RetrieveCommand).map((c) => c.args[0].input);

describe('embedding with explicit settings', () => {
  test('fails closed when Access Grants are missing without the explicit unsafe opt-out (no Retrieve, no chunk)', async () => {
    const { grants: _omitted, ...withoutGrants } = settings();
    const value = await createHandler({ ...withoutGrants, unsafeMetadataFilterOnly: false }, clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: 'MISCONFIGURED' });
    expect(retrieveInputs()).toHaveLength(0);
  });
});

describe('GROUP_ROLES identity with LIST_CALLER_GRANTS', () => {
  test('returns only chunks inside the user\'s READ grants; the rest leave no trace except in the log', async () => {
    const c = clients();
    const { value, lines } = await captureDecisions(() => createHandler(settings(), c)(event(), CONTEXT));
    expect(value).toEqual({
      ok: true,
      results: [
        { text: 'Q1 revenue was up.', source: 's3://docs-bucket/published/finance/q1.pdf', score: 0.9, metadata: { tenant: 'acme', groups: ['finance'] } },
        { text: 'Q2 revenue was flat.', source: 's3://docs-bucket/published/finance/q2.pdf', score: 0.6, metadata: { tenant: 'acme', groups: ['finance'] } },
      ],
    });
    expect(JSON.stringify(value)).not.toMatch(/SECRET|finance-secret|salaries|other-bucket|chunk-id/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      control: 'retrieval',
      outcome: 'ALLOW',
      reasonCode: 'ALLOWED',
      requestId: 'req-1',
      fields: expect.objectContaining({ tool: 'search_knowledge', retrieved: 5, returned: 2, droppedUnauthorized: 2, droppedOutsideKnowledgeBase: 1, partial: false, stsCalls: 1, listPages: 1 }),
    });
    expect((lines[0].fields as { droppedSourceHashes: string[] }).droppedSourceHashes).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toMatch(/SECRET|finance-secret|salaries/);
  });

  test('every Retrieve call carries the identity filter and nothing model-written stands in for it', async () => {
    await createHandler(settings(), clients())(event({ filter: { equals: { key: 'year', value: 2024 } }, maxResults: 7 }), CONTEXT);
    expect(retrieveInputs()).toEqual([
      {
        knowledgeBaseId: KB,
        retrievalQuery: { text: 'quarterly revenue' },
        retrievalConfiguration: {
          vectorSearchConfiguration: {
            numberOfResults: 7,
            filter: {
              andAll: [
                { equals: { key: 'tenant', value: 'acme' } },
                { listContains: { key: 'groups', value: 'finance' } },
                { equals: { key: 'year', value: 2024 } },
              ],
            },
          },
        },
      },
    ]);
  });

  test('authorizes for the end user: AssumeRole of the group role with session tags, S3 Control signed with that session only', async () => {
    const c = clients();
    await createHandler(settings(), c)(event(), CONTEXT);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    const assume = sts.commandCalls(AssumeRoleCommand)[0].args[0].input;
    expect(assume).toMatchObject({ RoleArn: FIN_ROLE, DurationSeconds: 900, Tags: [{ Key: 'cad-subject', Value: 'alice' }] });
    expect(assume.RoleSessionName).toMatch(/^cad-[0-9a-f]{32}$/);
    expect(s3control).toHaveReceivedCommandWith(ListCallerAccessGrantsCommand, { AccountId: ACCOUNT });
    expect(c.s3ControlCredentials.every((k) => k.accessKeyId.startsWith('ASIAKBFINANCE'))).toBe(true);
  });

  test('a user in two mapped groups gets the union of both roles\' grants', async () => {
    const value = await createHandler(settings(), clients())(event({}, token({ groups: ['finance', 'hr'] })), CONTEXT);
    expect(value.ok && value.results.map((r) => r.source)).toEqual([
      's3://docs-bucket/published/finance/q1.pdf',
      's3://docs-bucket/published/hr/salaries.pdf',
      's3://docs-bucket/published/finance/q2.pdf',
    ]);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([FIN_ROLE, HR_ROLE]);
  });

  test('state is cached per identity within the revocation window, never shared, and refreshed after it', async () => {
    let now = Date.now();
    const h = createHandler(settings(), clients(), { now: () => now });
    await h(event(), CONTEXT);
    await h(event(), CONTEXT);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(s3control).toHaveReceivedCommandTimes(ListCallerAccessGrantsCommand, 1);
    // Bob, in the same group, gets his own session.
    await h(event({}, idp.sign({ sub: 'bob', aud: 'api', groups: ['finance'], 'custom:tenant': 'acme' })), CONTEXT);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    now += 300_001;
    await h(event(), CONTEXT);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
    expect(s3control).toHaveReceivedCommandTimes(ListCallerAccessGrantsCommand, 3);
  });

  test('a revocation window of zero never reuses state', async () => {
    const h = createHandler(settings({}, { revocationWindowMs: 0 }), clients());
    await h(event(), CONTEXT);
    await h(event(), CONTEXT);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  test('follows NextToken pages (up to the page limit, then the answer is partial)', async () => {
    s3control
      .on(ListCallerAccessGrantsCommand)
      .resolvesOnce({ CallerAccessGrantsList: [], NextToken: 'p2' } as never)
      .resolvesOnce({ CallerAccessGrantsList: [{ GrantScope: 's3://docs-bucket/published/finance/*', Permission: 'READ' }] } as never);
    const value = await createHandler(settings(), clients())(event(), CONTEXT);
    expect(value.ok && value.results).toHaveLength(2);
    expect(s3control.commandCalls(ListCallerAccessGrantsCommand)[1].args[0].input).toMatchObject({ NextToken: 'p2' });

    s3control.on(ListCallerAccessGrantsCommand).resolves({ CallerAccessGrantsList: [{ GrantScope: 's3://docs-bucket/published/finance/*', Permission: 'READ' }], NextToken: 'again' } as never);
    const truncated = await createHandler(settings(), clients())(event({}, token({ sub: 'carol' })), CONTEXT);
    expect(truncated).toMatchObject({ ok: true, partial: true });
  });
});

describe('GET_DATA_ACCESS check mode', () => {
  test('one GetDataAccess per distinct in-scope source (READ, Minimal, Object, 900 s), signed by the user session', async () => {
    const retrieved = { retrievalResults: [...RETRIEVED.retrievalResults, chunk('s3://docs-bucket/published/finance/q1.pdf', 'Q1 again', 0.5)] };
    bedrock.on(RetrieveCommand).resolves(retrieved as never);
    const c = clients();
    const value = await createHandler(settings({}, { checkMode: 'GET_DATA_ACCESS', concurrency: 1 }), c)(event({ maxResults: 10 }), CONTEXT);
    expect(value.ok && value.results.map((r) => r.text)).toEqual(['Q1 revenue was up.', 'Q2 revenue was flat.', 'Q1 again']);
    const targets = s3control.commandCalls(GetDataAccessCommand).map((x) => x.args[0].input);
    // finance/q1 was matched by a prefix grant, so finance/q2 is answered from that match without a call.
    expect(targets.map((t) => t.Target)).toEqual(['s3://docs-bucket/published/finance/q1.pdf', 's3://docs-bucket/published/finance-secret/plan.pdf', 's3://docs-bucket/published/hr/salaries.pdf']);
    for (const t of targets) expect(t).toMatchObject({ AccountId: ACCOUNT, Permission: 'READ', Privilege: 'Minimal', TargetType: 'Object', DurationSeconds: 900 });
    expect(c.s3ControlCredentials.every((k) => k.accessKeyId.startsWith('ASIAKBFINANCE'))).toBe(true);
  });

  test('a MatchedGrantTarget that does not cover the object under literal rules is not trusted', async () => {
    s3control.on(GetDataAccessCommand).resolves({ MatchedGrantTarget: 's3://docs-bucket/published/fin*' } as never);
    const value = await createHandler(settings({}, { checkMode: 'GET_DATA_ACCESS' }), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: true, results: [], partial: true });
  });
});

describe('IDENTITY_CENTER identity', () => {
  const ic = { identityMode: 'IDENTITY_CENTER' as const, groupRoles: [], identityCenter: { applicationArn: APP_ARN, bearerRoleArn: BEARER_ROLE } };

  test('exchanges the verified token, assumes the bearer role with the identity context, and honours only this application\'s grants', async () => {
    const tok = token();
    const c = clients();
    const value = await createHandler(settings({}, ic), c)(event({}, tok), CONTEXT);
    expect(ssoOidc).toHaveReceivedCommandWith(CreateTokenWithIAMCommand, { clientId: APP_ARN, grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: tok });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: BEARER_ROLE,
      DurationSeconds: 900,
      ProvidedContexts: [{ ProviderArn: 'arn:aws:iam::aws:contextProvider/IdentityCenter', ContextAssertion: 'ctx-alice' }],
    });
    expect(value.ok && value.results.map((r) => r.source)).toEqual(['s3://docs-bucket/published/finance/q1.pdf', 's3://docs-bucket/published/finance/q2.pdf']);
    expect(c.s3ControlCredentials.every((k) => k.accessKeyId.startsWith('ASIAKBIDENTITYBEARER'))).toBe(true);
  });
});

describe('denials', () => {
  test.each<[string, () => { ev: unknown; ctx?: unknown }, string]>([
    ['no caller token', () => ({ ev: event({}, null) }), 'IDENTITY_MISSING'],
    ['a token from another issuer', () => ({ ev: event({}, createTestIssuer({ issuer: idp.issuer }).sign({ sub: 'alice', aud: 'api' })) }), 'IDENTITY_INVALID'],
    ['an expired token', () => ({ ev: event({}, token({ exp: Math.floor(Date.now() / 1000) - 60 })) }), 'IDENTITY_EXPIRED'],
    ['an identity argument written by the model', () => ({ ev: event({ userId: 'admin', groups: ['admins'] }) }), 'MALFORMED_REQUEST'],
    ['an unknown tool', () => ({ ev: event(), ctx: { clientContext: { custom: { bedrockAgentCoreToolName: 'Knowledge___delete_all' } } } }), 'TOOL_UNKNOWN'],
    ['no tool name', () => ({ ev: event(), ctx: {} }), 'TOOL_UNKNOWN'],
    ['no tenant claim', () => ({ ev: event({}, token({ 'custom:tenant': undefined })) }), 'KNOWLEDGE_NO_USABLE_CLAIMS'],
    ['no groups', () => ({ ev: event({}, token({ groups: [] })) }), 'KNOWLEDGE_NO_USABLE_CLAIMS'],
    ['a group without an Access Grants role', () => ({ ev: event({}, token({ groups: ['interns'] })) }), 'KNOWLEDGE_NO_USABLE_CLAIMS'],
    ['a widening caller filter on an undeclared key', () => ({ ev: event({ filter: { startsWith: { key: 'tenant', value: '' } } }) }), 'KNOWLEDGE_FILTER_REJECTED'],
  ])('denies %s before any Retrieve', async (_n, make, code) => {
    const { ev, ctx } = make();
    const { value, lines } = await captureDecisions(() => createHandler(settings(), clients())(ev, (ctx ?? CONTEXT) as never));
    expect(value).toEqual({ ok: false, reasonCode: code });
    // The log line carries the same precise code, and no side field.
    expect(lines).toEqual([expect.objectContaining({ outcome: 'DENY', reasonCode: code })]);
    expect(lines[0].fields).not.toHaveProperty('knowledgeReason');
    expect(bedrock).not.toHaveReceivedCommand(RetrieveCommand);
  });

  test('routes only from verified groups; an unknown group is denied', async () => {
    const routed = settings({
      routing: {
        knowledgeBases: [
          { id: KB, sourceScopes: ['s3://docs-bucket/published/*'] },
          { id: 'KBHR000000', sourceScopes: ['s3://hr-bucket/published/*'] },
        ],
        routes: [
          { kind: 'GROUP', value: 'finance', knowledgeBase: 0 },
          { kind: 'GROUP', value: 'hr', knowledgeBase: 1 },
        ],
        maxKnowledgeBasesPerRequest: 2,
      },
    });
    const h = createHandler(routed, clients());
    expect(await h(event({}, token({ groups: ['contractors'] })), CONTEXT)).toEqual({ ok: false, reasonCode: 'KNOWLEDGE_ROUTE_DENIED' });
    expect(bedrock).not.toHaveReceivedCommand(RetrieveCommand);
    await h(event({}, token({ groups: ['hr', 'finance'] })), CONTEXT);
    expect(retrieveInputs().map((i) => i.knowledgeBaseId)).toEqual([KB, 'KBHR000000']);
  });

  test('a misconfigured environment denies every call with MISCONFIGURED', async () => {
    const { value, lines } = await captureDecisions(() => envHandler(event(), CONTEXT));
    expect(value).toEqual({ ok: false, reasonCode: 'MISCONFIGURED' });
    expect(lines[0]).toMatchObject({ outcome: 'DENY', reasonCode: 'MISCONFIGURED' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
/** A behaviour for one call: a rejection, a response that never comes, or junk. */
function faulty(kind: FaultKind, accessDeniedName = 'AccessDenied', malformed: unknown = { junk: true }): (input: unknown) => Promise<unknown> {
  return async () => {
    switch (kind) {
      case 'throttle':
        throw awsFault('throttle', { httpStatusCode: 429 });
      case 'server':
        throw awsFault('server');
      case 'timeout':
        return hang();
      case 'accessDenied':
        throw awsFault('accessDenied', { name: accessDeniedName });
      case 'malformed':
        return malformed;
    }
  };
}

function neverLeaks(value: unknown): void {
  expect(JSON.stringify(value)).not.toMatch(/SECRET|finance-secret|salaries|other-bucket/);
}

describe.each(FAULT_KINDS.map(([kind]) => kind))('fault: %s', (kind) => {
  test('Retrieve → deny with the fault code, nothing returned', async () => {
    bedrock.on(RetrieveCommand).callsFake(faulty(kind, 'AccessDeniedException', { retrievalResults: 'nope' }));
    const value = await createHandler(settings(), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: FAULT_CODE[kind] });
  });

  test('AssumeRole (group role) → deny before Retrieve', async () => {
    sts.on(AssumeRoleCommand).callsFake(faulty(kind, 'AccessDenied', { Credentials: { AccessKeyId: 'x' } }));
    const value = await createHandler(settings(), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: FAULT_CODE[kind] });
    expect(bedrock).not.toHaveReceivedCommand(RetrieveCommand);
  });

  test('ListCallerAccessGrants → deny before Retrieve; with a second role, a partial answer from that role only', async () => {
    s3control.on(ListCallerAccessGrantsCommand).callsFake(faulty(kind, 'AccessDenied', { CallerAccessGrantsList: [{ GrantScope: 7 }] }));
    const value = await createHandler(settings(), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: FAULT_CODE[kind] });
    expect(bedrock).not.toHaveReceivedCommand(RetrieveCommand);

    s3control.on(ListCallerAccessGrantsCommand).callsFake(async (input: unknown, getClient: () => unknown) => {
      if ((await roleOfClient(getClient)) === FIN_ROLE) return faulty(kind, 'AccessDenied', { CallerAccessGrantsList: 'x' })(input);
      return { CallerAccessGrantsList: SCOPES[HR_ROLE] };
    });
    const partial = await createHandler(settings(), clients())(event({}, token({ groups: ['finance', 'hr'] })), CONTEXT);
    expect(partial).toEqual({
      ok: true,
      partial: true,
      results: [{ text: 'SECRET salaries', source: 's3://docs-bucket/published/hr/salaries.pdf', score: 0.8, metadata: { tenant: 'acme', groups: ['finance'] } }],
    });
  });

  test('GetDataAccess → that chunk is dropped (partial on a fault, simply denied on AccessDenied)', async () => {
    s3control.on(GetDataAccessCommand).callsFake(async (input: { Target: string }) => {
      if (input.Target.endsWith('/finance/q2.pdf')) return faulty(kind, 'AccessDenied', { MatchedGrantTarget: 42 })(input);
      if (input.Target.includes('/finance/')) return { MatchedGrantTarget: input.Target };
      throw awsFault('accessDenied', { name: 'AccessDenied' });
    });
    const { value, lines } = await captureDecisions(() => createHandler(settings({}, { checkMode: 'GET_DATA_ACCESS' }), clients())(event(), CONTEXT));
    const expected = [{ text: 'Q1 revenue was up.', source: 's3://docs-bucket/published/finance/q1.pdf', score: 0.9, metadata: { tenant: 'acme', groups: ['finance'] } }];
    expect(value).toEqual(kind === 'accessDenied' ? { ok: true, results: expected } : { ok: true, partial: true, results: expected });
    expect(lines).toEqual([expect.objectContaining({ outcome: 'ALLOW', reasonCode: kind === 'accessDenied' ? 'ALLOWED' : 'KNOWLEDGE_PARTIAL' })]);
    neverLeaks(value);
  });

  test('CreateTokenWithIAM (Identity Center) → deny before Retrieve', async () => {
    ssoOidc.on(CreateTokenWithIAMCommand).callsFake(faulty(kind, 'AccessDeniedException', { idToken: 'not-a-jwt' }));
    const value = await createHandler(settings({}, { identityMode: 'IDENTITY_CENTER', identityCenter: { applicationArn: APP_ARN, bearerRoleArn: BEARER_ROLE } }), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: FAULT_CODE[kind] });
    expect(bedrock).not.toHaveReceivedCommand(RetrieveCommand);
  });

  test('AssumeRole with ProvidedContexts (Identity Center) → deny before Retrieve', async () => {
    sts.on(AssumeRoleCommand).callsFake(faulty(kind, 'AccessDenied', { Credentials: { AccessKeyId: 'A', SecretAccessKey: 'B', SessionToken: 'C', Expiration: new Date(0) } }));
    const value = await createHandler(settings({}, { identityMode: 'IDENTITY_CENTER', identityCenter: { applicationArn: APP_ARN, bearerRoleArn: BEARER_ROLE } }), clients())(event(), CONTEXT);
    expect(value).toEqual({ ok: false, reasonCode: FAULT_CODE[kind] });
  });
});

test('a slow request as a whole ends in UPSTREAM_TIMEOUT, never in an unauthorized chunk', async () => {
  bedrock.on(RetrieveCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve(RETRIEVED), 400)));
  const value = await createHandler(settings({ timeoutMs: 100 }), clients())(event(), CONTEXT);
  expect(value).toEqual({ ok: false, reasonCode: 'UPSTREAM_TIMEOUT' });
});

test('the metadata-filter-only mode is explicit, and still drops chunks outside the knowledge base\'s documents', async () => {
  const value = await createHandler(settings({}, null), clients())(event(), CONTEXT);
  expect(value.ok && value.results.map((r) => r.source)).toEqual([
    's3://docs-bucket/published/finance-secret/plan.pdf',
    's3://docs-bucket/published/finance/q1.pdf',
    's3://docs-bucket/published/hr/salaries.pdf',
    's3://docs-bucket/published/finance/q2.pdf',
  ]);
  expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
});

// ---------------------------------------------------------------------------------------------------------------
describe('property: every Retrieve call carries the identity conditions (10,000 runs)', () => {
  test('for any verified identity and any model-written arguments', async () => {
    const sent: Array<Record<string, any>> = [];
    const fake: RetrieverClients = {
      bedrockAgentRuntime: { send: async (cmd: { input: Record<string, any> }) => (sent.push(cmd.input), { retrievalResults: [] }) } as never,
      sts: undefined as never,
      ssoOidc: undefined as never,
      s3ControlFor: () => {
        throw new Error('not used');
      },
    };
    let current: VerifiedIdentity | undefined;
    const verifier: TokenVerifier = { verify: async () => current as VerifiedIdentity, hydrate: async () => undefined };
    const h = createHandler(settings({}, null), fake, { verifier });
    const tok = token();

    const claimArb = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }), fc.constant(undefined));
    const argsArb = fc.record(
      {
        query: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant('q')),
        filter: fc.oneof(
          fc.constant({ orAll: [{ equals: { key: 'tenant', value: 'other' } }, { equals: { key: 'year', value: 1 } }] }),
          fc.constant({ equals: { key: 'tenant', value: 'other' } }),
          fc.constant({ notEquals: { key: 'tenant', value: 'acme' } }),
          fc.constant({ andAll: [{ in: { key: 'groups', value: ['admins'] } }, { lessThan: { key: 'year', value: 9 } }] }),
          fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
        ),
        maxResults: fc.integer({ min: 0, max: 120 }),
        userId: fc.string(),
        tenant: fc.string(),
      },
      { requiredKeys: ['query'] },
    );

    const quiet = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ tenant: claimArb, groups: fc.array(fc.string({ maxLength: 4 }), { maxLength: 4 }), subject: fc.string({ minLength: 1, maxLength: 6 }) }),
        argsArb,
        async (who, args) => {
          current = Object.freeze({
            subject: who.subject,
            issuer: idp.issuer,
            groups: who.groups,
            scopes: [],
            expiresAt: 0,
            claims: { sub: who.subject, ...(who.tenant !== undefined ? { 'custom:tenant': who.tenant } : {}) },
          });
          sent.length = 0;
          await h({ ...args, [CALLER_TOKEN_ARGUMENT]: tok }, CONTEXT);
          const tenantUsable = typeof who.tenant === 'string' && who.tenant.length > 0;
          const groups = [...new Set(who.groups)];
          const groupsUsable = groups.length > 0 && !groups.includes('');
          for (const input of sent) {
            const config = input.retrievalConfiguration;
            if (config.vectorSearchConfiguration.implicitFilterConfiguration !== undefined) return false;
            if (Object.keys(config).join() !== 'vectorSearchConfiguration') return false;
            const members = topLevelMembers(config.vectorSearchConfiguration.filter as RetrievalFilterNode);
            const expectTenant = { equals: { key: 'tenant', value: who.tenant } };
            const expectGroups = groups.length === 1 ? { listContains: { key: 'groups', value: groups[0] } } : { orAll: groups.map((g) => ({ listContains: { key: 'groups', value: g } })) };
            if (JSON.stringify(members[0]) !== JSON.stringify(expectTenant)) return false;
            if (JSON.stringify(members[1]) !== JSON.stringify(expectGroups)) return false;
          }
          // No usable claims → no Retrieve call at all.
          if (!tenantUsable || !groupsUsable) return sent.length === 0;
          return true;
        },
      ),
      { seed: 42, numRuns: 10_000 },
    );
    } finally {
      quiet.mockRestore();
    }
  }, 120_000);
});
