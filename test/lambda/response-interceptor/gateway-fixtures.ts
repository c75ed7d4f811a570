/**
 * Shared fixtures of the GuardedGateway interceptor tests: a gateway configuration document (registry, Cedar
 * policies, pins, targets, identity bindings), AWS-shaped REQUEST and RESPONSE interceptor events (format 1.0), and
 * the served tool definitions a `tools/list` returns.
 */
import { DEFAULT_TOOL_POLICIES } from '../../../lambda/tool-interceptor/cedar';
import { GatewayConfigDocument, GatewayConfigEnv, serializeGatewayConfig } from '../../../lambda/tool-interceptor/config';
import { pinOf } from '../../../lambda/tool-interceptor/pin';
import { sha256Hex } from '../../../lambda/shared/canonical-json';
/** Stdout capture lives in the shared rig; re-exported for the interceptor suites that import it from here. */
export { captureStdout, decisionLines } from '../../rig/decision-log-capture';

/** Tool definitions as the gateway serves them from the targets' inline schemas (own names, before the prefix). */
export const SERVED: Record<string, { target: string; definition: Record<string, unknown> }> = {
  search: {
    target: 'knowledge',
    definition: {
      name: 'search_knowledge',
      description: 'Searches the knowledge base for passages relevant to a query.',
      inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'What to search for.' }, maxResults: { type: 'integer' } }, required: ['query'] },
    },
  },
  record: {
    target: 'hr',
    definition: {
      name: 'get_record',
      description: 'Reads the HR record of an employee for the signed-in user.',
      inputSchema: {
        type: 'object',
        properties: { employeeId: { type: 'string', description: 'Employee id.' }, userId: { type: 'string', description: 'Set by the gateway.' } },
        required: ['employeeId'],
      },
    },
  },
  notes: {
    target: 'hr',
    definition: {
      name: 'add_note',
      description: 'Adds a free-form note.',
      inputSchema: { type: 'object', properties: { note: { type: 'object' } } },
    },
  },
  block: {
    target: 'ops',
    definition: {
      name: 'block_ip',
      description: 'Blocks an IP address at the firewall.',
      inputSchema: { type: 'object', properties: { ip: { type: 'string' } }, required: ['ip'] },
    },
  },
};

/** The gateway name of a served tool (`<target>___<name>`). */
export const gatewayName = (key: keyof typeof SERVED): string => `${SERVED[key].target}___${SERVED[key].definition.name as string}`;

/** A `tools/list` entry as the gateway lists it. */
export const listed = (key: keyof typeof SERVED): Record<string, unknown> => ({ ...SERVED[key].definition, name: gatewayName(key) });

/** A configuration document: knowledge (library), hr and ops (customer). */
export function configDocument(overrides: Partial<GatewayConfigDocument> = {}): GatewayConfigDocument {
  return {
    version: 1,
    registry: {
      version: 1,
      tools: [
        {
          name: 'search_knowledge',
          target: 'knowledge',
          risk: 'LOW',
          capabilities: ['SENSITIVE_DATA'],
          owner: 'platform',
          allowedGroups: ['staff'],
          inputSchema: {
            type: 'object',
            properties: { query: { type: 'string', minLength: 1, maxLength: 100 }, maxResults: { type: 'integer', minimum: 1, maximum: 10 } },
            required: ['query'],
            additionalProperties: false,
          },
        },
        {
          name: 'get_record',
          target: 'hr',
          risk: 'MEDIUM',
          capabilities: ['SENSITIVE_DATA'],
          owner: 'hr-team',
          allowedGroups: ['hr'],
          inputSchema: {
            type: 'object',
            properties: { employeeId: { type: 'string', pattern: '^E[0-9]{4}$' }, userId: { type: 'string' } },
            required: ['employeeId', 'userId'],
          },
        },
        { name: 'add_note', target: 'hr', risk: 'LOW', capabilities: [], owner: 'hr-team', allowedGroups: ['staff'] },
        {
          name: 'block_ip',
          target: 'ops',
          risk: 'HIGH',
          capabilities: ['EXTERNAL_ACCESS'],
          owner: 'secops',
          allowedGroups: ['secops'],
          inputSchema: { type: 'object', properties: { ip: { type: 'string', pattern: '^[0-9.]{7,15}$' } }, required: ['ip'] },
        },
      ],
    },
    policy: { version: 1, policies: DEFAULT_TOOL_POLICIES },
    pins: {
      version: 1,
      requirePins: true,
      pins: Object.values(SERVED).map(({ target, definition }) => ({ server: target, name: definition.name as string, sha256: pinOf(definition, target) })),
    },
    targets: [
      { name: 'knowledge', kind: 'LIBRARY' },
      { name: 'hr', kind: 'CUSTOMER' },
      { name: 'ops', kind: 'CUSTOMER' },
    ],
    identityArguments: [{ target: 'hr', tool: 'get_record', argument: 'userId', claim: 'sub' }],
    identityLikeArguments: ['userId', 'actorId', 'principal', 'sub', 'groups', 'tenant', 'tenantId', 'email'],
    forgedIdentityArguments: 'STRIP',
    ...overrides,
  };
}

/** The serialized document and the environment that points at it. */
export function configFile(doc: GatewayConfigDocument = configDocument()): { text: string; env: Record<string, string>; read: (path: string) => string } {
  const text = serializeGatewayConfig(doc);
  return {
    text,
    env: { [GatewayConfigEnv.CONFIG_FILE]: '/opt/cdk-ai-defense/gateway-config.json', [GatewayConfigEnv.CONFIG_SHA256]: sha256Hex(text) },
    read: (path: string) => {
      if (path !== '/opt/cdk-ai-defense/gateway-config.json') throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    },
  };
}

/** Options of {@link requestEvent}. */
export interface RequestEventOptions {
  /** Raw body text; defaults to `JSON.stringify(body)`; `null` leaves the raw body out. */
  readonly raw?: string | null;
  /** Request headers (the interceptor is configured with passRequestHeaders). */
  readonly headers?: Record<string, string>;
  /** Leave the parsed body out. */
  readonly noParsedBody?: boolean;
}

/** A REQUEST interceptor event, as the AWS docs show it. */
export function requestEvent(body: unknown, options: RequestEventOptions = {}): Record<string, unknown> {
  const raw = options.raw === undefined ? JSON.stringify(body) : options.raw;
  return {
    interceptorInputVersion: '1.0',
    mcp: {
      ...(raw !== null ? { rawGatewayRequest: { body: raw } } : {}),
      gatewayRequest: {
        path: '/mcp',
        httpMethod: 'POST',
        headers: { Accept: 'application/json', 'Mcp-Session-Id': 'session-1', 'User-Agent': 'test-agent', ...(options.headers ?? {}) },
        ...(options.noParsedBody ? {} : { body }),
      },
    },
  };
}

/** A `tools/call` JSON-RPC request. */
export function toolsCall(name: string, args: unknown, id: number | string = 7): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** A RESPONSE interceptor event (no headers: the RESPONSE interceptor never gets them). */
export function responseEvent(requestBody: unknown, responseBody: unknown, statusCode = 200): Record<string, unknown> {
  return {
    interceptorInputVersion: '1.0',
    mcp: {
      gatewayRequest: { path: '/mcp', httpMethod: 'POST', body: requestBody },
      gatewayResponse: { statusCode, body: responseBody },
    },
  };
}
