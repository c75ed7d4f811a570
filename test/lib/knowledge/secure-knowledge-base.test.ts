import * as fs from 'fs';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MetadataCheckEnv } from '../../../lambda/metadata-check/config';
import {
  ChunkingStrategy,
  EmbeddingModel,
  MetadataContract,
  MetadataField,
  SecureKnowledgeBase,
  VectorDistanceMetric,
} from '../../../lib/knowledge';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

export function contract(): MetadataContract {
  return MetadataContract.of([
    MetadataField.string('tenant', { pattern: '[a-z0-9-]{2,32}' }),
    MetadataField.stringList('groups', { maxItems: 20 }),
    MetadataField.string('classification', { allowedValues: ['public', 'internal', 'confidential'] }),
    MetadataField.number('year', { integer: true, minimum: 1990, maximum: 2100 }),
    MetadataField.boolean('reviewed', { required: false }),
  ]);
}

function props(template: Template, type: string): any[] {
  return Object.values(template.findResources(type)).map((r: any) => r.Properties);
}

describe('SecureKnowledgeBase with defaults', () => {
  let s: Synthesized<SecureKnowledgeBase>;
  let ids: { bucket: string; key: string; index: string; role: string; check: string; checkRole: string };
  beforeAll(() => {
    s = synthOnce((stack) => new SecureKnowledgeBase(stack, 'Kb', { vpc: isolatedVpc(stack), metadataContract: contract() }));
    const kb = s.built;
    ids = {
      bucket: s.stack.getLogicalId(kb.documentsBucket.node.defaultChild as s3.CfnBucket),
      key: s.stack.getLogicalId(kb.encryptionKey.node.defaultChild as kms.CfnKey),
      index: s.stack.getLogicalId(kb.vectorIndex),
      role: s.stack.getLogicalId(kb.serviceRole.node.defaultChild as iam.CfnRole),
      check: s.stack.getLogicalId(kb.ingestionCheck.node.defaultChild as any),
      checkRole: s.stack.getLogicalId((kb.ingestionCheck.role as iam.Role).node.defaultChild as iam.CfnRole),
    };
  });

  test('an S3 Vectors knowledge base with Titan V2 (1024) on an encrypted vector bucket and index', () => {
    s.template.resourceCountIs('AWS::Bedrock::KnowledgeBase', 1);
    s.template.hasResourceProperties('AWS::Bedrock::KnowledgeBase', {
      RoleArn: { 'Fn::GetAtt': [ids.role, 'Arn'] },
      KnowledgeBaseConfiguration: {
        Type: 'VECTOR',
        VectorKnowledgeBaseConfiguration: {
          EmbeddingModelArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/amazon.titan-embed-text-v2:0']] },
          EmbeddingModelConfiguration: { BedrockEmbeddingModelConfiguration: { Dimensions: 1024, EmbeddingDataType: 'FLOAT32' } },
        },
      },
      StorageConfiguration: { Type: 'S3_VECTORS', S3VectorsConfiguration: { IndexArn: { 'Fn::GetAtt': [ids.index, 'IndexArn'] } } },
    });
    s.template.hasResourceProperties('AWS::S3Vectors::VectorBucket', { EncryptionConfiguration: { SseType: 'aws:kms', KmsKeyArn: { 'Fn::GetAtt': [ids.key, 'Arn'] } } });
    s.template.hasResourceProperties('AWS::S3Vectors::Index', {
      DataType: 'float32',
      Dimension: 1024,
      DistanceMetric: 'cosine',
      EncryptionConfiguration: { SseType: 'aws:kms', KmsKeyArn: { 'Fn::GetAtt': [ids.key, 'Arn'] } },
      MetadataConfiguration: { NonFilterableMetadataKeys: ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'] },
    });
    for (const type of ['AWS::S3Vectors::VectorBucket', 'AWS::S3Vectors::Index', 'AWS::S3::Bucket', 'AWS::KMS::Key']) {
      for (const r of Object.values(s.template.findResources(type))) expect((r as any).DeletionPolicy).toBe('Retain');
    }
  });

  test('the data source indexes the published prefix only, with chunking, KMS and DELETE data deletion', () => {
    s.template.hasResourceProperties('AWS::Bedrock::DataSource', {
      DataDeletionPolicy: 'DELETE',
      DataSourceConfiguration: { Type: 'S3', S3Configuration: { BucketArn: { 'Fn::GetAtt': [ids.bucket, 'Arn'] }, InclusionPrefixes: ['published/'], BucketOwnerAccountId: { Ref: 'AWS::AccountId' } } },
      ServerSideEncryptionConfiguration: { KmsKeyArn: { 'Fn::GetAtt': [ids.key, 'Arn'] } },
      VectorIngestionConfiguration: { ChunkingConfiguration: { ChunkingStrategy: 'FIXED_SIZE', FixedSizeChunkingConfiguration: { MaxTokens: 300, OverlapPercentage: 20 } } },
    });
  });

  test('the documents bucket is KMS-encrypted, TLS-only, versioned, private, access-logged and sends events to EventBridge', () => {
    const docs = s.template.toJSON().Resources[ids.bucket].Properties;
    expect(docs.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [ids.key, 'Arn'] } } });
    expect(docs.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(docs.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(docs.LoggingConfiguration.DestinationBucketName).toBeDefined();
    expect(docs.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    s.template.resourceCountIs('Custom::S3BucketNotifications', 0);
    const policy = props(s.template, 'AWS::S3::BucketPolicy').find((p) => p.Bucket.Ref === ids.bucket).PolicyDocument.Statement;
    expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
  });

  test('only the ingestion check may write into the indexed prefix', () => {
    const policy = props(s.template, 'AWS::S3::BucketPolicy').find((p) => p.Bucket.Ref === ids.bucket).PolicyDocument.Statement;
    expect(policy).toContainEqual({
      Sid: 'OnlyTheIngestionCheckPublishes',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/published/*']] },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [ids.checkRole, 'Arn'] } } },
    });
  });

  test('the service role is least privilege and trusts Bedrock only for knowledge bases of this account', () => {
    const role = s.template.toJSON().Resources[ids.role].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'bedrock.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':knowledge-base/*']] } },
        },
      },
    ]);
    const statements = props(s.template, 'AWS::IAM::ManagedPolicy').find((p) => p.Roles[0].Ref === ids.role).PolicyDocument.Statement;
    expect(statements.map((st: any) => st.Action)).toEqual([
      'bedrock:InvokeModel',
      's3:ListBucket',
      's3:GetObject',
      ['s3vectors:DeleteVectors', 's3vectors:GetIndex', 's3vectors:GetVectors', 's3vectors:PutVectors', 's3vectors:QueryVectors'],
      ['kms:Decrypt', 'kms:GenerateDataKey'],
    ]);
    expect(statements[2].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/published/*']] });
    expect(statements[3].Resource).toEqual({ 'Fn::GetAtt': [ids.index, 'IndexArn'] });
    expect(JSON.stringify(statements)).not.toMatch(/"\*"|incoming|quarantine|RetrieveAndGenerate/);
  });

  test('the key lets S3 Vectors index in the background, and EventBridge use the dead-letter queue, each scoped', () => {
    const key = s.template.toJSON().Resources[ids.key].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const vectors = key.KeyPolicy.Statement.find((st: any) => st.Principal?.Service === 'indexing.s3vectors.amazonaws.com');
    expect(vectors).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3vectors:arn', 'aws:s3vectors:resource-id'] } } });
    const events = key.KeyPolicy.Statement.find((st: any) => st.Principal?.Service === 'events.amazonaws.com');
    expect(JSON.stringify(events.Condition.ArnEquals['aws:SourceArn'])).toContain(':rule/TestStack-Kb-');
  });

  test('the ingestion check runs on uploads to the staging prefix, with the contract and layout in its environment', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [{ Ref: ids.bucket }] }, object: { key: [{ prefix: 'incoming/' }] } } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.check, 'Arn'] }, DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 8 } })],
    });
    const fn = s.template.toJSON().Resources[ids.check].Properties;
    const env = fn.Environment.Variables;
    expect(JSON.parse(env[MetadataCheckEnv.CONTRACT]).fields.map((f: any) => `${f.key}:${f.type}:${f.required}`)).toEqual([
      'tenant:STRING:true',
      'groups:STRING_LIST:true',
      'classification:STRING:true',
      'year:NUMBER:true',
      'reviewed:BOOLEAN:false',
    ]);
    expect(env).toMatchObject({ [MetadataCheckEnv.BUCKET]: { Ref: ids.bucket }, [MetadataCheckEnv.STAGING_PREFIX]: 'incoming/', [MetadataCheckEnv.PUBLISHED_PREFIX]: 'published/', [MetadataCheckEnv.QUARANTINE_PREFIX]: 'quarantine/' });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: Match.anyValue() } } });
    s.template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] }, MessageRetentionPeriod: 1209600 });
  });

  test('the ingestion check can read staging, publish, quarantine and unpublish, and nothing else', () => {
    const statements = props(s.template, 'AWS::IAM::ManagedPolicy').find((p) => p.Roles[0].Ref === ids.checkRole).PolicyDocument.Statement;
    const bySid = Object.fromEntries(statements.filter((st: any) => st.Sid).map((st: any) => [st.Sid, st]));
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, `/${prefix}*`]] });
    expect(bySid.ReadAndClearStaging).toMatchObject({ Resource: objects('incoming/') });
    expect(bySid.PublishOrQuarantine).toMatchObject({ Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: [objects('published/'), objects('quarantine/')] });
    expect(bySid.Unpublish).toMatchObject({ Action: 's3:DeleteObject', Resource: objects('published/') });
    expect(bySid.TellMissingFromDenied).toMatchObject({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [ids.bucket, 'Arn'] } });
    const keyActions = new Set(statements.filter((st: any) => JSON.stringify(st.Resource).includes(ids.key)).flatMap((st: any) => [st.Action].flat()));
    expect([...keyActions].sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(JSON.stringify(statements)).not.toMatch(/kms:ReEncrypt|GenerateDataKey\*|"s3:\*"/);
  });

  test('grantRetrieve grants Retrieve only; grantUpload the staging prefix only; grantSync the ingestion jobs', () => {
    const stack = testStack();
    const kb = SecureKnowledgeBase.fromKnowledgeBaseAttributes(stack, 'Imported', { knowledgeBaseId: 'KB12345678', metadataContract: contract(), sourceScopes: ['s3://docs-bucket/published/*'] });
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    kb.grantRetrieve(role);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'bedrock:Retrieve', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':knowledge-base/KB12345678']] } }] },
    });

    const uploader = new iam.Role(s.stack, 'Uploader', { assumedBy: new iam.AccountRootPrincipal() });
    s.built.grantUpload(uploader);
    s.built.grantSync(uploader);
    const statements = s.stack.resolve((uploader.node.findChild('DefaultPolicy') as iam.Policy).document.toJSON()).Statement;
    expect(statements.map((st: any) => [st.Action].flat().sort())).toEqual([['s3:PutObject'], ['kms:Encrypt', 'kms:GenerateDataKey'], ['bedrock:GetIngestionJob', 'bedrock:ListIngestionJobs', 'bedrock:StartIngestionJob']]);
    expect(statements[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/incoming/*']] });
  });

  test('cdk-nag finds nothing unsuppressed', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => /\/(Vpc|Uploader)\//.test(`/${r}`)))).toEqual([]);
  });

  test('cfn-lint accepts the template', () => {
    const file = '/tmp/cad-secure-knowledge-base.template.json';
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).errors).toEqual([]);
  });
});

describe('SecureKnowledgeBase with options', () => {
  let s: Synthesized<SecureKnowledgeBase>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
      return new SecureKnowledgeBase(stack, 'Kb', {
        metadataContract: contract(),
        embeddingModel: EmbeddingModel.titanTextV2(512),
        chunking: ChunkingStrategy.hierarchical(1200, 200, 50),
        distanceMetric: VectorDistanceMetric.EUCLIDEAN,
        encryptionKey: key,
        stagingPrefix: 'upload/',
        publishedPrefix: 'kb/docs/',
        quarantinePrefix: 'rejected/',
        removalPolicy: RemovalPolicy.DESTROY,
        logRetention: logs.RetentionDays.ONE_MONTH,
      });
    });
  });

  test('uses the given key, model, chunking, metric and prefixes', () => {
    s.template.resourceCountIs('AWS::KMS::Key', 2); // the given key and the stack-wide log key
    s.template.hasResourceProperties('AWS::S3Vectors::Index', { Dimension: 512, DistanceMetric: 'euclidean' });
    s.template.hasResourceProperties('AWS::Bedrock::DataSource', {
      DataSourceConfiguration: { S3Configuration: { InclusionPrefixes: ['kb/docs/'] } },
      VectorIngestionConfiguration: { ChunkingConfiguration: { ChunkingStrategy: 'HIERARCHICAL', HierarchicalChunkingConfiguration: { LevelConfigurations: [{ MaxTokens: 1200 }, { MaxTokens: 200 }], OverlapTokens: 50 } } },
    });
    s.template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: Match.objectLike({ object: { key: [{ prefix: 'upload/' }] } }) }) });
    expect(s.built.sourceScopes).toHaveLength(1);
    expect(s.stack.resolve(s.built.sourceScopes[0])).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: s.stack.getLogicalId(s.built.documentsBucket.node.defaultChild as s3.CfnBucket) }, '/kb/docs/*']] });
  });

  test('a model with a fixed dimension gets no embedding configuration', () => {
    const stack = testStack();
    new SecureKnowledgeBase(stack, 'Kb', { metadataContract: contract(), embeddingModel: EmbeddingModel.cohereEmbedMultilingualV3(), chunking: ChunkingStrategy.semantic() });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Bedrock::KnowledgeBase', {
      KnowledgeBaseConfiguration: { VectorKnowledgeBaseConfiguration: { EmbeddingModelConfiguration: Match.absent(), EmbeddingModelArn: Match.anyValue() } },
    });
    t.hasResourceProperties('AWS::Bedrock::DataSource', { VectorIngestionConfiguration: { ChunkingConfiguration: { ChunkingStrategy: 'SEMANTIC' } } });
  });
});

describe('SecureKnowledgeBase validation', () => {
  test.each<[string, () => void, RegExp]>([
    ['overlapping prefixes', () => new SecureKnowledgeBase(testStack(), 'Kb', { metadataContract: contract(), stagingPrefix: 'docs/', publishedPrefix: 'docs/published/' }), /publishedPrefix "docs\/published\/" lies inside stagingPrefix "docs\/"/],
    ['a prefix without a trailing slash', () => new SecureKnowledgeBase(testStack(), 'Kb', { metadataContract: contract(), publishedPrefix: 'published' }), /publishedPrefix is "published"/],
    ['a Titan dimension of 300', () => EmbeddingModel.titanTextV2(300), /dimensions is 300; allowed: 256, 512 or 1024/],
    ['an overlap of 100 %', () => ChunkingStrategy.fixedSize(300, 100), /overlapPercentage is 100/],
    ['a child chunk larger than its parent', () => ChunkingStrategy.hierarchical(300, 400), /childMaxTokens is 400/],
    ['a bad knowledge base id on import', () => SecureKnowledgeBase.fromKnowledgeBaseAttributes(testStack(), 'I', { knowledgeBaseId: 'kb-1', metadataContract: contract(), sourceScopes: ['s3://docs/p/*'] }), /knowledgeBaseId is "kb-1"/],
    ['a character-level source scope on import', () => SecureKnowledgeBase.fromKnowledgeBaseAttributes(testStack(), 'I', { knowledgeBaseId: 'KB12345678', metadataContract: contract(), sourceScopes: ['s3://docs/pub*'] }), /sourceScopes is "s3:\/\/docs\/pub\*"/],
  ])('fails with %s', (_n, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('MetadataContract', () => {
  test('validates sidecars in CI exactly as the ingestion check does', () => {
    const c = contract();
    expect(c.validateSidecar(JSON.stringify({ metadataAttributes: { tenant: 'acme', groups: ['finance'], classification: 'internal', year: 2024 } }))).toEqual([]);
    expect(c.validateSidecar(JSON.stringify({ metadataAttributes: { tenant: 'acme', groups: ['finance'], classification: 'secret', year: 2024 } }))).toEqual(['metadataAttributes.classification is not one of the allowed values']);
    expect(c.keys).toEqual(['tenant', 'groups', 'classification', 'year', 'reviewed']);
    expect(c.typeOf('groups')).toBe('STRING_LIST');
    expect(c.typeOf('nope')).toBeUndefined();
  });

  test.each<[string, () => unknown, RegExp]>([
    ['no fields', () => MetadataContract.of([]), /fields has 0 entries; allowed: 1 to 20/],
    ['a duplicate key', () => MetadataContract.of([MetadataField.string('a'), MetadataField.number('a')]), /key "a" is declared twice/],
    ['a reserved key', () => MetadataField.string('x-amz-bedrock-kb-source-uri'), /not a valid metadata key/],
    ['bounds on a string', () => MetadataField.string('a', { minimum: 3 }), /minimum must be a finite number on a NUMBER field/],
    ['an invalid pattern', () => MetadataField.string('a', { pattern: '[' }), /not a valid regular expression/],
    ['allowed values on a number', () => MetadataField.number('a', { allowedValues: ['1'] }), /allowedValues applies to STRING and STRING_LIST only/],
  ])('fails with %s', (_n, build, message) => {
    expect(build).toThrow(message);
  });
});
