import * as crypto from 'crypto';
import { Arn, ArnFormat, IResource, Lazy, Names, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { throwIfInvalid } from '../private/validation';
import {
  AutomatedReasoningPolicyOptions,
  ContentFilter,
  ContextualGroundingOptions,
  DeniedTopic,
  FilterStrength,
  PiiFilter,
  RegexFilter,
} from './guardrail-filters';
import { GuardrailMetricNames, GuardrailPerms } from './perms';
import {
  DEFAULT_CONTENT_FILTERS,
  DEFAULT_PII_FILTERS,
  guardrailPolicyProps,
  validateGuardrailSettings,
} from './private/guardrail-config';

/** A Bedrock guardrail at one published version: created by `AiGuardrail` or imported. */
export interface IAiGuardrail extends IResource {
  /**
   * The guardrail's id.
   * @attribute
   */
  readonly guardrailId: string;
  /**
   * The guardrail's ARN (without a version).
   * @attribute
   */
  readonly guardrailArn: string;
  /** The published (immutable) version that enforcement uses: a number, never DRAFT. */
  readonly guardrailVersion: string;
  /**
   * The customer-managed key that encrypts the guardrail, if any; `grantApply` grants `kms:Decrypt` on it.
   */
  readonly key?: kms.IKey;
  /** Grants `bedrock:ApplyGuardrail` on the guardrail, and `kms:Decrypt` on its key when it has one. */
  grantApply(grantee: iam.IGrantable): iam.Grant;
  /** A metric of this guardrail version in the `AWS/Bedrock/Guardrails` namespace. */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Number of ApplyGuardrail calls (sum). */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Number of calls in which the guardrail intervened, blocked or masked (sum). */
  metricInvocationsIntervened(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Latency of the calls in milliseconds (average). */
  metricInvocationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Number of throttled calls (sum): each one is a denial at the enforcer. */
  metricInvocationThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** What identifies an existing guardrail version. */
export interface AiGuardrailAttributes {
  /** ARN of the guardrail, `arn:<partition>:bedrock:<region>:<account>:guardrail/<id>`. */
  readonly guardrailArn: string;
  /** A published version number (`"1"` to `"99999999"`); DRAFT is refused because it changes with every edit. */
  readonly guardrailVersion: string;
  /**
   * The customer-managed key that encrypts the guardrail.
   * @default - the guardrail uses an AWS owned key and no key permission is granted
   */
  readonly key?: kms.IKey;
}

/** Grants and metrics shared by created and imported guardrails. */
export abstract class AiGuardrailBase extends Resource implements IAiGuardrail {
  public abstract readonly guardrailId: string;
  public abstract readonly guardrailArn: string;
  public abstract readonly guardrailVersion: string;
  public abstract readonly key?: kms.IKey;

  public grantApply(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: GuardrailPerms.APPLY_PERMS, resourceArns: [this.guardrailArn] });
    return this.key ? grant.combine(this.key.grant(grantee, ...GuardrailPerms.KEY_USER_PERMS)) : grant;
  }

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: GuardrailMetricNames.NAMESPACE,
      metricName,
      dimensionsMap: { GuardrailArn: this.guardrailArn, GuardrailVersion: this.guardrailVersion },
      ...props,
    }).attachTo(this);
  }

  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GuardrailMetricNames.INVOCATIONS, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  public metricInvocationsIntervened(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GuardrailMetricNames.INVOCATIONS_INTERVENED, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  public metricInvocationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GuardrailMetricNames.INVOCATION_LATENCY, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  public metricInvocationThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GuardrailMetricNames.INVOCATION_THROTTLES, { statistic: cloudwatch.Stats.SUM, ...props });
  }
}

/** Props of `AiGuardrail`. Every policy has a secure default; props add to or override the defaults. */
export interface AiGuardrailProps {
  /**
   * Name of the guardrail (1 to 50 letters, digits, `-`, `_`).
   * @default - a name unique in the account, derived from the construct path
   */
  readonly guardrailName?: string;
  /**
   * Description of the guardrail (1 to 200 characters).
   * @default - a description naming the library
   */
  readonly description?: string;
  /**
   * Strength of the prompt-attack filter (jailbreaks, prompt injection, prompt leakage) on INPUT. It cannot be
   * switched off; the API evaluates it on input only, so text that must be checked for injection (tool results,
   * retrieved documents) has to be screened as INPUT.
   * @default FilterStrength.HIGH
   */
  readonly promptAttackStrength?: FilterStrength;
  /**
   * Harmful-content filters; each entry replaces the default for its category, categories not listed keep theirs.
   * @default - HATE, SEXUAL, VIOLENCE, MISCONDUCT at HIGH and INSULTS at MEDIUM, on input and output
   */
  readonly contentFilters?: ContentFilter[];
  /**
   * PII filters; each entry replaces the default for its entity type (use `SensitiveInformationAction.DETECT_ONLY`
   * to stop enforcing a default), types not listed keep theirs.
   * @default - credentials and payment data (AWS keys, passwords, card number/CVV/expiry, PIN, bank accounts, SSN)
   * are BLOCKED; contact data and personal identifiers (email, phone, name, address, username, licence, passport,
   * tax and insurance numbers) are ANONYMIZED
   */
  readonly piiFilters?: PiiFilter[];
  /**
   * Custom sensitive-information patterns (at most 10).
   * @default - none
   */
  readonly regexFilters?: RegexFilter[];
  /**
   * Topics to block in prompts and responses (at most 30).
   * @default - none
   */
  readonly deniedTopics?: DeniedTopic[];
  /**
   * Words or phrases to block (exact match, each 1 to 100 characters).
   * @default - none
   */
  readonly customWords?: string[];
  /**
   * Whether the AWS managed profanity word list blocks profanity.
   * @default true
   */
  readonly profanityFilter?: boolean;
  /**
   * Contextual grounding thresholds (checks of model OUTPUT against a grounding source and the query).
   * @default - no contextual grounding check
   */
  readonly contextualGrounding?: ContextualGroundingOptions;
  /**
   * An Automated Reasoning policy to evaluate (detect mode: the service reports findings; `GuardrailEnforcer`
   * blocks INVALID and IMPOSSIBLE findings).
   * @default - no Automated Reasoning policy
   */
  readonly automatedReasoningPolicy?: AutomatedReasoningPolicyOptions;
  /**
   * Message returned in place of a blocked prompt (1 to 500 characters).
   * @default 'Sorry, this request was blocked by a safety guardrail.'
   */
  readonly blockedInputMessage?: string;
  /**
   * Message returned in place of a blocked response (1 to 500 characters).
   * @default 'Sorry, the response was blocked by a safety guardrail.'
   */
  readonly blockedOutputMessage?: string;
  /**
   * Customer-managed key that encrypts the guardrail's configuration.
   * @default - a new key with rotation on, retained when the stack is deleted
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * An Amazon Bedrock guardrail with secure defaults and a published version that follows its configuration.
 *
 * Defaults: the prompt-attack filter at HIGH on input, harmful-content filters on input and output, credentials
 * and payment data blocked, contact data masked, the managed profanity list, a customer-managed KMS key with
 * rotation, and a `CfnGuardrailVersion` whose description carries a SHA-256 of the configuration, so that every
 * configuration change publishes a new version (and enforcement never uses the mutable DRAFT).
 *
 * @resource AWS::Bedrock::Guardrail
 */
export class AiGuardrail extends AiGuardrailBase {
  /** The harmful-content filters applied by default. */
  public static readonly DEFAULT_CONTENT_FILTERS: ContentFilter[] = DEFAULT_CONTENT_FILTERS;
  /** The PII filters applied by default. */
  public static readonly DEFAULT_PII_FILTERS: PiiFilter[] = DEFAULT_PII_FILTERS;

  /** Imports an existing guardrail at a published version. */
  public static fromGuardrailAttributes(scope: Construct, id: string, attrs: AiGuardrailAttributes): IAiGuardrail {
    const errors: string[] = [];
    if (!Token.isUnresolved(attrs.guardrailArn) && !/^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail\/[a-z0-9]+$/.test(attrs.guardrailArn)) {
      errors.push(`guardrailArn is "${attrs.guardrailArn}"; allowed: arn:<partition>:bedrock:<region>:<account>:guardrail/<id>`);
    }
    if (!Token.isUnresolved(attrs.guardrailVersion) && !/^[1-9][0-9]{0,7}$/.test(attrs.guardrailVersion)) {
      errors.push(`guardrailVersion is "${attrs.guardrailVersion}"; allowed: a published version number from 1 to 99999999 (DRAFT changes with every edit)`);
    }
    throwIfInvalid('AiGuardrail.fromGuardrailAttributes', errors);
    class Import extends AiGuardrailBase {
      public readonly guardrailArn = attrs.guardrailArn;
      public readonly guardrailId = Arn.split(attrs.guardrailArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
      public readonly guardrailVersion = attrs.guardrailVersion;
      public readonly key = attrs.key;
    }
    return new Import(scope, id, { environmentFromArn: attrs.guardrailArn });
  }

  public readonly guardrailId: string;
  public readonly guardrailArn: string;
  /** The version published for the current configuration. */
  public readonly guardrailVersion: string;
  /** The key that encrypts the guardrail (created unless one was given). */
  public readonly key: kms.IKey;
  /** The guardrail resource (escape hatch). */
  public readonly resource: bedrock.CfnGuardrail;
  /** The published version resource (escape hatch). */
  public readonly version: bedrock.CfnGuardrailVersion;

  constructor(scope: Construct, id: string, props: AiGuardrailProps = {}) {
    super(scope, id);
    const name = props.guardrailName ?? Names.uniqueResourceName(this, { maxLength: 50, separator: '-' });
    const settings = { ...props, name };
    throwIfInvalid('AiGuardrail', validateGuardrailSettings(settings));

    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `cdk-ai-defense: encrypts guardrail ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    const policy = guardrailPolicyProps(settings);
    this.resource = new bedrock.CfnGuardrail(this, 'Resource', {
      ...policy,
      description: props.description ?? 'cdk-ai-defense guardrail (AiGuardrail)',
      kmsKeyArn: this.key.keyArn,
    });

    const stack = Stack.of(this);
    const configured = { ...policy, description: props.description, kmsKeyArn: this.key.keyArn };
    this.version = new bedrock.CfnGuardrailVersion(this, 'Version', {
      guardrailIdentifier: this.resource.attrGuardrailId,
      // Versions are immutable and both properties replace on change: a new hash publishes a new version.
      description: Lazy.string({
        produce: () => `Published by cdk-ai-defense for configuration sha256:${configHash(stack.resolve(configured))}`,
      }),
    });

    this.guardrailId = this.resource.attrGuardrailId;
    this.guardrailArn = this.resource.attrGuardrailArn;
    this.guardrailVersion = this.version.attrVersion;
  }
}

/** SHA-256 of a resolved configuration (tokens resolved to stable CloudFormation intrinsics first). */
function configHash(resolved: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(resolved)).digest('hex');
}
