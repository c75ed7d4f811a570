import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import { AgentIdentity, AgentIdentityProps, CallbackTokenSource } from '../../../lib/tools/agent-identity';
import { IncludedOAuth2Vendor, OAuth2Flow, OAuth2ProviderVendor, AgentIdentityProvider } from '../../../lib/tools/oauth-credential-provider';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

const RETURN_URL = 'https://app.example.com/oauth/callback';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ENV = { env: { account: ACCOUNT, region: REGION } };
const arn = (resource: string): string => `arn:aws:bedrock-agentcore:${REGION}:${ACCOUNT}:${resource}`;
const DIRECTORY = arn('workload-identity-directory/default');
const VAULT = arn('token-vault/default');
const provider = (name: string): string => arn(`token-vault/default/oauth2credentialprovider/${name}`);

/** Test scaffolding: a VPC with flow logs, a user pool, an encrypted secret. */
function scaffolding(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  const pool = new cognito.UserPool(stack, 'Pool');
  const client = pool.addClient('App');
  const secret = new secretsmanager.Secret(stack, 'ClientSecrets', { encryptionKey: new kms.Key(stack, 'SecretKey', { enableKeyRotation: true }) });
  return { vpc, identity: CallerIdentity.cognito({ userPool: pool, clients: [client] }), secret };
}

type Res = { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> };

/** Resolves the intrinsics this construct uses in ARNs into plain strings, so that grants compare exactly. */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flat).join(v['Fn::Join'][0]);
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (v.Ref) return `Ref:${v.Ref}`;
  if (v['Fn::GetAtt']) return `GetAtt:${v['Fn::GetAtt'].join('.')}`;
  return JSON.stringify(value);
}

/** action → sorted resources, over every policy attached to a role. */
function grantsOf(template: Template, roleLogicalId: string): Record<string, string[]> {
  const policies = Object.values({ ...template.findResources('AWS::IAM::Policy'), ...template.findResources('AWS::IAM::ManagedPolicy') }) as Res[];
  const out: Record<string, Set<string>> = {};
  for (const p of policies) {
    if (!((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId)) continue;
    for (const st of p.Properties.PolicyDocument.Statement as Array<Record<string, any>>) {
      for (const action of [st.Action].flat() as string[]) {
        out[action] ??= new Set();
        for (const r of [st.Resource].flat()) out[action].add(flat(r));
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([a, r]) => [a, [...r].sort()]));
}

const roleId = (stack: Stack, role: iam.IRole): string => stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
const agentCoreActions = (g: Record<string, string[]>): string[] => Object.keys(g).filter((a) => a.startsWith('bedrock-agentcore:')).sort();
const scaffoldingPath = /\/(Vpc|Pool|ClientSecrets|SecretKey|AgentRole|MachineRole|TrustedRole)\//;

describe('AgentIdentity with two- and three-legged providers', () => {
  let s: Synthesized<{ id: AgentIdentity; agent: iam.Role; machine: iam.Role; m2m: AgentIdentityProvider; github: AgentIdentityProvider; secret: secretsmanager.ISecret }>;
  let resources: Record<string, Res>;
  let tableId: string;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const { vpc, identity, secret } = scaffolding(stack);
      const id = new AgentIdentity(stack, 'AgentIdentity', { identity, allowedReturnUrls: [RETURN_URL], workloadIdentityName: 'support-agent', vpc });
      const agent = new iam.Role(stack, 'AgentRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const machine = new iam.Role(stack, 'MachineRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      // Granted before the providers exist: later providers are covered too.
      id.grantWorkloadTokenForJwt(agent);
      const m2m = id.addClientCredentialsProvider('Inventory', {
        vendor: OAuth2ProviderVendor.custom({ discoveryUrl: 'https://auth.inventory.example.com/.well-known/openid-configuration' }),
        clientId: 'inventory-agent',
        clientSecret: secret,
        clientSecretJsonKey: 'inventory',
        scopes: ['inventory/read'],
        providerName: 'inventory',
      });
      const github = id.addAuthorizationCodeProvider('Github', { vendor: OAuth2ProviderVendor.GITHUB, clientId: 'Iv1.abc', clientSecret: secret, scopes: ['repo', 'read:user'], providerName: 'github' });
      id.addAllowedReturnUrl('https://app.example.com/oauth/callback-2');
      id.grantRecordBinding(agent);
      id.grantWorkloadToken(machine);
      return { id, agent, machine, m2m, github, secret };
    }, ENV);
    resources = s.template.toJSON().Resources;
    tableId = s.stack.getLogicalId(s.built.id.bindingTable!.node.defaultChild as any);
  });

  test('the workload identity has the given name and exactly the allowed return URLs', () => {
    s.template.resourceCountIs('AWS::BedrockAgentCore::WorkloadIdentity', 1);
    s.template.hasResourceProperties('AWS::BedrockAgentCore::WorkloadIdentity', {
      Name: 'support-agent',
      AllowedResourceOauth2ReturnUrls: [RETURN_URL, 'https://app.example.com/oauth/callback-2'],
    });
    expect(s.built.id.workloadIdentityArn).toContain('workload-identity-directory/default/workload-identity/support-agent');
  });

  test('providers reference the client secret in Secrets Manager, never a value', () => {
    const secretId = s.stack.getLogicalId(s.built.secret.node.defaultChild as any);
    s.template.hasResourceProperties('AWS::BedrockAgentCore::OAuth2CredentialProvider', {
      Name: 'inventory',
      CredentialProviderVendor: 'CustomOauth2',
      Oauth2ProviderConfigInput: {
        CustomOauth2ProviderConfig: {
          ClientId: 'inventory-agent',
          ClientSecretSource: 'EXTERNAL',
          ClientSecretConfig: { SecretId: { Ref: secretId }, JsonKey: 'inventory' },
          OauthDiscovery: { DiscoveryUrl: 'https://auth.inventory.example.com/.well-known/openid-configuration' },
        },
      },
    });
    s.template.hasResourceProperties('AWS::BedrockAgentCore::OAuth2CredentialProvider', {
      Name: 'github',
      CredentialProviderVendor: 'GithubOauth2',
      Oauth2ProviderConfigInput: { GithubOauth2ProviderConfig: { ClientId: 'Iv1.abc', ClientSecretSource: 'EXTERNAL', ClientSecretConfig: { SecretId: { Ref: secretId }, JsonKey: 'clientSecret' } } },
    });
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/"ClientSecret"\s*:/);
  });

  test('providers expose their flow, scopes and AgentCore callback URL (to register at the identity provider)', () => {
    expect(s.built.m2m).toEqual(expect.objectContaining({ flow: OAuth2Flow.CLIENT_CREDENTIALS, scopes: ['inventory/read'], providerName: 'inventory' }));
    expect(s.built.github).toEqual(expect.objectContaining({ flow: OAuth2Flow.AUTHORIZATION_CODE, scopes: ['repo', 'read:user'] }));
    expect(s.stack.resolve(s.built.github.callbackUrl)).toEqual({ 'Fn::GetAtt': [s.stack.getLogicalId(s.built.github.resource), 'CallbackUrl'] });
    expect(s.built.id.providers.map((p) => p.providerName)).toEqual(['inventory', 'github']);
  });

  test('a user-facing agent gets tokens only FOR A JWT, on this identity and its providers, and may only record bindings', () => {
    const g = grantsOf(s.template, roleId(s.stack, s.built.agent));
    expect(agentCoreActions(g)).toEqual(['bedrock-agentcore:GetResourceOauth2Token', 'bedrock-agentcore:GetWorkloadAccessTokenForJWT']);
    expect(g['bedrock-agentcore:GetWorkloadAccessTokenForJWT']).toEqual([DIRECTORY, arn('workload-identity-directory/default/workload-identity/support-agent')]);
    expect(g['bedrock-agentcore:GetResourceOauth2Token']).toEqual(
      [VAULT, provider('inventory'), provider('github'), DIRECTORY, arn('workload-identity-directory/default/workload-identity/support-agent')].sort(),
    );
    expect(g['dynamodb:PutItem']).toEqual([`GetAtt:${tableId}.Arn`]);
    expect(Object.keys(g).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:PutItem']);
    expect(g['secretsmanager:GetSecretValue']).toEqual([`Ref:${s.stack.getLogicalId(s.built.secret.node.defaultChild as any)}`]);
  });

  test('the agent acting as itself reaches only the client-credentials providers', () => {
    const g = grantsOf(s.template, roleId(s.stack, s.built.machine));
    expect(agentCoreActions(g)).toEqual(['bedrock-agentcore:GetResourceOauth2Token', 'bedrock-agentcore:GetWorkloadAccessToken']);
    expect(g['bedrock-agentcore:GetResourceOauth2Token']).toContain(provider('inventory'));
    expect(g['bedrock-agentcore:GetResourceOauth2Token']).not.toContain(provider('github'));
  });

  test('no principal can get tokens for a caller-supplied user id', () => {
    expect(JSON.stringify(s.template.toJSON())).not.toContain('GetWorkloadAccessTokenForUserId');
  });

  test('the callback only reads and consumes bindings and completes three-legged sessions', () => {
    const fnRole = (s.built.id.callbackFunction as any).role as iam.IRole;
    const g = grantsOf(s.template, roleId(s.stack, fnRole));
    expect(agentCoreActions(g)).toEqual(['bedrock-agentcore:CompleteResourceTokenAuth']);
    expect(g['bedrock-agentcore:CompleteResourceTokenAuth']).toEqual(
      [VAULT, provider('github'), DIRECTORY, arn('workload-identity-directory/default/workload-identity/support-agent')].sort(),
    );
    expect(Object.keys(g).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(g['dynamodb:GetItem']).toEqual([`GetAtt:${tableId}.Arn`]);
    const keyId = s.stack.getLogicalId(s.built.id.bindingTableKey!.node.defaultChild as any);
    const keyStatements = Object.values(s.template.findResources('AWS::IAM::ManagedPolicy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => JSON.stringify(st.Resource) === JSON.stringify({ 'Fn::GetAtt': [keyId, 'Arn'] }));
    expect(keyStatements).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.us-east-1.', { Ref: 'AWS::URLSuffix' }]] } } },
      }),
    ]);
  });

  test('the binding table: on demand, customer-managed KMS key with rotation, point-in-time recovery, TTL', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'stateHash', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    const keyId = s.stack.getLogicalId(s.built.id.bindingTableKey!.node.defaultChild as any);
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
  });

  test('the callback function is configured from the construct and runs in the VPC', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('3LO'),
      VpcConfig: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          OAUTH_BINDING_TABLE: { Ref: tableId },
          OAUTH_TOKEN_SOURCE: 'AUTHORIZATION_HEADER',
          OAUTH_STATE_PARAMETER: 'state',
          OAUTH_SESSION_PARAMETER: 'session_id',
          OAUTH_TIMEOUT_MS: '5000',
          CAD_IDENTITY_CONFIG: Match.anyValue(),
        }),
      },
    });
    // No unauthenticated function URL: the callback is put behind the application's own front door.
    s.template.resourceCountIs('AWS::Lambda::Url', 0);
  });

  test('cdk-nag: no unsuppressed findings', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => scaffoldingPath.test(`/${r}/`)))).toEqual([]);
  });

  test('cfn-lint: no errors (the Secrets Manager reference newer than its schema is acknowledged per resource)', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agent-identity-')), 'template.json');
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).errors).toEqual([]);
    const provider1 = Object.values(resources).find((r) => r.Type === 'AWS::BedrockAgentCore::OAuth2CredentialProvider')!;
    expect(provider1.Metadata).toEqual({ 'cfn-lint': { config: { ignore_checks: ['E3002', 'E3003'] } } });
  });
});

describe('AgentIdentity for client credentials only, and the unsafe opt-in', () => {
  let s: Synthesized<{ id: AgentIdentity; trusted: iam.Role }>;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const { secret } = scaffolding(stack);
      const id = new AgentIdentity(stack, 'Machine');
      id.addClientCredentialsProvider('Okta', {
        vendor: OAuth2ProviderVendor.included(IncludedOAuth2Vendor.OKTA, { issuer: 'https://acme.okta.com/oauth2/default', tokenEndpoint: 'https://acme.okta.com/oauth2/default/v1/token' }),
        clientId: 'svc',
        clientSecret: secret,
        scopes: ['api.read'],
      });
      const trusted = new iam.Role(stack, 'TrustedRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      id.unsafeGrantTokenForUserId(trusted);
      return { id, trusted };
    }, ENV);
  });

  test('creates no callback, table or return URLs without identity', () => {
    expect(s.built.id.callbackFunction).toBeUndefined();
    expect(s.built.id.bindingTable).toBeUndefined();
    s.template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(Object.keys(s.template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('3LO') } }))).toEqual([]);
    const wi = Object.values(s.template.findResources('AWS::BedrockAgentCore::WorkloadIdentity'))[0] as Res;
    expect(wi.Properties.AllowedResourceOauth2ReturnUrls).toBeUndefined();
    expect(wi.Properties.Name).toMatch(/^[A-Za-z0-9_.-]{3,48}$/);
  });

  test('included vendors carry the tenant endpoints and the secret reference', () => {
    s.template.hasResourceProperties('AWS::BedrockAgentCore::OAuth2CredentialProvider', {
      CredentialProviderVendor: 'OktaOauth2',
      Oauth2ProviderConfigInput: {
        IncludedOauth2ProviderConfig: {
          ClientId: 'svc',
          ClientSecretSource: 'EXTERNAL',
          ClientSecretConfig: Match.objectLike({ JsonKey: 'clientSecret' }),
          Issuer: 'https://acme.okta.com/oauth2/default',
          TokenEndpoint: 'https://acme.okta.com/oauth2/default/v1/token',
        },
      },
    });
  });

  test('unsafeGrantTokenForUserId grants exactly the by-user-id token and warns at synth', () => {
    const g = grantsOf(s.template, roleId(s.stack, s.built.trusted));
    expect(agentCoreActions(g)).toEqual(['bedrock-agentcore:GetResourceOauth2Token', 'bedrock-agentcore:GetWorkloadAccessTokenForUserId']);
    Annotations.fromStack(s.stack).hasWarning('/TestStack/Machine', Match.stringLikeRegexp('any user'));
  });

  test('cdk-nag: no unsuppressed findings', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => scaffoldingPath.test(`/${r}/`)))).toEqual([]);
  });
});

describe('AgentIdentity fails at synth on invalid props', () => {
  function build(props: (stack: Stack) => AgentIdentityProps): () => AgentIdentity {
    return () => {
      const stack = testStack(ENV);
      return new AgentIdentity(stack, 'Id', props(stack));
    };
  }
  const identity = (stack: Stack) => scaffolding(stack).identity;

  test.each<[string, (stack: Stack) => AgentIdentityProps, RegExp]>([
    ['a workload name with spaces', () => ({ workloadIdentityName: 'my agent' }), /workloadIdentityName is "my agent"/],
    ['a too short workload name', () => ({ workloadIdentityName: 'ab' }), /workloadIdentityName is "ab"/],
    ['a wildcard return URL', () => ({ allowedReturnUrls: ['https://*.example.com/cb'] }), /allowedReturnUrls\[0\] is "https:\/\/\*\.example\.com\/cb"; allowed: an exact https URL/],
    ['an http return URL', () => ({ allowedReturnUrls: ['http://app.example.com/cb'] }), /allowedReturnUrls\[0\] is "http:/],
    ['a return URL with a query', () => ({ allowedReturnUrls: ['https://app.example.com/cb?next=/'] }), /allowedReturnUrls\[0\]/],
    ['a duplicated return URL', () => ({ allowedReturnUrls: [RETURN_URL, RETURN_URL] }), /lists "https:\/\/app\.example\.com\/oauth\/callback" twice/],
    ['COOKIE without a cookie name', (st) => ({ identity: identity(st), callbackTokenSource: CallbackTokenSource.COOKIE }), /callbackTokenCookieName is not set/],
    ['a cookie name without COOKIE', (st) => ({ identity: identity(st), callbackTokenCookieName: 'id' }), /callbackTokenCookieName is set but callbackTokenSource is AUTHORIZATION_HEADER/],
    ['a malformed cookie name', (st) => ({ identity: identity(st), callbackTokenSource: CallbackTokenSource.COOKIE, callbackTokenCookieName: 'my cookie' }), /callbackTokenCookieName is "my cookie"/],
    ['the same name for state and session', (st) => ({ identity: identity(st), callbackStateParameter: 'sid', callbackSessionParameter: 'sid' }), /both "sid"/],
    ['a completion URL that is not https', (st) => ({ identity: identity(st), completionRedirectUrl: 'http://app.example.com/done' }), /completionRedirectUrl is "http:/],
    ['callback settings without identity', () => ({ completionRedirectUrl: 'https://app.example.com/done' }), /completionRedirectUrl configure the 3LO callback, which exists only with identity/],
  ])('fails with %s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('fails to add a three-legged provider without identity (no callback to bind the user)', () => {
    const stack = testStack(ENV);
    const { secret } = scaffolding(stack);
    const id = new AgentIdentity(stack, 'Id', { allowedReturnUrls: [RETURN_URL] });
    expect(() => id.addAuthorizationCodeProvider('Github', { vendor: OAuth2ProviderVendor.GITHUB, clientId: 'x', clientSecret: secret, scopes: ['repo'] })).toThrow(/needs props.identity/);
    expect(() => id.grantRecordBinding(new iam.Role(stack, 'AgentRole', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(/needs props.identity/);
  });

  test('fails at synth when three-legged providers have no return URL', () => {
    const stack = testStack(ENV);
    const { secret, identity: who } = scaffolding(stack);
    const id = new AgentIdentity(stack, 'Id', { identity: who });
    id.addAuthorizationCodeProvider('Github', { vendor: OAuth2ProviderVendor.GITHUB, clientId: 'x', clientSecret: secret, scopes: ['repo'] });
    expect(() => Template.fromStack(stack)).toThrow(/need at least one allowed return URL/);
  });

  test.each<[string, () => unknown, RegExp]>([
    ['no scopes', () => ({ scopes: [] }), /scopes is empty/],
    ['a scope with a space', () => ({ scopes: ['read write'] }), /scopes has "read write"/],
    ['a duplicated scope', () => ({ scopes: ['a', 'a'] }), /lists a scope twice/],
    ['a provider name with a dot', () => ({ providerName: 'git.hub' }), /providerName is "git.hub"/],
    ['a client id with spaces', () => ({ clientId: 'my client' }), /clientId is "my client"/],
  ])('fails to add a provider with %s', (_name, overrides, message) => {
    const stack = testStack(ENV);
    const { secret } = scaffolding(stack);
    const id = new AgentIdentity(stack, 'Id');
    expect(() =>
      id.addClientCredentialsProvider('P', { vendor: OAuth2ProviderVendor.GOOGLE, clientId: 'client', clientSecret: secret, scopes: ['read'], ...(overrides() as object) }),
    ).toThrow(message);
  });

  test('fails to reuse a provider name, and on invalid vendor settings', () => {
    const stack = testStack(ENV);
    const { secret } = scaffolding(stack);
    const id = new AgentIdentity(stack, 'Id');
    id.addClientCredentialsProvider('A', { vendor: OAuth2ProviderVendor.SLACK, clientId: 'c', clientSecret: secret, scopes: ['s'], providerName: 'same' });
    expect(() => id.addClientCredentialsProvider('B', { vendor: OAuth2ProviderVendor.SLACK, clientId: 'c', clientSecret: secret, scopes: ['s'], providerName: 'same' })).toThrow(/already used/);
    expect(() => OAuth2ProviderVendor.custom({ discoveryUrl: 'https://idp.example.com/openid' })).toThrow(/ending in \/\.well-known\/openid-configuration/);
    expect(() => OAuth2ProviderVendor.custom({ issuer: 'https://idp.example.com' })).toThrow(/neither discoveryUrl nor all of/);
    expect(() => OAuth2ProviderVendor.custom({ discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration', issuer: 'https://idp.example.com' })).toThrow(/both set/);
    expect(() => OAuth2ProviderVendor.included(IncludedOAuth2Vendor.AUTH0, { tokenEndpoint: 'http://acme.auth0.com/oauth/token' })).toThrow(/tokenEndpoint is "http:/);
    expect(() => OAuth2ProviderVendor.microsoft('bad tenant')).toThrow(/tenantId is "bad tenant"/);
  });
});
