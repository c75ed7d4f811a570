/**
 * Filtering of a `tools/list` result, for the gateway RESPONSE interceptor: every definition is checked for shape,
 * name collisions (exact or look-alike), scanner findings, registration and pin; what fails is removed and reported
 * with a reason code; what passes is returned unchanged, except that its annotations can never claim less risk
 * than the deployer registered. Pure and total: never throws.
 */
import { ReasonCode } from '../shared/reason-codes';
import { skeleton, skeletonCollisions } from './confusables';
import { PinSet, RemovedTool, ToolPin, pinSet, safeToolName, verifyPin } from './pin';
import {
  GATEWAY_NAME_SEPARATOR,
  RegisteredTool,
  RiskClass,
  ToolCapability,
  ToolRegistry,
  effectiveRisk,
  maxRisk,
  riskLevel,
  splitGatewayToolName,
} from './registry';
import { ScanPolicy, ScanSeverity, scanToolDefinition } from './scan';

/** Options of {@link filterToolList}. */
export interface ToolListFilterOptions {
  /**
   * Accepted pins. Pins declared on registered tools (`RegisteredTool.pin`) are accepted as well.
   * @default - no pins besides the registry's
   */
  readonly pins?: PinSet | readonly ToolPin[];
  /**
   * Keep tools that have no pin at all when their scan is clean. A tool whose pin does not match is removed anyway.
   * @default false - an unpinned tool is removed (TOOL_UNPINNED)
   */
  readonly unsafeAllowUnpinned?: boolean;
  /**
   * Scanner limits and context. The filter adds the registered names of each server to `knownToolNames` and the
   * names of the other servers' tools in the list to `foreignToolNames`.
   * @default - the scanner's defaults
   */
  readonly scanPolicy?: ScanPolicy;
  /**
   * The server every tool in the list comes from; names are then used as they are.
   * @default - gateway mode: each name is `<Target>___<tool>`; the target is the server, and the definition is
   * scanned and pinned under its own name `<tool>`, exactly as the server (and the `scan-tools` CLI) sees it
   */
  readonly server?: string;
  /**
   * The deployed registry: tools it does not know are removed (TOOL_UNKNOWN), and kept tools' annotations are
   * raised to the registered risk.
   * @default - no registry check
   */
  readonly registry?: ToolRegistry;
}

/** A kept tool that has warning-level findings. */
export interface ToolListWarning {
  readonly index: number;
  readonly name?: string;
  readonly ruleIds: readonly string[];
}

/** What {@link filterToolList} returns. */
export interface ToolListFilterResult {
  /** The list result with `tools` replaced by the kept tools; other members (such as `nextCursor`) unchanged. */
  readonly result: Readonly<Record<string, unknown>>;
  readonly kept: readonly unknown[];
  readonly removed: readonly RemovedTool[];
  readonly warnings: readonly ToolListWarning[];
}

interface Entry {
  readonly index: number;
  readonly original: unknown;
  /** Full name as listed (gateway name in gateway mode). */
  readonly listedName?: string;
  readonly server?: string;
  /** The definition as its server serves it (own name). */
  readonly serverView?: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function toEntry(def: unknown, index: number, server: string | undefined): Entry {
  if (!isPlainObject(def) || typeof def.name !== 'string') return { index, original: def };
  if (server !== undefined) return { index, original: def, listedName: def.name, server, serverView: def };
  const split = splitGatewayToolName(def.name);
  if (!split) return { index, original: def };
  return { index, original: def, listedName: def.name, server: split.target, serverView: { ...def, name: split.name } };
}

/** Annotations that claim no less risk than the registry says (a copy; the original is untouched). */
export function hardenAnnotations(definition: Readonly<Record<string, unknown>>, tool: RegisteredTool): Record<string, unknown> {
  const declared = isPlainObject(definition.annotations) ? definition.annotations : undefined;
  const risk: RiskClass = maxRisk(tool.risk, effectiveRisk(tool.risk, declared));
  const external = tool.capabilities.includes(ToolCapability.EXTERNAL_ACCESS) || tool.capabilities.includes(ToolCapability.UNTRUSTED_CONTENT);
  if (riskLevel(risk) < riskLevel(RiskClass.HIGH) && !external) return { ...definition };
  const annotations: Record<string, unknown> = { ...(declared ?? {}) };
  if (riskLevel(risk) >= riskLevel(RiskClass.HIGH)) {
    annotations.readOnlyHint = false;
    annotations.destructiveHint = true;
  }
  if (external) annotations.openWorldHint = true;
  return { ...definition, annotations };
}

function malformedList(): ToolListFilterResult {
  return Object.freeze({
    result: Object.freeze({ tools: Object.freeze([]) }),
    kept: Object.freeze([]),
    removed: Object.freeze([Object.freeze({ index: -1, reasonCode: 'TOOL_DEFINITION_MALFORMED' as ReasonCode })]),
    warnings: Object.freeze([]),
  });
}

/**
 * Filters a `tools/list` result (`{ tools: [...], nextCursor? }`). In order, a tool is removed when: it is not a
 * well-formed definition with a valid name (TOOL_DEFINITION_MALFORMED); its name collides with another tool's in
 * the list, exactly or as a look-alike, or its own name is a look-alike of another server's tool name
 * (TOOL_NAME_COLLISION, all of them); the scanner finds an error
 * (TOOL_DEFINITION_REJECTED, with the rule ids); a registry is given and does not know it (TOOL_UNKNOWN); its pin is
 * missing (TOOL_UNPINNED) or not accepted (TOOL_PIN_MISMATCH). A list that is not of that shape yields no tools.
 */
export function filterToolList(listResult: unknown, options: ToolListFilterOptions = {}): ToolListFilterResult {
  try {
    if (!isPlainObject(listResult) || !Array.isArray(listResult.tools)) return malformedList();
    const registry = options.registry;
    const registryPins: ToolPin[] = (registry?.document.tools ?? [])
      .filter((t) => t.pin !== undefined)
      .map((t) => ({ server: t.target, name: t.name, sha256: t.pin as string }));
    const given: readonly ToolPin[] | undefined = Array.isArray(options.pins) ? (options.pins as readonly ToolPin[]) : undefined;
    const pins: PinSet =
      given !== undefined || options.pins === undefined
        ? pinSet([...(given ?? []), ...registryPins])
        : mergePinSets(options.pins as PinSet, pinSet(registryPins));

    const entries = (listResult.tools as unknown[]).map((def, i) => toEntry(def, i, options.server));
    const removed = new Map<number, RemovedTool>();
    const remove = (e: Entry, reasonCode: ReasonCode, extra: Partial<RemovedTool> = {}): void => {
      if (!removed.has(e.index)) removed.set(e.index, Object.freeze({ index: e.index, name: safeToolName(e.original), reasonCode, ...extra }));
    };

    for (const e of entries) if (e.serverView === undefined) remove(e, 'TOOL_DEFINITION_MALFORMED');

    const named = entries.filter((e) => e.listedName !== undefined && e.serverView !== undefined);
    // Collisions: the same listed name twice or a look-alike of it, or (across servers) look-alike tool names that
    // differ (`read_file` on one server, `read_fiIe` on another). The same tool name on two servers is legitimate.
    const colliding = new Set(skeletonCollisions(named.map((e) => e.listedName as string)).flat());
    const byPart = new Map<string, Set<string>>();
    for (const e of named) {
      const part = e.serverView?.name as string;
      const key = skeleton(part);
      byPart.set(key, (byPart.get(key) ?? new Set<string>()).add(part));
    }
    for (const e of named) {
      const partSkeleton = skeleton(e.serverView?.name as string);
      if (colliding.has(e.listedName as string) || (byPart.get(partSkeleton)?.size ?? 0) > 1) remove(e, 'TOOL_NAME_COLLISION');
    }

    const registeredNames = new Map<string, string[]>();
    for (const t of registry?.document.tools ?? []) registeredNames.set(t.target, [...(registeredNames.get(t.target) ?? []), t.name]);

    const warnings: ToolListWarning[] = [];
    const kept: unknown[] = [];
    for (const e of entries) {
      if (removed.has(e.index) || e.serverView === undefined || e.server === undefined) continue;
      const view = e.serverView;
      const ownName = view.name as string;
      const foreign = named.filter((o) => o.server !== e.server && o.serverView).map((o) => o.serverView?.name as string);
      const findings = scanToolDefinition(view, {
        ...options.scanPolicy,
        knownToolNames: [...(options.scanPolicy?.knownToolNames ?? []), ...(registeredNames.get(e.server) ?? [])],
        foreignToolNames: [...(options.scanPolicy?.foreignToolNames ?? []), ...foreign.filter((n) => n !== ownName)],
      });
      const errors = findings.filter((f) => f.severity === ScanSeverity.ERROR);
      if (errors.length > 0) {
        remove(e, 'TOOL_DEFINITION_REJECTED', { ruleIds: Object.freeze([...new Set(errors.map((f) => f.ruleId))]) });
        continue;
      }
      let registered: RegisteredTool | undefined;
      if (registry !== undefined) {
        registered = registry.lookup(`${e.server}${GATEWAY_NAME_SEPARATOR}${ownName}`);
        if (registered === undefined) {
          remove(e, 'TOOL_UNKNOWN');
          continue;
        }
      }
      const verdict = verifyPin(view, e.server, pins);
      if (!verdict.ok && !(verdict.reasonCode === 'TOOL_UNPINNED' && options.unsafeAllowUnpinned === true)) {
        remove(e, verdict.reasonCode, verdict.pin ? { pin: verdict.pin } : {});
        continue;
      }
      if (findings.length > 0) {
        warnings.push(Object.freeze({ index: e.index, name: safeToolName(e.original), ruleIds: Object.freeze([...new Set(findings.map((f) => f.ruleId))]) }));
      }
      kept.push(registered ? hardenAnnotations(e.original as Record<string, unknown>, registered) : e.original);
    }

    const removedList = [...removed.values()].sort((a, b) => a.index - b.index);
    return Object.freeze({
      result: Object.freeze({ ...listResult, tools: Object.freeze(kept) }),
      kept: Object.freeze(kept),
      removed: Object.freeze(removedList),
      warnings: Object.freeze(warnings),
    });
  } catch {
    return malformedList();
  }
}

function mergePinSets(a: PinSet, b: PinSet): PinSet {
  return Object.freeze({
    accepted: (server: string, name: string): ReadonlySet<string> => new Set([...a.accepted(server, name), ...b.accepted(server, name)]),
    size: a.size + b.size,
  });
}
