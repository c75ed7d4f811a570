/**
 * The gateway configuration both interceptors read: one JSON document that `GuardedGateway` writes at synth time
 * (a file in a Lambda layer, because the tool registry, the Cedar policies and the pins do not fit in Lambda's 4 KB
 * of environment), bound to the function by its SHA-256 in the environment. Values only known at deploy time
 * (tokens) never go into the file: they travel in environment variables.
 *
 * Pure apart from {@link readGatewayConfigFile}, which takes its file reader as an argument. The construct validates
 * the document it writes with the same {@link parseGatewayConfig} that the handlers use at cold start.
 */
import { canonicalize, isWellFormedString, parseStrictJson, sha256Hex } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import { CALLER_TOKEN_ARGUMENT, RESERVED_ARGUMENT_NAMES } from '../shared/caller-context';
import { LoadedPins, ToolPinDocument, parseToolPinDocument } from './pin';
import { RegisteredTool, TARGET_NAME_PATTERN, ToolRegistry, ToolRegistryDocument, gatewayToolNameOf, loadToolRegistry } from './registry';
import { CompiledToolSchema, SchemaCompileError, compileToolSchema } from './schema-validate';

/** Environment variables of both interceptors. */
export const GatewayConfigEnv = {
  /** Path of the configuration file. */
  CONFIG_FILE: 'CAD_GATEWAY_CONFIG_FILE',
  /** SHA-256 (hex) of the configuration file's exact bytes; a file with another hash is refused (MISCONFIGURED). */
  CONFIG_SHA256: 'CAD_GATEWAY_CONFIG_SHA256',
  /** Deadline of one request in milliseconds, below the Lambda timeout so that a timeout is a deny. */
  TIMEOUT_MS: 'CAD_INTERCEPTOR_TIMEOUT_MS',
} as const;

/** Where the configuration layer puts the file, relative to the layer root (`/opt`). */
export const CONFIG_LAYER_FILE = 'cdk-ai-defense/gateway-config.json';
/** The file's default path inside the function. */
export const DEFAULT_CONFIG_FILE = `/opt/${CONFIG_LAYER_FILE}`;
/** Largest configuration file accepted, in characters. */
export const MAX_CONFIG_CHARS = 5_000_000;
/** Default and allowed request deadline, in milliseconds. */
export const INTERCEPTOR_TIMEOUT = { default: 8_000, min: 1_000, max: 900_000 } as const;

/** How a target receives the caller's identity. */
export const TargetKind = {
  /**
   * One of the library's own targets (knowledge retriever, memory broker): it receives the caller's verified bearer
   * token in the reserved argument `CALLER_TOKEN_ARGUMENT` and verifies it again itself.
   */
  LIBRARY: 'LIBRARY',
  /** A customer tool: it never receives the token; identity reaches it only as claim values bound to arguments. */
  CUSTOMER: 'CUSTOMER',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** What happens when the model supplies an identity-like, identity-bound or reserved argument. */
export const ForgedIdentityHandling = {
  /** The argument is removed (and, when bound, replaced by the verified value); the call goes on. */
  STRIP: 'STRIP',
  /** The call is denied with CALLER_CHOSE_PROTECTED_SETTING. */
  DENY: 'DENY',
} as const;
export type ForgedIdentityHandling = (typeof ForgedIdentityHandling)[keyof typeof ForgedIdentityHandling];

/** One gateway target. */
export interface GatewayTargetConfig {
  readonly name: string;
  readonly kind: TargetKind;
}

/** A customer tool argument the interceptor overwrites with a verified claim value. */
export interface IdentityArgumentBinding {
  readonly target: string;
  readonly tool: string;
  /** Top-level argument name. */
  readonly argument: string;
  /** Claim of the verified token whose value (a string or a list of strings) the argument receives. */
  readonly claim: string;
}

/** The serialized configuration. */
export interface GatewayConfigDocument {
  readonly version: 1;
  readonly registry: ToolRegistryDocument;
  /** `{ version: 1, policies: "<cedar text>" }` as `ToolPolicy.toDocument()` writes it. */
  readonly policy: { readonly version: 1; readonly policies: string };
  readonly pins: ToolPinDocument;
  readonly targets: readonly GatewayTargetConfig[];
  readonly identityArguments: readonly IdentityArgumentBinding[];
  /** Argument names that look like identity (compared case-insensitively, ignoring `_`, `-`, `.`). */
  readonly identityLikeArguments: readonly string[];
  readonly forgedIdentityArguments: ForgedIdentityHandling;
}

/** The configuration, validated and indexed. */
export interface GatewayConfig {
  readonly document: GatewayConfigDocument;
  readonly registry: ToolRegistry;
  readonly policyText: string;
  readonly pins: LoadedPins;
  /** Kind of each target, by name. */
  targetKind(target: string): TargetKind | undefined;
  /** Identity bindings of a tool, by gateway tool name (`<target>___<tool>`). */
  bindingsOf(gatewayToolName: string): readonly IdentityArgumentBinding[];
  /** The schema the model sees (the registered one without identity-bound arguments), when the tool has one. */
  modelSchemaOf(gatewayToolName: string): CompiledToolSchema | undefined;
  /** True when a (top-level) argument name looks like identity. */
  isIdentityLike(argument: string): boolean;
  readonly forgedIdentityArguments: ForgedIdentityHandling;
}

/** The identity-like argument names denied to the model by default. */
export const DEFAULT_IDENTITY_LIKE_ARGUMENTS: readonly string[] = Object.freeze([
  'userId',
  'userName',
  'actorId',
  'principal',
  'principalId',
  'sub',
  'subject',
  'groups',
  'tenant',
  'tenantId',
  'email',
  'callerId',
  'namespace',
]);

/** Argument names (top level): 1 to 128 visible ASCII characters. */
export const ARGUMENT_NAME_PATTERN = /^[\x21-\x7E]{1,128}$/;
/** Claim names: a letter, then letters, digits and `_ : . -` (so `cognito:groups` works), at most 128. */
export const CLAIM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_:.-]{0,127}$/;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** The comparison form of an argument name: lower case, without `_`, `-` and `.`. */
export function normalizeArgumentName(name: string): string {
  return name.toLowerCase().replace(/[_.-]/g, '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(value).filter((k) => !allowed.includes(k));
}

/** The registered schema without some top-level properties (pure; the schema is not modified). */
export function schemaWithoutArguments(schema: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, unknown> {
  if (names.length === 0) return { ...schema };
  const out: Record<string, unknown> = { ...schema };
  if (isPlainObject(schema.properties)) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema.properties)) if (!names.includes(k)) props[k] = v;
    out.properties = props;
  }
  if (Array.isArray(schema.required)) {
    const required = (schema.required as unknown[]).filter((r) => typeof r !== 'string' || !names.includes(r));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

function declaredProperties(tool: RegisteredTool): string[] | undefined {
  const props = tool.inputSchema?.properties;
  return isPlainObject(props) ? Object.keys(props) : tool.inputSchema ? [] : undefined;
}

/** Every problem with the parts of a document other than the registry, pins and policy (empty when valid). */
function documentProblems(doc: Record<string, unknown>, registry: ToolRegistry | undefined): string[] {
  const problems: string[] = [];
  // Targets.
  const kinds = new Map<string, TargetKind>();
  if (!Array.isArray(doc.targets)) {
    problems.push('targets must be a list');
  } else {
    doc.targets.forEach((t: unknown, i: number) => {
      if (!isPlainObject(t) || unknownKeys(t, ['name', 'kind']).length > 0) {
        problems.push(`targets[${i}] must be { name, kind }`);
        return;
      }
      if (typeof t.name !== 'string' || !TARGET_NAME_PATTERN.test(t.name)) problems.push(`targets[${i}].name is ${JSON.stringify(t.name)}; allowed: letters and digits with single dashes`);
      else if (kinds.has(t.name)) problems.push(`target ${t.name} is listed twice`);
      if (t.kind !== TargetKind.LIBRARY && t.kind !== TargetKind.CUSTOMER) problems.push(`targets[${i}].kind is ${JSON.stringify(t.kind)}; allowed: LIBRARY, CUSTOMER`);
      if (typeof t.name === 'string' && (t.kind === TargetKind.LIBRARY || t.kind === TargetKind.CUSTOMER)) kinds.set(t.name, t.kind);
    });
  }
  for (const tool of registry?.document.tools ?? []) {
    if (!kinds.has(tool.target)) problems.push(`tool ${gatewayToolNameOf(tool)} is registered on target ${tool.target}, which is not in targets`);
  }

  // Identity-like names.
  const likeNames = new Set<string>();
  if (!Array.isArray(doc.identityLikeArguments) || doc.identityLikeArguments.some((n) => typeof n !== 'string' || !ARGUMENT_NAME_PATTERN.test(n) || normalizeArgumentName(n) === '')) {
    problems.push('identityLikeArguments must be a list of argument names (1 to 128 visible ASCII characters)');
  } else {
    for (const n of doc.identityLikeArguments as string[]) likeNames.add(normalizeArgumentName(n));
  }
  if (doc.forgedIdentityArguments !== ForgedIdentityHandling.STRIP && doc.forgedIdentityArguments !== ForgedIdentityHandling.DENY) {
    problems.push(`forgedIdentityArguments is ${JSON.stringify(doc.forgedIdentityArguments)}; allowed: STRIP, DENY`);
  }

  // Identity bindings.
  const bound = new Map<string, Set<string>>();
  if (!Array.isArray(doc.identityArguments)) {
    problems.push('identityArguments must be a list');
  } else {
    doc.identityArguments.forEach((b: unknown, i: number) => {
      const where = `identityArguments[${i}]`;
      if (!isPlainObject(b) || unknownKeys(b, ['target', 'tool', 'argument', 'claim']).length > 0) {
        problems.push(`${where} must be { target, tool, argument, claim }`);
        return;
      }
      const { target, tool, argument, claim } = b;
      if (typeof argument !== 'string' || !ARGUMENT_NAME_PATTERN.test(argument) || FORBIDDEN_NAMES.has(argument) || RESERVED_ARGUMENT_NAMES.includes(argument)) {
        problems.push(`${where}.argument is ${JSON.stringify(argument)}; allowed: an argument name that is not reserved`);
        return;
      }
      if (typeof claim !== 'string' || !CLAIM_NAME_PATTERN.test(claim) || FORBIDDEN_NAMES.has(claim)) {
        problems.push(`${where}.claim is ${JSON.stringify(claim)}; allowed: a claim name (a letter, then letters, digits, _ : . -)`);
        return;
      }
      const registered = typeof target === 'string' && typeof tool === 'string' ? registry?.lookup(`${target}___${tool}`) : undefined;
      if (registered === undefined) {
        if (registry !== undefined) problems.push(`${where} binds ${String(argument)} of ${String(target)}___${String(tool)}, which is not a registered tool`);
        return;
      }
      const full = gatewayToolNameOf(registered);
      if (kinds.get(registered.target) !== TargetKind.CUSTOMER) {
        problems.push(`${where}: ${full} is on a LIBRARY target, which receives the verified token instead of bound arguments`);
      }
      const declared = declaredProperties(registered);
      if (declared !== undefined && !declared.includes(argument)) problems.push(`${where}: ${full} declares no argument ${argument}`);
      const set = bound.get(full) ?? new Set<string>();
      if (set.has(argument)) problems.push(`${where}: ${full} binds ${argument} twice`);
      set.add(argument);
      bound.set(full, set);
    });
  }

  // A registered schema must not let the model choose an identity (or the reserved token argument).
  for (const tool of registry?.document.tools ?? []) {
    const full = gatewayToolNameOf(tool);
    for (const name of declaredProperties(tool) ?? []) {
      if (RESERVED_ARGUMENT_NAMES.includes(name)) problems.push(`${full} declares the reserved argument ${name}`);
      else if (likeNames.has(normalizeArgumentName(name)) && !bound.get(full)?.has(name)) {
        problems.push(`${full} declares the identity-like argument ${name}: bind it to a verified claim, or remove it from identityLikeArguments`);
      }
    }
  }
  return problems;
}

/**
 * Validates a configuration document (already parsed) and indexes it. Throws a {@link ConfigurationError}
 * (MISCONFIGURED) listing every problem. The Cedar policies are checked by `createToolAuthorizer`, not here.
 */
export function loadGatewayConfig(doc: unknown): GatewayConfig {
  if (!isPlainObject(doc)) throw new ConfigurationError(['gateway configuration must be a JSON object']);
  const problems: string[] = [];
  const extra = unknownKeys(doc, ['version', 'registry', 'policy', 'pins', 'targets', 'identityArguments', 'identityLikeArguments', 'forgedIdentityArguments']);
  if (extra.length > 0) problems.push(`gateway configuration has unsupported keys: ${extra.join(', ')}`);
  if (doc.version !== 1) problems.push(`gateway configuration version is ${JSON.stringify(doc.version)}; supported: 1`);

  let registry: ToolRegistry | undefined;
  try {
    registry = loadToolRegistry(doc.registry);
  } catch (err) {
    problems.push(...(err instanceof ConfigurationError ? err.problems : [`tool registry: ${String(err)}`]));
  }
  let pins: LoadedPins | undefined;
  try {
    pins = parseToolPinDocument(JSON.stringify(doc.pins ?? null));
  } catch (err) {
    problems.push(...(err instanceof ConfigurationError ? err.problems : [`tool pins: ${String(err)}`]));
  }
  const policy = doc.policy;
  if (!isPlainObject(policy) || policy.version !== 1 || typeof policy.policies !== 'string' || unknownKeys(policy, ['version', 'policies']).length > 0) {
    problems.push('policy must be { "version": 1, "policies": "<cedar text>" }');
  } else if (!isWellFormedString(policy.policies) || policy.policies.trim() === '') {
    problems.push('policy.policies must be non-empty Cedar text');
  }
  problems.push(...documentProblems(doc, registry));

  // The schema the model sees, per tool: what the interceptor validates arguments against.
  const modelSchemas = new Map<string, CompiledToolSchema>();
  const bindings = new Map<string, IdentityArgumentBinding[]>();
  if (problems.length === 0 && registry) {
    for (const b of doc.identityArguments as IdentityArgumentBinding[]) {
      const key = `${b.target}___${b.tool}`;
      bindings.set(key, [...(bindings.get(key) ?? []), Object.freeze({ target: b.target, tool: b.tool, argument: b.argument, claim: b.claim })]);
    }
    for (const tool of registry.document.tools) {
      if (tool.inputSchema === undefined) continue;
      const full = gatewayToolNameOf(tool);
      const hidden = (bindings.get(full) ?? []).map((b) => b.argument);
      try {
        modelSchemas.set(full, compileToolSchema(schemaWithoutArguments(tool.inputSchema, hidden)));
      } catch (err) {
        problems.push(...(err instanceof SchemaCompileError ? err.problems.map((p) => `${full} model-facing schema: ${p}`) : [String(err)]));
      }
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => (p.startsWith('gateway') ? p : `gateway configuration: ${p}`)));

  const document = doc as unknown as GatewayConfigDocument;
  const kinds = new Map(document.targets.map((t) => [t.name, t.kind]));
  const likeNames = new Set(document.identityLikeArguments.map(normalizeArgumentName));
  for (const [k, v] of bindings) bindings.set(k, Object.freeze(v) as IdentityArgumentBinding[]);
  return Object.freeze({
    document,
    registry: registry as ToolRegistry,
    policyText: document.policy.policies,
    pins: pins as LoadedPins,
    targetKind: (target: string) => kinds.get(target),
    bindingsOf: (name: string) => bindings.get(name) ?? [],
    modelSchemaOf: (name: string) => modelSchemas.get(name),
    isIdentityLike: (argument: string) => typeof argument === 'string' && likeNames.has(normalizeArgumentName(argument)),
    forgedIdentityArguments: document.forgedIdentityArguments,
  });
}

/** Parses (strict JSON: no duplicate or prototype keys) and loads a configuration document. */
export function parseGatewayConfig(text: string): GatewayConfig {
  if (typeof text !== 'string' || text.length > MAX_CONFIG_CHARS) throw new ConfigurationError([`gateway configuration must be text of at most ${MAX_CONFIG_CHARS} characters`]);
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (err) {
    throw new ConfigurationError([`gateway configuration is not strict JSON: ${(err as Error).message}`]);
  }
  return loadGatewayConfig(doc);
}

/** The canonical text of a configuration document (what the construct writes; what the hash covers). */
export function serializeGatewayConfig(doc: GatewayConfigDocument): string {
  return canonicalize(doc);
}

/** Reads a file as UTF-8 text (injected: `fs.readFileSync(path, 'utf8')` in Lambda, a stub in tests). */
export type ReadTextFile = (path: string) => string;

/**
 * Reads the configuration file named by the environment, checks its SHA-256 against the environment, and loads it.
 * Throws a {@link ConfigurationError} for a missing or unreadable file, a hash mismatch (a layer that does not
 * belong to this function version) or an invalid document.
 */
export function readGatewayConfigFile(env: Readonly<Record<string, string | undefined>>, readFile: ReadTextFile): GatewayConfig {
  const path = env[GatewayConfigEnv.CONFIG_FILE] || DEFAULT_CONFIG_FILE;
  const expected = env[GatewayConfigEnv.CONFIG_SHA256] ?? '';
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new ConfigurationError([`${GatewayConfigEnv.CONFIG_SHA256} must be the 64 hex characters of the configuration's SHA-256`]);
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigurationError([`gateway configuration ${path} cannot be read (${(err as NodeJS.ErrnoException)?.code ?? 'error'})`]);
  }
  if (typeof text !== 'string') throw new ConfigurationError(['gateway configuration file did not read as text']);
  let actual: string;
  try {
    actual = sha256Hex(text);
  } catch {
    throw new ConfigurationError(['gateway configuration file is not well-formed text']);
  }
  if (actual !== expected) throw new ConfigurationError([`gateway configuration ${path} has SHA-256 ${actual}, expected ${expected}`]);
  return parseGatewayConfig(text);
}

/** Environment variables of the REQUEST interceptor's session taint (`GuardedGateway` sets them). */
export const SessionTaintEnv = {
  /** Name of the session-taint table (required: without it the interceptor denies everything, MISCONFIGURED). */
  TABLE_NAME: 'CAD_SESSION_TAINT_TABLE_NAME',
  /** How long a session's taint lasts after its last allowed call, in seconds. */
  TTL_SECONDS: 'CAD_SESSION_TAINT_TTL_SECONDS',
} as const;

/** Default, and allowed range, of a session's taint lifetime after its last allowed call, in seconds (12 hours; 1 hour to 30 days). */
export const TAINT_TTL_SECONDS = { default: 43_200, min: 3_600, max: 2_592_000 } as const;

/** DynamoDB table names. */
export const TAINT_TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/** Reads the session-taint table name; throws a ConfigurationError when it is missing or not a table name. */
export function taintTableNameFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  const name = env[SessionTaintEnv.TABLE_NAME];
  if (name === undefined || !TAINT_TABLE_NAME_PATTERN.test(name)) {
    throw new ConfigurationError([`${SessionTaintEnv.TABLE_NAME} is missing or not a DynamoDB table name; the interceptor needs its session-taint table`]);
  }
  return name;
}

/** Reads the session-taint lifetime in seconds (default {@link TAINT_TTL_SECONDS}.default). */
export function taintTtlFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[SessionTaintEnv.TTL_SECONDS];
  if (raw === undefined || raw === '') return TAINT_TTL_SECONDS.default;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < TAINT_TTL_SECONDS.min || Number(raw) > TAINT_TTL_SECONDS.max) {
    throw new ConfigurationError([`${SessionTaintEnv.TTL_SECONDS} is "${raw}"; allowed: a whole number from ${TAINT_TTL_SECONDS.min} to ${TAINT_TTL_SECONDS.max}`]);
  }
  return Number(raw);
}

/** Reads the request deadline from the environment. */
export function timeoutFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[GatewayConfigEnv.TIMEOUT_MS];
  if (raw === undefined || raw === '') return INTERCEPTOR_TIMEOUT.default;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < INTERCEPTOR_TIMEOUT.min || Number(raw) > INTERCEPTOR_TIMEOUT.max) {
    throw new ConfigurationError([`${GatewayConfigEnv.TIMEOUT_MS} is "${raw}"; allowed: a whole number from ${INTERCEPTOR_TIMEOUT.min} to ${INTERCEPTOR_TIMEOUT.max}`]);
  }
  return Number(raw);
}

/** Re-exported for the construct: the reserved argument the library's targets receive the token in. */
export { CALLER_TOKEN_ARGUMENT };
