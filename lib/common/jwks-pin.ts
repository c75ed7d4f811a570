import { createHash } from 'crypto';
import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DRIFT_CHECK_ACTION,
  JWKS_DRIFT_DIMENSION,
  JWKS_DRIFT_METRIC,
  JWKS_PIN_RESOURCE_TYPE,
  JWKS_PIN_SERVICE,
  JwksPinAttribute,
  JwksPinEnv,
  JwksPinProperty,
} from '../../lambda/jwks-pin/contract';
import { METRIC_NAMESPACE } from '../../lambda/shared/log-contract';
import { EnforcementFunction, EnforcementInvocation } from '../private/enforcement-function';
import { acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';

/** Context key whose value, when set, is the default {@link JwksPinOptions.repin} of every pin in the app. */
export const JWKS_REPIN_CONTEXT_KEY = 'cdk-ai-defense:jwksRepin';

/** Options of a JWKS pin, shared by {@link JwksPin} and `CallerIdentity.withPinnedKeys`. */
export interface JwksPinOptions {
  /**
   * How often the issuer's current keys are compared with the pinned ones: whole minutes from 5 minutes to 12 hours.
   * The drift alarm looks at two intervals, so a missed check does not alarm but two in a row do.
   * @default Duration.hours(1)
   */
  readonly driftCheckInterval?: Duration;
  /**
   * Any value, up to 128 characters. Changing it makes the next deployment fetch and pin the issuer's keys again
   * (CloudFormation calls a custom resource only when its properties change): do this when the drift alarm fires,
   * once the issuer has finished rotating.
   * @default - the app context value `cdk-ai-defense:jwksRepin` (`cdk deploy -c cdk-ai-defense:jwksRepin=2026-06-01`), else none
   */
  readonly repin?: string;
  /**
   * Actions of the drift alarm (and of its return to OK), for example an SNS action to the audit trail's topic.
   * @default - none: add one with `driftAlarm.addAlarmAction` (cdk-nag's CloudWatchAlarmAction rules report the alarm until then)
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /**
   * KMS key that encrypts the pin function's log group and environment.
   * @default - the stack-wide key of the library's log groups
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long the pin function's log (pins, drift checks, and why they failed) is kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Props of {@link JwksPin}. */
export interface JwksPinProps extends JwksPinOptions {
  /** The issuer (`iss`) whose keys are pinned, an https URL (may be a token, such as a Cognito user pool's issuer). */
  readonly issuer: string;
  /**
   * The issuer's JWKS URL (https).
   * @default - the `jwks_uri` of the issuer's OpenID discovery document (`<issuer>/.well-known/openid-configuration`,
   * whose `issuer` must equal `issuer` exactly), read at every pin and drift check
   */
  readonly jwksUri?: string;
}

const HTTPS_URL = /^https:\/\/[^\s/?#@]+(\/[^\s#]*)?$/;

/**
 * Pins an issuer's public signing keys at deploy time, so that token verification works where the issuer cannot be
 * reached (the isolated subnets of `PrivateAiNetwork`, which have no internet path; Cognito's PrivateLink endpoint
 * does not serve user pools that have a domain), and raises an alarm when the issuer's keys drift from the pin.
 *
 * A custom resource backed by a function that runs OUTSIDE the VPC fetches the JWKS over https (redirects refused,
 * size capped, timeouts), validates it strictly (public RSA/EC signing keys with a `kid` only; any private or
 * symmetric key material, duplicate `kid`, malformed key or more than 10 keys fails the deployment, never pinning an
 * empty or partial set) and returns its canonical JSON ({@link jwksJson}) and SHA-256 ({@link jwksSha256}).
 * The same function runs on a schedule, fetches the current keys and publishes `CdkAiDefense/JwksDrift`
 * (1 when they differ or cannot be fetched, 0 when equal); {@link driftAlarm} fires on 1 or on missing data.
 *
 * Usually created through `CallerIdentity.withPinnedKeys`, once per stack and issuer.
 *
 * @resource Custom::CdkAiDefenseJwksPin
 */
export class JwksPin extends Construct {
  /**
   * The pin of this issuer (and JWKS URL) in the stack of `scope`, created on first use. A second call with
   * different options for the same issuer in the same stack fails: options belong to the one pin.
   */
  public static getOrCreate(scope: Construct, props: JwksPinProps): JwksPin {
    const stack = Stack.of(scope);
    // Resolved, a Cognito issuer is an Fn::Join over the user pool's logical id: stable across synths.
    const key = JSON.stringify(stack.resolve({ issuer: props.issuer, jwksUri: props.jwksUri ?? null }));
    const id = `CdkAiDefenseJwksPin${createHash('sha256').update(key).digest('hex').slice(0, 10).toUpperCase()}`;
    const existing = stack.node.tryFindChild(id);
    if (existing) {
      const pin = existing as JwksPin;
      const differences = pin.optionDifferences(props);
      if (differences.length > 0) {
        throw new Error(`JwksPin: the pin of this issuer in stack ${stack.stackName} already exists with other options (${differences.join(', ')}); pin each issuer with one set of options per stack`);
      }
      return pin;
    }
    return new JwksPin(stack, id, props);
  }

  /** The issuer whose keys are pinned. */
  public readonly issuer: string;
  /** The configured JWKS URL, if any (otherwise discovery is used). */
  public readonly jwksUri?: string;
  /** Canonical JSON of the pinned key set, `{"keys":[...]}` (a deploy-time token; embed it raw, never as a quoted string). */
  public readonly jwksJson: string;
  /** Lowercase hex SHA-256 of {@link jwksJson} (a deploy-time token). */
  public readonly jwksSha256: string;
  /** The custom resource that holds the pin. */
  public readonly resource: CustomResource;
  /** The function that pins and checks for drift (outside any VPC; it holds no permission beyond its own log). */
  public readonly function: lambda.IFunction;
  /** The function's log group: every pin and drift check, with the reason of each failure. */
  public readonly logGroup: logs.ILogGroup;
  /** The scheduled drift check. */
  public readonly driftCheck: events.Rule;
  /** Fires when the issuer's keys differ from the pin, cannot be fetched or validated, or the check stops reporting. */
  public readonly driftAlarm: cloudwatch.Alarm;
  /** How often the drift check runs. */
  public readonly driftCheckInterval: Duration;

  private readonly repin?: string;
  private readonly alarmActions: readonly cloudwatch.IAlarmAction[];
  private readonly logEncryptionKey?: kms.IKey;
  private readonly logRetention?: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: JwksPinProps) {
    super(scope, id);
    const interval = props.driftCheckInterval ?? Duration.hours(1);
    const repin = props.repin ?? this.contextRepin();
    throwIfInvalid('JwksPin', [
      ...validatePattern('issuer', props.issuer, HTTPS_URL, 'an https URL without fragment or credentials'),
      ...validatePattern('jwksUri', props.jwksUri, HTTPS_URL, 'an https URL without fragment or credentials'),
      ...validateInteger('driftCheckInterval (minutes)', interval.toMinutes({ integral: false }), 5, 720),
      ...(repin !== undefined && !Token.isUnresolved(repin) && (repin.length === 0 || repin.length > 128) ? [`repin is "${repin}"; allowed: 1 to 128 characters`] : []),
    ]);
    this.issuer = props.issuer;
    this.jwksUri = props.jwksUri;
    this.driftCheckInterval = interval;
    this.repin = repin;
    this.alarmActions = [...(props.alarmActions ?? [])];
    this.logEncryptionKey = props.logEncryptionKey;
    this.logRetention = props.logRetention;

    const fn = new EnforcementFunction(this, 'Function', {
      handlerName: 'jwks-pin',
      invocation: EnforcementInvocation.DEPLOYMENT_AND_SCHEDULE,
      description: 'cdk-ai-defense jwks-pin: pins the issuer public keys at deploy time and checks them for drift (outside the VPC)',
      timeout: Duration.seconds(60),
      memorySize: 256,
      logEncryptionKey: props.logEncryptionKey,
      logRetention: props.logRetention,
      environment: {
        [JwksPinEnv.ISSUER]: props.issuer,
        ...(props.jwksUri !== undefined ? { [JwksPinEnv.JWKS_URI]: props.jwksUri } : {}),
      },
    });
    this.function = fn;
    this.logGroup = fn.decisionLogGroup;
    acknowledgeNagAll(fn, ['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC'], "By design outside the VPC: the function must reach the identity provider's public JWKS on the internet (the isolated subnets have no internet path, and Cognito's PrivateLink endpoint does not serve user pools with a domain); it reads only public keys, holds no permission beyond its own log group, and no workload calls it.");

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: JWKS_PIN_RESOURCE_TYPE,
      // The function answers within its 60-second timeout; CloudFormation need not wait the default hour when it cannot.
      serviceTimeout: Duration.minutes(5),
      properties: {
        [JwksPinProperty.ISSUER]: props.issuer,
        ...(props.jwksUri !== undefined ? { [JwksPinProperty.JWKS_URI]: props.jwksUri } : {}),
        ...(repin !== undefined ? { [JwksPinProperty.REPIN]: repin } : {}),
      },
    });
    this.jwksJson = this.resource.getAttString(JwksPinAttribute.JWKS);
    this.jwksSha256 = this.resource.getAttString(JwksPinAttribute.SHA256);

    this.driftCheck = new events.Rule(this, 'DriftCheck', {
      description: 'cdk-ai-defense JwksPin: compares the issuer JWKS with the keys pinned at deployment',
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({ action: DRIFT_CHECK_ACTION, pinnedSha256: this.jwksSha256 }),
          retryAttempts: 2,
          maxEventAge: interval,
        }),
      ],
    });

    acknowledgeNagAll(this.driftCheck, ['Serverless-EventBusDLQ'], 'The scheduled event carries only the pinned hash and is sent again every interval; an event that cannot be delivered is a missed check, which the drift alarm sees as missing data and treats as drift, so a dead-letter queue would hold nothing to act on.');

    this.driftAlarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmDescription: 'cdk-ai-defense: the issuer JWKS differs from the keys pinned at deployment, cannot be fetched or validated, or the check stopped reporting (see the jwks-pin log). After a key rotation, deploy with a new repin value to pin the new keys; token verification uses only the pinned keys.',
      metric: this.metricDrift(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const action of this.alarmActions) {
      this.driftAlarm.addAlarmAction(action);
      this.driftAlarm.addOkAction(action);
    }
  }

  /**
   * `CdkAiDefense/JwksDrift` of this issuer (dimensions `service` = `jwks-pin` and `Issuer`), its maximum over two
   * drift-check intervals: 1 when the keys drifted or could not be checked, 0 when they equal the pin.
   */
  public metricDrift(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: JWKS_DRIFT_METRIC,
      dimensionsMap: { service: JWKS_PIN_SERVICE, [JWKS_DRIFT_DIMENSION]: this.issuer },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(this.driftCheckInterval.toMinutes() * 2),
      ...props,
    });
  }

  private contextRepin(): string | undefined {
    const value: unknown = this.node.tryGetContext(JWKS_REPIN_CONTEXT_KEY);
    return value === undefined || value === null ? undefined : String(value);
  }

  private optionDifferences(props: JwksPinOptions): string[] {
    const differences: string[] = [];
    const interval = props.driftCheckInterval ?? Duration.hours(1);
    if (interval.toSeconds() !== this.driftCheckInterval.toSeconds()) differences.push('driftCheckInterval');
    if ((props.repin ?? this.contextRepin()) !== this.repin) differences.push('repin');
    const actions = props.alarmActions ?? [];
    if (actions.length !== this.alarmActions.length || actions.some((a, i) => a !== this.alarmActions[i])) differences.push('alarmActions');
    if (props.logEncryptionKey !== this.logEncryptionKey) differences.push('logEncryptionKey');
    if (props.logRetention !== this.logRetention) differences.push('logRetention');
    return differences;
  }
}
