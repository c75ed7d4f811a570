/**
 * The MCP tools the memory broker serves: one definition shared by the handler (argument validation) and the
 * `MemoryBroker` construct (the gateway target's tool schema). No SDK, no side effects on import.
 *
 * Identity never appears in a schema: no actor, user, tenant, group list, namespace or memory id. The caller is
 * the verified bearer token that the gateway's REQUEST interceptor passes in a reserved argument.
 */

/** Names of the tools. */
export const MemoryTool = {
  REMEMBER: 'remember',
  RECALL: 'recall',
  FORGET: 'forget',
} as const;
export type MemoryTool = (typeof MemoryTool)[keyof typeof MemoryTool];

/** Limits that shape the schemas; the handler enforces the same numbers. */
export interface ToolLimits {
  /** Longest text `remember` stores. */
  readonly maxTextLength: number;
  /** Most records `recall` returns. */
  readonly maxRecallResults: number;
}

/** Longest `recall` query. */
export const MAX_QUERY_LENGTH = 2000;
/** Default limits. */
export const DEFAULT_TOOL_LIMITS: ToolLimits = { maxTextLength: 2000, maxRecallResults: 5 };
/** Allowed ranges of the limits, inclusive. */
export const TOOL_LIMIT_RANGES = {
  maxTextLength: [1, 10_000],
  maxRecallResults: [1, 20],
} as const;

/** `space` of `remember`: the caller's own memory, the tenant's shared space, or one group's shared space. */
export const WRITE_SPACE_PATTERN = '^(personal|tenant|group:[A-Za-z0-9][A-Za-z0-9_-]{0,63})$';
/** `space` of `recall`: as for `remember`, or `all` (own memory and every shared space of the caller). */
export const READ_SPACE_PATTERN = '^(personal|all|tenant|group:[A-Za-z0-9][A-Za-z0-9_-]{0,63})$';

/** An MCP tool definition (`tools/list` shape), JSON-serializable. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/**
 * The tool definitions for given limits. The schemas use only what an AgentCore Gateway inline tool schema accepts
 * (`type`, `description`, `properties`, `required`, `items`); the limits and patterns are stated in the descriptions
 * and enforced by the handler, which refuses unknown keys, wrong types, overlong values and invalid patterns.
 */
export function memoryToolDefinitions(limits: ToolLimits = DEFAULT_TOOL_LIMITS): ToolDefinition[] {
  return [
    {
      name: MemoryTool.REMEMBER,
      description:
        "Store one fact in the caller's memory for later conversations. By default it goes to the caller's own " +
        'memory; `space` can name a shared space (the tenant, or a group) the caller belongs to, if shared writes ' +
        'are enabled. Text is screened before it is stored. No other arguments are accepted.',
      inputSchema: {
        type: 'object',
        properties: {
          text: { type: 'string', description: `The fact to remember: 1 to ${limits.maxTextLength} characters.` },
          space: { type: 'string', description: 'personal (default), tenant, or group:<name>.' },
        },
        required: ['text'],
      },
    },
    {
      name: MemoryTool.RECALL,
      description:
        "Search the caller's memory for records relevant to a query. Searches the caller's own memory by default; " +
        '`space` can be a shared space the caller belongs to, or `all`. Returns each record with its id and space. ' +
        'No other arguments are accepted.',
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: `What to look for: 1 to ${MAX_QUERY_LENGTH} characters.` },
          space: { type: 'string', description: 'personal (default), all, tenant, or group:<name>.' },
          sessionId: {
            type: 'string',
            description: "Only the summaries of this session of the caller's own memory (letters, digits, _ and -, at most 100).",
          },
          maxResults: { type: 'integer', description: `Most records to return: 1 to ${limits.maxRecallResults} (default ${limits.maxRecallResults}).` },
        },
        required: ['query'],
      },
    },
    {
      name: MemoryTool.FORGET,
      description: "Delete one record from the caller's own memory, by the id that recall returned. No other arguments are accepted.",
      inputSchema: {
        type: 'object',
        properties: {
          recordId: { type: 'string', description: 'The record id from recall (mem-…).' },
        },
        required: ['recordId'],
      },
    },
  ];
}

/** The tool definitions with the default limits. */
export const MEMORY_BROKER_TOOL_DEFINITIONS: readonly ToolDefinition[] = Object.freeze(memoryToolDefinitions());
