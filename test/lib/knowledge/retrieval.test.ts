import * as fs from 'fs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KNOWLEDGE_CONFIG_ENV_VAR, parseKnowledgeConfig } from '../../../lambda/knowledge-retriever/config';
import { KNOWLEDGE_TOOL_DEFINITIONS } from '../../../lambda/knowledge-retriever/tools';
import { IDENTITY_ENV_VAR, identityConfigFromEnv } from '../../../lambda/shared/identity-env';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import {
  AccessGrantsAuthorizer,
  AccessGrantsCheckMode,
  AccessGrantsIdentity,
  IdentityCondition,
  KnowledgeRetriever,
  KnowledgeRouter,
  MetadataContract,
  MetadataField,
  RetrievalFilterPolicy,
  SecureKnowledgeBase,
  StaticCondition,
} from '../../../lib/knowledge';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

const APP_ARN = 'arn:aws:sso::123456789012:application/ssoins-1234567890abcdef/apl-1234567890abcdef';
const IDC_INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const DIRECTORY_GROUP = 'a1b2c3d4-5678-90ab-cdef-111111111111';

function contract(): MetadataContract {
  return MetadataContract.of([
    MetadataField.string('tenant'),
    MetadataField.stringList('groups'),
    MetadataField.string('classification', { allowedValues: ['public', 'internal', 'confidential'] }),
    MetadataField.number('year', { integer: true }),
  ]);
}

function policy(): RetrievalFilterPolicy {
  return new RetrievalFilterPolicy({
    identityConditions: [
      IdentityCondition.claimEquals('tenant', 'custom:tenant'),
      IdentityCondition.groupsContain('groups'),
      IdentityCondition.numberAtMost('year', 'custom:clearance_year'),
    ],
    staticConditions: [StaticCondition.stringIn('classification', ['public', 'internal'])],
  });
}

function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

function identity(stack: Stack): CallerIdentity {
  const pool = new cognito.UserPool(stack, 'Users', { passwordPolicy: { minLength: 12 }, mfa: cognito.Mfa.REQUIRED, mfaSecondFactor: { sms: false, otp: true } });
  return CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('App')] });
}

/** Replaces every CloudFormation token in a resolved value with a plausible concrete value, then joins it. */
function materialize(value: unknown, template: Record<string, any>): string {
  const resources = template.Resources;
  const tokenValue = (t: any): string => {
    if (t.Ref === 'AWS::AccountId') return '123456789012';
    if (t.Ref === 'AWS::Region') return 'us-east-1';
    if (t.Ref === 'AWS::Partition') return 'aws';
    if (t.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (t.Ref) {
      const type = resources[t.Ref]?.Type;
      if (type === 'AWS::Cognito::UserPool') return 'us-east-1_AbCd1234';
      if (type === 'AWS::Cognito::UserPoolClient') return 'client0123456789';
      if (type === 'AWS::S3::Bucket') return `bucket-${t.Ref.toLowerCase().slice(0, 20)}`;
      return t.Ref;
    }
    const [id, attr] = t['Fn::GetAtt'];
    if (attr === 'KnowledgeBaseId') return `KB${id.replace(/[^A-Z0-9]/g, '').slice(-8).padStart(8, '0')}`;
    if (attr === 'Arn' && resources[id].Type === 'AWS::IAM::Role') return `arn:aws:iam::123456789012:role/${id}`;
    if (attr === 'AccessGrantsInstanceArn') return 'arn:aws:s3:us-east-1:123456789012:access-grants/default';
    return `${id}.${attr}`;
  };
  const render = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
    return tokenValue(v);
  };
  return render(value);
}

function fnEnv(s: Synthesized<unknown>, fn: lambda.IFunction): Record<string, any> {
  return s.template.toJSON().Resources[s.stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment.Variables;
}

function policyStatementsOf(s: Synthesized<unknown>, role: iam.IRole): any[] {
  const roleId = s.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  return Object.values(s.template.findResources('AWS::IAM::ManagedPolicy'))
    .map((r: any) => r.Properties)
    .filter((p: any) => p.Roles.some((x: any) => x.Ref === roleId))
    .flatMap((p: any) => p.PolicyDocument.Statement);
}

describe('KnowledgeRetriever on one knowledge base, with group-role Access Grants', () => {
  let s: Synthesized<{ kb: SecureKnowledgeBase; grants: AccessGrantsAuthorizer; retriever: KnowledgeRetriever }>;
  let ids: Record<string, string>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const vpc = isolatedVpc(stack);
      const kb = new SecureKnowledgeBase(stack, 'Kb', { vpc, metadataContract: contract() });
      const grants = new AccessGrantsAuthorizer(stack, 'Grants', { identity: AccessGrantsIdentity.groupRoles() });
      const location = grants.addKnowledgeBaseLocation('Docs', kb);
      grants.grantGroupRead('finance', location, 'finance/');
      const retriever = new KnowledgeRetriever(stack, 'Retriever', { identity: identity(stack), knowledgeBase: kb, filterPolicy: policy(), accessGrants: grants, vpc });
      // A group added after the retriever is authorized gets the same trust and permissions.
      grants.grantGroupRead('hr', location, 'hr/');
      return { kb, grants, retriever };
    });
    const r = s.built;
    ids = {
      instance: s.stack.getLogicalId(r.grants.instance!),
      retrieverRole: s.stack.getLogicalId((r.retriever.function.role as iam.Role).node.defaultChild as iam.CfnRole),
      kb: s.stack.getLogicalId(r.kb.knowledgeBase),
      bucket: s.stack.getLogicalId(r.kb.documentsBucket.node.defaultChild as any),
      financeRole: s.stack.getLogicalId(r.grants.roleForGroup('finance').node.defaultChild as iam.CfnRole),
      hrRole: s.stack.getLogicalId(r.grants.roleForGroup('hr').node.defaultChild as iam.CfnRole),
    };
  });

  test('serves search_knowledge and shares its tool definitions with the handler', () => {
    expect(s.built.retriever.toolDefinitions).toEqual(KNOWLEDGE_TOOL_DEFINITIONS);
    expect(s.built.retriever.toolDefinitions[0].name).toBe('search_knowledge');
  });

  test('the retriever role can Retrieve and assume the group roles, and has no Access Grants or generation action of its own', () => {
    const statements = policyStatementsOf(s, s.built.retriever.function.role!);
    expect(statements).toContainEqual({ Action: 'bedrock:Retrieve', Effect: 'Allow', Resource: { 'Fn::GetAtt': [ids.kb, 'KnowledgeBaseArn'] } });
    const assume = statements.find((st) => JSON.stringify(st.Action) === JSON.stringify(['sts:AssumeRole', 'sts:TagSession']));
    expect([assume.Resource].flat().map((r: any) => r['Fn::GetAtt'][0]).sort()).toEqual([ids.financeRole, ids.hrRole].sort());
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).not.toEqual(expect.arrayContaining(['s3:GetDataAccess']));
    expect(actions.filter((a) => /s3:GetDataAccess|s3:ListCallerAccessGrants|RetrieveAndGenerate|bedrock:InvokeModel|s3:GetObject/.test(a))).toEqual([]);
  });

  test('group roles trust only the retriever, only with a subject session tag, and may only ask Access Grants about themselves', () => {
    const roles = s.template.toJSON().Resources;
    for (const id of [ids.financeRole, ids.hrRole]) {
      expect(roles[id].Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
          Condition: { ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.retrieverRole, 'Arn'] }] }, Null: { 'aws:RequestTag/cad-subject': 'false' } },
        },
      ]);
    }
    const finance = policyStatementsOf(s, s.built.grants.roleForGroup('finance'));
    expect(finance).toEqual([{ Action: ['s3:GetDataAccess', 's3:ListCallerAccessGrants'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [ids.instance, 'AccessGrantsInstanceArn'] } }]);
  });

  test('provisions an instance, a read-only location on the published prefix, and READ grants on folders', () => {
    s.template.resourceCountIs('AWS::S3::AccessGrantsInstance', 1);
    const location = Object.values(s.template.findResources('AWS::S3::AccessGrantsLocation'))[0] as any;
    expect(location.Properties.LocationScope).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: ids.bucket }, '/published/']] });
    expect(location.DependsOn).toContain(ids.instance);
    const grants = Object.values(s.template.findResources('AWS::S3::AccessGrant')).map((g: any) => g.Properties);
    expect(grants).toEqual([
      expect.objectContaining({ Permission: 'READ', Grantee: { GranteeType: 'IAM', GranteeIdentifier: { 'Fn::GetAtt': [ids.financeRole, 'Arn'] } }, AccessGrantsLocationConfiguration: { S3SubPrefix: 'finance/*' } }),
      expect.objectContaining({ Permission: 'READ', Grantee: { GranteeType: 'IAM', GranteeIdentifier: { 'Fn::GetAtt': [ids.hrRole, 'Arn'] } }, AccessGrantsLocationConfiguration: { S3SubPrefix: 'hr/*' } }),
    ]);
    const locationRoleId = location.Properties.IamRoleArn['Fn::GetAtt'][0];
    const trust = s.template.toJSON().Resources[locationRoleId].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.map((st: any) => st.Action)).toEqual([['sts:AssumeRole', 'sts:SetContext', 'sts:SetSourceIdentity']]);
    for (const st of trust) {
      expect(st).toMatchObject({ Principal: { Service: 'access-grants.s3.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.instance, 'AccessGrantsInstanceArn'] } } } });
    }
    const locationPolicy = Object.values(s.template.findResources('AWS::IAM::ManagedPolicy')).map((p: any) => p.Properties).find((p: any) => p.Roles[0].Ref === locationRoleId).PolicyDocument.Statement;
    expect(locationPolicy.map((st: any) => st.Action)).toEqual([['s3:GetObject', 's3:GetObjectVersion'], 's3:ListBucket', 'kms:Decrypt']);
  });

  test('the environment carries a configuration the handler accepts, with the identity filter and the grants', () => {
    const env = fnEnv(s, s.built.retriever.function);
    const template = s.template.toJSON();
    const config = parseKnowledgeConfig(JSON.parse(materialize(env[KNOWLEDGE_CONFIG_ENV_VAR], template)));
    expect(config.filterPolicy.identityConditions).toEqual([
      { kind: 'CLAIM_EQUALS', key: 'tenant', claim: 'custom:tenant', valueType: 'STRING' },
      { kind: 'GROUPS_CONTAIN', key: 'groups' },
      { kind: 'NUMBER_AT_MOST', key: 'year', claim: 'custom:clearance_year' },
    ]);
    expect(config.filterPolicy.staticConditions).toEqual([{ operator: 'in', key: 'classification', value: ['public', 'internal'] }]);
    expect(config.routing.routes).toBeUndefined();
    expect(config.routing.knowledgeBases[0].sourceScopes[0]).toMatch(/^s3:\/\/bucket-[a-z0-9]+\/published\/\*$/);
    expect(config.grants).toMatchObject({ identityMode: 'GROUP_ROLES', checkMode: 'LIST_CALLER_GRANTS', revocationWindowMs: 300_000, accountId: '123456789012' });
    expect(config.grants!.groupRoles.map((g) => g.group)).toEqual(['finance', 'hr']);
    expect(config.timeoutMs).toBe(27_000);
    expect(config.returnedMetadataKeys).toEqual(['tenant', 'groups', 'classification', 'year']);
    expect(identityConfigFromEnv({ [IDENTITY_ENV_VAR]: materialize(env[IDENTITY_ENV_VAR], template) })).toMatchObject({ tokenUse: 'access', issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCd1234' });
  });

  test('cdk-nag finds nothing unsuppressed', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => /\/(Vpc|Users)\//.test(`/${r}`)))).toEqual([]);
  });

  test('cfn-lint accepts the template', () => {
    const file = '/tmp/cad-knowledge-retriever.template.json';
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).errors).toEqual([]);
  });
});

describe('KnowledgeRetriever with a router and Identity Center sessions', () => {
  let s: Synthesized<{ retriever: KnowledgeRetriever; grants: AccessGrantsAuthorizer; router: KnowledgeRouter }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const finance = new SecureKnowledgeBase(stack, 'FinanceKb', { metadataContract: contract() });
      const hr = SecureKnowledgeBase.fromKnowledgeBaseAttributes(stack, 'HrKb', { knowledgeBaseId: 'KBHR000000', metadataContract: contract(), sourceScopes: ['s3://hr-documents/published/*'] });
      const router = new KnowledgeRouter(stack, 'Router', { maxKnowledgeBasesPerRequest: 2 });
      router.routeGroup('finance', finance);
      router.routeGroup('hr', hr);
      router.routeSubject('alice-sub', hr);
      const grants = new AccessGrantsAuthorizer(stack, 'Grants', {
        identity: AccessGrantsIdentity.identityCenter({ identityCenterInstanceArn: IDC_INSTANCE, applicationArn: APP_ARN }),
        existingInstanceArn: 'arn:aws:s3:us-east-1:123456789012:access-grants/default',
        checkMode: AccessGrantsCheckMode.GET_DATA_ACCESS,
        revocationWindow: Duration.minutes(1),
      });
      grants.grantDirectoryGroupRead(DIRECTORY_GROUP, grants.addKnowledgeBaseLocation('Finance', finance), 'q1/');
      const retriever = new KnowledgeRetriever(stack, 'Retriever', { identity: identity(stack), router, filterPolicy: policy(), accessGrants: grants, defaultResults: 8 });
      return { retriever, grants, router };
    });
  });

  test('adopts the existing instance and binds directory grants to the application', () => {
    s.template.resourceCountIs('AWS::S3::AccessGrantsInstance', 0);
    s.template.hasResourceProperties('AWS::S3::AccessGrant', { Grantee: { GranteeType: 'DIRECTORY_GROUP', GranteeIdentifier: DIRECTORY_GROUP }, ApplicationArn: APP_ARN, Permission: 'READ', AccessGrantsLocationConfiguration: { S3SubPrefix: 'q1/*' } });
  });

  test('the retriever exchanges tokens with the application and assumes the bearer role with the identity context only', () => {
    const statements = policyStatementsOf(s, s.built.retriever.function.role!);
    const bearer = s.stack.getLogicalId(s.built.grants.identityBearerRole!.node.defaultChild as iam.CfnRole);
    expect(statements).toContainEqual({ Action: ['sts:AssumeRole', 'sts:SetContext'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [bearer, 'Arn'] } });
    expect(statements).toContainEqual({ Action: 'sso-oauth:CreateTokenWithIAM', Effect: 'Allow', Resource: APP_ARN });
    expect(statements.filter((st) => [st.Action].flat().includes('bedrock:Retrieve')).flatMap((st) => [st.Resource].flat())).toHaveLength(2);
    const trust = s.template.toJSON().Resources[bearer].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.map((st: any) => st.Action)).toEqual(['sts:AssumeRole', 'sts:SetContext']);
    for (const st of trust) expect(st.Condition.ArnEquals['aws:PrincipalArn']).toEqual([{ 'Fn::GetAtt': [s.stack.getLogicalId((s.built.retriever.function.role as iam.Role).node.defaultChild as iam.CfnRole), 'Arn'] }]);
  });

  test('routes from verified groups and subjects, with the Identity Center settings', () => {
    const env = fnEnv(s, s.built.retriever.function);
    const config = parseKnowledgeConfig(JSON.parse(materialize(env[KNOWLEDGE_CONFIG_ENV_VAR], s.template.toJSON())));
    expect(config.routing.knowledgeBases.map((k) => k.id)).toEqual([expect.stringMatching(/^KB/), 'KBHR000000']);
    expect(config.routing.routes).toEqual([
      { kind: 'GROUP', value: 'finance', knowledgeBase: 0 },
      { kind: 'GROUP', value: 'hr', knowledgeBase: 1 },
      { kind: 'SUBJECT', value: 'alice-sub', knowledgeBase: 1 },
    ]);
    expect(config.routing.maxKnowledgeBasesPerRequest).toBe(2);
    expect(config.grants).toMatchObject({ identityMode: 'IDENTITY_CENTER', checkMode: 'GET_DATA_ACCESS', revocationWindowMs: 60_000, identityCenter: { applicationArn: APP_ARN } });
    expect(config.defaultResults).toBe(8);
  });

  test('cdk-nag finds nothing unsuppressed except what the test chose (no VPC)', () => {
    const findings = nagFindings(s.stack).filter((f) => !f.resources.every((r) => /\/(Users)\//.test(`/${r}`)));
    expect(findings.every((f) => /LambdaInsideVPC/.test(f.rule))).toBe(true);
  });

  test('cfn-lint accepts the template', () => {
    const file = '/tmp/cad-knowledge-router.template.json';
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).errors).toEqual([]);
  });
});

describe('metadata-filter-only mode', () => {
  test('is explicit and writes no grants configuration', () => {
    const stack = testStack();
    const kb = new SecureKnowledgeBase(stack, 'Kb', { metadataContract: contract() });
    const retriever = new KnowledgeRetriever(stack, 'Retriever', { identity: identity(stack), knowledgeBase: kb, filterPolicy: policy(), unsafeMetadataFilterOnly: true });
    const t = Template.fromStack(stack);
    const fn = t.toJSON().Resources[stack.getLogicalId(retriever.function.node.defaultChild as lambda.CfnFunction)].Properties;
    const config = parseKnowledgeConfig(JSON.parse(materialize(fn.Environment.Variables[KNOWLEDGE_CONFIG_ENV_VAR], t.toJSON())));
    expect(config.grants).toBeUndefined();
    expect(config.unsafeMetadataFilterOnly).toBe(true);
  });
});

describe('validation', () => {
  const build = (patch: (stack: Stack, kb: SecureKnowledgeBase) => Partial<ConstructorParameters<typeof KnowledgeRetriever>[2]>) => () => {
    const stack = testStack();
    const kb = new SecureKnowledgeBase(stack, 'Kb', { metadataContract: contract() });
    new KnowledgeRetriever(stack, 'Retriever', { identity: identity(stack), knowledgeBase: kb, filterPolicy: policy(), unsafeMetadataFilterOnly: true, ...patch(stack, kb) });
  };

  test.each<[string, () => unknown, RegExp]>([
    ['a policy key the contract does not declare', build(() => ({ filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.claimEquals('department', 'dept')] }) })), /metadata key "department", which the metadata contract does not declare/],
    ['a numeric bound on a string key', build(() => ({ filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.numberAtMost('tenant', 'x')] }) })), /NUMBER_AT_MOST on "tenant" needs a NUMBER key; the contract declares STRING/],
    ['groups on a scalar key', build(() => ({ filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.groupsContain('tenant')] }) })), /GROUPS_CONTAIN on "tenant" needs a STRING_LIST key/],
    ['a static condition of the wrong type', build(() => ({ filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.subjectEquals('tenant')], staticConditions: [StaticCondition.numberAtMost('tenant', 3)] }) })), /static condition on "tenant" needs a NUMBER key/],
    ['no access grants and no explicit opt-out', build(() => ({ unsafeMetadataFilterOnly: undefined })), /accessGrants is not set/],
    ['both a knowledge base and a router', build((stack, kb) => {
      const router = new KnowledgeRouter(stack, 'R');
      router.routeGroup('g', kb);
      return { router };
    }), /set exactly one of knowledgeBase and router/],
    ['a timeout of 2 seconds', build(() => ({ timeout: Duration.seconds(2) })), /timeout \(seconds\) is 2/],
    ['101 default results', build(() => ({ defaultResults: 101 })), /defaultResults is 101/],
    ['a policy without identity conditions', () => new RetrievalFilterPolicy({ identityConditions: [] }), /an identity filter is never optional/],
    ['a claim name with spaces', () => IdentityCondition.claimEquals('tenant', 'my claim'), /claim "my claim" is not a claim name/],
    ['an empty static list', () => StaticCondition.stringIn('classification', []), /1 to 100 non-empty strings/],
    ['a revocation window of 20 minutes', () => new AccessGrantsAuthorizer(testStack(), 'G', { identity: AccessGrantsIdentity.groupRoles(), revocationWindow: Duration.minutes(20) }), /revocationWindow \(seconds\) is 1200/],
    ['a malformed instance ARN', () => new AccessGrantsAuthorizer(testStack(), 'G', { identity: AccessGrantsIdentity.groupRoles(), existingInstanceArn: 'arn:aws:s3:::bucket' }), /existingInstanceArn is "arn:aws:s3:::bucket"/],
    ['a bad Identity Center application', () => AccessGrantsIdentity.identityCenter({ identityCenterInstanceArn: IDC_INSTANCE, applicationArn: 'app' }), /applicationArn is "app"/],
  ])('fails with %s', (_n, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('fails with grant sub-prefixes that are not whole folders, and with grants of the other identity mode', () => {
    const stack = testStack();
    const kb = new SecureKnowledgeBase(stack, 'Kb', { metadataContract: contract() });
    const groups = new AccessGrantsAuthorizer(stack, 'G', { identity: AccessGrantsIdentity.groupRoles() });
    const location = groups.addKnowledgeBaseLocation('Docs', kb);
    expect(() => groups.grantGroupRead('finance', location, 'finance')).toThrow(/subPrefix is "finance"; allowed: a key prefix ending with "\/"/);
    expect(() => groups.grantGroupRead('finance', location, 'fin*/')).toThrow(/subPrefix is "fin\*\/"/);
    expect(() => groups.grantDirectoryGroupRead(DIRECTORY_GROUP, location)).toThrow(/only in IDENTITY_CENTER identity mode/);
    expect(() => groups.addLocation('Bad', { bucket: kb.documentsBucket, prefix: 'published' })).toThrow(/prefix is "published"/);
    const idc = new AccessGrantsAuthorizer(stack, 'I', { identity: AccessGrantsIdentity.identityCenter({ identityCenterInstanceArn: IDC_INSTANCE, applicationArn: APP_ARN }) });
    expect(() => idc.roleForGroup('finance')).toThrow(/only in GROUP_ROLES identity mode/);
    expect(() => idc.grantDirectoryUserRead('not-a-uuid', location)).toThrow(/identity store id is "not-a-uuid"/);
  });

  test('fails at synth when no principal is authorized to use an authorizer, or a router has no route', () => {
    const stack = testStack();
    new AccessGrantsAuthorizer(stack, 'G', { identity: AccessGrantsIdentity.groupRoles() });
    new KnowledgeRouter(stack, 'R');
    expect(() => Template.fromStack(stack)).toThrow(/no principal may use it[\s\S]*KnowledgeRouter: no route/);
  });

  test('fails at synth when a new knowledge base is routed after the retriever was created', () => {
    const stack = testStack();
    const kb = SecureKnowledgeBase.fromKnowledgeBaseAttributes(stack, 'Kb', { knowledgeBaseId: 'KB12345678', metadataContract: contract(), sourceScopes: ['s3://docs-bucket/p/*'] });
    const late = SecureKnowledgeBase.fromKnowledgeBaseAttributes(stack, 'Late', { knowledgeBaseId: 'KB87654321', metadataContract: contract(), sourceScopes: ['s3://late-bucket/p/*'] });
    const router = new KnowledgeRouter(stack, 'R');
    router.routeGroup('finance', kb);
    new KnowledgeRetriever(stack, 'Retriever', { identity: identity(stack), router, filterPolicy: policy(), unsafeMetadataFilterOnly: true });
    router.routeGroup('finance-archive', kb);
    router.routeGroup('late', late);
    expect(() => Template.fromStack(stack)).toThrow(/Late was routed after the retriever was created/);
  });

  test('fails when a group is routed twice or a name is reserved', () => {
    const stack = testStack();
    const kb = SecureKnowledgeBase.fromKnowledgeBaseAttributes(stack, 'Kb', { knowledgeBaseId: 'KB12345678', metadataContract: contract(), sourceScopes: ['s3://docs-bucket/p/*'] });
    const router = new KnowledgeRouter(stack, 'R');
    router.routeGroup('finance', kb);
    expect(() => router.routeGroup('finance', kb)).toThrow(/group "finance" is already routed/);
    expect(() => router.routeGroup('__proto__', kb)).toThrow(/"__proto__" is reserved/);
    expect(() => new KnowledgeRouter(stack, 'R2', { maxKnowledgeBasesPerRequest: 11 })).toThrow(/maxKnowledgeBasesPerRequest is 11/);
  });
});
