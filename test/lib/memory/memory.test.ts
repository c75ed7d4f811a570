import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { deriveActorSegment } from '../../../lambda/memory-broker/namespaces';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import { AiGuardrail } from '../../../lib/guardrails/ai-guardrail';
import {
  IsolatedMemory,
  IsolatedMemoryPerms,
  MemoryBroker,
  MemoryInsight,
  MemoryScopeValue,
  SharedMemoryWrites,
} from '../../../lib/memory';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

/** Test scaffolding around the constructs: a VPC with flow logs, a user pool, roles that receive grants. */
const SCAFFOLDING = /\/(Vpc|Pool|AppRole|FixedRole|DeleteRole)\//;

function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

function cognitoIdentity(stack: Stack): CallerIdentity {
  const pool = new cognito.UserPool(stack, 'Pool');
  return CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('Client')] });
}

function resourcesOf(template: Template, type: string): Array<[string, { Properties: Record<string, any> }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties: Record<string, any> }]>;
}

/** Every statement of every IAM policy (inline or customer-managed) attached to a role (by the role's logical id). */
function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, any>> {
  return [...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | iam.IRole): string {
  const child = (construct as iam.Role).node.defaultChild as iam.CfnRole;
  return stack.getLogicalId(child);
}

const actionsOf = (s: Record<string, any>): string[] => [s.Action].flat();
const memoryStatements = (statements: Array<Record<string, any>>) => statements.filter((s) => actionsOf(s).some((a) => a.startsWith('bedrock-agentcore:')));
/** `Fn::GetAtt` of the one memory's ARN (its logical id is the same in every scenario: Memory/Resource). */
const MEMORY_ARN = { 'Fn::GetAtt': ['MemoryMemoryC26DD17A', 'MemoryArn'] };
const ACTOR_PATTERN = `a-${'?'.repeat(64)}`;

describe('IsolatedMemory and MemoryBroker: defaults', () => {
  let s: Synthesized<{ memory: IsolatedMemory; broker: MemoryBroker; app: iam.Role; fixed: iam.Role; deleter: iam.Role }>;
  const alice = deriveActorSegment('https://idp.example.test', 'alice');

  beforeAll(() => {
    s = synthOnce((stack) => {
      const memory = new IsolatedMemory(stack, 'Memory');
      const broker = new MemoryBroker(stack, 'Broker', { memory, identity: cognitoIdentity(stack), vpc: isolatedVpc(stack) });
      const app = new iam.Role(stack, 'AppRole', { assumedBy: new iam.AccountRootPrincipal() });
      memory.grantActorScopedRead(app, { actor: MemoryScopeValue.fromPrincipalTag('memoryActor') });
      memory.grantActorScopedWrite(app, { actor: MemoryScopeValue.fromPrincipalTag('memoryActor') });
      const fixed = new iam.Role(stack, 'FixedRole', { assumedBy: new iam.AccountRootPrincipal() });
      memory.grantActorScopedRead(fixed, { actor: MemoryScopeValue.fixed(alice), tenant: MemoryScopeValue.fixed('acme'), session: MemoryScopeValue.fixed('chat-1') });
      const deleter = new iam.Role(stack, 'DeleteRole', { assumedBy: new iam.AccountRootPrincipal() });
      memory.grantActorScopedDelete(deleter, { actor: MemoryScopeValue.fromPrincipalTag('memoryActor'), session: MemoryScopeValue.fromPrincipalTag('memorySession') });
      return { memory, broker, app, fixed, deleter };
    });
  });

  test('one memory, encrypted with a new rotating key, raw events kept 30 days', () => {
    expect(Object.keys(s.template.findResources('AWS::BedrockAgentCore::Memory'))).toEqual([MEMORY_ARN['Fn::GetAtt'][0]]);
    s.template.resourceCountIs('AWS::BedrockAgentCore::Memory', 1);
    s.template.hasResourceProperties('AWS::BedrockAgentCore::Memory', {
      EventExpiryDuration: 30,
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MemoryKey'), 'Arn'] },
    });
    s.template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('encrypts memory') }, DeletionPolicy: 'Retain' });
  });

  test('the three built-in strategies place every record under the actor id, ending with /', () => {
    s.template.hasResourceProperties('AWS::BedrockAgentCore::Memory', {
      MemoryStrategies: [
        { SemanticMemoryStrategy: { Name: 'cad_semantic_facts', Namespaces: ['/{actorId}/facts/'] } },
        { UserPreferenceMemoryStrategy: { Name: 'cad_user_preferences', Namespaces: ['/{actorId}/preferences/'] } },
        { SummaryMemoryStrategy: { Name: 'cad_session_summaries', Namespaces: ['/{actorId}/summaries/{sessionId}/'] } },
      ],
    });
    expect(s.built.memory.namespaceTemplates).toEqual({
      SEMANTIC_FACTS: '/{actorId}/facts/',
      USER_PREFERENCES: '/{actorId}/preferences/',
      SESSION_SUMMARIES: '/{actorId}/summaries/{sessionId}/',
    });
  });

  test('the memory service role trusts AgentCore for this account and this memory only, with grants in a managed policy', () => {
    const [[roleId, role]] = resourcesOf(s.template, 'AWS::IAM::Role').filter(([, r]) => r.Properties.Description === 'cdk-ai-defense IsolatedMemory: AgentCore memory service role');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'bedrock-agentcore.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock-agentcore:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':memory/TestStackMemory638AC4E3*']],
            },
          },
        },
      },
    ]);
    s.template.hasResourceProperties('AWS::BedrockAgentCore::Memory', { MemoryExecutionRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    expect(resourcesOf(s.template, 'AWS::IAM::Policy').filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))).toEqual([]);
    expect(statementsOfRole(s.template, roleId).flatMap(actionsOf).sort()).toEqual(
      ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'].sort(),
    );
  });

  test('the broker is a Lambda target with the identity and memory in its environment and secure defaults', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('memory-broker'),
      Handler: 'index.handler',
      Timeout: 15,
      VpcConfig: Match.anyValue(),
      Environment: {
        Variables: {
          CAD_IDENTITY_CONFIG: Match.anyValue(),
          MEMORY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MemoryMemory'), 'MemoryId'] },
          SHARED_GROUPS: '[]',
          SHARE_TENANT_SPACE: 'false',
          SHARED_WRITES: 'NONE',
          MAX_TEXT_LENGTH: '2000',
          MAX_RECALL_RESULTS: '5',
          TIMEOUT_MS: '12000',
        },
      },
    });
    const fn = resourcesOf(s.template, 'AWS::Lambda::Function').find(([, f]) => /memory-broker/.test(f.Properties.Description))![1];
    expect(fn.Properties.Environment.Variables.GUARDRAIL_IDENTIFIER).toBeUndefined();
    expect(fn.Properties.Environment.Variables.TENANT_CLAIM).toBeUndefined();
  });

  test('the broker role reads and writes only the hierarchy\'s shapes, never a wildcard namespace; forget is code-checked', () => {
    const roleId = logicalId(s.stack, s.built.broker.function.role!);
    expect(memoryStatements(statementsOfRole(s.template, roleId))).toEqual([
      {
        Action: 'bedrock-agentcore:RetrieveMemoryRecords',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': [`/actor/${ACTOR_PATTERN}/`, `/actor/${ACTOR_PATTERN}/summaries/*/`] } },
      },
      {
        Action: 'bedrock-agentcore:BatchCreateMemoryRecords',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': [`/actor/${ACTOR_PATTERN}/notes/`] } },
      },
      { Action: ['bedrock-agentcore:DeleteMemoryRecord', 'bedrock-agentcore:GetMemoryRecord'], Effect: 'Allow', Resource: MEMORY_ARN },
      {
        Action: ['bedrock-agentcore:BatchCreateMemoryRecords', 'bedrock-agentcore:RetrieveMemoryRecords'],
        Effect: 'Deny',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': '*${*}*' } },
      },
    ]);
    const statements = statementsOfRole(s.template, roleId);
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:')))).toEqual([]);
    expect(statements.filter((st) => actionsOf(st).includes('kms:GenerateDataKey'))).toEqual([
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': ['MemoryKeyF4C9EDAD', 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['bedrock-agentcore.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } },
      },
    ]);
  });

  test('an actor-scoped grant from principal tags conditions every action on the actor, and leaves out what IAM cannot scope', () => {
    const statements = memoryStatements(statementsOfRole(s.template, logicalId(s.stack, s.built.app)));
    expect(statements).toEqual([
      {
        Action: ['bedrock-agentcore:BatchCreateMemoryRecords', 'bedrock-agentcore:ListMemoryRecords', 'bedrock-agentcore:RetrieveMemoryRecords'],
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': '/actor/${aws:PrincipalTag/memoryActor}/*' } },
      },
      {
        Action: ['bedrock-agentcore:CreateEvent', 'bedrock-agentcore:GetEvent', 'bedrock-agentcore:ListEvents', 'bedrock-agentcore:ListSessions'],
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringEquals: { 'bedrock-agentcore:actorId': 'actor/${aws:PrincipalTag/memoryActor}' } },
      },
    ]);
    const granted = statements.flatMap(actionsOf);
    for (const unscopable of IsolatedMemoryPerms.NOT_ACTOR_SCOPABLE) expect(granted).not.toContain(unscopable);
    // Every condition key used is one the Service Authorization Reference lists for the action.
    for (const st of statements) {
      const keys = Object.values(st.Condition as Record<string, Record<string, unknown>>).flatMap((c) => Object.keys(c));
      for (const action of actionsOf(st)) for (const key of keys) expect(IsolatedMemoryPerms.CONDITION_KEYS_BY_ACTION[action]).toContain(key);
    }
  });

  test('fixed values (actor, tenant, session) are written literally, and the session binds short-term reads', () => {
    expect(memoryStatements(statementsOfRole(s.template, logicalId(s.stack, s.built.fixed)))).toEqual([
      {
        Action: ['bedrock-agentcore:ListMemoryRecords', 'bedrock-agentcore:RetrieveMemoryRecords'],
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': `/tenant/acme/actor/${alice}/*` } },
      },
      {
        Action: ['bedrock-agentcore:GetEvent', 'bedrock-agentcore:ListEvents'],
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringEquals: { 'bedrock-agentcore:actorId': `tenant/acme/actor/${alice}`, 'bedrock-agentcore:sessionId': 'chat-1' } },
      },
      {
        Action: 'bedrock-agentcore:ListSessions',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringEquals: { 'bedrock-agentcore:actorId': `tenant/acme/actor/${alice}` } },
      },
    ]);
  });

  test('an actor-scoped delete grants DeleteEvent for the actor (and session) only, never DeleteMemoryRecord', () => {
    expect(memoryStatements(statementsOfRole(s.template, logicalId(s.stack, s.built.deleter)))).toEqual([
      {
        Action: 'bedrock-agentcore:DeleteEvent',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringEquals: { 'bedrock-agentcore:actorId': 'actor/${aws:PrincipalTag/memoryActor}', 'bedrock-agentcore:sessionId': '${aws:PrincipalTag/memorySession}' } },
      },
    ]);
  });

  test('tool definitions name no identity and reflect the limits', () => {
    const tools = s.built.broker.toolDefinitions;
    expect(tools.map((t) => t.name)).toEqual(['remember', 'recall', 'forget']);
    expect(tools[0].inputSchema.properties.text.description).toContain('1 to 2000 characters');
    expect(JSON.stringify(tools)).not.toMatch(/actorId|userId|namespace|"tenant"|groups/);
    expect(JSON.parse(JSON.stringify(tools))).toEqual(tools);
  });

  test('cdk-nag: no unsuppressed finding on the memory or the broker', () => {
    const findings = nagFindings(s.stack).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(`/${r}`)));
    expect(findings).toEqual([]);
  });

  test('cfn-lint: the template is clean', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memory-')), 'memory.template.json');
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).findings).toEqual([]);
  });
});

describe('MemoryBroker: tenants, shared spaces, screened writes', () => {
  let s: Synthesized<{ broker: MemoryBroker; guardrail: AiGuardrail }>;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const key = new kms.Key(stack, 'OwnKey', { enableKeyRotation: true });
      const memory = new IsolatedMemory(stack, 'Memory', { memoryName: 'support_memory', encryptionKey: key, eventExpiry: Duration.days(7), insights: [MemoryInsight.SEMANTIC_FACTS] });
      const guardrail = new AiGuardrail(stack, 'Guardrail');
      const broker = new MemoryBroker(stack, 'Broker', {
        memory,
        identity: cognitoIdentity(stack),
        guardrail,
        vpc: isolatedVpc(stack),
        tenantClaim: 'custom:tenant',
        shareTenantSpace: true,
        sharedGroups: ['eng', 'ops'],
        sharedWrites: SharedMemoryWrites.SCREENED,
        maxTextLength: 500,
        maxRecallResults: 3,
        timeout: Duration.seconds(20),
      });
      return { broker, guardrail };
    });
  });

  test('the memory uses the given name, key, expiry and only the chosen insight', () => {
    s.template.hasResourceProperties('AWS::BedrockAgentCore::Memory', {
      Name: 'support_memory',
      EventExpiryDuration: 7,
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OwnKey'), 'Arn'] },
      MemoryStrategies: [{ SemanticMemoryStrategy: { Name: 'cad_semantic_facts', Namespaces: ['/{actorId}/facts/'] } }],
    });
    s.template.resourceCountIs('AWS::KMS::Key', 3); // own key, guardrail key, stack log key
  });

  test('the environment carries the tenant claim, spaces, guardrail and limits', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 20,
      Environment: {
        Variables: Match.objectLike({
          TENANT_CLAIM: 'custom:tenant',
          SHARED_GROUPS: '["eng","ops"]',
          SHARE_TENANT_SPACE: 'true',
          SHARED_WRITES: 'SCREENED',
          GUARDRAIL_IDENTIFIER: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Guardrail'), 'GuardrailId'] },
          GUARDRAIL_VERSION: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardrailVersion'), 'Version'] },
          MAX_TEXT_LENGTH: '500',
          MAX_RECALL_RESULTS: '3',
          TIMEOUT_MS: '17000',
        }),
      },
    });
  });

  test('the role allows the tenant shapes, the configured shared spaces (read and write), and ApplyGuardrail', () => {
    const roleId = logicalId(s.stack, s.built.broker.function.role!);
    const statements = statementsOfRole(s.template, roleId);
    const shared = ['/tenant/*/shared/', '/tenant/*/group/eng/shared/', '/tenant/*/group/ops/shared/'];
    expect(memoryStatements(statements).slice(0, 2)).toEqual([
      {
        Action: 'bedrock-agentcore:RetrieveMemoryRecords',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': [`/tenant/*/actor/${ACTOR_PATTERN}/`, `/tenant/*/actor/${ACTOR_PATTERN}/summaries/*/`, ...shared] } },
      },
      {
        Action: 'bedrock-agentcore:BatchCreateMemoryRecords',
        Effect: 'Allow',
        Resource: MEMORY_ARN,
        Condition: { StringLike: { 'bedrock-agentcore:namespace': [`/tenant/*/actor/${ACTOR_PATTERN}/notes/`, ...shared] } },
      },
    ]);
    expect(statements.filter((st) => actionsOf(st).includes('bedrock:ApplyGuardrail'))).toEqual([
      { Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.guardrail.resource), 'GuardrailArn'] } },
    ]);
  });

  test('tool definitions carry the configured limits', () => {
    const [remember, recall] = s.built.broker.toolDefinitions;
    expect(remember.inputSchema.properties.text.description).toContain('1 to 500 characters');
    expect(recall.inputSchema.properties.maxResults.description).toContain('1 to 3');
  });

  test('grantInvoke lets a gateway role invoke the broker', () => {
    const stack = testStack();
    const memory = new IsolatedMemory(stack, 'Memory');
    const broker = new MemoryBroker(stack, 'Broker', { memory, identity: cognitoIdentity(stack) });
    const gatewayRole = new iam.Role(stack, 'GatewayRole', { assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com') });
    broker.grantInvoke(gatewayRole);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction' })]) },
    });
  });

  test('cdk-nag: no unsuppressed finding', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(`/${r}`)))).toEqual([]);
  });
});

describe('fails on invalid props, naming the value and what is allowed', () => {
  const hostile = ['', 'eng/ops', '..', 'eng*', '{actorId}', 'еng', 'e'.repeat(65), 'eng ops'];

  test.each<[string, (stack: Stack) => void, RegExp]>([
    ['fails when memoryName has a hyphen', (st) => new IsolatedMemory(st, 'M', { memoryName: 'my-memory' }), /memoryName is "my-memory"; allowed: a letter/],
    ['fails when eventExpiry is 3 days', (st) => new IsolatedMemory(st, 'M', { eventExpiry: Duration.days(3) }), /eventExpiry \(days\) is 3; allowed: a whole number from 7 to 365/],
    ['fails when eventExpiry is 400 days', (st) => new IsolatedMemory(st, 'M', { eventExpiry: Duration.days(400) }), /from 7 to 365/],
    ['fails when an insight is repeated', (st) => new IsolatedMemory(st, 'M', { insights: [MemoryInsight.SEMANTIC_FACTS, MemoryInsight.SEMANTIC_FACTS] }), /insights contain duplicates/],
    ['fails when the description has other characters', (st) => new IsolatedMemory(st, 'M', { description: 'memory; drop' }), /description is "memory; drop"/],
  ])('%s', (_n, build, message) => {
    expect(() => build(testStack())).toThrow(message);
  });

  describe('MemoryBroker', () => {
    function broker(props: Record<string, unknown>, guardrail = false): () => void {
      return () => {
        const stack = testStack();
        const memory = new IsolatedMemory(stack, 'Memory');
        new MemoryBroker(stack, 'Broker', { memory, identity: cognitoIdentity(stack), ...(guardrail ? { guardrail: new AiGuardrail(stack, 'G') } : {}), ...props });
      };
    }

    test.each(hostile)('fails when a shared group is %j (rejected, never normalized)', (group) => {
      expect(broker({ sharedGroups: [group] })).toThrow(/shared group .*allowed: 1 to 64 ASCII letters/);
    });

    test.each<[string, Record<string, unknown>, boolean, RegExp]>([
      ['more than 10 shared groups', { sharedGroups: Array.from({ length: 11 }, (_, i) => `g${i}`) }, false, /11 shared groups; allowed: at most 10/],
      ['duplicate shared groups', { sharedGroups: ['eng', 'eng'] }, false, /duplicates/],
      ['a tenant space without a tenant claim', { shareTenantSpace: true }, false, /shareTenantSpace is true but tenantClaim is not set/],
      ['SCREENED writes without a guardrail', { sharedGroups: ['eng'], sharedWrites: SharedMemoryWrites.SCREENED }, false, /sharedWrites is SCREENED but no guardrail is set/],
      ['SCREENED writes without a shared space', { sharedWrites: SharedMemoryWrites.SCREENED }, true, /sharedWrites is SCREENED but there is no shared space/],
      ['a tenant claim with a space', { tenantClaim: 'custom tenant' }, false, /tenantClaim is "custom tenant"; allowed: a claim name/],
      ['a tenant claim __proto__', { tenantClaim: '__proto__' }, false, /tenantClaim is "__proto__"/],
      ['maxTextLength 0', { maxTextLength: 0 }, false, /maxTextLength is 0; allowed: a whole number from 1 to 10000/],
      ['maxRecallResults 21', { maxRecallResults: 21 }, false, /maxRecallResults is 21; allowed: a whole number from 1 to 20/],
      ['a 2-second timeout', { timeout: Duration.seconds(2) }, false, /timeout \(seconds\) is 2; allowed: a whole number from 5 to 900/],
    ])('fails with %s', (_n, props, guardrail, message) => {
      expect(broker(props, guardrail)).toThrow(message);
    });
  });

  describe('actor-scoped grants', () => {
    function grant(options: () => Parameters<IsolatedMemory['grantActorScopedRead']>[1]): () => void {
      return () => {
        const stack = testStack();
        const memory = new IsolatedMemory(stack, 'Memory');
        memory.grantActorScopedRead(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }), options());
      };
    }

    test.each([...hostile, 'alice', `a-${'0'.repeat(63)}`, `A-${'0'.repeat(64)}`, `a-${'G'.repeat(64)}`])('fails when a fixed actor is %j', (actor) => {
      expect(grant(() => ({ actor: MemoryScopeValue.fixed(actor) }))).toThrow(/actor is .*allowed: an actor segment/);
    });

    test.each(hostile)('fails when a fixed tenant is %j', (tenant) => {
      expect(grant(() => ({ actor: MemoryScopeValue.fromPrincipalTag('a'), tenant: MemoryScopeValue.fixed(tenant) }))).toThrow(/tenant is .*allowed: 1 to 64/);
    });

    test.each([...hostile.filter((h) => h.length < 65), 's'.repeat(101)])('fails when a fixed session is %j', (session) => {
      expect(grant(() => ({ actor: MemoryScopeValue.fromPrincipalTag('a'), session: MemoryScopeValue.fixed(session) }))).toThrow(/session is .*allowed: 1 to 100/);
    });

    test.each(['', 'aws:userid', 'AWS:x', 'memory actor', 'x}', '${x}', 't'.repeat(129)])('fails when a tag key is %j', (key) => {
      expect(grant(() => ({ actor: MemoryScopeValue.fromPrincipalTag(key) }))).toThrow(/actor tag key is .*allowed: 1 to 128/);
    });
  });
});
