import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BROKER_DEFAULTS, BROKER_LIMITS, BrokerEnv, CLAIM_NAME_PATTERN, sharedGroupProblems } from '../../lambda/memory-broker/config';
import { NamespaceSegment } from '../../lambda/memory-broker/namespaces';
import { memoryToolDefinitions } from '../../lambda/memory-broker/tools';
import { CallerIdentity } from '../common/caller-identity';
import { IAiGuardrail } from '../guardrails/ai-guardrail';
import { EnforcementFunction, EnforcementFunctionOptions } from '../private/enforcement-function';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { IsolatedMemory } from './isolated-memory';
import { IsolatedMemoryPerms } from './perms';
import { CapabilityLabels, ITrifectaSource } from '../analysis/capability';
import { ToolCapability } from '../tools/tool-registry';

/** Whether `remember` may write to shared (tenant or group) spaces. */
export enum SharedMemoryWrites {
  /** Shared spaces are read-only through the broker. */
  NONE = 'NONE',
  /** A caller may write to a shared space its verified identity includes; every such write is screened by the guardrail. */
  SCREENED = 'SCREENED',
}

/** An MCP tool definition as the gateway target serves it (`tools/list` shape). */
export interface MemoryToolDefinition {
  /** Tool name. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** JSON Schema of the arguments. */
  readonly inputSchema: { [key: string]: any };
}

/** Props of `MemoryBroker`. */
export interface MemoryBrokerProps extends EnforcementFunctionOptions {
  /** The memory the broker serves. */
  readonly memory: IsolatedMemory;
  /** Whose tokens the broker accepts; it verifies the caller's token itself on every call. */
  readonly identity: CallerIdentity;
  /**
   * Guardrail (at a published version) that screens every text before it is stored, as INPUT. Required for
   * shared writes.
   * @default - writes to the caller's own memory are stored after the invisible-character check only
   */
  readonly guardrail?: IAiGuardrail;
  /**
   * Verified token claim that names the caller's tenant. When set, every actor lives under `/tenant/<id>/`, a token
   * without a valid tenant claim is denied, and the same user in two tenants has two separate memories.
   * @default - no tenants
   */
  readonly tenantClaim?: string;
  /**
   * Groups with a shared space (`/group/<name>/shared/`, inside the tenant when there is one). A caller reads a
   * group's space only when the verified groups claim contains the exact name. At most 10.
   * @default - no group spaces
   */
  readonly sharedGroups?: string[];
  /**
   * Give each tenant a shared space (`/tenant/<id>/shared/`); needs `tenantClaim`.
   * @default false
   */
  readonly shareTenantSpace?: boolean;
  /**
   * Whether `remember` may write to shared spaces.
   * @default SharedMemoryWrites.NONE
   */
  readonly sharedWrites?: SharedMemoryWrites;
  /**
   * Longest text `remember` stores (1 to 10,000 characters); longer text is refused, never truncated.
   * @default 2000
   */
  readonly maxTextLength?: number;
  /**
   * Most records `recall` returns (1 to 20).
   * @default 5
   */
  readonly maxRecallResults?: number;
  /**
   * Lambda timeout (5 seconds to 15 minutes). The handler's own deadline is 3 seconds shorter, so a slow dependency
   * ends in a deny (UPSTREAM_TIMEOUT), not in a Lambda error.
   * @default Duration.seconds(15)
   */
  readonly timeout?: Duration;
}

/** `?` repeated: IAM's one-character wildcard, so a pattern matches an actor segment of exactly the right length. */
const ACTOR_SEGMENT_IAM_PATTERN = `a-${'?'.repeat(64)}`;

/**
 * An AgentCore Gateway Lambda target that gives agents `remember`, `recall` and `forget` over an `IsolatedMemory`,
 * with every namespace derived from the caller's verified identity: the `memory-broker` handler.
 *
 * The actor id is a fixed-length hash of the verified issuer and subject, never a tool argument; tenants and
 * shared groups come from verified claims and configuration; shared writes are screened by the guardrail and
 * off unless configured; `forget` reads a record and checks it lies in the caller's own memory before deleting it;
 * any fault yields no memory content.
 *
 * The function serves many callers, so IAM cannot pin it to one actor. Its role is limited to the hierarchy's
 * shapes instead: reads and writes only under actor roots of the exact actor-segment length and the configured
 * shared spaces, never a namespace with a literal `*`; the per-caller check is the broker's code.
 */
export class MemoryBroker extends Construct implements ITrifectaSource {
  /** The gateway target function. */
  public readonly function: lambda.IFunction;
  /** The MCP tools it serves, for the gateway target's tool schema. */
  public readonly toolDefinitions: MemoryToolDefinition[];
  /** The memory it serves. */
  public readonly memory: IsolatedMemory;
  /** The broker's log group: one decision line per call (give it to `AiAuditTrail.watchDecisionLogs`). */
  public readonly decisionLogGroup: logs.ILogGroup;

  /** What reaching this broker gives: the capabilities of its memory. */
  public trifectaCapabilities(): ToolCapability[] {
    return CapabilityLabels.unionOf([this.memory]);
  }

  constructor(scope: Construct, id: string, props: MemoryBrokerProps) {
    super(scope, id);
    const sharedGroups = [...(props.sharedGroups ?? [])];
    const shareTenantSpace = props.shareTenantSpace ?? false;
    const sharedWrites = props.sharedWrites ?? SharedMemoryWrites.NONE;
    const maxTextLength = props.maxTextLength ?? BROKER_DEFAULTS.maxTextLength;
    const maxRecallResults = props.maxRecallResults ?? BROKER_DEFAULTS.maxRecallResults;
    const timeout = props.timeout ?? Duration.seconds(15);
    throwIfInvalid('MemoryBroker', [
      ...validatePattern('tenantClaim', props.tenantClaim, CLAIM_NAME_PATTERN, 'a claim name of letters, digits, _ : . - (1 to 128, starting with a letter)'),
      ...(props.tenantClaim !== undefined && ['__proto__', 'constructor', 'prototype'].includes(props.tenantClaim) ? [`tenantClaim is "${props.tenantClaim}"; allowed: a claim name`] : []),
      ...(sharedGroups.some((g) => Token.isUnresolved(g)) ? ['sharedGroups contains a token; allowed: literal group names'] : sharedGroupProblems(sharedGroups)),
      ...(shareTenantSpace && props.tenantClaim === undefined ? ['shareTenantSpace is true but tenantClaim is not set; allowed: a tenant claim, or no tenant space'] : []),
      ...(sharedWrites === SharedMemoryWrites.SCREENED && !props.guardrail
        ? ['sharedWrites is SCREENED but no guardrail is set; allowed: a guardrail to screen shared writes, or SharedMemoryWrites.NONE']
        : []),
      ...(sharedWrites === SharedMemoryWrites.SCREENED && sharedGroups.length === 0 && !shareTenantSpace
        ? ['sharedWrites is SCREENED but there is no shared space; allowed: sharedGroups or shareTenantSpace, or SharedMemoryWrites.NONE']
        : []),
      ...validateInteger('maxTextLength', maxTextLength, ...BROKER_LIMITS.maxTextLength),
      ...validateInteger('maxRecallResults', maxRecallResults, ...BROKER_LIMITS.maxRecallResults),
      ...validateInteger('timeout (seconds)', timeout.toSeconds({ integral: false }), 5, 900),
    ]);
    this.memory = props.memory;

    const fn = new EnforcementFunction(this, 'Function', {
      ...props,
      handlerName: 'memory-broker',
      description: 'cdk-ai-defense memory-broker: remember/recall/forget in namespaces derived from the verified caller',
      timeout,
      environment: {
        ...props.identity.environment(this),
        [BrokerEnv.MEMORY_ID]: props.memory.memoryId,
        ...(props.tenantClaim !== undefined ? { [BrokerEnv.TENANT_CLAIM]: props.tenantClaim } : {}),
        [BrokerEnv.SHARED_GROUPS]: JSON.stringify(sharedGroups),
        [BrokerEnv.SHARE_TENANT_SPACE]: String(shareTenantSpace),
        [BrokerEnv.SHARED_WRITES]: sharedWrites,
        ...(props.guardrail
          ? { [BrokerEnv.GUARDRAIL_IDENTIFIER]: props.guardrail.guardrailId, [BrokerEnv.GUARDRAIL_VERSION]: props.guardrail.guardrailVersion }
          : {}),
        [BrokerEnv.MAX_TEXT_LENGTH]: String(maxTextLength),
        [BrokerEnv.MAX_RECALL_RESULTS]: String(maxRecallResults),
        [BrokerEnv.TIMEOUT_MS]: String(timeout.toMilliseconds() - 3_000),
      },
    });
    this.function = fn;
    this.decisionLogGroup = fn.decisionLogGroup;
    this.toolDefinitions = memoryToolDefinitions({ maxTextLength, maxRecallResults }).map((t) => ({ ...t, inputSchema: { ...t.inputSchema } }));

    // What IAM can enforce for a function that serves every caller: the shape of the namespaces, not the caller.
    const tenant = props.tenantClaim !== undefined ? `/${NamespaceSegment.TENANT}/*` : '';
    const actorRoot = `${tenant}/${NamespaceSegment.ACTOR}/${ACTOR_SEGMENT_IAM_PATTERN}/`;
    const sharedSpaces = [
      ...(shareTenantSpace ? [`/${NamespaceSegment.TENANT}/*/${NamespaceSegment.SHARED}/`] : []),
      ...sharedGroups.map((g) => `${tenant}/${NamespaceSegment.GROUP}/${g}/${NamespaceSegment.SHARED}/`),
    ];
    const readable = [actorRoot, `${actorRoot}${NamespaceSegment.SUMMARIES}/*/`, ...sharedSpaces];
    const writable = [`${actorRoot}${NamespaceSegment.NOTES}/`, ...(sharedWrites === SharedMemoryWrites.SCREENED ? sharedSpaces : [])];
    const memory = props.memory;
    memory._grantConditioned(fn, IsolatedMemoryPerms.BROKER_RECORD_READ, { StringLike: { [IsolatedMemoryPerms.NAMESPACE_KEY]: readable } });
    memory._grantConditioned(fn, IsolatedMemoryPerms.BROKER_RECORD_WRITE, { StringLike: { [IsolatedMemoryPerms.NAMESPACE_KEY]: writable } });
    // No documented condition key scopes these to an actor: the broker reads the record and checks its namespaces
    // against the caller's own root before it deletes anything.
    iam.Grant.addToPrincipal({ grantee: fn, actions: IsolatedMemoryPerms.BROKER_RECORD_FORGET, resourceArns: [memory.memoryArn] });
    // A literal `*` in a namespace could widen a prefix if the service treated it as a wildcard: never allowed.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [...IsolatedMemoryPerms.BROKER_RECORD_READ, ...IsolatedMemoryPerms.BROKER_RECORD_WRITE],
        resources: [memory.memoryArn],
        conditions: { StringLike: { [IsolatedMemoryPerms.NAMESPACE_KEY]: '*${*}*' } },
      }),
    );
    memory.grantKeyUse(fn);
    props.guardrail?.grantApply(fn);
  }

  /** Allows a principal (normally the gateway's role) to invoke the broker. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }
}
