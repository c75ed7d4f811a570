import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { KNOWLEDGE_CONFIG_ENV_VAR, KnowledgeConfigDocument } from '../../lambda/knowledge-retriever/config';
import { IdentityConditionKind } from '../../lambda/knowledge-retriever/filter';
import { KNOWLEDGE_TOOL_DEFINITIONS, SEARCH_LIMITS } from '../../lambda/knowledge-retriever/tools';
import { CallerIdentity } from '../common/caller-identity';
import { EnforcementFunction, EnforcementFunctionOptions } from '../private/enforcement-function';
import { throwIfInvalid, validateInteger } from '../private/validation';
import { AccessGrantsAuthorizer } from './access-grants-authorizer';
import { KnowledgeRouter } from './knowledge-router';
import { RetrievalFilterPolicy } from './retrieval-filter-policy';
import { ISecureKnowledgeBase } from './secure-knowledge-base';
import { CapabilityLabels, ITrifectaSource } from '../analysis/capability';
import { ToolCapability } from '../tools/tool-registry';

/** An MCP tool definition served by a gateway target. */
export interface KnowledgeToolDefinition {
  /** Tool name. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** JSON Schema of the arguments (no identity argument: identity comes from the verified caller token). */
  readonly inputSchema: { [key: string]: any };
}

/** Props of {@link KnowledgeRetriever}. */
export interface KnowledgeRetrieverProps extends EnforcementFunctionOptions {
  /** Who may call: the target verifies the caller's token again itself. */
  readonly identity: CallerIdentity;
  /**
   * The one knowledge base every verified caller searches. Exactly one of `knowledgeBase` and `router`.
   * @default - none; `router` must be set
   */
  readonly knowledgeBase?: ISecureKnowledgeBase;
  /**
   * Per-group or per-user knowledge bases, chosen from the verified identity. Exactly one of `knowledgeBase` and `router`.
   * @default - none; `knowledgeBase` must be set
   */
  readonly router?: KnowledgeRouter;
  /** The identity filter every Retrieve call carries. */
  readonly filterPolicy: RetrievalFilterPolicy;
  /**
   * Post-retrieval authorization of every chunk source for the end user. Required unless
   * `unsafeMetadataFilterOnly` is set.
   * @default - none; then `unsafeMetadataFilterOnly` must be true
   */
  readonly accessGrants?: AccessGrantsAuthorizer;
  /**
   * Rely on the metadata filter alone, with no post-retrieval check of chunk sources (chunks outside the knowledge
   * base's indexed documents are still dropped). Only for stores whose labels are the sole access model.
   * @default false
   */
  readonly unsafeMetadataFilterOnly?: boolean;
  /**
   * Results returned when the caller does not say (1 to 100).
   * @default 5
   */
  readonly defaultResults?: number;
  /**
   * Lambda timeout (5 seconds to 15 minutes); the handler's own deadline is 3 seconds shorter, so a slow dependency
   * ends in a deny, not a Lambda error.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Deadline of one AWS call (0.5 to 60 seconds).
   * @default Duration.seconds(5)
   */
  readonly callTimeout?: Duration;
}

/**
 * The `knowledge-retriever` AgentCore Gateway Lambda target: the `search_knowledge` tool, with retrieval authorized
 * before the model sees anything. It re-verifies the caller's token, routes and filters from the verified identity
 * only, calls Retrieve (never RetrieveAndGenerate), authorizes every chunk source for the end user with S3 Access
 * Grants, and returns authorized chunks only. Dropped chunks leave no trace in the answer, only in the decision log.
 */
export class KnowledgeRetriever extends Construct implements ITrifectaSource {
  /** The target Lambda. */
  public readonly function: lambda.IFunction;
  /** The MCP tools it serves. */
  public readonly toolDefinitions: KnowledgeToolDefinition[];
  /** The knowledge bases it may search. */
  public readonly knowledgeBases: ISecureKnowledgeBase[];
  /** The encrypted log group of its decision lines (for `AiAuditTrail.watchDecisionLogs`). */
  public readonly decisionLogGroup: logs.ILogGroup;

  /** What reaching this retriever gives: the capabilities of the knowledge bases behind it. */
  public trifectaCapabilities(): ToolCapability[] {
    return CapabilityLabels.unionOf(this.knowledgeBases);
  }

  constructor(scope: Construct, id: string, props: KnowledgeRetrieverProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const callTimeout = props.callTimeout ?? Duration.seconds(5);
    const defaultResults = props.defaultResults ?? SEARCH_LIMITS.defaultResults;
    const errors: string[] = [
      ...validateInteger('timeout (seconds)', timeout.toSeconds({ integral: false }), 5, 900),
      ...validateInteger('callTimeout (milliseconds)', callTimeout.toMilliseconds(), 500, 60_000),
      ...validateInteger('defaultResults', defaultResults, SEARCH_LIMITS.minResults, SEARCH_LIMITS.maxResults),
    ];
    if ((props.knowledgeBase === undefined) === (props.router === undefined)) errors.push('set exactly one of knowledgeBase and router');
    if (!props.accessGrants && props.unsafeMetadataFilterOnly !== true) {
      errors.push('accessGrants is not set; allowed: an AccessGrantsAuthorizer, or unsafeMetadataFilterOnly: true to rely on the metadata filter alone');
    }
    if (props.accessGrants && props.unsafeMetadataFilterOnly === true) errors.push('unsafeMetadataFilterOnly is true while accessGrants is set; allowed: one or the other');
    this.knowledgeBases = props.router ? props.router.knowledgeBases : props.knowledgeBase ? [props.knowledgeBase] : [];
    for (const kb of this.knowledgeBases) errors.push(...props.filterPolicy.validateAgainst(kb.metadataContract).map((e) => `${kb.node.path}: ${e}`));
    // A typed identity condition must mean the same type in every routed knowledge base.
    for (const c of props.filterPolicy.identityConditions) {
      if (c.kind !== IdentityConditionKind.CLAIM_EQUALS && c.kind !== IdentityConditionKind.CLAIM_IN) continue;
      const types = new Set(this.knowledgeBases.map((kb) => kb.metadataContract.typeOf(c.metadataKey)));
      if (types.size > 1) errors.push(`metadata key "${c.metadataKey}" has different types across knowledge bases (${[...types].join(', ')}); allowed: one type`);
    }
    throwIfInvalid('KnowledgeRetriever', errors);

    const contractKeys = [...new Set(this.knowledgeBases.flatMap((kb) => kb.metadataContract.keys))];
    const router = props.router;
    const routedAtConstruction = [...this.knowledgeBases];
    // Built at synth, so that groups and routes added after this construct (to the same knowledge bases) are included.
    const document = (): KnowledgeConfigDocument => {
      const kbIndex = new Map(this.knowledgeBases.map((kb, i) => [kb, i]));
      return {
        version: 1,
        knowledgeBases: this.knowledgeBases.map((kb) => ({ id: kb.knowledgeBaseId, sourceScopes: kb.sourceScopes })),
        routes: router ? router.routes.map((r) => ({ kind: r.kind as 'GROUP' | 'SUBJECT', value: r.value, knowledgeBase: kbIndex.get(r.knowledgeBase) as number })) : null,
        maxKnowledgeBasesPerRequest: router?.maxKnowledgeBasesPerRequest ?? 1,
        filterPolicy: props.filterPolicy._spec(this.knowledgeBases[0].metadataContract, contractKeys),
        returnedMetadataKeys: contractKeys,
        accessGrants: props.accessGrants ? props.accessGrants._runtimeConfig() : null,
        unsafeMetadataFilterOnly: props.unsafeMetadataFilterOnly === true,
        defaultResults,
        timeoutMs: timeout.toMilliseconds() - 3_000,
        callTimeoutMs: callTimeout.toMilliseconds(),
      };
    };
    if (router) {
      // Grants and contract checks were made for the knowledge bases routed when this construct was created.
      this.node.addValidation({
        validate: () => {
          const now = router.knowledgeBases;
          const added = now.filter((kb) => !routedAtConstruction.includes(kb));
          return added.length > 0 ? [`KnowledgeRetriever: ${added.map((kb) => kb.node.path).join(', ')} was routed after the retriever was created; add every route to a new knowledge base before creating the KnowledgeRetriever`] : [];
        },
      });
    }

    const fn = new EnforcementFunction(this, 'Function', {
      ...props,
      handlerName: 'knowledge-retriever',
      description: 'cdk-ai-defense knowledge-retriever: search_knowledge with identity filters and per-user Access Grants checks',
      timeout,
      environment: {
        ...props.identity.environment(this),
        [KNOWLEDGE_CONFIG_ENV_VAR]: Lazy.string({ produce: () => Stack.of(this).toJsonString(document()) }),
      },
    });
    for (const kb of this.knowledgeBases) kb.grantRetrieve(fn);
    props.accessGrants?.grantAuthorize(fn);
    this.function = fn;
    this.decisionLogGroup = fn.logGroup;
    this.toolDefinitions = KNOWLEDGE_TOOL_DEFINITIONS.map((t) => ({ name: t.name, description: t.description, inputSchema: JSON.parse(JSON.stringify(t.inputSchema)) }));
  }

  /** Allows a principal (the gateway's role) to invoke the target. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }
}
