import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENFORCER_DEFAULTS, ENFORCER_LIMITS, EnforcerEnv } from '../../lambda/guardrail-enforcer/config';
import { EnforcementFunction, EnforcementFunctionOptions } from '../private/enforcement-function';
import { acknowledgeNag } from '../private/nag';
import { throwIfInvalid, validateInteger } from '../private/validation';
import { IAiGuardrail } from './ai-guardrail';

/** The source ApplyGuardrail evaluates text as: policies are configured per direction. */
export enum GuardrailSource {
  /** Prompts and anything else that becomes model input (tool results, retrieved documents). Prompt-attack runs here. */
  INPUT = 'INPUT',
  /** Model responses. Contextual grounding runs here. */
  OUTPUT = 'OUTPUT',
}

/** Who chooses the source of a standalone screening request. */
export enum EnforcerSourceMode {
  /** Each request states `source` (INPUT or OUTPUT); a request without it is malformed. */
  FROM_REQUEST = 'REQUEST',
  /** Every request is screened as INPUT; a request asking for OUTPUT is denied. */
  INPUT_ONLY = 'INPUT',
  /** Every request is screened as OUTPUT; a request asking for INPUT is denied. */
  OUTPUT_ONLY = 'OUTPUT',
}

/** What the enforcer does with invisible characters (Unicode tags, variation selectors, zero-width, bidi controls). */
export enum SmugglingCharacterMode {
  /** Deny the text with SMUGGLED_CHARACTERS. */
  DENY = 'DENY',
  /** Remove the characters before screening; the cleaned text is what passes on. */
  STRIP = 'STRIP',
}

/** Props of `GuardrailEnforcer`. */
export interface GuardrailEnforcerProps extends EnforcementFunctionOptions {
  /** The guardrail, at a published version, that screens every text. Requests can never choose another. */
  readonly guardrail: IAiGuardrail;
  /**
   * Who chooses INPUT or OUTPUT for standalone requests.
   * @default EnforcerSourceMode.FROM_REQUEST
   */
  readonly sourceMode?: EnforcerSourceMode;
  /**
   * Source that tool results are screened as when the enforcer runs as a gateway RESPONSE interceptor. Tool results
   * become model input, and the prompt-attack filter only runs on INPUT, so INPUT catches indirect prompt injection.
   * @default GuardrailSource.INPUT
   */
  readonly toolResultSource?: GuardrailSource;
  /**
   * What happens to invisible (smuggling) characters.
   * @default SmugglingCharacterMode.DENY
   */
  readonly smugglingMode?: SmugglingCharacterMode;
  /**
   * Characters sent in one ApplyGuardrail call (1,000 to 100,000); longer text is partitioned and every part screened.
   * @default 20000
   */
  readonly maxCharactersPerCall?: number;
  /**
   * Hard maximum of characters in one request (1,000 to 1,000,000); larger requests are denied with
   * REQUEST_TOO_LARGE, never truncated.
   * @default 200000
   */
  readonly maxTotalCharacters?: number;
  /**
   * Characters on each side of a partition boundary that a seam window screens again, so that nothing hides across
   * a boundary (50 to 5,000, at most half of `maxCharactersPerCall`).
   * @default 500
   */
  readonly seamCharacters?: number;
  /**
   * Most ApplyGuardrail calls one request may need (1 to 500); a request needing more is denied with REQUEST_TOO_LARGE.
   * @default 50
   */
  readonly maxCallsPerRequest?: number;
  /**
   * Lambda timeout (5 seconds to 15 minutes). The handler's own deadline is 3 seconds shorter, so a slow guardrail
   * ends in a deny (UPSTREAM_TIMEOUT), not in a Lambda error.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
}

/**
 * A Lambda function that screens text with a Bedrock guardrail and fails closed: the `guardrail-enforcer` handler.
 *
 * It screens all of the text (partitioned, with seam windows across boundaries), proves full coverage from each
 * response, decides block versus mask from the per-filter actions, removes or denies smuggled characters, and
 * returns which filters fired (never the matched text). Any fault (throttle, 5xx, timeout, AccessDenied, malformed
 * response) blocks. It also works as an AgentCore Gateway RESPONSE interceptor that screens tool results.
 */
export class GuardrailEnforcer extends Construct {
  /** The enforcement function. */
  public readonly enforcementFunction: lambda.IFunction;
  /** The guardrail it applies. */
  public readonly guardrail: IAiGuardrail;
  /** The function's log group: one decision line per call (give it to `AiAuditTrail.watchDecisionLogs`). */
  public readonly decisionLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: GuardrailEnforcerProps) {
    super(scope, id);
    const maxCharsPerCall = props.maxCharactersPerCall ?? ENFORCER_DEFAULTS.maxCharsPerCall;
    const maxTotalChars = props.maxTotalCharacters ?? ENFORCER_DEFAULTS.maxTotalChars;
    const seamChars = props.seamCharacters ?? ENFORCER_DEFAULTS.seamChars;
    const maxCalls = props.maxCallsPerRequest ?? ENFORCER_DEFAULTS.maxCalls;
    const timeout = props.timeout ?? Duration.seconds(30);
    const errors = [
      ...validateInteger('maxCharactersPerCall', maxCharsPerCall, ...ENFORCER_LIMITS.maxCharsPerCall),
      ...validateInteger('maxTotalCharacters', maxTotalChars, ...ENFORCER_LIMITS.maxTotalChars),
      ...validateInteger('seamCharacters', seamChars, ...ENFORCER_LIMITS.seamChars),
      ...validateInteger('maxCallsPerRequest', maxCalls, ...ENFORCER_LIMITS.maxCalls),
      ...validateInteger('timeout (seconds)', timeout.toSeconds({ integral: false }), 5, 900),
    ];
    if (seamChars * 2 > maxCharsPerCall) {
      errors.push(`seamCharacters is ${seamChars}; allowed: at most half of maxCharactersPerCall (${Math.floor(maxCharsPerCall / 2)})`);
    }
    throwIfInvalid('GuardrailEnforcer', errors);

    this.guardrail = props.guardrail;
    const fn = new EnforcementFunction(this, 'Function', {
      ...props,
      handlerName: 'guardrail-enforcer',
      description: 'cdk-ai-defense guardrail-enforcer: screens text with a Bedrock guardrail, fails closed',
      timeout,
      environment: {
        [EnforcerEnv.GUARDRAIL_IDENTIFIER]: props.guardrail.guardrailId,
        [EnforcerEnv.GUARDRAIL_VERSION]: props.guardrail.guardrailVersion,
        [EnforcerEnv.SOURCE_MODE]: props.sourceMode ?? EnforcerSourceMode.FROM_REQUEST,
        [EnforcerEnv.TOOL_RESULT_SOURCE]: props.toolResultSource ?? GuardrailSource.INPUT,
        [EnforcerEnv.SMUGGLING_MODE]: props.smugglingMode ?? SmugglingCharacterMode.DENY,
        [EnforcerEnv.MAX_CHARS_PER_CALL]: String(maxCharsPerCall),
        [EnforcerEnv.MAX_TOTAL_CHARS]: String(maxTotalChars),
        [EnforcerEnv.SEAM_CHARS]: String(seamChars),
        [EnforcerEnv.MAX_CALLS]: String(maxCalls),
        [EnforcerEnv.TIMEOUT_MS]: String(timeout.toMilliseconds() - 3_000),
      },
    });
    this.decisionLogGroup = fn.decisionLogGroup;
    props.guardrail.grantApply(fn);
    this.enforcementFunction = fn;
  }

  /**
   * Allows a principal (an application role, an agent runtime) to call the enforcer: `lambda:InvokeFunction` on the
   * function itself (not on its versions and aliases); a principal that takes no policy (a service) gets a
   * resource-based permission instead.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.enforcementFunction.functionArn] });
    return grant.success ? grant : this.enforcementFunction.grantInvoke(grantee);
  }

  /**
   * The enforcer as an AgentCore Gateway RESPONSE interceptor, for `Gateway.interceptorConfigurations` or
   * `gateway.addInterceptor(...)`: `LambdaInterceptor.forResponse(fn, { passRequestHeaders: false })`, so request
   * headers (which carry the caller's bearer token) never reach it. Binding grants the gateway role
   * `lambda:InvokeFunction` on the enforcer.
   */
  public asResponseInterceptor(): agentcore.IInterceptor {
    const fn = this.enforcementFunction;
    const inner = agentcore.LambdaInterceptor.forResponse(fn, { passRequestHeaders: false });
    return {
      interceptionPoint: inner.interceptionPoint,
      bind: (scope: Construct, gateway: agentcore.IGateway): agentcore.InterceptorBindConfig => {
        const config = inner.bind(scope, gateway);
        // LambdaInterceptor grants through lambda's grantInvoke, which also names <function ARN>:* (versions, aliases).
        const fnId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
        acknowledgeNag(gateway.role, `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`, 'The gateway may invoke the guardrail enforcer and its versions (aws-cdk-lib LambdaInterceptor grant); every version runs the same enforcement handler.');
        return config;
      },
    };
  }
}
