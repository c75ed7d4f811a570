import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3vectors from 'aws-cdk-lib/aws-s3vectors';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { MetadataCheckEnv, layoutProblems } from '../../lambda/metadata-check/config';
import { acknowledgeReplication, accessLogsBucket } from '../private/buckets';
import { EnforcementFunction, EnforcementFunctionOptions, EnforcementInvocation } from '../private/enforcement-function';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { acknowledgeNag, acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validatePattern } from '../private/validation';
import { ChunkingStrategy, EmbeddingModel, VectorDistanceMetric } from './knowledge-base-options';
import { MetadataContract } from './metadata-contract';
import { KnowledgePerms } from './perms';
import { ITrifectaSource } from '../analysis/capability';
import { ToolCapability } from '../tools/tool-registry';

/** A knowledge base whose documents carry a metadata contract, as the knowledge retriever needs it. */
export interface ISecureKnowledgeBase extends IConstruct, ITrifectaSource {
  /** The knowledge base id. @attribute */
  readonly knowledgeBaseId: string;
  /** The knowledge base ARN. @attribute */
  readonly knowledgeBaseArn: string;
  /** The metadata every document carries. */
  readonly metadataContract: MetadataContract;
  /** Where the indexed documents live, as grant scopes (`s3://bucket/published/*`); chunk sources must lie inside. */
  readonly sourceScopes: string[];
  /** Allows a principal to call Retrieve on this knowledge base (never RetrieveAndGenerate). */
  grantRetrieve(grantee: iam.IGrantable): iam.Grant;
}

/** Attributes of an existing knowledge base. */
export interface SecureKnowledgeBaseAttributes {
  /** The knowledge base id (10 letters and digits). */
  readonly knowledgeBaseId: string;
  /** The metadata contract its documents follow. */
  readonly metadataContract: MetadataContract;
  /** Grant scopes of its indexed documents, such as `s3://my-docs/published/*`. */
  readonly sourceScopes: string[];
}

/** Props of {@link SecureKnowledgeBase}. The inherited function options apply to the ingestion check function. */
export interface SecureKnowledgeBaseProps extends EnforcementFunctionOptions {
  /** The metadata keys every document must carry, with their types. */
  readonly metadataContract: MetadataContract;
  /**
   * The embedding model.
   * @default EmbeddingModel.titanTextV2(1024)
   */
  readonly embeddingModel?: EmbeddingModel;
  /**
   * How documents are chunked.
   * @default ChunkingStrategy.fixedSize(300, 20)
   */
  readonly chunking?: ChunkingStrategy;
  /**
   * Distance metric of the vector index.
   * @default VectorDistanceMetric.COSINE
   */
  readonly distanceMetric?: VectorDistanceMetric;
  /**
   * Customer-managed key for the documents bucket, the vector bucket and index, the data source's transient data and
   * the ingestion dead-letter queue.
   * @default - a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket that receives the documents bucket's S3 server access logs.
   * @default - a new private, versioned, TLS-only bucket
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Where documents and sidecars are uploaded; never indexed.
   * @default 'incoming/'
   */
  readonly stagingPrefix?: string;
  /**
   * Where validated documents are published; the data source's only inclusion prefix.
   * @default 'published/'
   */
  readonly publishedPrefix?: string;
  /**
   * Where documents with invalid metadata are moved; never indexed.
   * @default 'quarantine/'
   */
  readonly quarantinePrefix?: string;
  /**
   * Description of the knowledge base.
   * @default - a description naming the library
   */
  readonly description?: string;
  /**
   * What happens to the buckets, vector store and key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

abstract class SecureKnowledgeBaseBase extends Construct implements ISecureKnowledgeBase {
  public abstract readonly knowledgeBaseId: string;
  public abstract readonly knowledgeBaseArn: string;
  public abstract readonly metadataContract: MetadataContract;
  public abstract readonly sourceScopes: string[];

  public grantRetrieve(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: KnowledgePerms.RETRIEVE, resourceArns: [this.knowledgeBaseArn] });
  }

  /**
   * Unless labelled otherwise (`CapabilityLabels.label`), a knowledge base holds sensitive data and untrusted
   * content: its documents were written by people other than the user, and can carry injected instructions.
   */
  public trifectaCapabilities(): ToolCapability[] {
    return [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT];
  }
}

const KNOWLEDGE_BASE_ID = /^[0-9A-Za-z]{10}$/;

/**
 * A Bedrock knowledge base whose documents can only be indexed with valid labels:
 * - an S3 Vectors store (vector bucket and index, KMS-encrypted with a customer key);
 * - a documents bucket (KMS, TLS only, versioned, no public access, access-logged) whose staging prefix receives
 *   uploads; an ingestion check (Lambda on S3 events) publishes a document to the indexed prefix only together with
 *   a sidecar that satisfies the metadata contract, and quarantines documents with invalid metadata;
 * - an S3 data source on the published prefix only, with a chunking configuration and `DELETE` data deletion;
 * - a least-privilege service role (confused-deputy conditions on its trust policy);
 * - `grantRetrieve` for the retriever (Retrieve only).
 *
 * Metadata is document-level (every chunk inherits it) and reaches the index only after a data-source sync.
 */
export class SecureKnowledgeBase extends SecureKnowledgeBaseBase {
  /** An existing knowledge base, for routing and retrieval. */
  public static fromKnowledgeBaseAttributes(scope: Construct, id: string, attrs: SecureKnowledgeBaseAttributes): ISecureKnowledgeBase {
    throwIfInvalid('SecureKnowledgeBase.fromKnowledgeBaseAttributes', [
      ...validatePattern('knowledgeBaseId', attrs.knowledgeBaseId, KNOWLEDGE_BASE_ID, 'a knowledge base id of 10 letters and digits'),
      ...(attrs.sourceScopes.length === 0 ? ['sourceScopes is empty; allowed: at least one scope such as s3://bucket/published/*'] : []),
      ...attrs.sourceScopes.flatMap((s) => validatePattern('sourceScopes', s, /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([^*]+\/)?\*$/, 'a scope such as s3://bucket/prefix/*')),
    ]);
    class Import extends SecureKnowledgeBaseBase {
      public readonly knowledgeBaseId = attrs.knowledgeBaseId;
      public readonly knowledgeBaseArn = Stack.of(scope).formatArn({
        service: 'bedrock',
        resource: 'knowledge-base',
        resourceName: attrs.knowledgeBaseId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      public readonly metadataContract = attrs.metadataContract;
      public readonly sourceScopes = [...attrs.sourceScopes];
    }
    return new Import(scope, id);
  }

  public readonly knowledgeBaseId: string;
  public readonly knowledgeBaseArn: string;
  public readonly metadataContract: MetadataContract;
  public readonly sourceScopes: string[];
  /** The data source id. @attribute */
  public readonly dataSourceId: string;
  /** The knowledge base resource. */
  public readonly knowledgeBase: bedrock.CfnKnowledgeBase;
  /** The S3 data source (published prefix only). */
  public readonly dataSource: bedrock.CfnDataSource;
  /** The documents bucket. */
  public readonly documentsBucket: s3.Bucket;
  /** The S3 vector bucket. */
  public readonly vectorBucket: s3vectors.CfnVectorBucket;
  /** The S3 vector index. */
  public readonly vectorIndex: s3vectors.CfnIndex;
  /** The role Bedrock uses to read documents, embed and write vectors. */
  public readonly serviceRole: iam.Role;
  /** The key that encrypts documents, vectors, transient ingestion data and the dead-letter queue. */
  public readonly encryptionKey: kms.IKey;
  /** The ingestion check function (metadata-check handler). */
  public readonly ingestionCheck: lambda.IFunction;
  /** The encrypted log group of the ingestion check's decision lines (for `AiAuditTrail.watchDecisionLogs`). */
  public readonly decisionLogGroup: logs.ILogGroup;
  /** Where events the ingestion check could not process end up. */
  public readonly ingestionDeadLetterQueue: sqs.Queue;
  /** Upload prefix. */
  public readonly stagingPrefix: string;
  /** Indexed prefix. */
  public readonly publishedPrefix: string;
  /** Quarantine prefix. */
  public readonly quarantinePrefix: string;
  /** The embedding model. */
  public readonly embeddingModel: EmbeddingModel;

  constructor(scope: Construct, id: string, props: SecureKnowledgeBaseProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stagingPrefix = props.stagingPrefix ?? 'incoming/';
    this.publishedPrefix = props.publishedPrefix ?? 'published/';
    this.quarantinePrefix = props.quarantinePrefix ?? 'quarantine/';
    throwIfInvalid('SecureKnowledgeBase', layoutProblems(this.stagingPrefix, this.publishedPrefix, this.quarantinePrefix));
    this.metadataContract = props.metadataContract;
    this.embeddingModel = props.embeddingModel ?? EmbeddingModel.titanTextV2(1024);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'cdk-ai-defense SecureKnowledgeBase: documents, vectors, ingestion data',
        enableKeyRotation: true,
        removalPolicy,
      });
    this.encryptionKey = key;
    // S3 Vectors maintains indexes in the background under its own principal, which must be able to decrypt.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-data-encryption.html
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('indexing.s3vectors.amazonaws.com')],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 's3vectors', resource: 'bucket', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) },
          'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3vectors:arn', 'aws:s3vectors:resource-id'] },
        },
      }),
    );

    // ---- documents --------------------------------------------------------------------------------------------
    const accessLogs = props.serverAccessLogsBucket ?? accessLogsBucket(this, 'AccessLogs');
    this.documentsBucket = new s3.Bucket(this, 'Documents', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy,
    });
    acknowledgeReplication(this.documentsBucket);
    // Server access logging through a bucket policy on the log bucket (never ACLs), whatever the app's feature flags.
    const logPrefix = `${Names.uniqueResourceName(this, { maxLength: 64 })}/`;
    (this.documentsBucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: accessLogs.bucketName, logFilePrefix: logPrefix };
    accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogs.arnForObjects(`${logPrefix}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': this.documentsBucket.bucketArn }, StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // EventBridge notifications set on the bucket resource itself (no notification custom resource).
    (this.documentsBucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    this.sourceScopes = [`s3://${this.documentsBucket.bucketName}/${this.publishedPrefix}*`];

    // ---- vector store -----------------------------------------------------------------------------------------
    this.vectorBucket = new s3vectors.CfnVectorBucket(this, 'VectorBucket', { encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn: key.keyArn } });
    this.vectorBucket.applyRemovalPolicy(removalPolicy);
    this.vectorIndex = new s3vectors.CfnIndex(this, 'VectorIndex', {
      vectorBucketArn: this.vectorBucket.attrVectorBucketArn,
      dataType: 'float32',
      dimension: this.embeddingModel.dimensions,
      distanceMetric: props.distanceMetric ?? VectorDistanceMetric.COSINE,
      // Bedrock stores the chunk text and its own metadata blob here; they are large and never filtered on, and the
      // filterable metadata of a vector is limited to 2 KB.
      metadataConfiguration: { nonFilterableMetadataKeys: ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'] },
      encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn: key.keyArn },
    });
    this.vectorIndex.applyRemovalPolicy(removalPolicy);

    // ---- service role -----------------------------------------------------------------------------------------
    // Confused-deputy protection: only Bedrock acting for a knowledge base of this account may assume the role.
    // https://docs.aws.amazon.com/bedrock/latest/userguide/kb-permissions.html
    this.serviceRole = new ManagedPolicyRole(this, 'ServiceRole', {
      description: 'cdk-ai-defense SecureKnowledgeBase: Bedrock knowledge base service role',
      assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'bedrock', resource: 'knowledge-base', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) },
      }),
    });
    const role = this.serviceRole;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [this.embeddingModel.modelArn(this)] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.documentsBucket.bucketArn], conditions: { StringEquals: { 'aws:ResourceAccount': stack.account } } }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.documentsBucket.arnForObjects(`${this.publishedPrefix}*`)], conditions: { StringEquals: { 'aws:ResourceAccount': stack.account } } }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: KnowledgePerms.VECTOR_INDEX, resources: [this.vectorIndex.attrIndexArn] }));
    key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    acknowledgeNag(role, `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.documentsBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${this.publishedPrefix}*]`, 'The knowledge base reads every document of the published prefix, and only that prefix; object keys are not known at deploy time.');

    // ---- knowledge base and data source -----------------------------------------------------------------------
    const embeddingConfiguration = this.embeddingModel._configuration();
    this.knowledgeBase = new bedrock.CfnKnowledgeBase(this, 'Resource', {
      name: Names.uniqueResourceName(this, { maxLength: 100 }),
      description: props.description ?? 'cdk-ai-defense SecureKnowledgeBase (metadata contract enforced at ingestion)',
      roleArn: role.roleArn,
      knowledgeBaseConfiguration: {
        type: 'VECTOR',
        vectorKnowledgeBaseConfiguration: {
          embeddingModelArn: this.embeddingModel.modelArn(this),
          ...(embeddingConfiguration ? { embeddingModelConfiguration: embeddingConfiguration } : {}),
        },
      },
      storageConfiguration: { type: 'S3_VECTORS', s3VectorsConfiguration: { indexArn: this.vectorIndex.attrIndexArn } },
    });
    // The role's permissions must exist before Bedrock validates them at creation.
    this.knowledgeBase.node.addDependency(role);
    this.knowledgeBaseId = this.knowledgeBase.attrKnowledgeBaseId;
    this.knowledgeBaseArn = this.knowledgeBase.attrKnowledgeBaseArn;

    this.dataSource = new bedrock.CfnDataSource(this, 'DataSource', {
      knowledgeBaseId: this.knowledgeBaseId,
      name: 'PublishedDocuments',
      description: `Documents with valid metadata under ${this.publishedPrefix} only`,
      // Deleting a document (or unpublishing it) removes its vectors at the next sync.
      dataDeletionPolicy: 'DELETE',
      dataSourceConfiguration: {
        type: 'S3',
        s3Configuration: { bucketArn: this.documentsBucket.bucketArn, bucketOwnerAccountId: stack.account, inclusionPrefixes: [this.publishedPrefix] },
      },
      serverSideEncryptionConfiguration: { kmsKeyArn: key.keyArn },
      vectorIngestionConfiguration: { chunkingConfiguration: (props.chunking ?? ChunkingStrategy.fixedSize(300, 20))._render() },
    });
    this.dataSourceId = this.dataSource.attrDataSourceId;

    // ---- ingestion check --------------------------------------------------------------------------------------
    const check = new EnforcementFunction(this, 'IngestionCheck', {
      invocation: EnforcementInvocation.ASYNCHRONOUS_WITH_FAILURE_DESTINATION,
      ...props,
      handlerName: 'metadata-check',
      description: 'cdk-ai-defense metadata-check: publishes documents only with a sidecar that satisfies the metadata contract',
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment: {
        [MetadataCheckEnv.CONTRACT]: JSON.stringify(this.metadataContract._spec()),
        [MetadataCheckEnv.BUCKET]: this.documentsBucket.bucketName,
        [MetadataCheckEnv.STAGING_PREFIX]: this.stagingPrefix,
        [MetadataCheckEnv.PUBLISHED_PREFIX]: this.publishedPrefix,
        [MetadataCheckEnv.QUARANTINE_PREFIX]: this.quarantinePrefix,
      },
    });
    this.ingestionCheck = check;
    this.decisionLogGroup = check.logGroup;
    const checkRole = check.role as iam.Role;
    const objects = (prefix: string) => this.documentsBucket.arnForObjects(`${prefix}*`);
    checkRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndClearStaging',
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        resources: [objects(this.stagingPrefix)],
      }),
    );
    checkRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PublishOrQuarantine', actions: ['s3:PutObject', 's3:PutObjectTagging'], resources: [objects(this.publishedPrefix), objects(this.quarantinePrefix)] }));
    checkRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'Unpublish', actions: ['s3:DeleteObject'], resources: [objects(this.publishedPrefix)] }));
    // Without ListBucket, S3 answers 403 instead of 404 for a missing sidecar, and a missing label would look like a fault.
    checkRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'TellMissingFromDenied', actions: ['s3:ListBucket'], resources: [this.documentsBucket.bucketArn] }));
    key.grant(checkRole, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    const bucketId = stack.getLogicalId(this.documentsBucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of [this.stagingPrefix, this.publishedPrefix, this.quarantinePrefix]) {
      acknowledgeNag(checkRole, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, 'The ingestion check handles any document uploaded under its three prefixes; object keys are not known at deploy time, and each statement is limited to one prefix.');
    }

    // Only the ingestion check may write into the indexed prefix: nothing reaches it without validated metadata.
    this.documentsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheIngestionCheckPublishes',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects(this.publishedPrefix)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': checkRole.roleArn } },
      }),
    );

    this.ingestionDeadLetterQueue = new sqs.Queue(this, 'IngestionFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    acknowledgeNagAll(this.ingestionDeadLetterQueue, ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy'], 'This queue is itself the dead-letter destination of the ingestion check (EventBridge delivery failures and failed Lambda invocations); a queue for its own failures would have nothing to receive.');
    // Failed invocations (after Lambda's own retries) go to the same queue; the grant is exactly SendMessage plus
    // the key actions SQS needs for it (CDK's SqsDestination would add kms:ReEncrypt* and GenerateDataKey*).
    const queue = this.ingestionDeadLetterQueue;
    const onFailure: lambda.IDestination = {
      bind: (_scope, fn) => {
        fn.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
        key.grant(fn.grantPrincipal, 'kms:GenerateDataKey', 'kms:Decrypt');
        return { destination: queue.queueArn };
      },
    };
    check.configureAsyncInvoke({ onFailure, retryAttempts: 2, maxEventAge: Duration.hours(6) });

    // A fixed rule name, so the key policy can name the rule without a reference cycle (key → rule → bucket → key).
    const ruleName = `${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}-uploads`;
    new events.Rule(this, 'UploadedDocuments', {
      ruleName,
      description: 'cdk-ai-defense SecureKnowledgeBase: documents and sidecars uploaded to the staging prefix',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.documentsBucket.bucketName] }, object: { key: [{ prefix: this.stagingPrefix }] } },
      },
      targets: [new targets.LambdaFunction(check, { deadLetterQueue: this.ingestionDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    // EventBridge must be able to encrypt into the dead-letter queue, for this rule only.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) } },
      }),
    );
  }

  /** Allows a principal to upload documents and sidecars to the staging prefix (the only way in). */
  public grantUpload(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.documentsBucket.arnForObjects(`${this.stagingPrefix}*`)] });
    this.encryptionKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Encrypt');
    return grant;
  }

  /** Allows a principal to start and watch data-source syncs (metadata changes reach the index only after one). */
  public grantSync(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: KnowledgePerms.SYNC, resourceArns: [this.knowledgeBaseArn] });
  }
}
