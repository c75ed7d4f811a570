import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  AGENT_LOOP_DEFAULTS,
  AGENT_LOOP_LIMITS,
  AgentDefinition,
  AgentLimits,
  AgentLoopEnv,
  DEFINITION_SCHEMA_VERSION,
  MODEL_ID_PATTERN,
  definitionProblems,
  gatewayUrlProblems,
  limitProblems,
} from '../../lambda/agent-loop/config';
import { CallerIdentity } from '../common/caller-identity';
import { IAiGuardrail } from '../guardrails/ai-guardrail';
import { EnforcementFunction, EnforcementFunctionOptions } from '../private/enforcement-function';
import { throwIfInvalid, validateInteger } from '../private/validation';
import { definitionLayer } from './private/agent-loop-definition';
import { grantFoundationModel, grantInferenceProfile } from './private/agent-loop-model';
import { ITrifectaSubject, ReachableTool, TrifectaReach } from '../analysis/trifecta-reach';
import { GuardedGateway } from '../tools/guarded-gateway';
import { ToolCapability } from '../tools/tool-registry';

const FOUNDATION_MODEL_ID = /^[a-z0-9][a-z0-9-]{0,62}\.[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const PROFILE_PREFIX = /^(us|eu|apac|us-gov|jp|au|ca|global)\./;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Options of {@link AgentModel.crossRegionInferenceProfile}. */
export interface CrossRegionInferenceProfileOptions {
  /**
   * The Regions the profile routes to (see the profile's page in the Bedrock console or `GetInferenceProfile`). The
   * foundation model is granted in these Regions only, and only through this profile.
   * @default - any Region (`*`): the profile decides where it routes, and the grant still names one model and holds
   * only through this profile (`bedrock:InferenceProfileArn`)
   */
  readonly destinationRegions?: string[];
}

/**
 * The model an agent converses with, and how its function is allowed to invoke it: exactly this model (or this
 * inference profile and its model), with `bedrock:InvokeModel` only.
 */
export class AgentModel {
  /**
   * A foundation model with on-demand throughput in the stack's Region, e.g. `anthropic.claude-3-5-haiku-20241022-v1:0`.
   * Grants `bedrock:InvokeModel` on `arn:<partition>:bedrock:<region>::foundation-model/<modelId>`.
   */
  public static foundationModel(modelId: string): AgentModel {
    if (Token.isUnresolved(modelId) || !FOUNDATION_MODEL_ID.test(modelId) || PROFILE_PREFIX.test(modelId)) {
      throw new Error(`AgentModel.foundationModel: modelId is "${modelId}"; allowed: a literal foundation model id such as anthropic.claude-3-5-haiku-20241022-v1:0 (use crossRegionInferenceProfile for us./eu./global. ids)`);
    }
    return new AgentModel(modelId, undefined, undefined);
  }

  /**
   * A system-defined cross-Region inference profile, e.g. `us.anthropic.claude-3-5-haiku-20241022-v1:0` or
   * `global.anthropic.claude-sonnet-4-5-20250929-v1:0`. Grants `bedrock:InvokeModel` on the profile in the stack's
   * Region, and on its foundation model in the destination Regions only through that profile.
   */
  public static crossRegionInferenceProfile(profileId: string, options: CrossRegionInferenceProfileOptions = {}): AgentModel {
    const errors: string[] = [];
    if (Token.isUnresolved(profileId) || !MODEL_ID_PATTERN.test(profileId) || !PROFILE_PREFIX.test(profileId)) {
      errors.push(`profileId is "${profileId}"; allowed: a literal system-defined inference profile id (us., eu., apac., us-gov., jp., au., ca. or global. followed by a model id)`);
    }
    const regions = options.destinationRegions ?? [];
    const badRegions = regions.filter((r) => Token.isUnresolved(r) || !REGION.test(r));
    if (badRegions.length > 0) errors.push(`destinationRegions has ${JSON.stringify(badRegions)}; allowed: literal Region names such as us-east-1`);
    if (options.destinationRegions !== undefined && regions.length === 0) errors.push('destinationRegions is empty; allowed: at least one Region, or leave it out');
    if (new Set(regions).size !== regions.length) errors.push('destinationRegions repeats a Region');
    throwIfInvalid('AgentModel.crossRegionInferenceProfile', errors);
    return new AgentModel(profileId, profileId.slice(profileId.indexOf('.') + 1), regions.length > 0 ? [...regions] : undefined);
  }

  /** The id Converse is called with (model id or inference profile id). */
  public readonly modelId: string;
  private readonly baseModelId?: string;
  private readonly destinationRegions?: string[];

  private constructor(modelId: string, baseModelId: string | undefined, destinationRegions: string[] | undefined) {
    this.modelId = modelId;
    this.baseModelId = baseModelId;
    this.destinationRegions = destinationRegions;
  }

  /**
   * Grants a principal `bedrock:InvokeModel` on exactly this model (and profile).
   * @param scope a construct in the stack whose Region and account the ARNs use
   */
  public grantInvoke(scope: Construct, grantee: iam.IGrantable): iam.Grant {
    if (this.baseModelId === undefined) return grantFoundationModel(scope, grantee, this.modelId);
    return grantInferenceProfile(scope, grantee, this.modelId, this.baseModelId, this.destinationRegions);
  }
}

/** A tool the agent may call through the GuardedGateway. */
export interface GatewayToolAccess {
  /** The tool's name as the gateway lists it: `<TargetName>___<toolName>` (1 to 64 letters, digits, `_`, `-`). */
  readonly name: string;
  /**
   * The tool is high-risk: the gateway sends its calls to human approval. The loop runs such calls first in a turn
   * and, when the gateway answers APPROVAL_REQUIRED or APPROVAL_PENDING, stops and returns the call to the caller.
   * @default false
   */
  readonly requiresApproval?: boolean;
}

/** A tool the loop runs itself, as a Lambda function it invokes. */
export interface LocalTool {
  /**
   * Capability labels of the tool, for the lethal-trifecta analysis.
   * @default - unlabeled: counts as sensitive data, untrusted content and external access
   */
  readonly capabilities?: ToolCapability[];
  /** The tool's name for the model (1 to 64 letters, digits, `_`, `-`). */
  readonly name: string;
  /** What the tool does, for the model (1 to 4,096 characters). */
  readonly description: string;
  /**
   * JSON Schema of the arguments: `type: "object"` with declared `properties` (extra keys are always rejected),
   * in the strict subset the library validates (types, enum, const, lengths, patterns, bounds, items). The loop
   * validates every call against it before the function runs.
   */
  readonly inputSchema: { [key: string]: any };
  /**
   * The function. It receives `{ tool, input, caller: { issuer, subject, groups, scopes, clientId? }, sessionId }`
   * (the caller from the verified token, never from the model) and answers `{ "ok": true, "result": <JSON> }` or
   * `{ "ok": false, "reasonCode": "<CODE>" }`. Only the agent's role should be allowed to invoke it.
   */
  readonly function: lambda.IFunction;
  /**
   * The tool is high-risk. The loop has no approval gate of its own, so it never runs such a tool: it stops with
   * APPROVAL_REQUIRED. Serve high-risk tools through the GuardedGateway, whose approval workflow binds an approval
   * to the exact call.
   * @default false
   */
  readonly requiresApproval?: boolean;
  /**
   * Only callers whose verified groups claim holds one of these exact names may call the tool (1 to 32 names); other
   * callers' calls are refused with TOOL_POLICY_DENIED and never run.
   * @default - every caller who may invoke the agent may call the tool
   */
  readonly allowedGroups?: string[];
}

/** Where a customer hook function runs. */
export enum AgentHookPoint {
  /** Before each tool call (after the allowlist and approval checks): allow or deny the call. */
  BEFORE_TOOL = 'BEFORE_TOOL',
  /** After each tool call, before the guardrail screens the result: allow, or withhold the result from the model. */
  AFTER_TOOL = 'AFTER_TOOL',
  /** Before the answer is screened and returned: allow, or refuse the answer. */
  FINAL_ANSWER = 'FINAL_ANSWER',
}

/** A customer hook: a Lambda function the loop invokes at one point, which answers allow or deny. */
export interface AgentHookFunction {
  /** Where it runs. */
  readonly point: AgentHookPoint;
  /**
   * The function. It receives `{ hookPoint, sessionId, turn, caller, tool?: { name, input }, text? }` and answers
   * `{ "outcome": "ALLOW" }` or `{ "outcome": "DENY", "reasonCode": "<CODE>" }`. A fault, a timeout or any other
   * answer stops the loop with a deny.
   */
  readonly function: lambda.IFunction;
}

/** Props of `AgentLoop`. */
export interface AgentLoopProps extends EnforcementFunctionOptions {
  /** Whose tokens the loop accepts; it verifies the caller's token on every invocation. */
  readonly identity: CallerIdentity;
  /** The model the agent converses with. */
  readonly model: AgentModel;
  /**
   * The guardrail (at a published version) that screens the prompt and every tool result as INPUT and the answer as
   * OUTPUT. Required: nothing reaches the model or the caller unscreened.
   */
  readonly guardrail: IAiGuardrail;
  /** The agent's instructions (1 to 100,000 characters, a literal string). */
  readonly systemPrompt: string;
  /**
   * The GuardedGateway the agent calls. Its URL is used, and the capability labels of its tools feed the
   * lethal-trifecta analysis (`LethalTrifecta`). Prefer it to `gatewayUrl`.
   * @default - no gateway, unless `gatewayUrl` is given
   */
  readonly gateway?: GuardedGateway;
  /**
   * The MCP endpoint (https) of a gateway that is not a `GuardedGateway` of this app. The loop forwards the caller's
   * own bearer token; the gateway verifies it again and authorizes every call. With only a URL, the analysis cannot see
   * the tools' labels, so each gateway tool counts as unlabeled (all three capabilities).
   * @default - the URL of `gateway`, or no gateway
   */
  readonly gatewayUrl?: string;
  /**
   * The gateway tools this agent may call (its allowlist on the gateway side); the model is offered only these, with
   * the specs the gateway lists. At most 64.
   * @default - none
   */
  readonly gatewayTools?: GatewayToolAccess[];
  /**
   * Tools the loop runs itself as Lambda functions (at most 10). Prefer gateway tools: they get the gateway's policy,
   * approval and screening.
   * @default - none
   */
  readonly localTools?: LocalTool[];
  /**
   * Customer hook functions, in the order they run at each point (at most 4). They run after the allowlist and
   * approval checks and before the guardrail.
   * @default - none
   */
  readonly hookFunctions?: AgentHookFunction[];
  /**
   * Model turns per invocation (1 to 50); then the loop stops with TURN_LIMIT.
   * @default 8
   */
  readonly maxTurns?: number;
  /**
   * Tool calls run per model turn (1 to 20); further calls in the turn are refused with TOOL_CALL_LIMIT.
   * @default 4
   */
  readonly maxToolCallsPerTurn?: number;
  /**
   * Tool calls per invocation (1 to 200); then the loop stops with TOOL_CALL_LIMIT.
   * @default 16
   */
  readonly maxToolCalls?: number;
  /**
   * Estimated request size (characters) above which the oldest tool-use/tool-result pairs are dropped before a model
   * call (10,000 to 4,000,000). Set it below the model's context window (about 4 characters per token).
   * @default 400000
   */
  readonly maxContextCharacters?: number;
  /**
   * Retries after the model reports a context overflow, each after a deeper trim (0 to 5); then CONTEXT_OVERFLOW.
   * @default 2
   */
  readonly maxOverflowRetries?: number;
  /**
   * Output tokens per model call (1 to 131,072; the model's own maximum applies).
   * @default 4096
   */
  readonly maxOutputTokens?: number;
  /**
   * Largest tool result passed to the model (1,000 to 200,000 characters); a larger one is withheld, never truncated.
   * @default 20000
   */
  readonly maxToolResultCharacters?: number;
  /**
   * Largest prompt accepted (1 to 100,000 characters); a larger one is refused, never truncated.
   * @default 20000
   */
  readonly maxPromptCharacters?: number;
  /**
   * Lambda timeout (10 seconds to 15 minutes). The loop's own deadline is 5 seconds shorter, so a slow dependency
   * ends in a deny (UPSTREAM_TIMEOUT), not in a Lambda error.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Deadline of one tool call, hook call or guardrail screening (1 second to 5 minutes, at most the loop's deadline).
   * @default Duration.seconds(30)
   */
  readonly toolTimeout?: Duration;
}

/**
 * An agentic loop over Bedrock Converse in a Lambda function: the `agent-loop` handler. The application executes
 * tools, never the model: the model only proposes, and every proposal passes deterministic hooks.
 *
 * Identity comes only from the caller's verified bearer token (never from the prompt or the model); gateway tools get
 * the same token, local tools the verified claims. The model is offered only allowlisted tools, and a call to any
 * other tool is refused and never runs; high-risk calls stop the loop for human approval instead of being retried;
 * the prompt and every tool result are screened by the guardrail as INPUT and the answer as OUTPUT; turns, tool calls
 * and context are bounded (the oldest complete tool-use/tool-result pairs are trimmed first); any fault (throttle,
 * 5xx, timeout, AccessDenied, malformed response) at the model, the guardrail, the gateway or a function stops the
 * loop with a deny, and nothing runs after it.
 *
 * One construct per agent: its own system prompt, model, allowlist, local tools and limits.
 */
export class AgentLoop extends Construct implements ITrifectaSubject {
  /** The agent's function: invoke it with `{ callerToken, sessionId, prompt }`. */
  public readonly function: lambda.IFunction;
  /** The function's log group: one decision line per step (give it to `AiAuditTrail.watchDecisionLogs`). */
  public readonly decisionLogGroup: logs.ILogGroup;
  /** The layer that carries the agent definition (system prompt, allowlist, local tool specs). */
  public readonly definitionLayer: lambda.ILayerVersion;
  /** SHA-256 of the definition file, pinned in the function's environment. */
  public readonly definitionSha256: string;
  /** The id Converse is called with. */
  public readonly modelId: string;
  /** Every tool the agent may call (gateway tools, then local tools). */
  public readonly allowedTools: string[];
  private readonly trifectaGateway?: ITrifectaSubject;
  private readonly gatewayUrlOnly?: string;
  private readonly gatewayToolNames: string[];
  private readonly localToolReach: ReachableTool[];

  /**
   * What this agent can reach, for the `LethalTrifecta` analysis: its allowlisted gateway tools (with the gateway's
   * labels), its local tools (unlabeled ones count as all three), and any internet path of its function's network.
   */
  public trifectaReach(): ReachableTool[] {
    const viaGateway = this.trifectaGateway
      ? TrifectaReach.through(this.trifectaGateway, this.gatewayToolNames)
      : this.gatewayToolNames.map((name) => ({ name, requiresApproval: false, via: `gateway ${this.gatewayUrlOnly ?? ''} (labels unknown)` }));
    return [...viaGateway, ...this.localToolReach, ...TrifectaReach.networkEgressOf(this.function)];
  }

  constructor(scope: Construct, id: string, props: AgentLoopProps) {
    super(scope, id);
    const gatewayTools = [...(props.gatewayTools ?? [])];
    const localTools = [...(props.localTools ?? [])];
    const gatewayUrl = props.gatewayUrl ?? props.gateway?.gatewayUrl;
    const hookFunctions = [...(props.hookFunctions ?? [])];
    const timeout = props.timeout ?? Duration.minutes(5);
    const toolTimeout = props.toolTimeout ?? Duration.seconds(30);
    const timeoutSeconds = timeout.toSeconds({ integral: false });
    const limits: AgentLimits = {
      maxTurns: props.maxTurns ?? AGENT_LOOP_DEFAULTS.maxTurns,
      maxToolCallsPerTurn: props.maxToolCallsPerTurn ?? AGENT_LOOP_DEFAULTS.maxToolCallsPerTurn,
      maxToolCalls: props.maxToolCalls ?? AGENT_LOOP_DEFAULTS.maxToolCalls,
      maxContextChars: props.maxContextCharacters ?? AGENT_LOOP_DEFAULTS.maxContextChars,
      maxOverflowRetries: props.maxOverflowRetries ?? AGENT_LOOP_DEFAULTS.maxOverflowRetries,
      maxOutputTokens: props.maxOutputTokens ?? AGENT_LOOP_DEFAULTS.maxOutputTokens,
      maxToolResultChars: props.maxToolResultCharacters ?? AGENT_LOOP_DEFAULTS.maxToolResultChars,
      maxPromptChars: props.maxPromptCharacters ?? AGENT_LOOP_DEFAULTS.maxPromptChars,
      timeoutMs: Math.round(timeout.toMilliseconds({ integral: false }) - 5_000),
      toolTimeoutMs: Math.round(toolTimeout.toMilliseconds({ integral: false })),
    };
    const definition: AgentDefinition = {
      schemaVersion: DEFINITION_SCHEMA_VERSION,
      systemPrompt: props.systemPrompt,
      gatewayTools: gatewayTools.map((t) => ({ name: t.name, requiresApproval: t.requiresApproval ?? false })),
      localTools: localTools.map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: t.inputSchema,
        requiresApproval: t.requiresApproval ?? false,
        ...(t.allowedGroups !== undefined ? { allowedGroups: [...t.allowedGroups] } : {}),
      })),
    };

    const errors: string[] = [];
    errors.push(...validateInteger('timeout (seconds)', timeoutSeconds, 10, 900));
    errors.push(...validateInteger('toolTimeout (seconds)', toolTimeout.toSeconds({ integral: false }), 1, 300));
    if (errors.length === 0) {
      // Prop names, not environment names, in the messages.
      const rename: Record<string, string> = {
        maxContextChars: 'maxContextCharacters',
        maxToolResultChars: 'maxToolResultCharacters',
        maxPromptChars: 'maxPromptCharacters',
        toolTimeoutMs: 'toolTimeout (ms)',
        timeoutMs: 'timeout minus 5 s (ms)',
      };
      errors.push(...limitProblems(limits).map((p) => p.replace(/^(\w+)/, (k) => rename[k] ?? k).replace(/at most (\w+) \(/, (_m, k: string) => `at most ${rename[k] ?? k} (`)));
    }
    if (Token.isUnresolved(props.systemPrompt)) errors.push('systemPrompt contains a token; allowed: a literal string (it is written into the definition layer at synth)');
    const tokenised = [...gatewayTools.map((t) => t.name), ...localTools.flatMap((t) => [t.name, t.description, JSON.stringify(t.inputSchema ?? {}), ...(t.allowedGroups ?? [])])].some((v) =>
      Token.isUnresolved(v),
    );
    if (tokenised) errors.push('tool names, descriptions and schemas contain a token; allowed: literal values');
    errors.push(
      ...definitionProblems(definition).map((p) =>
        p.replace(/^gatewayTools must be a list of at most (\d+) tools/, 'gatewayTools has more than $1 tools').replace(/^localTools must be a list of at most (\d+) tools/, 'localTools has more than $1 tools'),
      ),
    );
    if (localTools.some((t) => !t.function)) errors.push('every local tool needs a function');
    if (hookFunctions.length > AGENT_LOOP_LIMITS.hookFunctions[1]) errors.push(`hookFunctions has ${hookFunctions.length} functions; allowed: at most ${AGENT_LOOP_LIMITS.hookFunctions[1]}`);
    if (hookFunctions.some((h) => !Object.values(AgentHookPoint).includes(h.point) || !h.function)) errors.push('every hook function needs a point (AgentHookPoint) and a function');
    if (props.gateway !== undefined && props.gatewayUrl !== undefined) errors.push('both gateway and gatewayUrl are set; allowed: one of them');
    if (gatewayTools.length > 0 && gatewayUrl === undefined) errors.push('gatewayTools is set but neither gateway nor gatewayUrl is; allowed: the GuardedGateway (or its MCP URL)');
    if (gatewayTools.length === 0 && gatewayUrl !== undefined) errors.push('a gateway is set but gatewayTools is empty; allowed: the gateway tools this agent may call, or no gateway');
    if (gatewayUrl !== undefined && !Token.isUnresolved(gatewayUrl)) errors.push(...gatewayUrlProblems('gatewayUrl', gatewayUrl));
    throwIfInvalid('AgentLoop', errors);

    const { layer, sha256 } = definitionLayer(this, 'Definition', definition);
    this.definitionLayer = layer;
    this.definitionSha256 = sha256;
    this.modelId = props.model.modelId;
    this.allowedTools = [...definition.gatewayTools.map((t) => t.name), ...definition.localTools.map((t) => t.name)];
    this.trifectaGateway = props.gateway;
    this.gatewayUrlOnly = props.gateway ? undefined : gatewayUrl;
    this.gatewayToolNames = gatewayTools.map((t) => t.name);
    this.localToolReach = localTools.map((t) => ({
      name: t.name,
      capabilities: t.capabilities,
      sources: [t.function],
      requiresApproval: t.requiresApproval === true,
      via: `local tool of ${this.node.path}`,
    }));

    const stack = Stack.of(this);
    const localFunctions: Record<string, string> = {};
    for (const t of localTools) localFunctions[t.name] = t.function.functionArn;
    const fn = new EnforcementFunction(this, 'Function', {
      ...props,
      handlerName: 'agent-loop',
      description: 'cdk-ai-defense agent-loop: Converse tool loop with allowlist, approval stop and guardrail hooks, fails closed',
      timeout,
      environment: {
        ...props.identity.environment(this),
        [AgentLoopEnv.MODEL_ID]: props.model.modelId,
        [AgentLoopEnv.GUARDRAIL_IDENTIFIER]: props.guardrail.guardrailId,
        [AgentLoopEnv.GUARDRAIL_VERSION]: props.guardrail.guardrailVersion,
        ...(gatewayUrl !== undefined ? { [AgentLoopEnv.GATEWAY_URL]: gatewayUrl } : {}),
        ...(localTools.length > 0 ? { [AgentLoopEnv.LOCAL_TOOL_FUNCTIONS]: stack.toJsonString(localFunctions) } : {}),
        ...(hookFunctions.length > 0 ? { [AgentLoopEnv.HOOK_FUNCTIONS]: stack.toJsonString(hookFunctions.map((h) => ({ point: h.point, arn: h.function.functionArn }))) } : {}),
        [AgentLoopEnv.DEFINITION_SHA256]: sha256,
        [AgentLoopEnv.MAX_TURNS]: String(limits.maxTurns),
        [AgentLoopEnv.MAX_TOOL_CALLS_PER_TURN]: String(limits.maxToolCallsPerTurn),
        [AgentLoopEnv.MAX_TOOL_CALLS]: String(limits.maxToolCalls),
        [AgentLoopEnv.MAX_CONTEXT_CHARS]: String(limits.maxContextChars),
        [AgentLoopEnv.MAX_OVERFLOW_RETRIES]: String(limits.maxOverflowRetries),
        [AgentLoopEnv.MAX_OUTPUT_TOKENS]: String(limits.maxOutputTokens),
        [AgentLoopEnv.MAX_TOOL_RESULT_CHARS]: String(limits.maxToolResultChars),
        [AgentLoopEnv.MAX_PROMPT_CHARS]: String(limits.maxPromptChars),
        [AgentLoopEnv.TIMEOUT_MS]: String(limits.timeoutMs),
        [AgentLoopEnv.TOOL_TIMEOUT_MS]: String(limits.toolTimeoutMs),
      },
    });
    fn.addLayers(layer);
    this.function = fn;
    this.decisionLogGroup = fn.decisionLogGroup;

    props.model.grantInvoke(this, fn);
    props.guardrail.grantApply(fn);
    // Exactly the functions, not their versions and aliases (`lambda.IFunction.grantInvoke` would add `<arn>:*`).
    const invokable = [...localTools.map((t) => t.function.functionArn), ...hookFunctions.map((h) => h.function.functionArn)];
    if (invokable.length > 0) iam.Grant.addToPrincipal({ grantee: fn, actions: ['lambda:InvokeFunction'], resourceArns: [...new Set(invokable)] });
  }

  /**
   * Allows a principal (the application's role, a Step Functions state machine) to run the agent:
   * `lambda:InvokeFunction` on the function itself (not on its versions and aliases); a principal that takes no
   * policy (a service) gets a resource-based permission instead.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.function.functionArn] });
    return grant.success ? grant : this.function.grantInvoke(grantee);
  }
}
