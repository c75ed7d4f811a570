/**
 * The MCP tools the knowledge retriever serves, shared by the handler (which validates arguments against them) and
 * the `KnowledgeRetriever` construct (which hands them to the GuardedGateway). Identity is never an argument.
 */

/** Name of the search tool. */
export const SEARCH_KNOWLEDGE_TOOL = 'search_knowledge';

/** Argument limits of `search_knowledge`. */
export const SEARCH_LIMITS = {
  maxQueryChars: 10_000,
  minResults: 1,
  maxResults: 100,
  defaultResults: 5,
} as const;

/** An MCP tool definition. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/** The tools of the knowledge retriever. */
export const KNOWLEDGE_TOOL_DEFINITIONS: readonly ToolDefinition[] = Object.freeze([
  Object.freeze({
    name: SEARCH_KNOWLEDGE_TOOL,
    description:
      'Searches the knowledge base for passages relevant to a query. Only passages the signed-in user is authorized to read are returned, ' +
      'each with its text, source, relevance score and metadata. An optional filter can narrow the search by document metadata; it can never widen it.',
    inputSchema: Object.freeze({
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: SEARCH_LIMITS.maxQueryChars, description: 'What to search for, in natural language.' },
        filter: {
          type: 'object',
          description:
            'Optional narrowing filter in the Bedrock retrieval filter grammar (one operator per object: equals, notEquals, greaterThan, ' +
            'greaterThanOrEquals, lessThan, lessThanOrEquals, in, notIn, listContains, stringContains, or andAll/orAll with 2 to 20 members), ' +
            'on documented metadata keys only.',
        },
        maxResults: {
          type: 'integer',
          minimum: SEARCH_LIMITS.minResults,
          maximum: SEARCH_LIMITS.maxResults,
          description: `How many passages to return at most (default ${SEARCH_LIMITS.defaultResults}).`,
        },
      },
      required: ['query'],
      additionalProperties: false,
    }),
  }),
]);
