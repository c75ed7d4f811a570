import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STRATEGY_NAMESPACE_TEMPLATES } from '../../lambda/memory-broker/namespaces';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { acknowledgeNag } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { ActorScopedGrantOptions } from './actor-scope';
import { IsolatedMemoryPerms } from './perms';
import { renderActorScope } from './private/actor-scope-render';
import { ITrifectaSource } from '../analysis/capability';
import { ToolCapability } from '../tools/tool-registry';

/** What long-term memory extracts from conversation events; each is a built-in strategy with an actor-scoped namespace. */
export enum MemoryInsight {
  /** Facts and knowledge from conversations (built-in SEMANTIC strategy) under `/<actorId>/facts/`. */
  SEMANTIC_FACTS = 'SEMANTIC_FACTS',
  /** The user's preferences (built-in USER_PREFERENCE strategy) under `/<actorId>/preferences/`. */
  USER_PREFERENCES = 'USER_PREFERENCES',
  /** One summary per session (built-in SUMMARIZATION strategy) under `/<actorId>/summaries/<sessionId>/`. */
  SESSION_SUMMARIES = 'SESSION_SUMMARIES',
}

/** Props of `IsolatedMemory`. */
export interface IsolatedMemoryProps {
  /**
   * Name of the memory (a letter, then up to 47 letters, digits or `_`).
   * @default - a name unique in the stack, derived from the construct path
   */
  readonly memoryName?: string;
  /**
   * Description of the memory (up to 200 letters, digits, `_`, `-` and spaces).
   * @default - a description naming the library
   */
  readonly description?: string;
  /**
   * Customer-managed key that encrypts the memory.
   * @default - a new key with rotation on, kept when the stack is deleted
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long raw conversation events (short-term memory) are kept, 7 to 365 days. Long-term records are not
   * affected.
   * @default Duration.days(30)
   */
  readonly eventExpiry?: Duration;
  /**
   * The built-in long-term strategies, each with a namespace that starts with the actor id.
   * @default - all three: SEMANTIC_FACTS, USER_PREFERENCES, SESSION_SUMMARIES
   */
  readonly insights?: MemoryInsight[];
}

const STRATEGY_NAMES: Record<MemoryInsight, string> = {
  [MemoryInsight.SEMANTIC_FACTS]: 'cad_semantic_facts',
  [MemoryInsight.USER_PREFERENCES]: 'cad_user_preferences',
  [MemoryInsight.SESSION_SUMMARIES]: 'cad_session_summaries',
};

/**
 * An AgentCore Memory whose every namespace starts with the actor (and, where configured, the tenant), in the fixed
 * hierarchy of `lambda/memory-broker/namespaces.ts`: each namespace ends with `/` and no actor's namespace is a
 * prefix of another's. Encrypted with a customer-managed key; raw events expire after 30 days by default.
 *
 * Grants are scoped, never blanket: `grantActorScopedRead/Write/Delete` add IAM conditions on
 * `bedrock-agentcore:actorId`, `sessionId` and `namespace` (from principal tags or fixed values), and leave out the
 * actions IAM cannot scope to one actor. The `MemoryBroker` serves many callers and scopes them in its code.
 *
 * @resource AWS::BedrockAgentCore::Memory
 */
export class IsolatedMemory extends Construct implements ITrifectaSource {
  /** The AgentCore memory (escape hatch). */
  public readonly memory: agentcore.Memory;
  /** @attribute */
  public readonly memoryId: string;
  /** @attribute */
  public readonly memoryArn: string;
  /** The key that encrypts the memory. */
  public readonly encryptionKey: kms.IKey;
  /** The long-term strategies configured. */
  public readonly insights: MemoryInsight[];
  /** The namespace template of each configured strategy. */
  public readonly namespaceTemplates: { [insight: string]: string };

  /**
   * Unless labelled otherwise, a memory holds sensitive data (what users told the agent) and untrusted content
   * (memories are written from conversations, so they can carry injected instructions).
   */
  public trifectaCapabilities(): ToolCapability[] {
    return [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT];
  }

  constructor(scope: Construct, id: string, props: IsolatedMemoryProps = {}) {
    super(scope, id);
    const expiry = props.eventExpiry ?? Duration.days(30);
    const insights = props.insights ?? [MemoryInsight.SEMANTIC_FACTS, MemoryInsight.USER_PREFERENCES, MemoryInsight.SESSION_SUMMARIES];
    throwIfInvalid('IsolatedMemory', [
      ...validatePattern('memoryName', props.memoryName, /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, 'a letter, then up to 47 letters, digits or _'),
      ...validatePattern('description', props.description, /^[a-zA-Z0-9_\- ]{1,200}$/, 'up to 200 letters, digits, _, - and spaces'),
      ...validateInteger('eventExpiry (days)', expiry.toDays({ integral: false }), 7, 365),
      ...(new Set(insights).size !== insights.length ? [`insights contain duplicates (${insights.join(', ')}); allowed: each insight once`] : []),
    ]);
    this.insights = [...insights];

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `cdk-ai-defense: encrypts memory ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.namespaceTemplates = {};
    const strategies = insights.map((insight) => {
      switch (insight) {
        case MemoryInsight.SEMANTIC_FACTS:
          this.namespaceTemplates[insight] = STRATEGY_NAMESPACE_TEMPLATES.SEMANTIC;
          return agentcore.MemoryStrategy.usingSemantic({ strategyName: STRATEGY_NAMES[insight], namespaces: [STRATEGY_NAMESPACE_TEMPLATES.SEMANTIC] });
        case MemoryInsight.USER_PREFERENCES:
          this.namespaceTemplates[insight] = STRATEGY_NAMESPACE_TEMPLATES.USER_PREFERENCE;
          return agentcore.MemoryStrategy.usingUserPreference({ strategyName: STRATEGY_NAMES[insight], namespaces: [STRATEGY_NAMESPACE_TEMPLATES.USER_PREFERENCE] });
        case MemoryInsight.SESSION_SUMMARIES:
          this.namespaceTemplates[insight] = STRATEGY_NAMESPACE_TEMPLATES.SUMMARIZATION;
          return agentcore.MemoryStrategy.usingSummarization({ strategyName: STRATEGY_NAMES[insight], namespaces: [STRATEGY_NAMESPACE_TEMPLATES.SUMMARIZATION] });
        default:
          throw new Error(`IsolatedMemory: invalid props:\n  - insight "${String(insight)}"; allowed: ${Object.values(MemoryInsight).join(', ')}`);
      }
    });

    // The memory's service role, as aws-cdk-lib's Memory would create it (trust limited to this account and this
    // memory, per the confused-deputy guidance), but with its grants in a customer-managed policy, not inline.
    const stack = Stack.of(this);
    let created: agentcore.Memory | undefined;
    const serviceRole = new ManagedPolicyRole(this, 'ServiceRole', {
      description: 'cdk-ai-defense IsolatedMemory: AgentCore memory service role',
      assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': Lazy.string({
              produce: () => stack.formatArn({ service: 'bedrock-agentcore', resource: 'memory', resourceName: `${created!.memoryName}*` }),
            }),
          },
        },
      }),
    });

    this.memory = new agentcore.Memory(this, 'Resource', {
      memoryName: props.memoryName,
      description: props.description ?? 'cdk-ai-defense isolated memory',
      kmsKey: this.encryptionKey,
      expirationDuration: expiry,
      memoryStrategies: strategies,
      executionRole: serviceRole,
    });
    created = this.memory;
    this.memoryId = this.memory.memoryId;
    this.memoryArn = this.memory.memoryArn;
    // aws-cdk-lib's Memory grants its role CreateGrant, Decrypt, DescribeKey, GenerateDataKey* and ReEncrypt* on
    // the memory key; the statement names only that key.
    acknowledgeNag(serviceRole, 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'The AgentCore memory service role re-encrypts memory data when the key rotates; kms:ReEncrypt* is limited to the one memory key.');
  }

  /**
   * Grants reading one actor's memory: long-term records whose namespace lies under the actor's root
   * (`bedrock-agentcore:namespace` like `/<actorId>/*`), and the actor's events and sessions
   * (`bedrock-agentcore:actorId` equals the actor id, and `sessionId` the session when bound).
   * `GetMemoryRecord` and `ListActors` are not included: IAM cannot scope them to an actor.
   */
  public grantActorScopedRead(grantee: iam.IGrantable, options: ActorScopedGrantOptions): iam.Grant {
    const { actorId, root } = this.renderScope(options);
    return this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_RECORD_READ, { StringLike: { [IsolatedMemoryPerms.NAMESPACE_KEY]: `${root}*` } })
      .combine(this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_EVENT_READ, this.eventConditions(actorId, options)))
      .combine(this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_SESSION_LIST, { StringEquals: { [IsolatedMemoryPerms.ACTOR_ID_KEY]: actorId } }))
      .combine(this.grantKeyUse(grantee));
  }

  /**
   * Grants writing one actor's memory: events with the actor's id (`CreateEvent`, conditioned on `actorId`, and
   * `sessionId` when bound) and records under the actor's root (`BatchCreateMemoryRecords`, on `namespace`).
   */
  public grantActorScopedWrite(grantee: iam.IGrantable, options: ActorScopedGrantOptions): iam.Grant {
    const { actorId, root } = this.renderScope(options);
    return this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_EVENT_WRITE, this.eventConditions(actorId, options))
      .combine(this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_RECORD_WRITE, { StringLike: { [IsolatedMemoryPerms.NAMESPACE_KEY]: `${root}*` } }))
      .combine(this.grantKeyUse(grantee));
  }

  /**
   * Grants deleting one actor's events (`DeleteEvent`, conditioned on `actorId`, and `sessionId` when bound).
   * `DeleteMemoryRecord` is not included: IAM cannot scope it to an actor (use the `MemoryBroker`'s `forget`).
   */
  public grantActorScopedDelete(grantee: iam.IGrantable, options: ActorScopedGrantOptions): iam.Grant {
    const { actorId } = this.renderScope(options);
    return this.conditionedGrant(grantee, IsolatedMemoryPerms.ACTOR_SCOPED_EVENT_DELETE, this.eventConditions(actorId, options)).combine(this.grantKeyUse(grantee));
  }

  /**
   * Lets a principal use the memory's key through AgentCore only (`kms:ViaService`), for data-plane calls on a
   * memory encrypted with a customer-managed key.
   */
  public grantKeyUse(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: IsolatedMemoryPerms.KEY_DATA_PERMS,
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `bedrock-agentcore.${stack.region}.${stack.urlSuffix}` } },
    });
  }

  /**
   * Grants actions on this memory under one condition block (internal building block of the scoped grants).
   * @internal
   */
  public _grantConditioned(grantee: iam.IGrantable, actions: string[], conditions: { [operator: string]: { [key: string]: unknown } }): iam.Grant {
    return this.conditionedGrant(grantee, actions, conditions);
  }

  private conditionedGrant(grantee: iam.IGrantable, actions: string[], conditions: { [operator: string]: { [key: string]: unknown } }): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.memoryArn], conditions });
  }

  private eventConditions(actorId: string, options: ActorScopedGrantOptions): { [operator: string]: { [key: string]: unknown } } {
    return {
      StringEquals: {
        [IsolatedMemoryPerms.ACTOR_ID_KEY]: actorId,
        ...(options.session ? { [IsolatedMemoryPerms.SESSION_ID_KEY]: options.session.policyValue } : {}),
      },
    };
  }

  private renderScope(options: ActorScopedGrantOptions): { actorId: string; root: string } {
    const rendered = renderActorScope(options);
    throwIfInvalid('IsolatedMemory actor-scoped grant', rendered.problems);
    return rendered;
  }
}
