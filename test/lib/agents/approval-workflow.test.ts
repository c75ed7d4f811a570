import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalEnv } from '../../../lambda/approval/config';
import { ApprovalWorkflow } from '../../../lib/agents/approval-workflow';
import { CallerIdentity, CognitoTokenUse } from '../../../lib/common/caller-identity';
import { AiWebAcl } from '../../../lib/edge/ai-web-acl';
import { nagFindings, withoutUnroutedPinAlarms } from '../../rig/nag';
import { Synthesized, synthOnce, testApp, testStack } from '../../rig/synth';

/** Test scaffolding around the construct: a VPC with flow logs, a user pool, a state machine, a gate role. */
const SCAFFOLDING = /\/(Vpc|Pool|Workflow|GateRole|Start|Done)\//;

function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

function resourcesOf(template: Template, type: string): Array<[string, { Properties: Record<string, any>; DeletionPolicy?: string }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties: Record<string, any>; DeletionPolicy?: string }]>;
}

/** Every statement of every IAM policy (inline or customer-managed) attached to a role (by the role's logical id). */
function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, any>> {
  return [...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

const logicalIdOf = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as iam.CfnRole);
const roleIdOfFunction = (stack: Stack, fn: { role?: iam.IRole }) => logicalIdOf(stack, fn.role as iam.Role);
const actionsOf = (s: Record<string, any>): string[] => [s.Action].flat();
const resolveIn = (stack: Stack, v: unknown) => stack.resolve(v);

interface Built {
  approvals: ApprovalWorkflow;
  gateRole: iam.Role;
  machine: sfn.StateMachine;
  env: { [key: string]: string };
}

describe('ApprovalWorkflow: defaults (created approver pool), WAF, a VPC, a workflow task and a gate grant', () => {
  let s: Synthesized<Built>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const approvals = new ApprovalWorkflow(stack, 'Approvals', { vpc: isolatedVpc(stack), webAcl: new AiWebAcl(stack, 'Waf') });
      const gateRole = new iam.Role(stack, 'GateRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      approvals.grantGate(gateRole);
      const ask = approvals.approvalTask(stack, 'AskRefund', { tool: 'approve-refund', argumentsPath: '$.refund', principalPath: '$.requester' });
      const machine = new sfn.StateMachine(stack, 'Workflow', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Start').next(ask).next(new sfn.Succeed(stack, 'Done'))),
        tracingEnabled: true,
      });
      approvals.addWorkflow(machine);
      return { approvals, gateRole, machine, env: approvals.gateEnvironment() };
    });
  });

  test('the table: partition key id, on demand, customer-managed KMS key, PITR, TTL, deletion protection, retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          {
            IndexName: 'PendingByExpiry',
            KeySchema: [
              { AttributeName: 'queue', KeyType: 'HASH' },
              { AttributeName: 'expiresAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['kind', 'tool', 'principal', 'createdAt'] },
          },
        ],
      }),
    });
    s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  test('one rotating key encrypts the table and the topic; the topic refuses plain HTTP', () => {
    const keys = resourcesOf(s.template, 'AWS::KMS::Key').filter(([id]) => id.startsWith('ApprovalsKey'));
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.EnableKeyRotation).toBe(true);
    expect(keys[0][1].DeletionPolicy).toBe('Retain');
    const keyArn = { 'Fn::GetAtt': [keys[0][0], 'Arn'] };
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: Match.objectLike({ KMSMasterKeyId: keyArn }) });
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn, DisplayName: 'Approval requests' });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the created approver pool: no self sign-up, TOTP MFA required, strong passwords, threat protection, the approver group', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireSymbols: true, RequireNumbers: true, RequireUppercase: true, RequireLowercase: true }) },
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
    s.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'approvers' });
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      AllowedOAuthFlowsUserPoolClient: false,
    });
    expect(s.built.approvals.userPoolClient).toBeDefined();
  });

  test('the approver API: regional, a Cognito authorizer and request validation on every method, the decision body model', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    const pools = resourcesOf(s.template, 'AWS::Cognito::UserPool');
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [pools[0][0], 'Arn'] }],
    });
    const methods = resourcesOf(s.template, 'AWS::ApiGateway::Method');
    expect(methods.map(([, m]) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'GET', 'POST']);
    for (const [, m] of methods) {
      expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(m.Properties.AuthorizerId).toBeDefined();
      expect(m.Properties.RequestValidatorId).toBeDefined();
      expect(m.Properties.AuthorizationScopes).toBeUndefined();
    }
    const post = methods.find(([, m]) => m.Properties.HttpMethod === 'POST')![1];
    expect(post.Properties.RequestModels['application/json']).toBeDefined();
    expect(post.Properties.RequestParameters).toEqual({ 'method.request.path.id': true });
    s.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({
        additionalProperties: false,
        required: ['decision', 'approvalHash'],
        properties: { decision: { type: 'string', enum: ['APPROVE', 'REJECT'] }, approvalHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      }),
    });
    s.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('the stage: JSON access logs to an encrypted group, error logging without bodies, tracing, throttling, WAF', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'approvals',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"status":"\\$context.status"') },
      MethodSettings: [
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
      ],
    });
    const logGroups = resourcesOf(s.template, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('ApprovalsApiAccessLogs'));
    expect(logGroups).toHaveLength(1);
    expect(logGroups[0][1].Properties.KmsKeyId).toBeDefined();
    expect(logGroups[0][1].Properties.RetentionInDays).toBe(365);
    const associations = resourcesOf(s.template, 'AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    expect(associations[0][1].Properties.ResourceArn).toEqual(resolveIn(s.stack, s.built.approvals.api.deploymentStage.stageArn));
  });

  test('the API function: approver identity (ID tokens of the created client), table, group, in the VPC', () => {
    const fn = s.built.approvals.apiFunction;
    const props = resourcesOf(s.template, 'AWS::Lambda::Function').find(([id]) => id === s.stack.getLogicalId(fn.node.defaultChild as any))![1].Properties;
    const env = props.Environment.Variables;
    expect(env[ApprovalEnv.APPROVER_GROUP]).toBe('approvers');
    expect(env[ApprovalEnv.TIMEOUT_MS]).toBe('7000');
    expect(env[ApprovalEnv.TTL_SECONDS]).toBe('900');
    expect(env[ApprovalEnv.MAX_PENDING]).toBe('5');
    expect(JSON.stringify(env.CAD_IDENTITY_CONFIG)).toContain('\\"tokenUse\\":\\"id\\"');
    expect(props.VpcConfig).toBeDefined();
    expect(props.Timeout).toBe(10);
  });

  test('grantGate: exactly GetItem, PutItem, UpdateItem on the table, the key through DynamoDB, Publish on the topic, the key through SNS', () => {
    const statements = statementsOfRole(s.template, logicalIdOf(s.stack, s.built.gateRole));
    const table = resolveIn(s.stack, s.built.approvals.table.tableArn);
    const key = resolveIn(s.stack, s.built.approvals.encryptionKey.keyArn);
    const topic = resolveIn(s.stack, s.built.approvals.topic.topicArn);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: table }),
        expect.objectContaining({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: key, Condition: { StringEquals: { 'kms:ViaService': expect.objectContaining({ 'Fn::Join': expect.anything() }) } } }),
        expect.objectContaining({ Action: 'sns:Publish', Resource: topic }),
        expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key }),
      ]),
    );
    expect(statements).toHaveLength(4);
    const all = statements.flatMap(actionsOf);
    expect(all.some((a) => a.includes('*'))).toBe(false);
    expect(all).not.toContain('dynamodb:Query');
    expect(all).not.toContain('dynamodb:DeleteItem');
  });

  test('the API function may read, decide and list, and answer only the added workflow; it may not create requests', () => {
    const statements = statementsOfRole(s.template, roleIdOfFunction(s.stack, s.built.approvals.apiFunction as any));
    const table = resolveIn(s.stack, s.built.approvals.table.tableArn);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: table }),
        expect.objectContaining({ Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [table, '/index/PendingByExpiry']] } }),
        expect.objectContaining({ Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'], Resource: resolveIn(s.stack, s.built.machine.stateMachineArn) }),
      ]),
    );
    const all = statements.flatMap(actionsOf);
    expect(all).not.toContain('dynamodb:PutItem');
    expect(all).not.toContain('sns:Publish');
  });

  test('the workflow task waits for the task token, times out at the approval expiry, and binds the state machine and execution', () => {
    const machine = resourcesOf(s.template, 'AWS::StepFunctions::StateMachine')[0][1];
    // The definition with every CloudFormation token replaced by "TOKEN", parsed back into the state machine.
    const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
    const asl = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    expect(asl.States.AskRefund).toEqual(
      expect.objectContaining({
        Type: 'Task',
        Resource: 'arn:TOKEN:states:::lambda:invoke.waitForTaskToken',
        TimeoutSeconds: 900,
        ResultPath: '$.approval',
        Parameters: {
          FunctionName: 'TOKEN',
          Payload: {
            'taskToken.$': '$$.Task.Token',
            tool: 'approve-refund',
            'toolPin.$': '$$.StateMachine.Id',
            'arguments.$': '$.refund',
            'principal.$': '$.requester',
            'session.$': '$$.Execution.Id',
          },
        },
      }),
    );
    const request = s.built.approvals.requestFunction!;
    const statements = statementsOfRole(s.template, roleIdOfFunction(s.stack, request as any));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:') || a.startsWith('sns:'))).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sns:Publish']);
  });

  test('gateEnvironment: table, topic, expiry and cap, as the gate reads them', () => {
    expect(Object.keys(s.built.env).sort()).toEqual([ApprovalEnv.MAX_PENDING, ApprovalEnv.TABLE_NAME, ApprovalEnv.TOPIC_ARN, ApprovalEnv.TTL_SECONDS].sort());
    expect(s.built.env[ApprovalEnv.TTL_SECONDS]).toBe('900');
    expect(resolveIn(s.stack, s.built.env[ApprovalEnv.TABLE_NAME])).toEqual({ Ref: expect.stringMatching(/^ApprovalsTable/) });
  });

  test('cdk-nag: no unsuppressed findings (four packs) but the unrouted key-drift alarm of the created pool', () => {
    const all = nagFindings(s.stack).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(r)));
    expect(withoutUnroutedPinAlarms(all)).toEqual([]);
    // The deployer routes it: the reference app adds the audit trail's alarm topic.
    expect(all.map((f) => f.rule).sort()).toEqual(['HIPAA.Security-CloudWatchAlarmAction', 'NIST.800.53.R5-CloudWatchAlarmAction']);
  });
});

describe('ApprovalWorkflow: a given pool and identity (access tokens with scopes), no WAF', () => {
  let s: Synthesized<{ approvals: ApprovalWorkflow; pool: cognito.UserPool }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const pool = new cognito.UserPool(stack, 'Pool');
      const client = pool.addClient('Client');
      const approvals = new ApprovalWorkflow(stack, 'Approvals', {
        approverIdentity: CallerIdentity.cognito({ userPool: pool, clients: [client], tokenUse: CognitoTokenUse.ACCESS }),
        userPool: pool,
        authorizationScopes: ['approvals/decide'],
        approverGroup: 'finance-approvers',
        approvalTtl: Duration.minutes(5),
        maxPendingPerPrincipal: 2,
        apiRateLimit: 5,
        apiBurstLimit: 5,
      });
      return { approvals, pool };
    });
  });

  test('uses the given pool: no pool or group created, scopes required on every method', () => {
    s.template.resourceCountIs('AWS::Cognito::UserPool', 1);
    s.template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    expect(s.built.approvals.userPoolClient).toBeUndefined();
    expect(s.built.approvals.userPool).toBe(s.built.pool);
    for (const [, m] of resourcesOf(s.template, 'AWS::ApiGateway::Method')) expect(m.Properties.AuthorizationScopes).toEqual(['approvals/decide']);
  });

  test('settings reach the functions and the stage', () => {
    expect(s.built.approvals.gateEnvironment()[ApprovalEnv.TTL_SECONDS]).toBe('300');
    expect(s.built.approvals.gateEnvironment()[ApprovalEnv.MAX_PENDING]).toBe('2');
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ApprovalEnv.APPROVER_GROUP]: 'finance-approvers', CAD_IDENTITY_CONFIG: Match.anyValue() }) },
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 5 })] });
    // No approvalTask: no request function.
    expect(s.built.approvals.requestFunction).toBeUndefined();
  });

  test('cdk-nag: the user\'s choices stay visible (no WAF on the stage, functions outside a VPC), nothing else', () => {
    const rules = new Set(nagFindings(s.stack).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(r))).map((f) => f.rule));
    expect([...rules].sort()).toEqual(
      [
        'HIPAA.Security-LambdaInsideVPC',
        'NIST.800.53.R5-APIGWAssociatedWithWAF',
        'NIST.800.53.R5-LambdaInsideVPC',
      ].sort(),
    );
  });
});

describe('ApprovalWorkflow: invalid props fail at synth', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a TTL under a minute', { approvalTtl: Duration.seconds(30) }, /approvalTtl \(seconds\) is 30; allowed: a whole number from 60 to 3600/],
    ['a TTL over an hour', { approvalTtl: Duration.hours(2) }, /approvalTtl \(seconds\) is 7200/],
    ['a fractional TTL', { approvalTtl: Duration.millis(90_500) }, /approvalTtl \(seconds\) is 90.5/],
    ['a cap of 0', { maxPendingPerPrincipal: 0 }, /maxPendingPerPrincipal is 0; allowed: a whole number from 1 to 100/],
    ['a cap of 101', { maxPendingPerPrincipal: 101 }, /maxPendingPerPrincipal is 101/],
    ['a group with surrounding spaces', { approverGroup: ' approvers' }, /approverGroup is " approvers"/],
    ['a rate limit of 0', { apiRateLimit: 0 }, /apiRateLimit is 0/],
    ['a scope with a space', { authorizationScopes: ['a b'] }, /authorizationScopes is "a b"/],
  ])('fails with %s', (_name, props, message) => {
    const stack = testStack();
    expect(() => new ApprovalWorkflow(stack, 'Approvals', props)).toThrow(message);
  });

  test('fails with an identity but no pool, or a pool but no identity', () => {
    const stack = testStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const identity = CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('C')] });
    expect(() => new ApprovalWorkflow(stack, 'A', { approverIdentity: identity })).toThrow(/approverIdentity is set without userPool/);
    expect(() => new ApprovalWorkflow(stack, 'B', { userPool: pool })).toThrow(/userPool is set without approverIdentity/);
  });

  test('approvalTask fails with an invalid tool or path', () => {
    const stack = testStack();
    const approvals = new ApprovalWorkflow(stack, 'Approvals');
    expect(() => approvals.approvalTask(stack, 'T1', { tool: 'refund money', argumentsPath: '$.a', principalPath: '$.p' })).toThrow(/tool is "refund money"/);
    expect(() => approvals.approvalTask(stack, 'T2', { tool: 'refund', argumentsPath: 'a', principalPath: '$.p' })).toThrow(/argumentsPath is "a"/);
    expect(() => approvals.approvalTask(stack, 'T3', { tool: 'refund', argumentsPath: '$.a', principalPath: '$.p', sessionPath: '$.s s' })).toThrow(/sessionPath/);
  });

  test('fails at synth when approvalTask is used and no state machine was added with addWorkflow', () => {
    const app = testApp();
    const stack = new Stack(app, 'NoWorkflow');
    const approvals = new ApprovalWorkflow(stack, 'Approvals');
    const ask = approvals.approvalTask(stack, 'Ask', { tool: 'refund', argumentsPath: '$.a', principalPath: '$.p' });
    new sfn.StateMachine(stack, 'Workflow', { definitionBody: sfn.DefinitionBody.fromChainable(ask) });
    expect(() => app.synth()).toThrow(/call addWorkflow\(stateMachine\)/);
  });
});
