import { Aspects, Duration, IAspect, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { EnforcerEnv } from '../../lambda/guardrail-enforcer/config';
import { CALLER_TOKEN_ARGUMENT, RESERVED_ARGUMENT_NAMES } from '../../lambda/shared/caller-context';
import {
  ARGUMENT_NAME_PATTERN,
  CLAIM_NAME_PATTERN,
  DEFAULT_CONFIG_FILE,
  DEFAULT_IDENTITY_LIKE_ARGUMENTS,
  GatewayConfigDocument,
  GatewayConfigEnv,
  IdentityArgumentBinding,
  SessionTaintEnv,
  TAINT_TTL_SECONDS,
  TargetKind as RuntimeTargetKind,
  loadGatewayConfig,
  normalizeArgumentName,
  serializeGatewayConfig,
} from '../../lambda/tool-interceptor/config';
import { ToolPin } from '../../lambda/tool-interceptor/pin';
import { TARGET_NAME_PATTERN, loadToolRegistry } from '../../lambda/tool-interceptor/registry';
import { filterToolList } from '../../lambda/tool-interceptor/tool-list';
import { ITrifectaSubject, ReachableTool, TrifectaReach } from '../analysis/trifecta-reach';
import { CallerIdentity } from '../common/caller-identity';
import { AiWebAcl } from '../edge/ai-web-acl';
import { AiGuardrail, IAiGuardrail } from '../guardrails/ai-guardrail';
import { EnforcementFunction, EnforcementFunctionOptions, sharedLogKey } from '../private/enforcement-function';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { acknowledgeNag, acknowledgeNagAll } from '../private/nag';
import { createSecureUserPool } from '../private/secure-user-pool';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { gatewayConfigLayer } from './private/gateway-config-layer';
import { GatewayPerms } from './private/gateway-perms';
import { ServedToolDefinition, inlineToolSchema, propertylessObjects, servedDefinition } from './private/gateway-schema';
import { ToolPinning } from './tool-pinning';
import { ToolPolicy } from './tool-policy';
import { RiskClass, ToolCapability, ToolRegistration, ToolRegistry } from './tool-registry';

/** How the REQUEST interceptor checks a target's tool arguments. */
export enum ArgumentValidation {
  /**
   * Strictly against the tool's input schema (types, lengths, patterns, ranges, enums, required; extra keys
   * rejected). The schema must use the strict subset the interceptor supports, or the synth fails.
   */
  SCHEMA = 'SCHEMA',
  /**
   * WEAKER: only the shape (a plain JSON object, no prototype keys, no duplicate keys, bounded depth, identity rules).
   * The target must validate its arguments itself. For targets whose schemas hold free-form objects.
   */
  SHAPE_ONLY_TARGET_VALIDATES = 'SHAPE_ONLY_TARGET_VALIDATES',
}

/** What happens when the model supplies an identity-like, identity-bound or reserved argument. */
export enum ForgedIdentityArguments {
  /** The argument is removed (a bound one is then set from the verified token), the call goes on, and the removal is logged. */
  STRIP = 'STRIP',
  /** The call is denied with CALLER_CHOSE_PROTECTED_SETTING. */
  DENY = 'DENY',
}

/** Enforcement mode of the AgentCore Policy engine attached as a second, managed authorization layer. */
export enum ManagedPolicyMode {
  /** The engine's decisions are enforced. */
  ENFORCE = 'ENFORCE',
  /** WEAKER: the engine only logs what it would decide; every call it would deny still goes through. */
  LOG_ONLY = 'LOG_ONLY',
}

/** An MCP tool definition a Lambda target serves (`tools/list` shape), JSON-serializable. */
export interface GatewayToolDefinition {
  /** Tool name (1 to 128 of `A-Z a-z 0-9 _ - .`). */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** JSON Schema of the arguments (root `type: "object"`). */
  readonly inputSchema: { [key: string]: any };
}

/**
 * A Lambda function that serves MCP tools to the gateway, such as the library's knowledge retriever and memory
 * broker, or a customer tool.
 */
export interface IGatewayToolTarget {
  /** The function the gateway invokes. */
  readonly function: lambda.IFunction;
  /** The tools it serves. */
  readonly toolDefinitions: GatewayToolDefinition[];
}

/** A tool argument the REQUEST interceptor sets from a verified token claim, whatever the model wrote. */
export interface IdentityArgument {
  /** The (top-level) argument name; it must be declared in the tool's input schema. */
  readonly argument: string;
  /** The verified token's claim (a string or a list of strings), e.g. `sub`, `email`, `cognito:groups`. */
  readonly claim: string;
}

/** Per-tool settings that override the target's. */
export interface GatewayToolSettings {
  /** The tool (its name as the target serves it). */
  readonly toolName: string;
  /**
   * The tool's risk class.
   * @default - the target's risk class
   */
  readonly risk?: RiskClass;
  /**
   * The tool's capability labels.
   * @default - the target's capability labels
   */
  readonly capabilities?: ToolCapability[];
  /**
   * Groups the default tool policy lets call the tool.
   * @default - the target's allowed groups
   */
  readonly allowedGroups?: string[];
  /**
   * Customer tools only: arguments the interceptor overwrites with verified claims. They are hidden from the schema
   * the model sees, and any value the model supplies for them is discarded.
   * @default - none
   */
  readonly identityArguments?: IdentityArgument[];
}

/** Options shared by every target. */
export interface GatewayTargetOptions {
  /** Who answers for the target's tools (a team or person id, 1 to 256 visible characters). */
  readonly owner: string;
  /**
   * Groups (from the verified token's groups claim) that the default tool policy lets call the target's tools.
   * An empty list means nobody may call them under the default policy.
   */
  readonly allowedGroups: string[];
  /**
   * How the REQUEST interceptor checks arguments.
   * @default ArgumentValidation.SCHEMA
   */
  readonly argumentValidation?: ArgumentValidation;
  /**
   * Per-tool overrides.
   * @default - every tool uses the target's settings
   */
  readonly toolSettings?: GatewayToolSettings[];
  /**
   * Description of the gateway target.
   * @default - none
   */
  readonly description?: string;
}

/** Options of {@link GuardedGateway.addKnowledgeTarget} and {@link GuardedGateway.addMemoryTarget}. */
export interface LibraryTargetOptions extends GatewayTargetOptions {
  /**
   * Gateway target name (letters and digits with single dashes); tools are listed as `<targetName>___<tool>`.
   * @default 'knowledge' for the knowledge target, 'memory' for the memory target
   */
  readonly targetName?: string;
  /**
   * Risk class of the target's tools.
   * @default RiskClass.LOW (the target itself limits every caller to what the verified identity may see)
   */
  readonly risk?: RiskClass;
  /**
   * Capability labels of the target's tools.
   * @default knowledge: SENSITIVE_DATA and UNTRUSTED_CONTENT (documents written by others); memory: SENSITIVE_DATA
   */
  readonly capabilities?: ToolCapability[];
}

/** Options of {@link GuardedGateway.addLambdaToolTarget}. */
export interface LambdaToolTargetOptions extends GatewayTargetOptions {
  /** Gateway target name (letters and digits with single dashes); tools are listed as `<targetName>___<tool>`. */
  readonly targetName: string;
  /** Risk class of the target's tools. HIGH and CRITICAL tools need an approval of the exact call under the default policy. */
  readonly risk: RiskClass;
  /**
   * Capability labels of the target's tools (the lethal-trifecta analysis and the default policy's trifecta forbid).
   * `[]` declares "none of the three".
   * @default - unlabeled: the tools count as all three capabilities, for the `LethalTrifecta` analysis and at run
   * time (the registry records all three, so calling one taints the session with every leg)
   */
  readonly capabilities?: ToolCapability[];
}

/**
 * Where calls that need a human approval go: an approval workflow (such as `ApprovalWorkflow`) that configures the
 * REQUEST interceptor's approval gate through its environment and grants it what the gate needs.
 */
export interface IToolApprovals {
  /** Environment variables that select and configure the approval gate (an approval table, a topic, limits). */
  gateEnvironment(): { [key: string]: string };
  /** Grants a function (the REQUEST interceptor) what the gate needs. */
  grantGate(grantee: iam.IGrantable): iam.Grant;
}

/** The AgentCore Policy engine to attach as a second, managed layer. */
export interface GatewayPolicyEngineOptions {
  /** The engine (with its Cedar policies, written against the gateway's AgentCore schema). */
  readonly policyEngine: agentcore.IPolicyEngine;
  /**
   * Whether the engine's decisions are enforced.
   * @default ManagedPolicyMode.ENFORCE
   */
  readonly mode?: ManagedPolicyMode;
}

/** Props of {@link GuardedGateway}. */
export interface GuardedGatewayProps extends EnforcementFunctionOptions {
  /**
   * Whose tokens the gateway accepts: the gateway's JWT authorizer and the REQUEST interceptor (which verifies every
   * `tools/call` again) share this one description.
   * @default - a new Cognito user pool (MFA required, strong passwords, no self sign-up, threat protection) and an
   * app client whose access tokens are accepted
   */
  readonly identity?: CallerIdentity;
  /**
   * Guardrail that screens every tool result (as model input, where the prompt-attack filter runs).
   * @default - a new `AiGuardrail` with its secure defaults
   */
  readonly guardrail?: IAiGuardrail;
  /**
   * Where calls that the tool policy permits only with an approval go (for example an `ApprovalWorkflow`).
   * @default - no approval workflow: every such call is denied with APPROVAL_REQUIRED
   */
  readonly approvals?: IToolApprovals;
  /**
   * The Cedar tool policy that authorizes every `tools/call`.
   * @default ToolPolicy.defaultPolicy()
   */
  readonly toolPolicy?: ToolPolicy;
  /**
   * Pins of tools that the construct does not pin itself (tools of targets added on `gateway` directly), or extra
   * accepted pins. Lambda targets added with this construct are pinned automatically. `ToolPinning.unsafeScanOnly()`
   * lets unpinned tools through when their scan is clean.
   * @default - only the automatic pins; every other tool is unpinned and removed from tools/list
   */
  readonly toolPinning?: ToolPinning;
  /**
   * Gateway name (letters, digits, single dashes; at most 48).
   * @default - unique within the stack, derived from the construct path
   */
  readonly gatewayName?: string;
  /**
   * Gateway description (at most 200 characters).
   * @default - none
   */
  readonly description?: string;
  /**
   * Customer-managed key for the gateway's data.
   * @default - a new key with rotation
   */
  readonly kmsKey?: kms.IKey;
  /**
   * A regional web ACL to associate with the gateway (AWS WAF for AgentCore Gateway). Opt-in: see lib/tools/README.md (GuardedGateway)
   * for what is unconfirmed about the association and its failure mode.
   * @default - no web ACL
   */
  readonly webAcl?: AiWebAcl;
  /**
   * An AgentCore Policy engine as a second, managed authorization layer.
   * @default - none (the REQUEST interceptor's Cedar policy is the only tool authorization)
   */
  readonly policyEngine?: GatewayPolicyEngineOptions;
  /**
   * Argument names that look like identity. The model may never supply them: depending on
   * `forgedIdentityArguments` they are stripped or the call is denied, and a tool schema that declares one without
   * binding it to a claim fails the synth. Compared case-insensitively, ignoring `_`, `-` and `.`.
   * @default GuardedGateway.DEFAULT_IDENTITY_LIKE_ARGUMENTS
   */
  readonly identityLikeArguments?: string[];
  /**
   * What happens when the model supplies an identity-like, identity-bound or reserved argument.
   * @default ForgedIdentityArguments.STRIP
   */
  readonly forgedIdentityArguments?: ForgedIdentityArguments;
  /**
   * Deliver the gateway's own application logs (vended logs) to an encrypted log group.
   * @default true
   */
  readonly gatewayLogs?: boolean;
  /**
   * WEAKER: the gateway returns detailed (DEBUG) exception messages to callers, which can reveal target
   * configuration. Never in production.
   * @default false - exception messages are sanitized
   */
  readonly unsafeDebugExceptions?: boolean;
  /**
   * MCP protocol versions the gateway accepts.
   * @default [MCP_2025_06_18, MCP_2025_03_26]
   */
  readonly mcpVersions?: agentcore.MCPProtocolVersion[];
  /**
   * Lambda timeout of each interceptor (5 to 60 seconds). The handlers' own deadline is 3 seconds shorter, so a slow
   * dependency ends in a deny, not a Lambda error.
   * @default Duration.seconds(15)
   */
  readonly interceptorTimeout?: Duration;
  /**
   * How long a session's taint (the capabilities its allowed calls used) lasts after the session's last allowed call,
   * in whole seconds from 1 hour to 30 days. It is a lower bound: an expired item keeps counting until DynamoDB's TTL
   * deletes it. Keep it longer than your agents' conversations.
   * @default Duration.hours(12)
   */
  readonly taintTtl?: Duration;
}

interface TargetRecord {
  readonly name: string;
  readonly kind: RuntimeTargetKind;
  readonly served: ServedToolDefinition[];
  /** What stands behind the target's tools, for the lethal-trifecta analysis. */
  readonly sources: IConstruct[];
}

const DEFAULT_MCP_VERSIONS = [agentcore.MCPProtocolVersion.MCP_2025_06_18, agentcore.MCPProtocolVersion.MCP_2025_03_26];
const GATEWAY_NAME_PATTERN = /^(?:[0-9a-zA-Z]-?){1,48}$/;

/**
 * An AgentCore Gateway that is the policy enforcement point for every tool an agent can reach.
 *
 * - Inbound: a JWT authorizer (Cognito by default, any OIDC issuer) with allowed clients, audiences and scopes.
 * - REQUEST interceptor (`tool-interceptor`): verifies the bearer token again, resolves the tool in the deployed
 *   registry (unknown tools are denied), removes identity the model wrote, validates the arguments, authorizes with
 *   Cedar (principal from the token, the session's taint as `sessionCapabilities`), sends calls that need an approval
 *   to the approval gate, records each allowed call's capabilities in the session's taint before the call runs, and
 *   passes the verified identity on in a form the model cannot forge. Any fault denies.
 * - A session-taint table (DynamoDB, the gateway key, point-in-time recovery, TTL): the capabilities each session
 *   has used, so the default policy's lethal-trifecta and CRITICAL-after-untrusted-content rules see the whole session.
 * - RESPONSE interceptor (`response-interceptor`): screens `tools/list` (scanner, registry, pins; failing tools
 *   removed and logged) and screens every tool result with the guardrail.
 * - Optionally an AgentCore Policy engine (a second, managed Cedar layer) and an AWS WAF web ACL.
 * - A customer-managed key, sanitized errors, encrypted decision logs and the gateway's own logs.
 *
 * Targets are added with {@link addKnowledgeTarget}, {@link addMemoryTarget} and {@link addLambdaToolTarget}, each
 * with a risk class and capability labels; the registry, policy and pins reach both interceptors as a file in a
 * Lambda layer, bound to the functions by its SHA-256.
 */
export class GuardedGateway extends Construct implements ITrifectaSubject {
  /** Identity-like argument names the model may never supply, by default. */
  public static readonly DEFAULT_IDENTITY_LIKE_ARGUMENTS: string[] = [...DEFAULT_IDENTITY_LIKE_ARGUMENTS];

  /** The reserved argument in which the library's own targets receive the caller's verified token. */
  public static readonly CALLER_TOKEN_ARGUMENT: string = CALLER_TOKEN_ARGUMENT;

  /** The AgentCore gateway. */
  public readonly gateway: agentcore.Gateway;
  /** The gateway's MCP endpoint URL. */
  public readonly gatewayUrl: string;
  /** The gateway's ARN. */
  public readonly gatewayArn: string;
  /** The REQUEST interceptor function. */
  public readonly requestInterceptor: lambda.IFunction;
  /** The RESPONSE interceptor function. */
  public readonly responseInterceptor: lambda.IFunction;
  /** Decision log of the REQUEST interceptor (one line per request). */
  public readonly requestDecisionLogGroup: logs.ILogGroup;
  /** Decision log of the RESPONSE interceptor (tool-list removals and guardrail screening). */
  public readonly responseDecisionLogGroup: logs.ILogGroup;
  /** The gateway's own (vended) application logs, when enabled. */
  public readonly gatewayLogGroup?: logs.ILogGroup;
  /** Whose tokens the gateway accepts. */
  public readonly identity: CallerIdentity;
  /** The user pool created when no identity was given. */
  public readonly userPool?: cognito.IUserPool;
  /** The app client created when no identity was given. */
  public readonly userPoolClient?: cognito.IUserPoolClient;
  /** The guardrail that screens tool results. */
  public readonly guardrail: IAiGuardrail;
  /** The tool policy. */
  public readonly toolPolicy: ToolPolicy;
  /** The key that encrypts the gateway's data. */
  public readonly kmsKey: kms.IKey;
  /** The gateway's service role. */
  public readonly role: iam.IRole;
  /**
   * The session-taint table: per (verified principal, MCP session), the capabilities the session's allowed calls
   * used. The REQUEST interceptor reads it before every authorization and adds to it after every allow. Encrypted with
   * {@link kmsKey}.
   */
  public readonly sessionTaintTable: dynamodb.ITable;

  private readonly registry = new ToolRegistry();
  private readonly targets = new Map<string, TargetRecord>();
  private readonly bindings: IdentityArgumentBinding[] = [];
  private readonly identityLikeArguments: string[];
  private readonly forgedIdentityArguments: ForgedIdentityArguments;
  private readonly userPinning?: ToolPinning;
  private readonly interceptors: EnforcementFunction[];
  private finalized = false;
  private configProblems: string[] = [];
  private configDocument?: GatewayConfigDocument;

  constructor(scope: Construct, id: string, props: GuardedGatewayProps = {}) {
    super(scope, id);
    const timeout = props.interceptorTimeout ?? Duration.seconds(15);
    const taintTtl = props.taintTtl ?? Duration.seconds(TAINT_TTL_SECONDS.default);
    const identityLike = props.identityLikeArguments ?? [...DEFAULT_IDENTITY_LIKE_ARGUMENTS];
    throwIfInvalid('GuardedGateway', [
      ...(props.gatewayName !== undefined && Token.isUnresolved(props.gatewayName)
        ? ['gatewayName is a token; allowed: a literal name (the service role trusts only the gateway of that name)']
        : validatePattern('gatewayName', props.gatewayName, GATEWAY_NAME_PATTERN, 'letters and digits with single dashes, at most 48')),
      ...(props.description !== undefined && !Token.isUnresolved(props.description) && (props.description.length === 0 || props.description.length > 200)
        ? [`description has ${props.description.length} characters; allowed: 1 to 200`]
        : []),
      ...validateInteger('interceptorTimeout (seconds)', timeout.toSeconds({ integral: false }), 5, 60),
      ...validateInteger('taintTtl (seconds)', taintTtl.toSeconds({ integral: false }), TAINT_TTL_SECONDS.min, TAINT_TTL_SECONDS.max),
      ...identityLike
        .filter((n) => typeof n !== 'string' || Token.isUnresolved(n) || !ARGUMENT_NAME_PATTERN.test(n) || normalizeArgumentName(n) === '')
        .map((n) => `identityLikeArguments contains "${String(n)}"; allowed: argument names of 1 to 128 visible ASCII characters`),
      ...(props.mcpVersions !== undefined && props.mcpVersions.length === 0 ? ['mcpVersions is empty; allowed: at least one MCP protocol version'] : []),
    ]);
    this.identityLikeArguments = identityLike;
    this.forgedIdentityArguments = props.forgedIdentityArguments ?? ForgedIdentityArguments.STRIP;
    this.userPinning = props.toolPinning;
    this.toolPolicy = props.toolPolicy ?? ToolPolicy.defaultPolicy();

    // Identity: one description for the gateway's authorizer and the interceptor's own verification.
    if (props.identity) {
      this.identity = props.identity;
    } else {
      const pool = this.defaultUserPool();
      this.userPool = pool.userPool;
      this.userPoolClient = pool.client;
      // The interceptor verifies tokens inside the VPC, where the pool's keys cannot be fetched: pin them at deploy.
      this.identity = CallerIdentity.cognito({ userPool: pool.userPool, clients: [pool.client] }).withPinnedKeys(this);
    }
    this.guardrail = props.guardrail ?? new AiGuardrail(this, 'Guardrail');
    this.kmsKey =
      props.kmsKey ??
      new kms.Key(this, 'Key', { description: 'cdk-ai-defense GuardedGateway: encrypts the gateway data and the session taint', enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });

    const stack = Stack.of(this);
    const gatewayName = props.gatewayName ?? Names.uniqueResourceName(this, { maxLength: 48 });
    // The service role trusts only this gateway (by name pattern) of this account (confused-deputy conditions).
    const role = new ManagedPolicyRole(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'bedrock-agentcore', resource: 'gateway', resourceName: `${gatewayName.toLowerCase()}-${'?'.repeat(10)}` }),
          },
        },
      }),
      description: 'cdk-ai-defense GuardedGateway: service role (invokes the targets and interceptors)',
    });
    this.role = role;

    // Session taint: one item per (principal, session), only ever added to; TTL bounds storage, not protection.
    const taintTable = new dynamodb.Table(this, 'SessionTaint', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.kmsKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeNagAll(taintTable, ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'], 'The table holds short-lived session taint (capability labels under hashed keys, hours, removed by TTL); point-in-time recovery is on and every call is in the decision log; a backup plan adds nothing.');
    this.sessionTaintTable = taintTable;

    const handlerDeadlineMs = String(timeout.toMilliseconds() - 3_000);
    const configEnv = { [GatewayConfigEnv.CONFIG_FILE]: DEFAULT_CONFIG_FILE, [GatewayConfigEnv.TIMEOUT_MS]: handlerDeadlineMs };
    const request = new EnforcementFunction(this, 'RequestInterceptor', {
      ...props,
      handlerName: 'tool-interceptor',
      description: 'cdk-ai-defense tool-interceptor: verifies, authorizes and rewrites every tools/call (gateway REQUEST interceptor)',
      timeout,
      memorySize: 1024,
      environment: {
        ...this.identity.environment(this),
        ...configEnv,
        [SessionTaintEnv.TABLE_NAME]: taintTable.tableName,
        [SessionTaintEnv.TTL_SECONDS]: String(taintTtl.toSeconds()),
        ...(props.approvals?.gateEnvironment() ?? {}),
      },
    });
    props.approvals?.grantGate(request);
    this.grantSessionTaint(request);
    const response = new EnforcementFunction(this, 'ResponseInterceptor', {
      ...props,
      handlerName: 'response-interceptor',
      description: 'cdk-ai-defense response-interceptor: filters tools/list, screens tool results (gateway RESPONSE interceptor)',
      timeout,
      environment: {
        ...configEnv,
        [EnforcerEnv.GUARDRAIL_IDENTIFIER]: this.guardrail.guardrailId,
        [EnforcerEnv.GUARDRAIL_VERSION]: this.guardrail.guardrailVersion,
        [EnforcerEnv.TOOL_RESULT_SOURCE]: 'INPUT',
        [EnforcerEnv.SMUGGLING_MODE]: 'DENY',
        [EnforcerEnv.TIMEOUT_MS]: handlerDeadlineMs,
      },
    });
    this.guardrail.grantApply(response);
    this.interceptors = [request, response];
    this.requestInterceptor = request;
    this.responseInterceptor = response;
    this.requestDecisionLogGroup = request.decisionLogGroup;
    this.responseDecisionLogGroup = response.decisionLogGroup;

    this.gateway = new agentcore.Gateway(this, 'Resource', {
      gatewayName,
      description: props.description,
      protocolConfiguration: new agentcore.McpProtocolConfiguration({ supportedVersions: props.mcpVersions ?? DEFAULT_MCP_VERSIONS }),
      authorizerConfiguration: agentcore.GatewayAuthorizer.usingCustomJwt({
        discoveryUrl: this.identity.discoveryUrl,
        allowedClients: this.identity.allowedClients,
        allowedAudience: this.identity.allowedAudiences,
        allowedScopes: this.identity.requiredScopes.length > 0 ? this.identity.requiredScopes : undefined,
      }),
      kmsKey: this.kmsKey,
      role,
      exceptionLevel: props.unsafeDebugExceptions ? agentcore.GatewayExceptionLevel.DEBUG : undefined,
      // Only the REQUEST interceptor sees headers (it needs the bearer token); the RESPONSE interceptor never does.
      interceptorConfigurations: [
        agentcore.LambdaInterceptor.forRequest(request, { passRequestHeaders: true }),
        agentcore.LambdaInterceptor.forResponse(response, { passRequestHeaders: false }),
      ],
      policyEngineConfiguration: props.policyEngine
        ? {
            policyEngine: props.policyEngine.policyEngine,
            mode: props.policyEngine.mode === ManagedPolicyMode.LOG_ONLY ? agentcore.PolicyEngineMode.LOG_ONLY : agentcore.PolicyEngineMode.ENFORCE,
          }
        : undefined,
    });
    this.gatewayUrl = this.gateway.gatewayUrl as string;
    this.gatewayArn = this.gateway.gatewayArn;
    this.acknowledgeInvokeGrant(request);
    this.acknowledgeInvokeGrant(response);
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      acknowledgeNag(role, `AwsSolutions-IAM5[Action::${action}]`, 'The gateway L2 grants its service role encrypt/decrypt on the gateway key only (one key ARN); the wildcards are the KMS action families of that grant.');
    }

    props.webAcl?.associate(this.gatewayArn);
    if (props.gatewayLogs ?? true) this.gatewayLogGroup = this.deliverGatewayLogs(props);

    // The registry, policy and pins are complete only when every target has been added: the configuration layer
    // is built just before synthesis.
    const self = this;
    const finalizer: IAspect = {
      visit(node: IConstruct): void {
        if (node === self) self.finalize();
      },
    };
    Aspects.of(this).add(finalizer);
    this.node.addValidation({ validate: () => (this.finalized ? this.configProblems : ['the gateway configuration was never built']) });
  }

  /**
   * Adds the knowledge retriever (a library target): it receives the caller's verified token in the reserved
   * argument and verifies it again itself.
   */
  public addKnowledgeTarget(target: IGatewayToolTarget, options: LibraryTargetOptions): agentcore.GatewayTarget {
    return this.addTarget(target, {
      ...options,
      targetName: options.targetName ?? 'knowledge',
      risk: options.risk ?? RiskClass.LOW,
      capabilities: options.capabilities ?? [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT],
      kind: RuntimeTargetKind.LIBRARY,
    });
  }

  /**
   * Adds the memory broker (a library target): it receives the caller's verified token in the reserved argument and
   * verifies it again itself.
   */
  public addMemoryTarget(target: IGatewayToolTarget, options: LibraryTargetOptions): agentcore.GatewayTarget {
    return this.addTarget(target, {
      ...options,
      targetName: options.targetName ?? 'memory',
      risk: options.risk ?? RiskClass.LOW,
      capabilities: options.capabilities ?? [ToolCapability.SENSITIVE_DATA],
      kind: RuntimeTargetKind.LIBRARY,
    });
  }

  /**
   * Adds a customer tool target (a Lambda function). It never receives the caller's token: identity reaches it only
   * through `identityArguments` bound to verified claims.
   */
  public addLambdaToolTarget(target: IGatewayToolTarget, options: LambdaToolTargetOptions): agentcore.GatewayTarget {
    return this.addTarget(target, { ...options, kind: RuntimeTargetKind.CUSTOMER });
  }

  /**
   * Registers a tool of a target added on `gateway` directly (for example an MCP server target). Unregistered tools
   * are denied and removed from tools/list; pin such tools with the `toolPinning` prop.
   */
  public registerTool(registration: ToolRegistration): GuardedGateway {
    if (this.finalized) throw new Error('GuardedGateway: tools must be registered before synthesis');
    const existing = this.targets.get(registration.target);
    if (existing && existing.kind !== RuntimeTargetKind.CUSTOMER) {
      throw new Error(`GuardedGateway: target ${registration.target} is a library target; its tools are registered by addKnowledgeTarget/addMemoryTarget`);
    }
    this.registry.register(registration);
    if (!existing) this.targets.set(registration.target, { name: registration.target, kind: RuntimeTargetKind.CUSTOMER, served: [], sources: [] });
    return this;
  }

  /**
   * Gives a function what the REQUEST interceptor needs on the session-taint table: GetItem and UpdateItem on the
   * table, and the gateway key through DynamoDB only. Already granted to {@link requestInterceptor}.
   */
  public grantSessionTaint(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...GatewayPerms.TAINT_TABLE], resourceArns: [this.sessionTaintTable.tableArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...GatewayPerms.TAINT_TABLE_KEY],
      resourceArns: [this.kmsKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
    });
    return grant;
  }

  /** Allows a principal to invoke the gateway with IAM (`bedrock-agentcore:InvokeGateway`); callers still need a valid token. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.gateway.grantInvoke(grantee);
  }

  /**
   * Everything an agent that uses this gateway can reach, for the `LethalTrifecta` analysis: every registered tool
   * with its capability labels (unlabeled tools count as all three), the construct behind its target, and whether it
   * requires an approval of each call (HIGH and CRITICAL tools under the default tool policy).
   */
  public trifectaReach(): ReachableTool[] {
    const targetSources: { [target: string]: IConstruct[] } = {};
    for (const t of this.targets.values()) targetSources[t.name] = [...t.sources];
    const defaultPolicy = this.toolPolicy.policyText.startsWith(ToolPolicy.DEFAULT_POLICIES);
    return TrifectaReach.fromToolRegistry(this.registry, {
      via: `gateway ${this.node.path}`,
      approvalFromRisk: defaultPolicy ? RiskClass.HIGH : undefined,
      targetSources,
    });
  }

  /**
   * The configuration document the interceptors receive (`lambda/tool-interceptor/config.ts`), for review and
   * audits; available once the app is synthesized.
   */
  public configurationDocument(): { [key: string]: any } | undefined {
    return this.configDocument;
  }

  private addTarget(
    target: IGatewayToolTarget,
    o: GatewayTargetOptions & { targetName: string; risk: RiskClass; capabilities?: ToolCapability[]; kind: RuntimeTargetKind },
  ): agentcore.GatewayTarget {
    if (this.finalized) throw new Error('GuardedGateway: targets must be added before synthesis');
    const name = o.targetName;
    const where = `target ${JSON.stringify(name)}`;
    const errors: string[] = [];
    if (typeof name !== 'string' || Token.isUnresolved(name) || !TARGET_NAME_PATTERN.test(name)) {
      errors.push(`targetName is ${JSON.stringify(name)}; allowed: letters and digits with single dashes, at most 100 (no underscores: "___" separates target and tool)`);
    } else if (this.targets.has(name)) {
      errors.push(`${where} is added twice; allowed: one target per name`);
    }
    const defs = Array.isArray(target.toolDefinitions) ? target.toolDefinitions : [];
    if (defs.length === 0) errors.push(`${where} serves no tools; allowed: at least one tool definition`);
    const names = new Set(defs.map((d) => d?.name));
    const settings = new Map<string, GatewayToolSettings>();
    for (const s of o.toolSettings ?? []) {
      if (!names.has(s.toolName)) errors.push(`${where}: toolSettings names ${JSON.stringify(s.toolName)}, which the target does not serve`);
      else if (settings.has(s.toolName)) errors.push(`${where}: toolSettings names ${s.toolName} twice`);
      settings.set(s.toolName, s);
    }
    throwIfInvalid('GuardedGateway', errors);

    const validation = o.argumentValidation ?? ArgumentValidation.SCHEMA;
    const served: ServedToolDefinition[] = [];
    const registrations: ToolRegistration[] = [];
    const bindings: IdentityArgumentBinding[] = [];
    for (const def of defs) {
      const tool = `${where} tool ${JSON.stringify(def?.name)}`;
      const s = settings.get(def.name);
      const identityArgs = s?.identityArguments ?? [];
      const declared = Object.keys((def.inputSchema?.properties as object | undefined) ?? {});
      if (typeof def.description !== 'string' || def.description.trim() === '') errors.push(`${tool}: description is empty; allowed: a description (the gateway requires one)`);
      if (o.kind === RuntimeTargetKind.LIBRARY && identityArgs.length > 0) {
        errors.push(`${tool}: identityArguments apply to customer tools; library targets receive the verified token and derive identity themselves`);
      }
      for (const b of identityArgs) {
        if (!ARGUMENT_NAME_PATTERN.test(b.argument) || RESERVED_ARGUMENT_NAMES.includes(b.argument)) errors.push(`${tool}: identity argument ${JSON.stringify(b.argument)} is not an allowed argument name`);
        else if (!declared.includes(b.argument)) errors.push(`${tool}: identity argument ${b.argument} is not declared in the input schema`);
        if (!CLAIM_NAME_PATTERN.test(b.claim) || ['__proto__', 'constructor', 'prototype'].includes(b.claim)) {
          errors.push(`${tool}: claim ${JSON.stringify(b.claim)}; allowed: a claim name (a letter, then letters, digits, _ : . -)`);
        }
        bindings.push({ target: name, tool: def.name, argument: b.argument, claim: b.claim });
      }
      const bound = identityArgs.map((b) => b.argument);
      for (const arg of declared) {
        if (RESERVED_ARGUMENT_NAMES.includes(arg)) errors.push(`${tool}: declares the reserved argument ${arg}`);
        else if (this.isIdentityLike(arg) && !bound.includes(arg)) {
          errors.push(`${tool}: declares the identity-like argument ${arg}; bind it to a verified claim with identityArguments, or take it out of identityLikeArguments`);
        }
      }
      if (validation === ArgumentValidation.SCHEMA) {
        for (const p of propertylessObjects(def.inputSchema)) {
          errors.push(`${tool}: ${p} is an object without declared properties, which strict validation reduces to {}; declare its properties, or use ArgumentValidation.SHAPE_ONLY_TARGET_VALIDATES`);
        }
      }
      const problems: string[] = [];
      served.push(servedDefinition(def, bound, problems));
      errors.push(...problems.map((p) => `${tool}: input schema ${p}`));
      registrations.push({
        name: def.name,
        target: name,
        risk: s?.risk ?? o.risk,
        capabilities: s?.capabilities ?? o.capabilities,
        owner: o.owner,
        allowedGroups: s?.allowedGroups ?? o.allowedGroups,
        ...(validation === ArgumentValidation.SCHEMA ? { inputSchema: def.inputSchema } : {}),
      });
    }
    throwIfInvalid('GuardedGateway', errors);
    // Validates names, owners, groups, capabilities, schemas (strict subset) and duplicates, all before anything is kept.
    const trial = new ToolRegistry(this.registry.tools);
    for (const r of registrations) trial.register(r);
    // Scans every served definition (a scanner error or colliding names fail the synth) and pins it.
    ToolPinning.fromDefinitions({ server: name, definitions: served as any[] });

    for (const r of registrations) this.registry.register(r);
    this.bindings.push(...bindings);
    const sources: IConstruct[] = Construct.isConstruct(target) ? [target] : [target.function];
    this.targets.set(name, { name, kind: o.kind, served, sources });
    this.acknowledgeInvokeGrant(target.function);
    return this.gateway.addLambdaTarget(`Target-${name}`, {
      gatewayTargetName: name,
      description: o.description,
      lambdaFunction: target.function,
      toolSchema: inlineToolSchema(served),
    });
  }

  /** The gateway role may invoke the function and its versions (`:*`), as CDK's grantInvoke writes it. */
  private acknowledgeInvokeGrant(fn: lambda.IFunction): void {
    const arn = Stack.of(this).resolve(fn.functionArn) as { 'Fn::GetAtt'?: unknown } | string;
    const ref = typeof arn === 'object' && arn !== null ? arn['Fn::GetAtt'] : undefined;
    const finding = Array.isArray(ref) && ref[1] === 'Arn' ? `<${String(ref[0])}.Arn>:*` : typeof arn === 'string' && !Token.isUnresolved(arn) ? `${arn}:*` : undefined;
    if (finding === undefined) return;
    acknowledgeNag(this.role, `AwsSolutions-IAM5[Resource::${finding}]`, 'The gateway invokes its interceptors and Lambda targets by ARN; lambda:InvokeFunction covers the function and its versions (":*"), the form CDK grants.');
  }

  private isIdentityLike(name: string): boolean {
    const n = normalizeArgumentName(name);
    return this.identityLikeArguments.some((i) => normalizeArgumentName(i) === n);
  }

  private defaultUserPool(): { userPool: cognito.UserPool; client: cognito.UserPoolClient } {
    // Users sign in with SRP from the agent application; no hosted UI, no OAuth redirects, no client secret to leak.
    return createSecureUserPool(this, 'UserPool');
  }

  private deliverGatewayLogs(props: GuardedGatewayProps): logs.ILogGroup {
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'GatewayLogs', {
      encryptionKey: props.logEncryptionKey ?? sharedLogKey(this),
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs delivery writes into the group only for deliveries of this account (one policy per stack,
    // shared with the AgentCore L2s that deliver logs the same way).
    const policyId = 'CdkLogGroupLogsDeliveryPolicy';
    const policy = (stack.node.tryFindChild(policyId) as logs.ResourcePolicy | undefined) ?? new logs.ResourcePolicy(stack, policyId);
    policy.document.addStatements(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup.logGroupArn}:log-stream:*`],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'logs', resource: '*' }) } },
      }),
    );
    const source: logs.CfnDeliverySource = new logs.CfnDeliverySource(this, 'GatewayLogsSource', {
      name: Lazy.string({ produce: (): string => Names.uniqueResourceName(source, { maxLength: 60 }) }),
      logType: 'APPLICATION_LOGS',
      resourceArn: this.gateway.gatewayArn,
    });
    const destination: logs.CfnDeliveryDestination = new logs.CfnDeliveryDestination(this, 'GatewayLogsDestination', {
      name: Lazy.string({ produce: (): string => Names.uniqueResourceName(destination, { maxLength: 60 }) }),
      deliveryDestinationType: 'CWL',
      destinationResourceArn: logGroup.logGroupArn,
    });
    destination.node.addDependency(policy);
    const delivery = new logs.CfnDelivery(this, 'GatewayLogsDelivery', {
      deliverySourceName: source.deliverySourceRef.deliverySourceName,
      deliveryDestinationArn: destination.attrArn,
    });
    delivery.node.addDependency(source);
    delivery.node.addDependency(destination);
    return logGroup;
  }

  /** Builds and checks the configuration document, and ships it to both interceptors as a layer. Runs once. */
  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    const problems: string[] = [];
    const autoPins: ToolPin[] = [];
    for (const t of this.targets.values()) {
      if (t.served.length > 0) autoPins.push(...ToolPinning.fromDefinitions({ server: t.name, definitions: t.served as any[] }).pins);
    }
    const pins = [...autoPins, ...(this.userPinning?.pins ?? [])];
    const doc: GatewayConfigDocument = {
      version: 1,
      registry: this.registry.toDocument() as GatewayConfigDocument['registry'],
      policy: this.toolPolicy.toDocument() as GatewayConfigDocument['policy'],
      pins: { version: 1, requirePins: this.userPinning?.requirePins ?? true, pins },
      targets: [...this.targets.values()].map((t) => ({ name: t.name, kind: t.kind })),
      identityArguments: [...this.bindings],
      identityLikeArguments: [...this.identityLikeArguments],
      forgedIdentityArguments: this.forgedIdentityArguments,
    };
    let text = '';
    try {
      text = serializeGatewayConfig(doc);
      if (Token.isUnresolved(text)) problems.push('the tool configuration contains deploy-time tokens; allowed: literal values only');
      loadGatewayConfig(JSON.parse(text));
    } catch (err) {
      const p = (err as { problems?: unknown }).problems;
      problems.push(...(Array.isArray(p) ? (p as string[]) : [String((err as Error).message)]));
    }
    if (problems.length === 0) {
      // The tools/list the gateway will serve for the Lambda targets must pass the RESPONSE interceptor's filter.
      const listed = [...this.targets.values()].flatMap((t) => t.served.map((d) => ({ ...d, name: `${t.name}___${d.name}` })));
      const filtered = filterToolList({ tools: listed }, { registry: loadToolRegistry(doc.registry), pins });
      for (const r of filtered.removed) problems.push(`tool ${r.name ?? `#${r.index}`} would be removed from tools/list (${r.reasonCode}${r.ruleIds ? `: ${r.ruleIds.join(', ')}` : ''})`);
    }
    this.configProblems = problems.map((p) => `GuardedGateway: ${p}`);
    if (problems.length > 0) return;
    this.configDocument = doc;
    // The gateway is created only once its role may invoke the interceptors and targets and use the key.
    const grants = (this.role as ManagedPolicyRole).grantsPolicy;
    if (grants) this.gateway.node.defaultChild?.node.addDependency(grants);
    const { layer, sha256 } = gatewayConfigLayer(this, 'InterceptorConfig', text);
    for (const fn of this.interceptors) {
      fn.addLayers(layer);
      fn.addEnvironment(GatewayConfigEnv.CONFIG_SHA256, sha256);
    }
  }
}
