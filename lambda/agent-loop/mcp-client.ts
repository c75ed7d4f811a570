/**
 * A minimal MCP client (JSON-RPC 2.0 over streamable HTTP, `fetch`) for the GuardedGateway: `tools/list` and
 * `tools/call`, each one POST with the caller's own bearer token (the gateway verifies it again and authorizes the
 * call), a deadline, and a bounded response read. The gateway is stateless for these methods (no `initialize`).
 *
 * Every answer is distrusted: an HTTP error, a timeout, a body that is too large or not strict JSON, a JSON-RPC
 * message that is not the response to this request: each throws with a reason code (the loop stops). A JSON-RPC
 * error carrying `data.reasonCode` is the gateway's deny: APPROVAL_REQUIRED / APPROVAL_PENDING become an approval
 * outcome, any other code a refused call. The gateway's error text is never passed on.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { EnforcementError, MalformedResponseError, withTimeout } from '../shared/errors';
import { ReasonCode, isReasonCode } from '../shared/reason-codes';
import { ToolOutcome, ToolSpecView } from './loop';
import { APPROVAL_CODES, deniedWith, isSafeCode } from './reason-codes';

/** The `fetch` the client uses (Node's global by default; injectable for tests). */
export type FetchFunction = (input: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<Response>;

/** Options of {@link createMcpClient}. */
export interface McpClientOptions {
  /** The gateway's MCP endpoint (https). */
  readonly url: string;
  /** Deadline of one request in milliseconds. */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFunction;
  /**
   * Largest response body read, in bytes.
   * @default 2 MiB
   */
  readonly maxResponseBytes?: number;
  /**
   * Pages of `tools/list` followed at most.
   * @default 10
   */
  readonly maxPages?: number;
}

/** The gateway as the agent loop uses it. */
export interface McpClient {
  /** Every tool the gateway lists for this caller (all pages). Throws on a fault or a deny. */
  listTools(token: string, signal: AbortSignal): Promise<ToolSpecView[]>;
  /** Calls one tool. Throws on a fault; a deny or an approval demand is an outcome. */
  callTool(token: string, name: string, args: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<ToolOutcome>;
}

/** The MCP protocol version sent in `MCP-Protocol-Version`. */
export const MCP_PROTOCOL_VERSION = '2025-06-18';
const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const APPROVAL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_TOOLS = 1_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The reason code of an HTTP status that is not a JSON-RPC answer. */
export function httpStatusCode(status: number): ReasonCode {
  if (status === 401 || status === 403) return 'UPSTREAM_ACCESS_DENIED';
  if (status === 408) return 'UPSTREAM_TIMEOUT';
  if (status === 429) return 'UPSTREAM_THROTTLED';
  if (status >= 500 && status <= 599) return 'UPSTREAM_UNAVAILABLE';
  return 'UPSTREAM_MALFORMED_RESPONSE';
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new MalformedResponseError('gateway response is too large');
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new MalformedResponseError('gateway response is too large');
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedResponseError('gateway response is not UTF-8');
  }
}

function parseJson(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch {
    throw new MalformedResponseError('gateway response is not strict JSON');
  }
}

/** The JSON-RPC messages of a `text/event-stream` body (each event's `data:` lines joined). */
export function sseMessages(body: string): unknown[] {
  const out: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) out.push(parseJson(data.join('\n')));
  }
  return out;
}

/** The response to request `id` among JSON-RPC messages, validated: `result` or `error`, never both. */
export function jsonRpcResponse(messages: readonly unknown[], id: string): { result?: unknown; error?: { code: number; data?: unknown } } {
  for (const m of messages) {
    if (!isPlainObject(m) || m.id !== id) continue;
    if (m.jsonrpc !== '2.0') throw new MalformedResponseError('gateway response is not JSON-RPC 2.0');
    const hasResult = Object.prototype.hasOwnProperty.call(m, 'result');
    const hasError = Object.prototype.hasOwnProperty.call(m, 'error');
    if (hasResult === hasError) throw new MalformedResponseError('gateway response must have exactly one of result and error');
    if (hasError) {
      const e = m.error;
      if (!isPlainObject(e) || !Number.isInteger(e.code)) throw new MalformedResponseError('gateway JSON-RPC error is malformed');
      return { error: { code: e.code as number, data: e.data } };
    }
    return { result: m.result };
  }
  throw new MalformedResponseError('gateway response does not answer the request');
}

/** The gateway's deny in a JSON-RPC error's `data` (or an isError result's `structuredContent`), if it names one. */
function denyOutcome(data: unknown): ToolOutcome {
  const code = isPlainObject(data) ? deniedWith(data.reasonCode, 'TOOL_DENIED') : undefined;
  if (code !== undefined && APPROVAL_CODES.has(code.reasonCode)) {
    const approvalId = isPlainObject(data) && typeof data.approvalId === 'string' && APPROVAL_ID.test(data.approvalId) ? data.approvalId : undefined;
    return { kind: 'APPROVAL', reasonCode: code.reasonCode, ...(approvalId !== undefined ? { approvalId } : {}) };
  }
  return { kind: 'DENIED', ...(code ?? { reasonCode: 'TOOL_DENIED' }) };
}

/**
 * The text the model sees of a `tools/call` result: the text contents (and embedded resources' text) joined;
 * other content kinds are named, not passed; `structuredContent` as JSON when there is no text.
 */
export function toolResultText(result: unknown): ToolOutcome {
  if (!isPlainObject(result) || !Array.isArray(result.content)) throw new MalformedResponseError('tools/call result has no content list');
  if (result.isError !== undefined && typeof result.isError !== 'boolean') throw new MalformedResponseError('tools/call isError is not a boolean');
  const isError = result.isError === true;
  if (isError && isPlainObject(result.structuredContent) && isSafeCode(result.structuredContent.reasonCode)) {
    return denyOutcome(result.structuredContent);
  }
  const parts: string[] = [];
  for (const item of result.content as unknown[]) {
    if (!isPlainObject(item) || typeof item.type !== 'string') throw new MalformedResponseError('tools/call content item is malformed');
    if (item.type === 'text' && typeof item.text === 'string') parts.push(item.text);
    else if (item.type === 'resource' && isPlainObject(item.resource) && typeof item.resource.text === 'string') parts.push(item.resource.text);
    else parts.push(`[${item.type.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32)} content omitted]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  return { kind: 'RESULT', text: parts.join('\n'), isError };
}

/** The tool specs of one `tools/list` page; entries that are not well-formed tools are left out. */
function toolPage(result: unknown): { tools: ToolSpecView[]; nextCursor?: string } {
  if (!isPlainObject(result) || !Array.isArray(result.tools)) throw new MalformedResponseError('tools/list result has no tool list');
  const tools: ToolSpecView[] = [];
  for (const t of result.tools as unknown[]) {
    if (!isPlainObject(t) || typeof t.name !== 'string' || !isPlainObject(t.inputSchema)) continue;
    if (t.description !== undefined && typeof t.description !== 'string') continue;
    tools.push({ name: t.name, ...(typeof t.description === 'string' && t.description.length > 0 ? { description: t.description } : {}), inputSchema: t.inputSchema });
  }
  const cursor = result.nextCursor;
  if (cursor !== undefined && cursor !== null && (typeof cursor !== 'string' || cursor.length > 1024)) throw new MalformedResponseError('tools/list nextCursor is malformed');
  return { tools, ...(typeof cursor === 'string' && cursor.length > 0 ? { nextCursor: cursor } : {}) };
}

/** A client for one gateway endpoint. */
export function createMcpClient(options: McpClientOptions): McpClient {
  const doFetch: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxPages = options.maxPages ?? 10;
  let counter = 0;

  const request = async (token: string, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<{ result?: unknown; error?: { code: number; data?: unknown } }> => {
    const id = `cad-${++counter}`;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
    const exchange = async (): Promise<{ result?: unknown; error?: { code: number; data?: unknown } }> => {
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
          'mcp-protocol-version': MCP_PROTOCOL_VERSION,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: deadline,
      });
      if (typeof response !== 'object' || response === null || typeof response.status !== 'number') throw new MalformedResponseError('fetch returned no response');
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new EnforcementError(httpStatusCode(response.status), `gateway answered HTTP ${response.status}`);
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      const body = await readBounded(response, maxBytes);
      if (type === 'application/json') return jsonRpcResponse([parseJson(body)], id);
      if (type === 'text/event-stream') return jsonRpcResponse(sseMessages(body), id);
      throw new MalformedResponseError('gateway response has an unexpected content type');
    };
    return withTimeout(exchange(), options.timeoutMs, `gateway ${method}`);
  };

  return {
    async listTools(token, signal) {
      const tools: ToolSpecView[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const answer = await request(token, 'tools/list', cursor ? { cursor } : {}, signal);
        if (answer.error) {
          const code = isPlainObject(answer.error.data) ? answer.error.data.reasonCode : undefined;
          throw new EnforcementError(isReasonCode(code) ? code : 'UPSTREAM_ACCESS_DENIED', 'gateway refused tools/list');
        }
        const parsed = toolPage(answer.result);
        tools.push(...parsed.tools);
        if (tools.length > MAX_TOOLS) throw new MalformedResponseError('tools/list returned too many tools');
        if (!parsed.nextCursor) return tools;
        cursor = parsed.nextCursor;
      }
      throw new MalformedResponseError('tools/list has more pages than allowed');
    },

    async callTool(token, name, args, signal) {
      const answer = await request(token, 'tools/call', { name, arguments: args }, signal);
      if (answer.error) return denyOutcome(answer.error.data);
      return toolResultText(answer.result);
    },
  };
}
