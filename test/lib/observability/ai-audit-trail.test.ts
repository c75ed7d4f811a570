import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AuditMetric,
  DENIAL_FILTER_PATTERN,
  GUARDRAIL_INTERVENTION_FILTER_PATTERN,
  METRIC_NAMESPACE,
} from '../../../lambda/shared/log-contract';
import { AiAuditTrail, AiAuditTrailProps, AuditDataResourceType } from '../../../lib/observability';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized, testApp, testStack } from '../../rig/synth';

/** Test scaffolding: an encrypted decision log group, like an enforcement function's. */
function decisionLogGroup(stack: Stack, id: string): logs.LogGroup {
  const key = (stack.node.tryFindChild('ScaffoldKey') as kms.Key) ?? new kms.Key(stack, 'ScaffoldKey', { enableKeyRotation: true });
  return new logs.LogGroup(stack, id, { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR });
}

function resourcesOf(template: Template, type: string): any[] {
  return Object.values(template.findResources(type)).map((r: any) => r.Properties);
}

function selectorTypes(trail: any): string[] {
  return trail.AdvancedEventSelectors.flatMap((s: any) =>
    s.FieldSelectors.filter((f: any) => f.Field === 'resources.type').flatMap((f: any) => f.Equals),
  );
}

describe('AiAuditTrail with defaults', () => {
  let s: Synthesized<{ audit: AiAuditTrail; groups: logs.LogGroup[] }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const groups = [decisionLogGroup(stack, 'GatewayDecisions'), decisionLogGroup(stack, 'GuardrailDecisions')];
      const audit = new AiAuditTrail(stack, 'Audit', { decisionLogGroups: [groups[0]] });
      audit.watchDecisionLogs(groups[1]);
      audit.watchDecisionLogs(groups[1]); // watching twice adds nothing
      return { audit, groups };
    });
  });

  test('creates one multi-region, validated, KMS-encrypted trail that logs to CloudWatch Logs', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    s.template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      KMSKeyId: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.audit.trailKey.node.defaultChild as kms.CfnKey), 'Arn'] },
      S3BucketName: { Ref: s.stack.getLogicalId(s.built.audit.trailBucket!.node.defaultChild as any) },
      CloudWatchLogsLogGroupArn: Match.anyValue(),
      CloudWatchLogsRoleArn: Match.anyValue(),
      EventSelectors: Match.absent(),
    });
  });

  test('the trail key rotates and lets CloudTrail use it only for this trail', () => {
    const trail = resourcesOf(s.template, 'AWS::CloudTrail::Trail')[0];
    const trailArn = s.stack.resolve(s.built.audit.trailArn);
    expect(JSON.stringify(trailArn)).toContain(`:trail/${trail.TrailName}`);
    const keyId = s.stack.getLogicalId(s.built.audit.trailKey.node.defaultChild as kms.CfnKey);
    const key = s.template.toJSON().Resources[keyId].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const cloudTrail = key.KeyPolicy.Statement.filter((st: any) => st.Principal?.Service === 'cloudtrail.amazonaws.com');
    expect(cloudTrail.map((st: any) => st.Action)).toEqual(['kms:GenerateDataKey*', 'kms:DescribeKey']);
    for (const st of cloudTrail) expect(st.Condition.StringEquals['aws:SourceArn']).toEqual(trailArn);
    expect(cloudTrail[0].Condition.StringLike).toEqual({
      'kms:EncryptionContext:aws:cloudtrail:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudtrail:*:', { Ref: 'AWS::AccountId' }, ':trail/*']] },
    });
  });

  test('records management events and one data-event selector per AI resource type', () => {
    const trail = resourcesOf(s.template, 'AWS::CloudTrail::Trail')[0];
    expect(trail.AdvancedEventSelectors[0]).toEqual({ Name: 'Management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] });
    expect(trail.AdvancedEventSelectors).toContainEqual({
      Name: 'Data events: AWS::Bedrock::KnowledgeBase',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::Bedrock::KnowledgeBase'] },
      ],
    });
    expect(trail.AdvancedEventSelectors).toContainEqual({
      Name: 'Data events: AWS::BedrockAgentCore::Gateway',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::BedrockAgentCore::Gateway'] },
      ],
    });
    const types = selectorTypes(trail);
    expect(types).toEqual(AuditDataResourceType.all().map((t) => t.value));
    expect(trail.AdvancedEventSelectors).toHaveLength(types.length + 1);
    expect(new Set(types).size).toBe(types.length);
    for (const expected of ['AWS::Bedrock::Model', 'AWS::Bedrock::Guardrail', 'AWS::Bedrock::AgentAlias', 'AWS::BedrockAgentCore::Runtime', 'AWS::BedrockAgentCore::Memory', 'AWS::BedrockAgentCore::WorkloadIdentity', 'AWS::BedrockAgentCore::TokenVault']) {
      expect(types).toContain(expected);
    }
    expect(types).not.toContain('AWS::Bedrock::Prompt');
  });

  test('the trail bucket is private, versioned, KMS-encrypted, access-logged and denies non-TLS requests', () => {
    const bucketId = s.stack.getLogicalId(s.built.audit.trailBucket!.node.defaultChild as any);
    const accessLogsId = s.stack.getLogicalId(s.built.audit.accessLogsBucket.node.defaultChild as any);
    const bucket = s.template.toJSON().Resources[bucketId].Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.audit.trailKey.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
    expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: accessLogsId }, LogFilePrefix: 'trail-bucket/' });

    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the bucket policy lets CloudTrail write only for this trail', () => {
    const bucketId = s.stack.getLogicalId(s.built.audit.trailBucket!.node.defaultChild as any);
    const policy = resourcesOf(s.template, 'AWS::S3::BucketPolicy').find((p) => p.Bucket.Ref === bucketId);
    const cloudTrail = policy.PolicyDocument.Statement.filter((st: any) => st.Principal?.Service === 'cloudtrail.amazonaws.com');
    const trailArn = s.stack.resolve(s.built.audit.trailArn);
    expect(cloudTrail.map((st: any) => st.Action)).toEqual(['s3:GetBucketAcl', 's3:PutObject']);
    expect(cloudTrail[0].Condition).toEqual({ StringEquals: { 'aws:SourceArn': trailArn } });
    expect(cloudTrail[1].Condition).toEqual({ StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } });
  });

  test('delivers to an encrypted log group through a role allowed to write only there', () => {
    const groupId = s.stack.getLogicalId(s.built.audit.trailLogGroup!.node.defaultChild as any);
    expect(s.template.toJSON().Resources[groupId].Properties).toEqual(
      expect.objectContaining({ KmsKeyId: expect.anything(), RetentionInDays: 365 }),
    );
    s.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [groupId, 'Arn'] } }] },
    });
  });

  test('turns on model invocation logging by default', () => {
    s.template.resourceCountIs('Custom::BedrockModelInvocationLogging', 1);
    expect(s.built.audit.modelInvocationLogging).toBeDefined();
  });

  test('creates no GuardDuty detector unless asked', () => {
    s.template.resourceCountIs('AWS::GuardDuty::Detector', 0);
  });

  test('adds the contract filter patterns to each watched log group, once', () => {
    const filters = resourcesOf(s.template, 'AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(4);
    for (const group of s.built.groups) {
      const ref = { Ref: s.stack.getLogicalId(group.node.defaultChild as any) };
      const mine = filters.filter((f) => JSON.stringify(f.LogGroupName) === JSON.stringify(ref));
      expect(mine.map((f) => f.FilterPattern).sort()).toEqual([DENIAL_FILTER_PATTERN, GUARDRAIL_INTERVENTION_FILTER_PATTERN].sort());
      for (const f of mine) {
        const expectedName = f.FilterPattern === DENIAL_FILTER_PATTERN ? AuditMetric.ENFORCEMENT_DENIALS : AuditMetric.GUARDRAIL_INTERVENTIONS;
        expect(f.MetricTransformations).toEqual([
          { MetricNamespace: METRIC_NAMESPACE, MetricName: expectedName, MetricValue: '1', DefaultValue: 0, Unit: 'Count' },
        ]);
      }
    }
  });

  test('alarms on the summed metrics with the default thresholds and notify an encrypted, TLS-only topic', () => {
    const topicId = s.stack.getLogicalId((s.built.audit.alarmTopic as sns.Topic).node.defaultChild as any);
    for (const [metricName, alarm] of [
      [AuditMetric.ENFORCEMENT_DENIALS, s.built.audit.denialAlarm],
      [AuditMetric.GUARDRAIL_INTERVENTIONS, s.built.audit.interventionAlarm],
    ] as const) {
      const props = s.template.toJSON().Resources[s.stack.getLogicalId(alarm.node.defaultChild as any)].Properties;
      expect(props).toEqual(
        expect.objectContaining({
          Namespace: METRIC_NAMESPACE,
          MetricName: metricName,
          Statistic: 'Sum',
          Period: 300,
          Threshold: 10,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: topicId }],
          OKActions: [{ Ref: topicId }],
        }),
      );
      expect(props.Dimensions).toBeUndefined();
    }
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }) }),
        ]),
      },
    });
  });

  test('shows denials, interventions and both alarms on a dashboard', () => {
    const dashboard = resourcesOf(s.template, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.stringify(dashboard.DashboardBody);
    expect(body).toContain(AuditMetric.ENFORCEMENT_DENIALS);
    expect(body).toContain(AuditMetric.GUARDRAIL_INTERVENTIONS);
    for (const alarm of [s.built.audit.denialAlarm, s.built.audit.interventionAlarm]) {
      expect(body).toContain(s.stack.getLogicalId(alarm.node.defaultChild as any));
    }
  });

  test('grantReadTrail lets an investigator read the trail files and log group', () => {
    const stack = testStack();
    const audit = new AiAuditTrail(stack, 'Audit', { modelInvocationLogging: false });
    const investigator = new iam.Role(stack, 'Investigator', { assumedBy: new iam.AccountRootPrincipal() });
    audit.grantReadTrail(investigator);
    const statements = resourcesOf(Template.fromStack(stack), 'AWS::IAM::Policy')[0].PolicyDocument.Statement;
    const actions = statements.flatMap((st: any) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 'kms:Decrypt', 'logs:FilterLogEvents']));
    expect(actions.some((a: string) => /Put|Delete|Write/.test(a))).toBe(false);
  });

  test('has zero cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('AiAuditTrail with options', () => {
  let s: Synthesized<AiAuditTrail>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const topicKey = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
      const topic = new sns.Topic(stack, 'OpsTopic', { masterKey: topicKey, enforceSSL: true });
      return new AiAuditTrail(stack, 'Audit', {
        trailName: 'ai-audit',
        dataResourceTypes: [
          AuditDataResourceType.BEDROCK_KNOWLEDGE_BASE,
          AuditDataResourceType.AGENTCORE_GATEWAY,
          AuditDataResourceType.of('AWS::BedrockAgentCore::Evaluator'),
        ],
        includeManagementEvents: false,
        modelInvocationLogging: false,
        createGuardDutyDetector: true,
        alarmTopic: topic,
        denialAlarmThreshold: 3,
        interventionAlarmThreshold: 25,
        alarmPeriod: Duration.minutes(1),
        alarmEvaluationPeriods: 3,
        decisionLogGroups: [decisionLogGroup(stack, 'Decisions')],
      });
    });
  });

  test('records only the chosen data resource types, without management events', () => {
    const trail = resourcesOf(s.template, 'AWS::CloudTrail::Trail')[0];
    expect(trail.TrailName).toBe('ai-audit');
    expect(trail.AdvancedEventSelectors.map((x: any) => x.Name)).toEqual([
      'Data events: AWS::Bedrock::KnowledgeBase',
      'Data events: AWS::BedrockAgentCore::Gateway',
      'Data events: AWS::BedrockAgentCore::Evaluator',
    ]);
    expect(JSON.stringify(s.stack.resolve(s.built.trailArn))).toContain(':trail/ai-audit');
  });

  test('turning model invocation logging off removes it entirely', () => {
    expect(s.built.modelInvocationLogging).toBeUndefined();
    s.template.resourceCountIs('Custom::BedrockModelInvocationLogging', 0);
    s.template.resourceCountIs('AWS::Lambda::Function', 0);
    expect(JSON.stringify(s.template.toJSON())).not.toContain('ModelInvocationLoggingConfiguration');
  });

  test('creates a GuardDuty detector with S3, Lambda network and runtime monitoring when asked', () => {
    s.template.resourceCountIs('AWS::GuardDuty::Detector', 1);
    s.template.hasResourceProperties('AWS::GuardDuty::Detector', {
      Enable: true,
      FindingPublishingFrequency: 'FIFTEEN_MINUTES',
      Features: Match.arrayWith([
        { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
        { Name: 'LAMBDA_NETWORK_LOGS', Status: 'ENABLED' },
        Match.objectLike({ Name: 'RUNTIME_MONITORING', Status: 'ENABLED' }),
      ]),
    });
  });

  test('uses the given topic and thresholds and creates no topic of its own', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(s.built.alarmTopic).toBe(s.stack.node.findChild('OpsTopic'));
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: AuditMetric.ENFORCEMENT_DENIALS,
      Threshold: 3,
      Period: 60,
      EvaluationPeriods: 3,
      AlarmActions: [{ Ref: s.stack.getLogicalId(s.stack.node.findChild('OpsTopic').node.defaultChild as any) }],
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: AuditMetric.GUARDRAIL_INTERVENTIONS, Threshold: 25, Period: 60 });
  });

  test('has zero cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('AiAuditTrail adopting an existing trail', () => {
  const existing = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail';
  let s: Synthesized<AiAuditTrail>;
  beforeAll(() => {
    s = synthOnce((stack) => new AiAuditTrail(stack, 'Audit', { existingTrailArn: existing, modelInvocationLogging: false, createAlarmTopic: false }));
  });

  test('creates no trail, trail bucket or trail log group and exposes the adopted ARN', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    s.template.resourceCountIs('AWS::S3::Bucket', 1); // the access-log bucket only
    expect(s.built.trail).toBeUndefined();
    expect(s.built.trailBucket).toBeUndefined();
    expect(s.built.trailArn).toBe(existing);
  });

  test('offers the selectors for the adopted trail', () => {
    const selectors = AiAuditTrail.advancedEventSelectors([AuditDataResourceType.BEDROCK_GUARDRAIL], false);
    expect(selectors).toEqual([
      { name: 'Data events: AWS::Bedrock::Guardrail', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Data'] }, { field: 'resources.type', equalTo: ['AWS::Bedrock::Guardrail'] }] },
    ]);
  });

  test('without a topic the alarms have no action, and cdk-nag says so', () => {
    for (const alarm of resourcesOf(s.template, 'AWS::CloudWatch::Alarm')) expect(alarm.AlarmActions).toBeUndefined();
    const rules = nagFindings(s.stack).map((f) => f.rule);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.every((r) => r.endsWith('CloudWatchAlarmAction'))).toBe(true);
  });
});

describe('AiAuditTrail fails at synth', () => {
  const build = (props: AiAuditTrailProps) => () => new AiAuditTrail(testStack(), 'Audit', props);

  test.each<[string, AiAuditTrailProps, RegExp]>([
    ['a data resource type is listed twice', { dataResourceTypes: [AuditDataResourceType.AGENTCORE_MEMORY, AuditDataResourceType.AGENTCORE_MEMORY] }, /dataResourceTypes lists "AWS::BedrockAgentCore::Memory" twice/],
    ['the trail would record nothing', { dataResourceTypes: [], includeManagementEvents: false }, /dataResourceTypes is \[\] and includeManagementEvents is false/],
    ['the trail name is too short', { trailName: 'ab' }, /trailName is "ab"; allowed: 3 to 128/],
    ['the trail name has a bad character', { trailName: 'ai audit' }, /trailName is "ai audit"/],
    ['the trail name has adjacent symbols', { trailName: 'ai--audit' }, /trailName is "ai--audit"/],
    ['the existing trail ARN is not an ARN', { existingTrailArn: 'org-trail' }, /existingTrailArn is "org-trail"; allowed: a CloudTrail trail ARN/],
    ['trail settings are given with an existing trail', { existingTrailArn: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/org', trailName: 'mine' }, /trailName is set together with existingTrailArn/],
    ['invocation logging options are given while it is off', { modelInvocationLogging: false, modelInvocationLoggingOptions: {} }, /modelInvocationLoggingOptions is set while modelInvocationLogging is false/],
    ['a threshold is zero', { denialAlarmThreshold: 0 }, /denialAlarmThreshold is 0; allowed: a whole number from 1/],
    ['a threshold is fractional', { interventionAlarmThreshold: 2.5 }, /interventionAlarmThreshold is 2.5/],
    ['the evaluation periods are out of range', { alarmEvaluationPeriods: 0 }, /alarmEvaluationPeriods is 0/],
    ['the alarm period is under a minute', { alarmPeriod: Duration.seconds(30) }, /alarmPeriod is 30 seconds; allowed: a whole number of minutes/],
    ['the alarm period is not whole minutes', { alarmPeriod: Duration.seconds(90) }, /alarmPeriod is 1 minute 30 seconds/],
    ['the alarm window is over 7 days', { alarmPeriod: Duration.days(1), alarmEvaluationPeriods: 8 }, /alarmPeriod × alarmEvaluationPeriods is 8 days/],
    ['the dashboard name has a space', { dashboardName: 'ai audit' }, /dashboardName is "ai audit"/],
  ])('fails when %s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('fails when a topic is given while topic creation is switched off', () => {
    const stack = testStack();
    const topic = sns.Topic.fromTopicArn(stack, 'T', 'arn:aws:sns:us-east-1:123456789012:ops');
    expect(() => new AiAuditTrail(stack, 'Audit', { alarmTopic: topic, createAlarmTopic: false })).toThrow(/alarmTopic is given while createAlarmTopic is false/);
  });

  test('fails when a data resource type is one CloudTrail rejects or not a type name', () => {
    expect(() => AuditDataResourceType.of('AWS::Bedrock::Prompt')).toThrow(/"AWS::Bedrock::Prompt" is rejected by CloudTrail; .*AWS::Bedrock::PromptVersion/);
    expect(() => AuditDataResourceType.of('bedrock knowledge base')).toThrow(/"bedrock knowledge base" is not a CloudTrail resource type; allowed: a name of the form AWS::Service::Type/);
  });

  test('fails when two audit trails in one app both own model invocation logging for one account and region', () => {
    const app = testApp();
    const env = { account: '123456789012', region: 'us-east-1' };
    new AiAuditTrail(new Stack(app, 'One', { env }), 'Audit');
    const two = new Stack(app, 'Two', { env });
    new AiAuditTrail(two, 'Audit');
    expect(() => Template.fromStack(two)).toThrow(/only one ModelInvocationLogging may exist per account and region.*One\/Audit\/ModelInvocationLogging, Two\/Audit\/ModelInvocationLogging/s);
  });

  test('allows one owner of model invocation logging per region', () => {
    const app = testApp();
    new AiAuditTrail(new Stack(app, 'East', { env: { account: '123456789012', region: 'us-east-1' } }), 'Audit');
    const west = new Stack(app, 'West', { env: { account: '123456789012', region: 'us-west-2' } });
    new AiAuditTrail(west, 'Audit');
    const third = new Stack(app, 'EastAgain', { env: { account: '123456789012', region: 'us-east-1' } });
    new AiAuditTrail(third, 'Audit', { modelInvocationLogging: false });
    expect(() => Template.fromStack(west)).not.toThrow();
    expect(() => Template.fromStack(third)).not.toThrow();
  });
});
