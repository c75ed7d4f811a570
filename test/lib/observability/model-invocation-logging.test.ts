import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { InvocationLogDataKind, ModelInvocationLogging, ModelInvocationLoggingProps } from '../../../lib/observability';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized, testApp, testStack } from '../../rig/synth';

const PROVIDER_ID = 'AWS' + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '');

function resourcesOf(template: Template, type: string): any[] {
  return Object.values(template.findResources(type)).map((r: any) => r.Properties);
}

/** The SDK call of a custom resource property (`Create`, `Update`, `Delete`) as an object, tokens as `<Logical.Attr>`. */
function sdkCall(value: any): any {
  if (typeof value === 'string') return JSON.parse(value);
  const text = value['Fn::Join'][1]
    .map((part: any) => (typeof part === 'string' ? part : part.Ref ? `<${part.Ref}>` : `<${part['Fn::GetAtt'].join('.')}>`))
    .join('');
  return JSON.parse(text);
}

const bedrockSource = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']] } },
};

describe('ModelInvocationLogging', () => {
  let s: Synthesized<{ logging: ModelInvocationLogging; investigator: iam.Role }>;
  const id = (c: any) => s.stack.getLogicalId(c.node.defaultChild);
  beforeAll(() => {
    s = synthOnce((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1, maxAzs: 2 });
      vpc.addFlowLog('Flow');
      const logging = new ModelInvocationLogging(stack, 'InvocationLogging', {
        dataKinds: [InvocationLogDataKind.TEXT, InvocationLogDataKind.IMAGE],
        largeDataKeyPrefix: 'audit/bedrock',
        logRetention: logs.RetentionDays.TWO_YEARS,
        vpc,
      });
      const investigator = new iam.Role(stack, 'Investigator', { assumedBy: new iam.AccountRootPrincipal() });
      logging.grantRead(investigator);
      return { logging, investigator };
    });
  });

  test('puts the logging configuration on create and update, and deletes it on delete', () => {
    const resource = resourcesOf(s.template, 'Custom::BedrockModelInvocationLogging');
    expect(resource).toHaveLength(1);
    const create = sdkCall(resource[0].Create);
    expect(sdkCall(resource[0].Update)).toEqual(create);
    expect(create).toEqual({
      service: 'bedrock',
      action: 'PutModelInvocationLoggingConfiguration',
      parameters: {
        loggingConfig: {
          cloudWatchConfig: {
            logGroupName: `<${id(s.built.logging.logGroup)}>`,
            roleArn: `<${id(s.built.logging.deliveryRole)}.Arn>`,
            largeDataDeliveryS3Config: { bucketName: `<${id(s.built.logging.largeDataBucket)}>`, keyPrefix: 'audit/bedrock' },
          },
          textDataDeliveryEnabled: true,
          imageDataDeliveryEnabled: true,
          embeddingDataDeliveryEnabled: false,
          videoDataDeliveryEnabled: false,
          audioDataDeliveryEnabled: false,
        },
      },
      physicalResourceId: { id: 'bedrock-model-invocation-logging' },
    });
    expect(sdkCall(resource[0].Delete)).toEqual({ service: 'bedrock', action: 'DeleteModelInvocationLoggingConfiguration', parameters: {} });
    expect(resource[0].InstallLatestAwsSdk).toBe(false);
  });

  test('applies the setting only after its destinations and their policies exist', () => {
    const [resource] = Object.values(s.template.findResources('Custom::BedrockModelInvocationLogging')) as any[];
    expect(resource.DependsOn).toEqual(
      expect.arrayContaining([id(s.built.logging.deliveryRole), id(s.built.logging.logGroup), id(s.built.logging.largeDataBucket.policy!)]),
    );
  });

  test('trusts only bedrock.amazonaws.com acting for this account (aws:SourceAccount and aws:SourceArn)', () => {
    const role = s.template.toJSON().Resources[id(s.built.logging.deliveryRole)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'bedrock.amazonaws.com' }, Condition: bedrockSource },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
  });

  test('lets the delivery role write to the invocation log stream only', () => {
    const policy = resourcesOf(s.template, 'AWS::IAM::ManagedPolicy').find((p) => p.Description?.includes('one log stream'));
    expect(policy.Roles).toEqual([{ Ref: id(s.built.logging.deliveryRole) }]);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:', { Ref: id(s.built.logging.logGroup) }, ':log-stream:aws/bedrock/modelinvocations']],
        },
      },
    ]);
  });

  test('encrypts the log group and the large-payload bucket with a rotated key Bedrock may use only for this account', () => {
    const group = s.template.toJSON().Resources[id(s.built.logging.logGroup)].Properties;
    const keyId = id(s.built.logging.encryptionKey);
    expect(group).toEqual(expect.objectContaining({ KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 731 }));
    const key = s.template.toJSON().Resources[keyId].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toContainEqual({
      Sid: 'AllowBedrockLargeDataDelivery',
      Effect: 'Allow',
      Principal: { Service: 'bedrock.amazonaws.com' },
      Action: 'kms:GenerateDataKey',
      Resource: '*',
      Condition: bedrockSource,
    });
    const bucket = s.template.toJSON().Resources[id(s.built.logging.largeDataBucket)].Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LoggingConfiguration.DestinationBucketName).toBeDefined();
  });

  test('lets Bedrock put large payloads under the prefix only, over TLS only', () => {
    const policy = s.template.toJSON().Resources[id(s.built.logging.largeDataBucket.policy!)].Properties.PolicyDocument.Statement;
    expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const bedrock = policy.filter((st: any) => st.Principal?.Service === 'bedrock.amazonaws.com');
    expect(bedrock).toEqual([
      {
        Sid: 'AmazonBedrockLogsWrite',
        Effect: 'Allow',
        Principal: { Service: 'bedrock.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(s.built.logging.largeDataBucket), 'Arn'] }, '/audit/bedrock/AWSLogs/', { Ref: 'AWS::AccountId' }, '/BedrockModelInvocationLogs/*']] },
        Condition: bedrockSource,
      },
    ]);
  });

  test('the deploy-time provider has its own role, no AWS managed policy, and may pass only the delivery role to Bedrock', () => {
    const fn = s.template.toJSON().Resources[s.stack.getLogicalId(s.stack.node.findChild(PROVIDER_ID).node.findChild('Resource') as any)].Properties;
    expect(fn.VpcConfig).toBeDefined();
    expect(fn.MemorySize).toBe(256);
    const roleId = fn.Role['Fn::GetAtt'][0];
    expect(roleId).toMatch(/^InvocationLoggingProviderRole/);
    expect(s.template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const attached = resourcesOf(s.template, 'AWS::IAM::ManagedPolicy').filter((p) => JSON.stringify(p.Roles) === JSON.stringify([{ Ref: roleId }]));
    expect(attached).toHaveLength(1);
    const policy = attached[0].PolicyDocument.Statement;
    // Statements on "*" are merged: the two Bedrock calls and, in a VPC, the Lambda networking minimum.
    expect(policy.filter((st: any) => st.Resource === '*')).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'bedrock:DeleteModelInvocationLoggingConfiguration',
          'bedrock:PutModelInvocationLoggingConfiguration',
          'ec2:AssignPrivateIpAddresses',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: '*',
      },
    ]);
    expect(policy).toContainEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [id(s.built.logging.deliveryRole), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
    });
    // Nothing inline on the library's roles (the NIST and HIPAA packs reject inline policies).
    const inlineRoles = resourcesOf(s.template, 'AWS::IAM::Policy').flatMap((p) => p.Roles.map((r: any) => r.Ref));
    for (const role of [roleId, id(s.built.logging.deliveryRole)]) expect(inlineRoles).not.toContain(role);
  });

  test('grantRead gives read-only access to logs, payloads and the key', () => {
    const policy = resourcesOf(s.template, 'AWS::IAM::Policy').find((p) => p.Roles[0].Ref === id(s.built.investigator));
    const actions = policy.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['logs:FilterLogEvents', 's3:GetObject*', 'kms:Decrypt']));
    expect(actions.some((a: string) => /Put|Delete|Write|Encrypt/.test(a))).toBe(false);
  });

  test('has zero cdk-nag findings (test VPC and investigator aside)', () => {
    const scaffolding = (r: string) => r.startsWith('TestStack/Vpc/') || r.startsWith('TestStack/Investigator/');
    expect(nagFindings(s.stack).filter((f) => !f.resources.every(scaffolding))).toEqual([]);
  });
});

describe('ModelInvocationLogging in a stack whose AwsCustomResource provider already exists', () => {
  let s: Synthesized<ModelInvocationLogging>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      new cr.AwsCustomResource(stack, 'Other', {
        onCreate: { service: 'sts', action: 'GetCallerIdentity', physicalResourceId: cr.PhysicalResourceId.of('x') },
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
        installLatestAwsSdk: false,
      });
      return new ModelInvocationLogging(stack, 'InvocationLogging');
    });
  });

  test('attaches its permissions to the existing provider role and creates no provider settings of its own', () => {
    s.template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(s.built.node.tryFindChild('ProviderRole')).toBeUndefined();
    const inline = s.built.resource.node.findChild('CustomResourcePolicy').node.defaultChild as iam.CfnPolicy;
    const doc = s.template.toJSON().Resources[s.stack.getLogicalId(inline)].Properties.PolicyDocument.Statement;
    expect(doc.map((st: any) => st.Action)).toEqual([
      ['bedrock:DeleteModelInvocationLoggingConfiguration', 'bedrock:PutModelInvocationLoggingConfiguration'],
      'iam:PassRole',
    ]);
  });

  test('has zero cdk-nag findings of its own (the other custom resource aside)', () => {
    const provider = `TestStack/${PROVIDER_ID}/`;
    const foreign = (r: string) => r.startsWith('TestStack/Other/') || r.startsWith(provider);
    expect(nagFindings(s.stack).filter((f) => !f.resources.every(foreign))).toEqual([]);
  });
});

describe('ModelInvocationLogging fails', () => {
  const build = (props: ModelInvocationLoggingProps) => () => new ModelInvocationLogging(testStack(), 'InvocationLogging', props);

  test.each<[string, ModelInvocationLoggingProps, RegExp]>([
    ['text delivery is left out', { dataKinds: [InvocationLogDataKind.IMAGE] }, /dataKinds is \[IMAGE\]; allowed: any kinds that include TEXT/],
    ['a data kind is unknown', { dataKinds: [InvocationLogDataKind.TEXT, 'SMELL' as InvocationLogDataKind] }, /dataKinds contains "SMELL"; allowed: TEXT, IMAGE, EMBEDDING, VIDEO, AUDIO/],
    ['the key prefix starts with a slash', { largeDataKeyPrefix: '/logs' }, /largeDataKeyPrefix is "\/logs"/],
    ['the key prefix ends with a slash', { largeDataKeyPrefix: 'logs/' }, /largeDataKeyPrefix is "logs\/"/],
    ['subnets are given without a VPC', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, /vpcSubnets is set without vpc/],
  ])('when %s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('at synth when one app has two for the same account and region', () => {
    const app = testApp();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const a = new Stack(app, 'A', { env });
    new ModelInvocationLogging(a, 'Logging');
    new ModelInvocationLogging(new Stack(app, 'B', { env }), 'Logging');
    expect(() => Template.fromStack(a)).toThrow(/only one ModelInvocationLogging may exist per account and region .* 2 for the same account and region: A\/Logging, B\/Logging/);
  });

  test('at synth when two environment-agnostic stacks could land in the same account and region', () => {
    const app = testApp();
    const a = new Stack(app, 'A');
    new ModelInvocationLogging(a, 'Logging');
    new ModelInvocationLogging(new Stack(app, 'B'), 'Logging');
    expect(() => Template.fromStack(a)).toThrow(/only one ModelInvocationLogging may exist per account and region/);
  });

  test('not when they are in different accounts', () => {
    const app = testApp();
    const a = new Stack(app, 'A', { env: { account: '111111111111', region: 'eu-west-1' } });
    new ModelInvocationLogging(a, 'Logging');
    new ModelInvocationLogging(new Stack(app, 'B', { env: { account: '222222222222', region: 'eu-west-1' } }), 'Logging');
    expect(() => Template.fromStack(a)).not.toThrow();
  });
});
