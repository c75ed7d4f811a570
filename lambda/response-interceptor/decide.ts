/**
 * Pure decision logic of the GuardedGateway RESPONSE interceptor: which responses it inspects, and the `tools/list`
 * filter (scan, registry, pin; failing tools removed with a reason code) followed by hiding the arguments the model
 * must never fill (identity-bound arguments and the reserved caller-token argument). No SDK, no environment, no clock.
 */
import { RESERVED_ARGUMENT_NAMES } from '../shared/caller-context';
import { GatewayConfig, schemaWithoutArguments } from '../tool-interceptor/config';
import { RemovedTool } from '../tool-interceptor/pin';
import { splitGatewayToolName } from '../tool-interceptor/registry';
import { ToolListWarning, filterToolList } from '../tool-interceptor/tool-list';

/** The JSON-RPC methods whose responses the interceptor changes. */
export const ResponseKind = {
  /** A `tools/list` result: filtered and rewritten. */
  TOOL_LIST: 'TOOL_LIST',
  /** Anything else: `tools/call` results are screened by the guardrail, other methods pass through. */
  OTHER: 'OTHER',
} as const;
export type ResponseKind = (typeof ResponseKind)[keyof typeof ResponseKind];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How to treat a response: a `tools/list` result when the request's method says so, or, when the event does not
 * carry the request, when the result has a `tools` list (filtering a list is the safe reading of an unknown one).
 * A JSON-RPC error is never a tool list; a body with both `error` and `result` is classed OTHER, and the guardrail
 * screening of OTHER withholds it as malformed.
 */
export function responseKind(method: string | undefined, body: Readonly<Record<string, unknown>>): ResponseKind {
  // An error (even `null`) is never a list; with a result as well, the body is malformed and screening withholds it.
  if (Object.prototype.hasOwnProperty.call(body, 'error')) return ResponseKind.OTHER;
  if (method === 'tools/list') return ResponseKind.TOOL_LIST;
  if (method === undefined && isPlainObject(body.result) && Array.isArray(body.result.tools)) return ResponseKind.TOOL_LIST;
  return ResponseKind.OTHER;
}

/** The filtered list. */
export interface ToolListOutcome {
  /** The response body with `result` rebuilt as the kept (and rewritten) definitions plus a string `nextCursor`. */
  readonly body: Record<string, unknown>;
  readonly kept: number;
  readonly removed: readonly RemovedTool[];
  readonly warnings: readonly ToolListWarning[];
}

/**
 * A definition without the arguments the model must not fill: the reserved caller-token argument and the tool's
 * identity-bound arguments are removed from `inputSchema.properties` and `required`. Other members are unchanged.
 */
export function hideArguments(definition: unknown, hidden: readonly string[]): unknown {
  if (!isPlainObject(definition) || !isPlainObject(definition.inputSchema)) return definition;
  const props = definition.inputSchema.properties;
  const required = definition.inputSchema.required;
  const present = hidden.filter(
    (h) => (isPlainObject(props) && Object.prototype.hasOwnProperty.call(props, h)) || (Array.isArray(required) && required.includes(h)),
  );
  if (present.length === 0) return definition;
  return { ...definition, inputSchema: schemaWithoutArguments(definition.inputSchema, present) };
}

/**
 * Filters a `tools/list` response body with the deployed registry and pins: in order, malformed definitions, name
 * collisions (exact or look-alike), scanner errors, tools the registry does not know, and unpinned or changed
 * definitions are removed, each with its reason code (see `filterToolList`); kept definitions get annotations no
 * weaker than their registered risk, and lose the arguments the model must not fill. The result is rebuilt as
 * `{ tools, nextCursor }` (`nextCursor` only when a string): no other member passes unscanned. Never throws.
 */
export function filterToolListBody(body: Readonly<Record<string, unknown>>, gateway: GatewayConfig): ToolListOutcome {
  const filtered = filterToolList(body.result, {
    registry: gateway.registry,
    pins: gateway.pins.pins,
    unsafeAllowUnpinned: !gateway.pins.requirePins,
  });
  const tools = filtered.kept.map((def) => {
    const name = isPlainObject(def) && typeof def.name === 'string' ? def.name : undefined;
    const split = name !== undefined ? splitGatewayToolName(name) : undefined;
    const bound = split ? gateway.bindingsOf(`${split.target}___${split.name}`).map((b) => b.argument) : [];
    return hideArguments(def, [...RESERVED_ARGUMENT_NAMES, ...bound]);
  });
  // Only what was filtered goes back: any other member of the result (content, _meta, …) would reach the model unscanned.
  const nextCursor = isPlainObject(body.result) ? body.result.nextCursor : undefined;
  return {
    body: { ...body, result: { tools, ...(typeof nextCursor === 'string' ? { nextCursor } : {}) } },
    kept: tools.length,
    removed: filtered.removed,
    warnings: filtered.warnings,
  };
}

/** A JSON-RPC error answer (for a response the interceptor cannot let through, such as any response when misconfigured). */
export function errorBody(id: unknown, reasonCode: string): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, error: { code: -32001, message: `Denied: ${reasonCode}`, data: { reasonCode } } };
}
