/**
 * IAM actions and condition keys of AgentCore Memory as the memory constructs use them.
 *
 * Condition keys per action, from the Service Authorization Reference for `bedrock-agentcore` ("Actions, resources,
 * and condition keys for Amazon Bedrock AgentCore"). Only these are used in conditions: an action whose request
 * carries no such key fails a `StringLike`/`StringEquals` condition, so a condition the service does not evaluate
 * would not scope anything but break the grant.
 */
export namespace IsolatedMemoryPerms {
  /** Condition key: the `actorId` of a short-term memory request. */
  export const ACTOR_ID_KEY = 'bedrock-agentcore:actorId';
  /** Condition key: the `sessionId` of a short-term memory request. */
  export const SESSION_ID_KEY = 'bedrock-agentcore:sessionId';
  /** Condition key: the `namespace` of a long-term memory request (the prefix it reads, or the namespace it writes). */
  export const NAMESPACE_KEY = 'bedrock-agentcore:namespace';
  /** Condition key: the strategy of a long-term memory request. */
  export const STRATEGY_ID_KEY = 'bedrock-agentcore:strategyId';

  /**
   * The memory data-plane actions and the `bedrock-agentcore:` condition keys the Service Authorization Reference
   * lists for each (besides `aws:ResourceTag/${TagKey}`, which all of them support).
   */
  export const CONDITION_KEYS_BY_ACTION: { readonly [action: string]: readonly string[] } = {
    'bedrock-agentcore:CreateEvent': [ACTOR_ID_KEY, SESSION_ID_KEY],
    'bedrock-agentcore:GetEvent': [ACTOR_ID_KEY, SESSION_ID_KEY],
    'bedrock-agentcore:ListEvents': [ACTOR_ID_KEY, SESSION_ID_KEY],
    'bedrock-agentcore:DeleteEvent': [ACTOR_ID_KEY, SESSION_ID_KEY],
    'bedrock-agentcore:ListSessions': [ACTOR_ID_KEY],
    'bedrock-agentcore:StartMemoryExtractionJob': [ACTOR_ID_KEY, SESSION_ID_KEY, STRATEGY_ID_KEY],
    'bedrock-agentcore:RetrieveMemoryRecords': [NAMESPACE_KEY, STRATEGY_ID_KEY],
    'bedrock-agentcore:ListMemoryRecords': [NAMESPACE_KEY, STRATEGY_ID_KEY],
    'bedrock-agentcore:BatchCreateMemoryRecords': [NAMESPACE_KEY],
    'bedrock-agentcore:ListActors': [],
    'bedrock-agentcore:GetMemoryRecord': [],
    'bedrock-agentcore:DeleteMemoryRecord': [],
    'bedrock-agentcore:BatchDeleteMemoryRecords': [],
  };

  /** Short-term reads an actor-scoped grant includes (all conditioned on actorId, and sessionId when bound). */
  export const ACTOR_SCOPED_EVENT_READ = ['bedrock-agentcore:GetEvent', 'bedrock-agentcore:ListEvents'];
  /** Listing the actor's sessions (conditioned on actorId only). */
  export const ACTOR_SCOPED_SESSION_LIST = ['bedrock-agentcore:ListSessions'];
  /** Long-term reads an actor-scoped grant includes (conditioned on the namespace). */
  export const ACTOR_SCOPED_RECORD_READ = ['bedrock-agentcore:RetrieveMemoryRecords', 'bedrock-agentcore:ListMemoryRecords'];
  /** Short-term writes an actor-scoped grant includes. */
  export const ACTOR_SCOPED_EVENT_WRITE = ['bedrock-agentcore:CreateEvent'];
  /** Long-term writes an actor-scoped grant includes. */
  export const ACTOR_SCOPED_RECORD_WRITE = ['bedrock-agentcore:BatchCreateMemoryRecords'];
  /** Short-term deletes an actor-scoped grant includes. */
  export const ACTOR_SCOPED_EVENT_DELETE = ['bedrock-agentcore:DeleteEvent'];
  /**
   * Actions that no actor-scoped grant includes, because IAM cannot scope them to one actor: no documented
   * condition key names the actor or namespace of the request.
   */
  export const NOT_ACTOR_SCOPABLE = [
    'bedrock-agentcore:ListActors',
    'bedrock-agentcore:GetMemoryRecord',
    'bedrock-agentcore:DeleteMemoryRecord',
    'bedrock-agentcore:BatchDeleteMemoryRecords',
  ];

  /** What the memory broker calls. */
  export const BROKER_RECORD_READ = ['bedrock-agentcore:RetrieveMemoryRecords'];
  export const BROKER_RECORD_WRITE = ['bedrock-agentcore:BatchCreateMemoryRecords'];
  /** Read-before-delete of `forget`: unscopable in IAM, so the broker's code checks ownership before deleting. */
  export const BROKER_RECORD_FORGET = ['bedrock-agentcore:GetMemoryRecord', 'bedrock-agentcore:DeleteMemoryRecord'];

  /** Key permissions data-plane callers get on a customer-managed memory key, only through AgentCore (`kms:ViaService`). */
  export const KEY_DATA_PERMS = ['kms:Decrypt', 'kms:GenerateDataKey'];
}
