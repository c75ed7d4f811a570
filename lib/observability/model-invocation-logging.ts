import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { accessLogsBucket } from '../private/buckets';
import { sharedLogKey } from '../private/enforcement-function';
import { acknowledgeNag, acknowledgeNagAll } from '../private/nag';
import { cloudWatchLogsKeyStatement, lambdaVpcAccessStatement } from '../private/policy-statements';
import { throwIfInvalid, validatePattern } from '../private/validation';
import { auditBucket } from './private/buckets';
import { applyLibraryFeatureFlags } from '../private/feature-flags';

/** A kind of model input and output data that Bedrock model invocation logging delivers. */
export enum InvocationLogDataKind {
  /** Text prompts and completions (`textDataDeliveryEnabled`). Always on: it is the audit record. */
  TEXT = 'TEXT',
  /** Images in requests and responses (`imageDataDeliveryEnabled`). */
  IMAGE = 'IMAGE',
  /** Embedding requests and vectors (`embeddingDataDeliveryEnabled`). */
  EMBEDDING = 'EMBEDDING',
  /** Video (`videoDataDeliveryEnabled`). */
  VIDEO = 'VIDEO',
  /** Audio (`audioDataDeliveryEnabled`). */
  AUDIO = 'AUDIO',
}

/** The `loggingConfig` flag of each data kind. */
const DATA_KIND_FLAG: { [kind in InvocationLogDataKind]: string } = {
  [InvocationLogDataKind.TEXT]: 'textDataDeliveryEnabled',
  [InvocationLogDataKind.IMAGE]: 'imageDataDeliveryEnabled',
  [InvocationLogDataKind.EMBEDDING]: 'embeddingDataDeliveryEnabled',
  [InvocationLogDataKind.VIDEO]: 'videoDataDeliveryEnabled',
  [InvocationLogDataKind.AUDIO]: 'audioDataDeliveryEnabled',
};

/** Settings of Bedrock model invocation logging (also accepted by `AiAuditTrail`). */
export interface ModelInvocationLoggingOptions {
  /**
   * Kinds of model input and output data to deliver. `TEXT` must be included: text prompts and completions
   * are the audit record.
   * @default - every kind: TEXT, IMAGE, EMBEDDING, VIDEO and AUDIO
   */
  readonly dataKinds?: InvocationLogDataKind[];
  /**
   * How long invocation logs are kept in CloudWatch Logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key that encrypts the invocation log group and the large-payload bucket. Invocation logs
   * hold full prompts and completions, so they get their own key. A key you pass must be a `kms.Key` of this
   * app (the construct adds the statements CloudWatch Logs and Bedrock need); an imported key's policy must
   * already allow them.
   * @default - a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket that receives the S3 server access logs of the large-payload bucket.
   * @default - a new private, TLS-only, versioned access-log bucket
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Key prefix of large payloads (over 100 KB, or binary) in the large-payload bucket.
   * @default 'model-invocations'
   */
  readonly largeDataKeyPrefix?: string;
  /**
   * VPC for the deploy-time Lambda function that calls the Bedrock control plane. It then needs a route to
   * the `bedrock` (control plane) endpoint and to S3 for the CloudFormation response.
   * @default - the function runs outside any VPC (it runs only during deployments and calls only
   *   bedrock:Put/DeleteModelInvocationLoggingConfiguration)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets for the deploy-time function when `vpc` is set.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Props of `ModelInvocationLogging`. */
export interface ModelInvocationLoggingProps extends ModelInvocationLoggingOptions {}

/**
 * Amazon Bedrock model invocation logging: every InvokeModel, Converse and their streaming variants in this
 * account and region are logged, with full request and response, to a KMS-encrypted CloudWatch log group
 * (payloads over 100 KB or binary go to a KMS-encrypted S3 bucket).
 *
 * **ONE SETTING PER ACCOUNT AND REGION.** Bedrock has a single model invocation logging configuration per
 * account and region, and this construct owns it: creating it overwrites any configuration made in the
 * console or by another stack, and deleting it (or its stack) turns model invocation logging OFF for the
 * whole account and region. Deploy exactly one `ModelInvocationLogging` (or `AiAuditTrail` with
 * `modelInvocationLogging` left on) per account and region; every other `AiAuditTrail` there must set
 * `modelInvocationLogging: false`. Synthesis fails if one app holds two for the same account and region.
 *
 * There is no CloudFormation resource for this setting, so it is applied by an `AwsCustomResource` that
 * calls `bedrock:PutModelInvocationLoggingConfiguration` on create and update and
 * `bedrock:DeleteModelInvocationLoggingConfiguration` on delete, using the AWS SDK of the Lambda runtime.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html
 */
export class ModelInvocationLogging extends Construct {
  /** The log stream Bedrock writes invocation logs to, inside the configured log group. */
  public static readonly LOG_STREAM_NAME = 'aws/bedrock/modelinvocations';

  /** Whether a construct is a `ModelInvocationLogging` (works across copies of this library). */
  public static isModelInvocationLogging(x: unknown): x is ModelInvocationLogging {
    return typeof x === 'object' && x !== null && (x as { [MARKER]?: boolean })[MARKER] === true;
  }

  /** The log group that receives invocation logs (stream `aws/bedrock/modelinvocations`). */
  public readonly logGroup: logs.LogGroup;
  /** The bucket that receives payloads over 100 KB and binary data. */
  public readonly largeDataBucket: s3.Bucket;
  /** The key that encrypts the log group and the bucket. */
  public readonly encryptionKey: kms.IKey;
  /** The role Bedrock assumes to write to the log group. */
  public readonly deliveryRole: iam.Role;
  /** The custom resource that applies the account-wide setting. */
  public readonly resource: cr.AwsCustomResource;
  /** The data kinds being delivered. */
  public readonly dataKinds: InvocationLogDataKind[];

  constructor(scope: Construct, id: string, props: ModelInvocationLoggingProps = {}) {
    super(scope, id);
    applyLibraryFeatureFlags(this);
    Object.defineProperty(this, MARKER, { value: true });
    const prefix = props.largeDataKeyPrefix ?? 'model-invocations';
    this.dataKinds = [...new Set(props.dataKinds ?? Object.values(InvocationLogDataKind))];
    throwIfInvalid('ModelInvocationLogging', validateOptions(props, this.dataKinds));

    const stack = Stack.of(this);
    const bedrockSourceConditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:*` },
    };

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'cdk-ai-defense: encrypts Bedrock model invocation logs (prompts and completions)',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.encryptionKey.addToResourcePolicy(cloudWatchLogsKeyStatement(this, 'AllowCloudWatchLogsForThisAccount'));
    // Bedrock writes large payloads to the SSE-KMS bucket itself, as the service principal.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBedrockLargeDataDelivery',
        principals: [new iam.ServicePrincipal('bedrock.amazonaws.com')],
        actions: ['kms:GenerateDataKey'],
        resources: ['*'],
        conditions: bedrockSourceConditions,
      }),
    );

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      encryptionKey: this.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.largeDataBucket = auditBucket(this, 'LargeDataBucket', {
      encryptionKey: this.encryptionKey,
      serverAccessLogsBucket: props.serverAccessLogsBucket ?? accessLogsBucket(this, 'AccessLogsBucket'),
      serverAccessLogsPrefix: 'model-invocation-large-data/',
    });
    const bucketPolicy = this.largeDataBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AmazonBedrockLogsWrite',
        principals: [new iam.ServicePrincipal('bedrock.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.largeDataBucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/BedrockModelInvocationLogs/*`)],
        conditions: bedrockSourceConditions,
      }),
    );

    // Confused-deputy protection: Bedrock may assume the role only for this account's own requests.
    // https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html#setup-cloudwatch-logs-destination
    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      description: 'cdk-ai-defense: lets Amazon Bedrock write model invocation logs to CloudWatch Logs',
      assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com').withConditions(bedrockSourceConditions),
    });
    // Customer-managed rather than inline policies: the NIST and HIPAA packs reject inline policies.
    const deliveryPolicy = new iam.ManagedPolicy(this, 'DeliveryPolicy', {
      description: 'cdk-ai-defense: Bedrock may write model invocation logs to this one log stream',
      roles: [this.deliveryRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [
            stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${this.logGroup.logGroupName}:log-stream:${ModelInvocationLogging.LOG_STREAM_NAME}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });

    const loggingConfig: { [key: string]: unknown } = {
      cloudWatchConfig: {
        logGroupName: this.logGroup.logGroupName,
        roleArn: this.deliveryRole.roleArn,
        largeDataDeliveryS3Config: { bucketName: this.largeDataBucket.bucketName, keyPrefix: prefix },
      },
    };
    for (const kind of Object.values(InvocationLogDataKind)) {
      loggingConfig[DATA_KIND_FLAG[kind]] = this.dataKinds.includes(kind);
    }
    const putCall: cr.AwsSdkCall = {
      service: 'bedrock',
      action: 'PutModelInvocationLoggingConfiguration',
      parameters: { loggingConfig },
      // A fixed id: an update re-applies the setting in place and never triggers a delete of the "old" one.
      physicalResourceId: cr.PhysicalResourceId.of('bedrock-model-invocation-logging'),
    };

    const callStatements = [
      new iam.PolicyStatement({
        actions: ['bedrock:PutModelInvocationLoggingConfiguration', 'bedrock:DeleteModelInvocationLoggingConfiguration'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.deliveryRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      }),
    ];
    const callReason = 'bedrock:Put/DeleteModelInvocationLoggingConfiguration act on the single account-and-region setting and support no resource-level scoping; iam:PassRole beside them is scoped to the delivery role and to bedrock.amazonaws.com.';

    // The provider Lambda is a stack-wide singleton shared by every AwsCustomResource of the stack; only the
    // AwsCustomResource that creates it decides its settings and role.
    const providerId = 'AWS' + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '');
    const ownsProvider = stack.node.tryFindChild(providerId) === undefined;
    const provider = ownsProvider ? this.providerSettings(props, callStatements, callReason) : undefined;
    this.resource = new cr.AwsCustomResource(this, 'Resource', {
      resourceType: 'Custom::BedrockModelInvocationLogging',
      onCreate: putCall,
      onUpdate: putCall,
      onDelete: { service: 'bedrock', action: 'DeleteModelInvocationLoggingConfiguration', parameters: {} },
      // Lambda's built-in SDK has these calls; installing the latest one would need internet access at deploy time.
      installLatestAwsSdk: false,
      ...(provider?.settings ?? { policy: cr.AwsCustomResourcePolicy.fromStatements(callStatements) }),
    });
    // Bedrock checks the destinations when the setting is applied, so they must be complete first.
    this.resource.node.addDependency(this.deliveryRole, deliveryPolicy, this.logGroup);
    if (bucketPolicy.policyDependable) this.resource.node.addDependency(bucketPolicy.policyDependable);
    if (this.encryptionKey instanceof Construct) this.resource.node.addDependency(this.encryptionKey);

    if (provider) {
      this.resource.node.addDependency(provider.policy);
      acknowledgeProviderFindings(stack.node.findChild(providerId), props.vpc !== undefined);
    } else {
      // The existing provider's role belongs to someone else, so the calls' permissions go in the policy the
      // AwsCustomResource attaches to it.
      const inline = this.resource.node.findChild('CustomResourcePolicy');
      acknowledgeNag(inline, 'AwsSolutions-IAM5[Resource::*]', callReason);
      acknowledgeNagAll(
        inline,
        ['NIST.800.53.R5-IAMNoInlinePolicy', 'HIPAA.Security-IAMNoInlinePolicy'],
        'The AwsCustomResource provider of this stack was created by another construct with a role this construct does not own; aws-cdk-lib attaches the permissions of each call as this policy.',
      );
    }
    this.node.addValidation({ validate: () => this.validateSingleton() });
  }

  /**
   * Grants read access to the invocation logs: the log group, the large-payload bucket and its key.
   * Invocation logs hold full prompts and completions; grant this only to investigators.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    this.logGroup.grantRead(grantee);
    this.encryptionKey.grantDecrypt(grantee);
    return this.largeDataBucket.grantRead(grantee);
  }

  /**
   * Settings of the provider Lambda, a stack-wide singleton shared by every AwsCustomResource in the stack:
   * only the AwsCustomResource that creates it decides them, so they are returned only when it does not exist yet.
   */
  private providerSettings(
    props: ModelInvocationLoggingProps,
    callStatements: iam.PolicyStatement[],
    callReason: string,
  ): { settings: Partial<cr.AwsCustomResourceProps>; policy: iam.ManagedPolicy } {
    const logGroup = new logs.LogGroup(this, 'ProviderLogs', {
      encryptionKey: sharedLogKey(this),
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, so the provider gets no AWS managed policy (AWSLambdaBasicExecutionRole) and writes only here.
    const role = new iam.Role(this, 'ProviderRole', {
      description: 'cdk-ai-defense: deploy-time function that applies Bedrock model invocation logging',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const policy = new iam.ManagedPolicy(this, 'ProviderPolicy', {
      description: 'cdk-ai-defense: applies and removes Bedrock model invocation logging',
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        ...callStatements,
      ],
    });
    let reason = callReason;
    if (props.vpc) {
      // The minimum Lambda needs to attach a function to a VPC; EC2 scopes none of these by resource.
      policy.addStatements(lambdaVpcAccessStatement());
      reason += ' The Lambda VPC networking actions (ec2:*NetworkInterface*, DescribeSubnets) support no resource-level scoping either.';
    }
    acknowledgeNag(policy, 'AwsSolutions-IAM5[Resource::*]', reason);
    const settings: Partial<cr.AwsCustomResourceProps> = {
      role,
      logGroup,
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }) : undefined,
    };
    return { settings, policy };
  }

  private validateSingleton(): string[] {
    const here = Stack.of(this);
    const same = this.node.root.node.findAll().filter((c: IConstruct) => {
      if (!ModelInvocationLogging.isModelInvocationLogging(c)) return false;
      const there = Stack.of(c);
      return sameValue(here.account, there.account) && sameValue(here.region, there.region);
    });
    if (same.length <= 1 || same[0] !== this) return [];
    return [
      `only one ModelInvocationLogging may exist per account and region (it is a single account-wide Bedrock setting), but this app has ${same.length} for the same account and region: ${same.map((c) => c.node.path).join(', ')}; set modelInvocationLogging: false on every AiAuditTrail but one`,
    ];
  }
}

const MARKER = Symbol.for('cdk-ai-defense.ModelInvocationLogging');

/** Two environment values may collide unless both are resolved and different. */
function sameValue(a: string, b: string): boolean {
  return Token.isUnresolved(a) || Token.isUnresolved(b) || a === b;
}

/** Findings on the aws-cdk-lib AwsCustomResource provider that follow from how it is built and used here. */
function acknowledgeProviderFindings(fn: IConstruct, inVpc: boolean): void {
  acknowledgeNagAll(
    fn,
    ['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'HIPAA.Security-LambdaDLQ', 'Serverless-LambdaAsyncFailureDestination'],
    'The AwsCustomResource provider is invoked by CloudFormation, which waits for its response and fails the deployment when none arrives; a dead-letter queue would hold nothing to act on.',
  );
  acknowledgeNagAll(
    fn,
    ['NIST.800.53.R5-LambdaConcurrency', 'HIPAA.Security-LambdaConcurrency'],
    'The AwsCustomResource provider runs only during deployments, a few invocations per stack update; reserved concurrency would only throttle deployments.',
  );
  acknowledgeNagAll(
    fn,
    ['Serverless-LambdaTracing'],
    'The AwsCustomResource provider is an aws-cdk-lib singleton whose props expose no tracing setting; it runs only during deployments and each of its AWS calls is recorded by CloudTrail.',
  );
  if (!inVpc) {
    acknowledgeNagAll(
      fn,
      ['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC'],
      'The deploy-time provider calls only bedrock:Put/DeleteModelInvocationLoggingConfiguration and answers CloudFormation through a presigned S3 URL; it handles no workload data. Pass vpc to run it inside a VPC.',
    );
  }
}

function validateOptions(props: ModelInvocationLoggingOptions, dataKinds: InvocationLogDataKind[]): string[] {
  const errors: string[] = [];
  const known = Object.values(InvocationLogDataKind) as string[];
  for (const kind of dataKinds) {
    if (!known.includes(kind)) errors.push(`dataKinds contains "${kind}"; allowed: ${known.join(', ')}`);
  }
  if (!dataKinds.includes(InvocationLogDataKind.TEXT)) {
    errors.push(`dataKinds is [${dataKinds.join(', ')}]; allowed: any kinds that include TEXT (text prompts and completions are the audit record)`);
  }
  errors.push(
    ...validatePattern(
      'largeDataKeyPrefix',
      props.largeDataKeyPrefix,
      /^(?=.{1,200}$)[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/,
      'letters, digits, ".", "_", "-" in "/"-separated segments, without leading or trailing "/", at most 200 characters',
    ),
  );
  if (props.vpcSubnets && !props.vpc) errors.push('vpcSubnets is set without vpc; allowed: vpcSubnets only together with vpc');
  return errors;
}

