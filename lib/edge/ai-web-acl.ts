import * as crypto from 'crypto';
import { ArnFormat, Duration, Names, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { sharedLogKey } from '../private/enforcement-function';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import {
  ALB_BODY_INSPECTION_LIMIT_BYTES,
  COMMON_RULE_SET_BODY_SIZE_RULE,
  bodySizeRule,
  managedRuleGroup,
  rateLimitRule,
} from './private/waf-rules';

/** The AWS managed rule groups of every AiWebAcl, in evaluation order. */
const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesAnonymousIpList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
];

/**
 * What the web ACL's rules do with a request that matches them.
 */
export enum WafMode {
  /** Every rule blocks what it matches (rate limit: HTTP 429, body size: HTTP 413, managed rules: HTTP 403). */
  BLOCK = 'BLOCK',
  /**
   * WEAKER: every rule only COUNTS what it matches and nothing is blocked. Use it to measure false positives before
   * enforcing, never as a steady state: in this mode the web ACL protects nothing.
   */
  COUNT_ONLY = 'COUNT_ONLY',
}

/**
 * Properties of an `AiWebAcl`.
 */
export interface AiWebAclProps {
  /**
   * Whether rules block or only count.
   * @default WafMode.BLOCK
   */
  readonly mode?: WafMode;
  /**
   * Name of the web ACL (1-128 characters: letters, digits, `_` and `-`). Also names the log group
   * (`aws-waf-logs-<name>`) and is the `WebACL` dimension of the WAF metrics.
   * @default - a name derived from the construct path, unique within the app
   */
  readonly webAclName?: string;
  /**
   * Requests one source IP may make within `rateLimitWindow` before further requests are blocked (HTTP 429).
   * AWS WAF accepts 10 to 2,000,000,000.
   * @default 1000 (per 5 minutes, about 3 requests a second sustained: enough for an interactive chat client, and a
   *   ceiling on how much model spend one address can cause)
   */
  readonly rateLimit?: number;
  /**
   * The window over which `rateLimit` is counted: 1, 2, 5 or 10 minutes.
   * @default Duration.minutes(5)
   */
  readonly rateLimitWindow?: Duration;
  /**
   * Largest request body allowed (bodies above it are blocked with HTTP 413). At most 8 KiB: AWS WAF inspects only
   * the first 8 KiB of an Application Load Balancer request body, and this rule blocks every body it cannot inspect
   * completely (oversize handling MATCH), so a larger value would not allow larger bodies.
   * @default Size.kibibytes(8)
   */
  readonly maxBodySize?: Size;
  /**
   * URI path prefixes the body-size rule applies to (each starting with `/`, compared case-insensitively after URL
   * decoding and path normalization). Bodies on other paths are not size-limited, and the part of them beyond 8 KiB
   * is not inspected by any rule.
   * @default - every path
   */
  readonly bodySizePathPrefixes?: string[];
  /**
   * Further rules of `AWSManagedRulesCommonRuleSet` that only count instead of block, for example
   * `CrossSiteScripting_BODY` when prompts legitimately carry HTML or code. `SizeRestrictions_BODY` always counts:
   * the web ACL's own body-size rule replaces it.
   * @default - only SizeRestrictions_BODY counts
   */
  readonly countOnlyCommonRules?: string[];
  /**
   * Header names (lowercase) to redact from the WAF logs in addition to `authorization` and `cookie`, which are always
   * redacted.
   * @default - only authorization and cookie are redacted
   */
  readonly redactedHeaders?: string[];
  /**
   * KMS key that encrypts the WAF log group. It must allow CloudWatch Logs to use it.
   * @default - one customer-managed key per stack, shared by the library's log groups, with rotation on
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long WAF logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A REGIONAL AWS WAF web ACL for the front of an AI application (an Application Load Balancer, an API Gateway stage,
 * a Cognito user pool...).
 *
 * Default action allow; rules, in order: a per-IP rate limit, a body-size limit that blocks bodies WAF cannot fully
 * inspect, the Amazon IP reputation list, the anonymous IP list, known bad inputs, and the common rule set (with its
 * 8 KB body rule counting, replaced by the body-size rule). Every request is logged to a KMS-encrypted CloudWatch
 * log group with the `authorization` and `cookie` headers redacted.
 *
 * @resource AWS::WAFv2::WebACL
 */
export class AiWebAcl extends Construct {
  /** Name (and metric name) of the per-IP rate-based rule. */
  public static readonly RATE_LIMIT_RULE = 'RateLimitPerIp';
  /** Name (and metric name) of the body-size rule. */
  public static readonly BODY_SIZE_RULE = 'BodySizeLimit';
  /** Names (and metric names) of the AWS managed rule groups, in evaluation order. */
  public static readonly MANAGED_RULE_GROUPS: string[] = [...MANAGED_RULE_GROUPS];

  /** The web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** ARN of the web ACL. */
  public readonly webAclArn: string;
  /** Name of the web ACL (the `WebACL` dimension of its metrics). */
  public readonly webAclName: string;
  /** The log group that receives every WAF log record (`aws-waf-logs-<name>`). */
  public readonly logGroup: logs.ILogGroup;
  /** The logging configuration of the web ACL. */
  public readonly loggingConfiguration: wafv2.CfnLoggingConfiguration;
  /** Whether rules block or only count. */
  public readonly mode: WafMode;

  private readonly associations = new Map<string, wafv2.CfnWebACLAssociation>();

  constructor(scope: Construct, id: string, props: AiWebAclProps = {}) {
    super(scope, id);
    const mode = props.mode ?? WafMode.BLOCK;
    const rateLimit = props.rateLimit ?? 1000;
    const windowSeconds = (props.rateLimitWindow ?? Duration.minutes(5)).toSeconds();
    const maxBodyBytes = (props.maxBodySize ?? Size.kibibytes(8)).toBytes();
    throwIfInvalid('AiWebAcl', validateAiWebAclProps(props, { rateLimit, windowSeconds, maxBodyBytes }));

    this.mode = mode;
    this.webAclName = props.webAclName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    const enforcement = { countOnly: mode === WafMode.COUNT_ONLY };
    const [reputation, anonymous, badInputs, common] = MANAGED_RULE_GROUPS;
    const countOnlyCommon = [COMMON_RULE_SET_BODY_SIZE_RULE, ...(props.countOnlyCommonRules ?? []).filter((r) => r !== COMMON_RULE_SET_BODY_SIZE_RULE)];

    this.webAcl = new wafv2.CfnWebACL(this, 'Resource', {
      name: this.webAclName,
      scope: 'REGIONAL',
      // The description allows no underscore.
      description: `cdk-ai-defense AiWebAcl, mode ${mode === WafMode.COUNT_ONLY ? 'count-only' : 'block'}`,
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: this.webAclName },
      rules: [
        rateLimitRule(AiWebAcl.RATE_LIMIT_RULE, 0, rateLimit, windowSeconds, enforcement),
        bodySizeRule(AiWebAcl.BODY_SIZE_RULE, 1, maxBodyBytes, props.bodySizePathPrefixes, enforcement),
        managedRuleGroup(reputation, 2, enforcement),
        managedRuleGroup(anonymous, 3, enforcement),
        managedRuleGroup(badInputs, 4, enforcement),
        managedRuleGroup(common, 5, enforcement, countOnlyCommon),
      ],
    });
    this.webAclArn = this.webAcl.attrArn;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      // AWS WAF delivers only to log groups whose name starts with aws-waf-logs-.
      logGroupName: `aws-waf-logs-${this.webAclName}`,
      encryptionKey: props.logEncryptionKey ?? sharedLogKey(this),
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = logGroup;

    const redacted = ['authorization', 'cookie', ...(props.redactedHeaders ?? []).filter((h) => h !== 'authorization' && h !== 'cookie')];
    this.loggingConfiguration = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAclArn,
      // WAF rejects the `:*` suffix that the log group's Arn attribute carries, so build the bare ARN.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // authorization carries bearer tokens; cookie carries the ALB authentication session cookies
      // (AWSELBAuthSessionCookie-*), which are bearer credentials too.
      redactedFields: redacted.map((name) => ({ singleHeader: { Name: name } })),
    });
    this.loggingConfiguration.node.addDependency(logGroup);
  }

  /**
   * Protects a regional resource (Application Load Balancer, API Gateway stage, AppSync API, Cognito user pool, App
   * Runner service, Verified Access instance) with this web ACL. Associating the same ARN twice returns the first
   * association. The construct id derives from the ARN, so it does not change with the order of calls.
   *
   * @param resourceArn ARN of the resource to protect
   */
  public associate(resourceArn: string): wafv2.CfnWebACLAssociation {
    const key = JSON.stringify(Stack.of(this).resolve(resourceArn));
    const existing = this.associations.get(key);
    if (existing) return existing;
    const hash = crypto.createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase();
    const association = new wafv2.CfnWebACLAssociation(this, `Association${hash}`, {
      resourceArn,
      webAclArn: this.webAclArn,
    });
    this.associations.set(key, association);
    return association;
  }

  /**
   * A metric of this web ACL in the `AWS/WAFV2` namespace, for one rule (its metric name) or `ALL`.
   * @param metricName for example `BlockedRequests`, `CountedRequests`, `AllowedRequests`
   * @param rule the rule's metric name (`AiWebAcl.RATE_LIMIT_RULE`...) or `ALL`
   */
  public metric(metricName: string, rule: string = 'ALL', props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      dimensionsMap: { WebACL: this.webAclName, Region: Stack.of(this).region, Rule: rule },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Requests blocked by any rule (sum over 5 minutes). */
  public metricBlockedRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BlockedRequests', 'ALL', props);
  }

  /** Requests that matched a rule in count mode (sum over 5 minutes): what `COUNT_ONLY` would have blocked. */
  public metricCountedRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CountedRequests', 'ALL', props);
  }

  /** Requests blocked by the per-IP rate limit (sum over 5 minutes). */
  public metricRateLimitedRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(this.mode === WafMode.COUNT_ONLY ? 'CountedRequests' : 'BlockedRequests', AiWebAcl.RATE_LIMIT_RULE, props);
  }
}

const RATE_WINDOWS = [60, 120, 300, 600];
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const PATH_PREFIX = /^\/[\x21-\x7e]{0,199}$/;
const RULE_NAME = /^[0-9A-Za-z_-]{1,128}$/;

/** Every problem with AiWebAcl props, each naming the bad value and what is allowed. */
function validateAiWebAclProps(
  props: AiWebAclProps,
  resolved: { rateLimit: number; windowSeconds: number; maxBodyBytes: number },
): string[] {
  const errors: string[] = [];
  errors.push(...validateInteger('rateLimit', resolved.rateLimit, 10, 2_000_000_000));
  if (!Token.isUnresolved(resolved.windowSeconds) && !RATE_WINDOWS.includes(resolved.windowSeconds)) {
    errors.push(`rateLimitWindow is ${resolved.windowSeconds} seconds; allowed: 60, 120, 300 or 600 seconds`);
  }
  if (!Number.isInteger(resolved.maxBodyBytes) || resolved.maxBodyBytes < 0 || resolved.maxBodyBytes > ALB_BODY_INSPECTION_LIMIT_BYTES) {
    errors.push(
      `maxBodySize is ${resolved.maxBodyBytes} bytes; allowed: 0 to ${ALB_BODY_INSPECTION_LIMIT_BYTES} bytes ` +
        '(AWS WAF inspects at most the first 8 KiB of an ALB request body, and larger bodies are blocked)',
    );
  }
  errors.push(...validatePattern('webAclName', props.webAclName, /^[0-9A-Za-z_-]{1,128}$/, '1-128 letters, digits, "_" or "-"'));
  if (props.bodySizePathPrefixes !== undefined) {
    if (props.bodySizePathPrefixes.length === 0) {
      errors.push('bodySizePathPrefixes is []; allowed: at least one path prefix, or leave it unset to limit every path');
    }
    if (props.bodySizePathPrefixes.length > 10) {
      errors.push(`bodySizePathPrefixes has ${props.bodySizePathPrefixes.length} entries; allowed: at most 10`);
    }
    for (const p of props.bodySizePathPrefixes) {
      errors.push(...validatePattern('bodySizePathPrefixes entry', p, PATH_PREFIX, 'a path starting with "/", 1-200 visible ASCII characters'));
    }
  }
  for (const r of props.countOnlyCommonRules ?? []) {
    errors.push(...validatePattern('countOnlyCommonRules entry', r, RULE_NAME, 'a rule name of AWSManagedRulesCommonRuleSet, such as "CrossSiteScripting_BODY"'));
  }
  for (const h of props.redactedHeaders ?? []) {
    errors.push(...validatePattern('redactedHeaders entry', h, HEADER_NAME, 'a lowercase HTTP header name of 1-64 characters'));
  }
  return errors;
}
