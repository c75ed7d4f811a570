/**
 * The deployed tool registry: what the deployer declared about each tool (risk class, capability labels, owner,
 * allowed groups, input schema, pin). It is the only source of tool attributes for authorization; a server's
 * annotations may raise a tool's risk ({@link effectiveRisk}) but never lower it, and the model's arguments never
 * change it. Written by `ToolRegistry` (lib/tools/tool-registry.ts) and read here. Pure: no SDK, no environment.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import { CompiledToolSchema, compileToolSchema, toolSchemaProblems } from './schema-validate';

/** Risk classes, lowest first. Declared by the deployer; annotations can only raise them. */
export const RiskClass = {
  LOW: 'LOW',
  MEDIUM: 'MEDIUM',
  HIGH: 'HIGH',
  CRITICAL: 'CRITICAL',
} as const;
export type RiskClass = (typeof RiskClass)[keyof typeof RiskClass];

/** The order of {@link RiskClass}: its index is the `riskLevel` the Cedar schema carries (0 to 3). */
export const RISK_ORDER: readonly RiskClass[] = Object.freeze([RiskClass.LOW, RiskClass.MEDIUM, RiskClass.HIGH, RiskClass.CRITICAL]);

/** Capability labels, the inputs of the lethal-trifecta analysis. */
export const ToolCapability = {
  /** The tool reads private or sensitive data (records, mail, files, secrets). */
  SENSITIVE_DATA: 'SENSITIVE_DATA',
  /** The tool returns content that someone other than the user controls (web pages, inbound mail, tickets). */
  UNTRUSTED_CONTENT: 'UNTRUSTED_CONTENT',
  /** The tool can send data out or act on the outside world (HTTP requests, mail, messages, writes). */
  EXTERNAL_ACCESS: 'EXTERNAL_ACCESS',
} as const;
export type ToolCapability = (typeof ToolCapability)[keyof typeof ToolCapability];

/** One registered tool, as serialized for the interceptor. */
export interface RegisteredTool {
  /** The tool's name as its server declares it (MCP: 1 to 128 of `A-Z a-z 0-9 _ - .`). */
  readonly name: string;
  /** The gateway target (and pin server id) that serves the tool. */
  readonly target: string;
  readonly risk: RiskClass;
  readonly capabilities: readonly ToolCapability[];
  /** Who answers for the tool (a team or person id); carried into the Cedar entity. */
  readonly owner: string;
  /** Groups (from the verified token's groups claim) that the default policy lets call the tool. */
  readonly allowedGroups: readonly string[];
  /** The deployer's input schema; arguments are validated strictly against it when present. */
  readonly inputSchema?: Readonly<Record<string, unknown>>;
  /** SHA-256 hex pin of the tool's definition on its server (see pin.ts). */
  readonly pin?: string;
}

/** The serialized registry. */
export interface ToolRegistryDocument {
  readonly version: 1;
  readonly tools: readonly RegisteredTool[];
}

/** A registry ready for lookups; built by {@link loadToolRegistry}. */
export interface ToolRegistry {
  readonly document: ToolRegistryDocument;
  /** The tool a gateway name (`<Target>___<tool>`) designates, or undefined (an unknown tool: deny). */
  lookup(gatewayToolName: string): RegisteredTool | undefined;
  /** The compiled input schema of a registered tool, or undefined when it has none. */
  schemaOf(tool: RegisteredTool): CompiledToolSchema | undefined;
}

/** Separator AgentCore Gateway puts between a target's name and its tool's name. */
export const GATEWAY_NAME_SEPARATOR = '___';
/** MCP tool names (2025-11-25): 1 to 128 characters of `A-Z a-z 0-9 _ - .`. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** AgentCore Gateway target names: letters and digits, single dashes between them, at most 100 characters. */
export const TARGET_NAME_PATTERN = /^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,99}$/;
/** Group names and owners: 1 to 256 visible characters, no control characters, no surrounding spaces. */
export const LABEL_PATTERN = /^(?! )[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}(?<! )$/u;
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

/** `<target>___<name>`, the name under which the gateway lists and calls the tool. */
export function gatewayToolNameOf(tool: Pick<RegisteredTool, 'target' | 'name'>): string {
  return `${tool.target}${GATEWAY_NAME_SEPARATOR}${tool.name}`;
}

/** Splits a gateway tool name at its first `___` (target names cannot contain `_`); undefined when malformed. */
export function splitGatewayToolName(full: string): { target: string; name: string } | undefined {
  if (typeof full !== 'string') return undefined;
  const at = full.indexOf(GATEWAY_NAME_SEPARATOR);
  if (at <= 0) return undefined;
  const target = full.slice(0, at);
  const name = full.slice(at + GATEWAY_NAME_SEPARATOR.length);
  return TARGET_NAME_PATTERN.test(target) && TOOL_NAME_PATTERN.test(name) ? { target, name } : undefined;
}

function riskIndex(risk: RiskClass): number {
  return RISK_ORDER.indexOf(risk);
}

/** The higher of two risk classes. */
export function maxRisk(a: RiskClass, b: RiskClass): RiskClass {
  return riskIndex(a) >= riskIndex(b) ? a : b;
}

/** The Cedar `riskLevel` of a risk class (LOW 0 … CRITICAL 3). */
export function riskLevel(risk: RiskClass): number {
  return riskIndex(risk);
}

/**
 * The risk class the controls use for a tool: the deployer's class, raised (never lowered) by what the server's
 * annotations admit. `destructiveHint` present and not exactly `false` → at least HIGH; `openWorldHint: true` →
 * at least MEDIUM. `readOnlyHint` and `idempotentHint` are ignored: a server cannot talk its way to a lower class.
 * Malformed annotations raise nothing and lower nothing.
 */
export function effectiveRisk(registered: RiskClass, annotations?: unknown): RiskClass {
  let risk = registered;
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) return risk;
  const a = annotations as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(a, 'destructiveHint') && a.destructiveHint !== false) risk = maxRisk(risk, RiskClass.HIGH);
  if (a.openWorldHint === true) risk = maxRisk(risk, RiskClass.MEDIUM);
  return risk;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const TOOL_KEYS = new Set(['name', 'target', 'risk', 'capabilities', 'owner', 'allowedGroups', 'inputSchema', 'pin']);

/** Every problem with one registered tool (empty when valid). `where` prefixes each message. */
export function registeredToolProblems(tool: unknown, where: string): string[] {
  if (!isPlainObject(tool)) return [`${where} must be an object`];
  const problems: string[] = [];
  const unknown = Object.keys(tool).filter((k) => !TOOL_KEYS.has(k));
  if (unknown.length > 0) problems.push(`${where} has unsupported keys: ${unknown.join(', ')}`);
  if (typeof tool.name !== 'string' || !TOOL_NAME_PATTERN.test(tool.name)) {
    problems.push(`${where}.name is ${JSON.stringify(tool.name)}; allowed: 1 to 128 of A-Z a-z 0-9 _ - .`);
  }
  if (typeof tool.target !== 'string' || !TARGET_NAME_PATTERN.test(tool.target)) {
    problems.push(`${where}.target is ${JSON.stringify(tool.target)}; allowed: letters and digits with single dashes, at most 100 characters`);
  }
  if (typeof tool.risk !== 'string' || !RISK_ORDER.includes(tool.risk as RiskClass)) {
    problems.push(`${where}.risk is ${JSON.stringify(tool.risk)}; allowed: ${RISK_ORDER.join(', ')}`);
  }
  const caps = Object.values(ToolCapability) as string[];
  if (!Array.isArray(tool.capabilities) || tool.capabilities.some((c) => typeof c !== 'string' || !caps.includes(c))) {
    problems.push(`${where}.capabilities must be a list of ${caps.join(', ')}`);
  } else if (new Set(tool.capabilities).size !== tool.capabilities.length) {
    problems.push(`${where}.capabilities lists a label twice`);
  }
  if (typeof tool.owner !== 'string' || !LABEL_PATTERN.test(tool.owner)) {
    problems.push(`${where}.owner must be 1 to 256 visible characters without surrounding spaces`);
  }
  if (!Array.isArray(tool.allowedGroups) || tool.allowedGroups.some((g) => typeof g !== 'string' || !LABEL_PATTERN.test(g))) {
    problems.push(`${where}.allowedGroups must be a list of group names (1 to 256 visible characters each)`);
  } else if (new Set(tool.allowedGroups).size !== tool.allowedGroups.length) {
    problems.push(`${where}.allowedGroups lists a group twice`);
  }
  if (tool.inputSchema !== undefined) {
    for (const p of toolSchemaProblems(tool.inputSchema)) problems.push(`${where}.inputSchema ${p}`);
  }
  if (tool.pin !== undefined && (typeof tool.pin !== 'string' || !SHA256_HEX_PATTERN.test(tool.pin))) {
    problems.push(`${where}.pin must be 64 lower-case hex characters (a SHA-256)`);
  }
  return problems;
}

/** Every problem with a registry document (empty when valid), including duplicate gateway names. */
export function toolRegistryProblems(doc: unknown): string[] {
  if (!isPlainObject(doc)) return ['the tool registry must be an object'];
  const problems: string[] = [];
  const unknown = Object.keys(doc).filter((k) => k !== 'version' && k !== 'tools');
  if (unknown.length > 0) problems.push(`the tool registry has unsupported keys: ${unknown.join(', ')}`);
  if (doc.version !== 1) problems.push(`the tool registry version is ${JSON.stringify(doc.version)}; supported: 1`);
  if (!Array.isArray(doc.tools)) return [...problems, 'the tool registry needs a "tools" list'];
  const seen = new Set<string>();
  doc.tools.forEach((tool: unknown, i: number) => {
    const where = `tools[${i}]`;
    const p = registeredToolProblems(tool, where);
    problems.push(...p);
    if (p.length === 0) {
      const full = gatewayToolNameOf(tool as RegisteredTool);
      if (seen.has(full)) problems.push(`${where} registers ${full} a second time`);
      seen.add(full);
    }
  });
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates a registry document and indexes it; throws a {@link ConfigurationError} listing every problem. */
export function loadToolRegistry(doc: unknown): ToolRegistry {
  const problems = toolRegistryProblems(doc);
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `tool registry: ${p}`));
  // A private deep copy: later changes to the caller's object cannot reach the loaded registry.
  const document = deepFreeze(parseStrictJson(JSON.stringify(doc)) as ToolRegistryDocument);
  const byName = new Map<string, RegisteredTool>();
  const schemas = new Map<RegisteredTool, CompiledToolSchema>();
  for (const tool of document.tools) {
    byName.set(gatewayToolNameOf(tool), tool);
    if (tool.inputSchema !== undefined) schemas.set(tool, compileToolSchema(tool.inputSchema));
  }
  return Object.freeze({
    document,
    lookup: (gatewayToolName: string): RegisteredTool | undefined =>
      typeof gatewayToolName === 'string' && byName.has(gatewayToolName) ? byName.get(gatewayToolName) : undefined,
    schemaOf: (tool: RegisteredTool): CompiledToolSchema | undefined => schemas.get(tool),
  });
}

/** Parses (strict JSON) and loads a registry from its serialized form; throws a {@link ConfigurationError}. */
export function parseToolRegistry(text: string): ToolRegistry {
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (err) {
    throw new ConfigurationError([`tool registry is not valid JSON: ${(err as Error).message}`]);
  }
  return loadToolRegistry(doc);
}
