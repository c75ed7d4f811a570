/**
 * How the verified caller travels from the GuardedGateway REQUEST interceptor to the library's own gateway targets
 * (knowledge retriever, memory broker), in a form the model cannot forge.
 *
 * The interceptor (1) deletes this reserved argument if the model supplied it, (2) verifies the inbound bearer token,
 * and (3) sets the argument to that same token. The target then verifies the token again itself (defense in depth):
 * a token the model made up fails signature verification, and the target never trusts an unverified value.
 *
 * The token goes only to the library's own targets, never to a customer tool or a third-party API (which get a
 * token of their own through AgentCore Identity): see the MCP rule against token passthrough.
 */

/** Name of the reserved tool argument that carries the caller's bearer token to the library's own targets. */
export const CALLER_TOKEN_ARGUMENT = '__cdkAiDefenseCallerToken';

/** Every argument name that the interceptor removes from model-written arguments before anything else reads them. */
export const RESERVED_ARGUMENT_NAMES: readonly string[] = [CALLER_TOKEN_ARGUMENT];

/** A compact JWS (three base64url segments); anything else is not a token. */
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{2,8192}$/;

/** The caller token set by the interceptor, or undefined when absent or not shaped like a compact JWS. */
export function callerTokenFromArguments(args: unknown): string | undefined {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(args, CALLER_TOKEN_ARGUMENT)) return undefined;
  const value = (args as Record<string, unknown>)[CALLER_TOKEN_ARGUMENT];
  return typeof value === 'string' && COMPACT_JWS.test(value) ? value : undefined;
}

/** A copy of the arguments without any reserved argument (the tool's own arguments, for schema validation). */
export function withoutReservedArguments(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(args)) if (!RESERVED_ARGUMENT_NAMES.includes(k)) out[k] = v;
  return out;
}

/** Gateway Lambda targets receive `<TargetName>___<toolName>` in the client context; this returns `<toolName>`. */
export function gatewayToolName(clientContextCustom: unknown): string | undefined {
  if (clientContextCustom === null || typeof clientContextCustom !== 'object') return undefined;
  const full = (clientContextCustom as Record<string, unknown>).bedrockAgentCoreToolName;
  if (typeof full !== 'string' || full.length === 0 || full.length > 256) return undefined;
  const at = full.indexOf('___');
  const name = at >= 0 ? full.slice(at + 3) : full;
  return /^[A-Za-z0-9_.-]{1,128}$/.test(name) ? name : undefined;
}
