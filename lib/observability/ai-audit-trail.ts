import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as guardduty from 'aws-cdk-lib/aws-guardduty';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AuditMetric, DENIAL_FILTER_PATTERN, GUARDRAIL_INTERVENTION_FILTER_PATTERN, METRIC_NAMESPACE } from '../../lambda/shared/log-contract';
import { accessLogsBucket } from '../private/buckets';
import { cloudWatchLogsKeyStatement } from '../private/policy-statements';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { AuditDataResourceType } from './audit-data-resource-type';
import { ModelInvocationLogging, ModelInvocationLoggingOptions } from './model-invocation-logging';
import { auditBucket } from './private/buckets';
import { validateDataResourceTypeName } from './private/data-resource-types';
import { applyLibraryFeatureFlags } from '../private/feature-flags';

/** Props of `AiAuditTrail`. */
export interface AiAuditTrailProps {
  /**
   * CloudTrail data-event resource types to record, one advanced event selector each.
   * @default AuditDataResourceType.all() - every Amazon Bedrock and Bedrock AgentCore type
   */
  readonly dataResourceTypes?: AuditDataResourceType[];
  /**
   * Whether the trail also records management events (read and write), which include Bedrock control-plane
   * calls. If another trail in the account already records them, this copy is billed.
   * @default true
   */
  readonly includeManagementEvents?: boolean;
  /**
   * Name of the trail. The name is part of the trail ARN that the key and bucket policies are scoped to.
   * @default - a name derived from the construct path
   */
  readonly trailName?: string;
  /**
   * ARN of an existing trail (for example an organization trail) to use instead of creating one. No trail,
   * trail bucket or trail log group is created then, and the existing trail is not changed: add the Bedrock and
   * AgentCore data events to it yourself, for example with `AiAuditTrail.advancedEventSelectors()`.
   * @default - a new trail is created
   */
  readonly existingTrailArn?: string;
  /**
   * How long the trail's CloudWatch log group keeps events (the S3 copy is kept until you delete it).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly trailLogRetention?: logs.RetentionDays;
  /**
   * Whether this construct turns on Bedrock model invocation logging (a `ModelInvocationLogging`).
   *
   * It is ONE setting per account and region: leave it on in exactly one stack per account and region and set
   * `false` everywhere else, or the stacks overwrite each other and deleting any of them turns logging off.
   * @default true
   */
  readonly modelInvocationLogging?: boolean;
  /**
   * Settings of the model invocation logging, when `modelInvocationLogging` is on.
   * @default - the `ModelInvocationLogging` defaults (every data kind, one-year retention, own key)
   */
  readonly modelInvocationLoggingOptions?: ModelInvocationLoggingOptions;
  /**
   * Whether to create an Amazon GuardDuty detector with S3 data events, Lambda network logs and runtime
   * monitoring. An account can have only one detector per region, so this is off unless you know the account
   * has none (creation fails otherwise).
   * @default false
   */
  readonly createGuardDutyDetector?: boolean;
  /**
   * Topic that receives the alarms' notifications.
   * @default - a new KMS-encrypted, TLS-only topic (unless `createAlarmTopic` is false)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Whether to create a topic for the alarms when `alarmTopic` is not given. With `false` and no
   * `alarmTopic`, the alarms have no action (and cdk-nag's CloudWatchAlarmAction rules report them).
   * @default true
   */
  readonly createAlarmTopic?: boolean;
  /**
   * Log groups of enforcement functions whose decision logs feed the denial and intervention metrics; more
   * can be added with `watchDecisionLogs()`.
   * @default - none
   */
  readonly decisionLogGroups?: logs.ILogGroup[];
  /**
   * Denials (summed over all watched log groups) per `alarmPeriod` at which the denial alarm fires.
   * @default 10
   */
  readonly denialAlarmThreshold?: number;
  /**
   * Guardrail interventions (blocked or masked) per `alarmPeriod` at which the intervention alarm fires.
   * @default 10
   */
  readonly interventionAlarmThreshold?: number;
  /**
   * Period over which denials and interventions are summed for the alarms; a whole number of minutes.
   * @default Duration.minutes(5)
   */
  readonly alarmPeriod?: Duration;
  /**
   * Number of consecutive periods at or over the threshold before an alarm fires.
   * @default 1
   */
  readonly alarmEvaluationPeriods?: number;
  /**
   * Name of the CloudWatch dashboard.
   * @default - a name generated by CloudFormation
   */
  readonly dashboardName?: string;
}

/**
 * The audit layer of an AI workload: who called which model, knowledge base, guardrail, gateway, runtime or
 * memory (CloudTrail data events), what was asked and answered (Bedrock model invocation logging), what looks
 * like an attack (optional GuardDuty), and how often the library's controls denied or a guardrail intervened
 * (metric filters over the decision logs, alarms and a dashboard).
 *
 * It creates:
 * - a multi-region CloudTrail trail with log file validation, encrypted with a customer-managed key whose
 *   policy lets CloudTrail use it only for this trail (`aws:SourceArn`), delivering to a private, TLS-only,
 *   versioned, access-logged bucket and to an encrypted CloudWatch log group; advanced event selectors record
 *   management events and one data-event selector per `AuditDataResourceType`;
 * - a `ModelInvocationLogging` (an account-and-region singleton: see `modelInvocationLogging`);
 * - optionally a GuardDuty detector;
 * - metric filters on each watched decision log (`watchDecisionLogs`), two alarms and a dashboard.
 */
export class AiAuditTrail extends Construct {
  /**
   * The advanced event selectors the trail uses: one for management events (when asked for) and one per
   * data resource type. Use them on a trail you manage yourself (for example with `existingTrailArn`).
   */
  public static advancedEventSelectors(
    dataResourceTypes: AuditDataResourceType[],
    includeManagementEvents: boolean = true,
  ): cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] {
    const selectors: cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] = [];
    if (includeManagementEvents) {
      selectors.push({ name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] });
    }
    for (const type of dataResourceTypes) {
      selectors.push({
        name: `Data events: ${type.value}`,
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: [type.value] },
        ],
      });
    }
    return selectors;
  }

  /** The trail, unless an existing one was adopted with `existingTrailArn`. */
  public readonly trail?: cloudtrail.CfnTrail;
  /** ARN of the trail (created or adopted). */
  public readonly trailArn: string;
  /** The bucket that receives the trail's log files, unless an existing trail was adopted. */
  public readonly trailBucket?: s3.Bucket;
  /** The CloudWatch log group that receives the trail's events, unless an existing trail was adopted. */
  public readonly trailLogGroup?: logs.LogGroup;
  /**
   * The customer-managed key (rotation on) of the audit data: the trail's log files and log group, and the
   * alarm topic this construct creates.
   */
  public readonly trailKey: kms.Key;
  /** The bucket that receives S3 server access logs of the audit buckets. */
  public readonly accessLogsBucket: s3.Bucket;
  /** The model invocation logging, unless `modelInvocationLogging` is false. */
  public readonly modelInvocationLogging?: ModelInvocationLogging;
  /** The GuardDuty detector, when `createGuardDutyDetector` is true. */
  public readonly guardDutyDetector?: guardduty.CfnDetector;
  /** The topic the alarms notify, unless there is none. */
  public readonly alarmTopic?: sns.ITopic;
  /** Fires when enforcement denials reach `denialAlarmThreshold` per `alarmPeriod`. */
  public readonly denialAlarm: cloudwatch.Alarm;
  /** Fires when guardrail interventions reach `interventionAlarmThreshold` per `alarmPeriod`. */
  public readonly interventionAlarm: cloudwatch.Alarm;
  /** Denials, interventions and the alarms' states. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The data resource types the created trail records (empty for an adopted trail). */
  public readonly dataResourceTypes: AuditDataResourceType[];

  private readonly alarmPeriod: Duration;
  private readonly watched = new Map<string, logs.MetricFilter[]>();

  constructor(scope: Construct, id: string, props: AiAuditTrailProps = {}) {
    super(scope, id);
    applyLibraryFeatureFlags(this);
    throwIfInvalid('AiAuditTrail', validateProps(props));
    const stack = Stack.of(this);
    this.alarmPeriod = props.alarmPeriod ?? Duration.minutes(5);

    this.trailKey = new kms.Key(this, 'Key', {
      description: 'cdk-ai-defense: encrypts the AI audit trail, its log group and its alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogsBucket = accessLogsBucket(this, 'AccessLogsBucket');

    if (props.existingTrailArn !== undefined) {
      this.trailArn = props.existingTrailArn;
      this.dataResourceTypes = [];
    } else {
      this.dataResourceTypes = props.dataResourceTypes ?? AuditDataResourceType.all();
      const trailName = props.trailName ?? Names.uniqueResourceName(this, { maxLength: 128 });
      this.trailArn = stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: trailName });
      const created = this.createTrail(trailName, props);
      this.trail = created.trail;
      this.trailBucket = created.bucket;
      this.trailLogGroup = created.logGroup;
    }

    if (props.modelInvocationLogging !== false) {
      this.modelInvocationLogging = new ModelInvocationLogging(this, 'ModelInvocationLogging', {
        serverAccessLogsBucket: this.accessLogsBucket,
        ...props.modelInvocationLoggingOptions,
      });
    }

    if (props.createGuardDutyDetector === true) {
      this.guardDutyDetector = new guardduty.CfnDetector(this, 'GuardDutyDetector', {
        enable: true,
        findingPublishingFrequency: 'FIFTEEN_MINUTES',
        features: [
          // Object-level S3 activity, for example on knowledge-base source buckets.
          { name: 'S3_DATA_EVENTS', status: 'ENABLED' },
          // Network activity of Lambda functions, which run the enforcement handlers and tools.
          { name: 'LAMBDA_NETWORK_LOGS', status: 'ENABLED' },
          // Runtime threats in containers and instances that host agents or tools.
          {
            name: 'RUNTIME_MONITORING',
            status: 'ENABLED',
            additionalConfiguration: [
              { name: 'ECS_FARGATE_AGENT_MANAGEMENT', status: 'ENABLED' },
              { name: 'EC2_AGENT_MANAGEMENT', status: 'ENABLED' },
              { name: 'EKS_ADDON_MANAGEMENT', status: 'ENABLED' },
            ],
          },
        ],
      });
    }

    this.alarmTopic = props.alarmTopic ?? (props.createAlarmTopic === false ? undefined : this.createAlarmTopic());

    this.denialAlarm = new cloudwatch.Alarm(this, 'DenialAlarm', {
      alarmDescription: `cdk-ai-defense: enforcement denials reached ${props.denialAlarmThreshold ?? 10} in ${this.alarmPeriod.toHumanString()} (decision logs with outcome DENY)`,
      metric: this.metricDenials(),
      threshold: props.denialAlarmThreshold ?? 10,
      evaluationPeriods: props.alarmEvaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.interventionAlarm = new cloudwatch.Alarm(this, 'InterventionAlarm', {
      alarmDescription: `cdk-ai-defense: guardrail interventions (blocked or masked) reached ${props.interventionAlarmThreshold ?? 10} in ${this.alarmPeriod.toHumanString()}`,
      metric: this.metricInterventions(),
      threshold: props.interventionAlarmThreshold ?? 10,
      evaluationPeriods: props.alarmEvaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) {
      for (const alarm of [this.denialAlarm, this.interventionAlarm]) {
        alarm.addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
        alarm.addOkAction(new cw_actions.SnsAction(this.alarmTopic));
      }
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Enforcement denials',
            left: [this.metricDenials()],
            leftAnnotations: [{ value: props.denialAlarmThreshold ?? 10, label: 'alarm threshold' }],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Guardrail interventions (blocked or masked)',
            left: [this.metricInterventions()],
            leftAnnotations: [{ value: props.interventionAlarmThreshold ?? 10, label: 'alarm threshold' }],
            width: 12,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'AI audit alarms', alarms: [this.denialAlarm, this.interventionAlarm], width: 24 })],
      ],
    });

    for (const logGroup of props.decisionLogGroups ?? []) this.watchDecisionLogs(logGroup);
  }

  /**
   * Adds the two metric filters of the decision-log contract to a log group (normally the log group of one
   * enforcement function): denials (`outcome` DENY) feed `EnforcementDenials`, guardrail interventions
   * (`guardrailAction` BLOCKED or MASKED) feed `GuardrailInterventions`, both in the `CdkAiDefense` namespace
   * and without dimensions, so the alarms see the sum over every watched log group.
   * Watching the same log group twice returns the existing filters.
   */
  public watchDecisionLogs(logGroup: logs.ILogGroup): logs.MetricFilter[] {
    const key = Names.uniqueId(logGroup);
    const existing = this.watched.get(key);
    if (existing) return existing;
    const filters = [
      new logs.MetricFilter(this, `Denials${key}`, {
        logGroup,
        filterPattern: logs.FilterPattern.literal(DENIAL_FILTER_PATTERN),
        metricNamespace: METRIC_NAMESPACE,
        metricName: AuditMetric.ENFORCEMENT_DENIALS,
        metricValue: '1',
        defaultValue: 0,
        unit: cloudwatch.Unit.COUNT,
      }),
      new logs.MetricFilter(this, `Interventions${key}`, {
        logGroup,
        filterPattern: logs.FilterPattern.literal(GUARDRAIL_INTERVENTION_FILTER_PATTERN),
        metricNamespace: METRIC_NAMESPACE,
        metricName: AuditMetric.GUARDRAIL_INTERVENTIONS,
        metricValue: '1',
        defaultValue: 0,
        unit: cloudwatch.Unit.COUNT,
      }),
    ];
    this.watched.set(key, filters);
    return filters;
  }

  /** Enforcement denials summed over all watched decision logs, per `alarmPeriod` unless overridden. */
  public metricDenials(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(AuditMetric.ENFORCEMENT_DENIALS, props);
  }

  /** Guardrail interventions summed over all watched decision logs, per `alarmPeriod` unless overridden. */
  public metricInterventions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(AuditMetric.GUARDRAIL_INTERVENTIONS, props);
  }

  /**
   * Grants read access to the trail's log files (bucket and key) and log group, for investigators.
   * For an adopted trail only the key is granted (its bucket is not managed here).
   */
  public grantReadTrail(grantee: iam.IGrantable): iam.Grant {
    this.trailLogGroup?.grantRead(grantee);
    const grant = this.trailKey.grantDecrypt(grantee);
    return this.trailBucket ? this.trailBucket.grantRead(grantee) : grant;
  }

  private metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      statistic: cloudwatch.Stats.SUM,
      period: this.alarmPeriod,
      ...props,
    });
  }

  private createTrail(trailName: string, props: AiAuditTrailProps): { trail: cloudtrail.CfnTrail; bucket: s3.Bucket; logGroup: logs.LogGroup } {
    const stack = Stack.of(this);
    const cloudTrailPrincipal = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    const onlyThisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn } };

    // Key policy per "Configure AWS KMS key policies for CloudTrail", narrowed to this trail (aws:SourceArn).
    this.trailKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToEncryptLogs',
        principals: [cloudTrailPrincipal],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ...onlyThisTrail,
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${stack.account}:trail/*` },
        },
      }),
    );
    this.trailKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToDescribeKey',
        principals: [cloudTrailPrincipal],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: onlyThisTrail,
      }),
    );
    this.allowLogsService();

    const bucket = auditBucket(this, 'TrailBucket', {
      encryptionKey: this.trailKey,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'trail-bucket/',
    });
    // Bucket policy per "Amazon S3 bucket policy for CloudTrail", narrowed to this trail (aws:SourceArn).
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSCloudTrailAclCheck',
        principals: [cloudTrailPrincipal],
        actions: ['s3:GetBucketAcl'],
        resources: [bucket.bucketArn],
        conditions: onlyThisTrail,
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSCloudTrailWrite',
        principals: [cloudTrailPrincipal],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`AWSLogs/${stack.account}/*`)],
        conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': this.trailArn } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'TrailLogGroup', {
      encryptionKey: this.trailKey,
      retention: props.trailLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logsRole = new iam.Role(this, 'TrailLogsRole', {
      description: 'cdk-ai-defense: lets CloudTrail deliver the AI audit trail to CloudWatch Logs',
      assumedBy: cloudTrailPrincipal,
    });
    // A customer-managed policy: the NIST and HIPAA packs reject inline policies.
    const logsPolicy = new iam.ManagedPolicy(this, 'TrailLogsPolicy', {
      description: 'cdk-ai-defense: CloudTrail may write to the AI audit trail log group only',
      roles: [logsRole],
      statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
    });

    const trail = new cloudtrail.CfnTrail(this, 'Resource', {
      trailName,
      isLogging: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      kmsKeyId: this.trailKey.keyArn,
      s3BucketName: bucket.bucketName,
      cloudWatchLogsLogGroupArn: logGroup.logGroupArn,
      cloudWatchLogsRoleArn: logsRole.roleArn,
      advancedEventSelectors: AiAuditTrail.advancedEventSelectors(this.dataResourceTypes, props.includeManagementEvents ?? true),
    });
    // CloudTrail checks bucket, key and role access when the trail is created.
    if (bucket.policy) trail.node.addDependency(bucket.policy);
    trail.node.addDependency(logsPolicy, this.trailKey);
    return { trail, bucket, logGroup };
  }

  private allowLogsService(): void {
    this.trailKey.addToResourcePolicy(cloudWatchLogsKeyStatement(this, 'AllowCloudWatchLogsForThisAccount'));
  }

  private createAlarmTopic(): sns.Topic {
    const stack = Stack.of(this);
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'cdk-ai-defense audit alarms',
      masterKey: this.trailKey,
      enforceSSL: true,
    });
    const fromThisAccountsAlarms = {
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    // CloudWatch encrypts the notification with the topic's key when it publishes.
    this.trailKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishEncrypted',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    return topic;
  }
}

const SECONDS_PER_DAY = 86_400;

function validateProps(props: AiAuditTrailProps): string[] {
  const errors: string[] = [];
  const adopting = props.existingTrailArn !== undefined;
  errors.push(
    ...validatePattern(
      'existingTrailArn',
      props.existingTrailArn,
      /^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9._-]{3,128}$/,
      'a CloudTrail trail ARN such as arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail',
    ),
  );
  if (adopting) {
    const trailOnly = (['dataResourceTypes', 'includeManagementEvents', 'trailName', 'trailLogRetention'] as const).filter(
      (k) => props[k] !== undefined,
    );
    if (trailOnly.length > 0) {
      errors.push(`${trailOnly.join(', ')} is set together with existingTrailArn; allowed: these only configure a trail this construct creates, so leave them out when adopting a trail`);
    }
  }
  errors.push(
    ...validatePattern(
      'trailName',
      props.trailName,
      /^(?!.*[._-]{2})[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/,
      '3 to 128 letters, digits, ".", "_" or "-", starting and ending with a letter or digit, with no two adjacent symbols',
    ),
  );

  const types = props.dataResourceTypes ?? [];
  const seen = new Set<string>();
  for (const type of types) {
    errors.push(...validateDataResourceTypeName(type.value));
    if (seen.has(type.value)) errors.push(`dataResourceTypes lists "${type.value}" twice; allowed: each type once`);
    seen.add(type.value);
  }
  if (!adopting && props.dataResourceTypes !== undefined && types.length === 0 && props.includeManagementEvents === false) {
    errors.push('dataResourceTypes is [] and includeManagementEvents is false; allowed: at least one data resource type or management events, or the trail records nothing');
  }

  if (props.modelInvocationLogging === false && props.modelInvocationLoggingOptions !== undefined) {
    errors.push('modelInvocationLoggingOptions is set while modelInvocationLogging is false; allowed: options only when model invocation logging is on');
  }
  if (props.alarmTopic !== undefined && props.createAlarmTopic === false) {
    errors.push('alarmTopic is given while createAlarmTopic is false; allowed: one of them (a given topic is used as is)');
  }

  errors.push(...validateInteger('denialAlarmThreshold', props.denialAlarmThreshold, 1, 1_000_000));
  errors.push(...validateInteger('interventionAlarmThreshold', props.interventionAlarmThreshold, 1, 1_000_000));
  errors.push(...validateInteger('alarmEvaluationPeriods', props.alarmEvaluationPeriods, 1, 100));
  if (props.alarmPeriod !== undefined && !props.alarmPeriod.isUnresolved()) {
    const seconds = props.alarmPeriod.toSeconds({ integral: false });
    if (seconds < 60 || seconds > SECONDS_PER_DAY || seconds % 60 !== 0) {
      errors.push(`alarmPeriod is ${props.alarmPeriod.toHumanString()}; allowed: a whole number of minutes from 1 minute to 1 day (metric-filter metrics have one-minute resolution)`);
    } else if (!Token.isUnresolved(props.alarmEvaluationPeriods) && seconds * (props.alarmEvaluationPeriods ?? 1) > 7 * SECONDS_PER_DAY) {
      errors.push(`alarmPeriod × alarmEvaluationPeriods is ${(seconds * (props.alarmEvaluationPeriods ?? 1)) / SECONDS_PER_DAY} days; allowed: at most 7 days`);
    }
  }
  errors.push(...validatePattern('dashboardName', props.dashboardName, /^[A-Za-z0-9_-]{1,255}$/, '1 to 255 letters, digits, "-" or "_"'));
  return errors;
}
