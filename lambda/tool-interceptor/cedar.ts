/**
 * Tool-call authorization with Cedar (`@cedar-policy/cedar-wasm`).
 *
 * The schema is fixed (the interceptor builds the entities, so it defines their shape): a `User` carries only what a
 * verified token says, a `Tool` only what the deployer registered, and `invoke` is the one action. Policies are
 * validated against it in strict mode at synth time (`ToolPolicy`) and again once per container, then preparsed.
 *
 * Fail closed, always: an unknown tool, a request Cedar rejects, any evaluation error in any policy (Cedar itself
 * would skip an erroring forbid and could allow), any warning, an `allow` that names no determining policy, or an
 * answer of the wrong shape is a deny. Default deny and forbid-wins are Cedar's own semantics.
 */
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalHash, isWellFormedString, parseStrictJson, sha256Hex } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import type { VerifiedIdentity } from '../shared/identity';
import { RegisteredTool, ToolCapability, effectiveRisk, gatewayToolNameOf, riskLevel } from './registry';
import { AllowDecision, DenyDecision, allow, deny } from '../shared/decision';
import { ReasonCode } from '../shared/reason-codes';

/** A tool-policy decision: the shared allow or deny, with the ids of the policies that determined it (for the log). */
export type ToolDecision = (AllowDecision | DenyDecision) & { readonly determiningPolicies?: readonly string[] };

/** A frozen allow, with its determining policies. */
export function toolAllow(determiningPolicies?: readonly string[]): ToolDecision {
  return Object.freeze(determiningPolicies === undefined ? allow() : { ...allow(), determiningPolicies: Object.freeze([...determiningPolicies]) });
}

/** A frozen deny; `detail` is for logs only and never shown to the caller. */
export function toolDeny(reasonCode: ReasonCode, detail?: string, determiningPolicies?: readonly string[]): ToolDecision {
  const base = deny(reasonCode, detail);
  return Object.freeze(determiningPolicies === undefined ? base : { ...base, determiningPolicies: Object.freeze([...determiningPolicies]) });
}

/** The Cedar namespace of the tool policy schema. */
export const TOOL_POLICY_NAMESPACE = 'CdkAiDefense';

/**
 * The Cedar schema every tool policy is validated against (strict mode).
 *
 * - `User` (id: the token's `sub`), member of one `Group` per group in the token's groups claim. Attributes `sub`,
 *   `iss`, `groups`, `scopes`, optional `clientId`. Tags: the token's string-valued claims (`principal.hasTag("email")`).
 * - `Tool` (id: `<Target>___<tool>`): `name`, `target`, `risk` (`LOW` … `CRITICAL`), `riskLevel` (0 … 3), `owner`,
 *   `capabilities` (`SENSITIVE_DATA`, `UNTRUSTED_CONTENT`, `EXTERNAL_ACCESS`), `allowedGroups`.
 * - Action `invoke`, context: `approved` (an approval bound to this exact call was verified), `argumentsHash`
 *   (canonical SHA-256 of the arguments), `sessionCapabilities` (capabilities the session has already used).
 */
export const TOOL_POLICY_SCHEMA = `namespace ${TOOL_POLICY_NAMESPACE} {
  entity Group;
  entity User in [Group] = {
    "sub": String,
    "iss": String,
    "groups": Set<String>,
    "scopes": Set<String>,
    "clientId"?: String,
  } tags String;
  entity Tool = {
    "name": String,
    "target": String,
    "risk": String,
    "riskLevel": Long,
    "owner": String,
    "capabilities": Set<String>,
    "allowedGroups": Set<String>,
  };
  action "invoke" appliesTo {
    principal: [User],
    resource: [Tool],
    context: {
      "approved": Bool,
      "argumentsHash": String,
      "sessionCapabilities": Set<String>,
    }
  };
}
`;

const NS = TOOL_POLICY_NAMESPACE;
const SCOPE = `principal is ${NS}::User, action == ${NS}::Action::"invoke", resource is ${NS}::Tool`;

/**
 * The default policy set:
 * - LOW and MEDIUM tools: permitted to users in at least one of the tool's allowed groups;
 * - HIGH and CRITICAL tools: permitted to those users only with an approval of the exact call, forbidden without;
 * - CRITICAL tools: forbidden once the session has taken in untrusted content, approval or not;
 * - any call that would give the session all three trifecta capabilities (sensitive data, untrusted content,
 *   external access): forbidden without an approval.
 * Everything else is denied (Cedar's default deny); a tool with no allowed groups is callable by nobody.
 */
export const DEFAULT_TOOL_POLICIES = `@id("permit-low-medium-to-allowed-groups")
permit (${SCOPE})
when { resource.riskLevel <= 1 && principal.groups.containsAny(resource.allowedGroups) };

@id("permit-high-critical-with-approval-to-allowed-groups")
permit (${SCOPE})
when { resource.riskLevel >= 2 && context.approved && principal.groups.containsAny(resource.allowedGroups) };

@id("forbid-high-critical-without-approval")
forbid (${SCOPE})
when { resource.riskLevel >= 2 }
unless { context.approved };

@id("forbid-critical-after-untrusted-content")
forbid (${SCOPE})
when { resource.riskLevel >= 3 && context.sessionCapabilities.contains("UNTRUSTED_CONTENT") };

@id("forbid-lethal-trifecta-without-approval")
forbid (${SCOPE})
when {
  (context.sessionCapabilities.contains("SENSITIVE_DATA") || resource.capabilities.contains("SENSITIVE_DATA")) &&
  (context.sessionCapabilities.contains("UNTRUSTED_CONTENT") || resource.capabilities.contains("UNTRUSTED_CONTENT")) &&
  (context.sessionCapabilities.contains("EXTERNAL_ACCESS") || resource.capabilities.contains("EXTERNAL_ACCESS"))
}
unless { context.approved };
`;

/** The subset of `@cedar-policy/cedar-wasm` this module uses (injectable for tests). */
export type CedarEngine = Pick<
  typeof CedarWasm,
  'validate' | 'policySetTextToParts' | 'policyToJson' | 'preparsePolicySet' | 'preparseSchema' | 'statefulIsAuthorized'
>;

let defaultEngine: CedarEngine | undefined;

/** The real engine, loaded on first use (the wasm module costs ~40 ms to load; importing this file costs nothing). */
export function cedarEngine(): CedarEngine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  defaultEngine ??= require('@cedar-policy/cedar-wasm/nodejs') as CedarEngine;
  return defaultEngine;
}

/** A policy set with ids: `@id("…")` annotations where present, `policy<N>` otherwise. */
export interface IdentifiedPolicies {
  readonly ids: readonly string[];
  readonly byId: Readonly<Record<string, string>>;
}

const MAX_POLICY_TEXT = 200_000;
const POLICY_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

function messagesOf(errors: unknown): string[] {
  if (!Array.isArray(errors)) return ['(unreadable diagnostics)'];
  return errors.map((e) => {
    const m = e && typeof e === 'object' ? (e as { message?: unknown; help?: unknown }) : {};
    const message = typeof m.message === 'string' ? m.message : '(no message)';
    return typeof m.help === 'string' && m.help ? `${message} (${m.help})` : message;
  });
}

/**
 * Splits policy text into its policies and names them by their `@id` annotation. Returns the problems (parse
 * errors, templates, duplicate or invalid ids) instead when there are any.
 */
export function identifyPolicies(policies: string, engine: CedarEngine = cedarEngine()): IdentifiedPolicies | string[] {
  if (typeof policies !== 'string' || policies.trim() === '') return ['the policy set is empty'];
  if (policies.length > MAX_POLICY_TEXT) return [`the policy set is longer than ${MAX_POLICY_TEXT} characters`];
  if (!isWellFormedString(policies)) return ['the policy text has a lone surrogate'];
  const parts = engine.policySetTextToParts(policies);
  if (parts.type !== 'success') return messagesOf((parts as { errors?: unknown }).errors).map((m) => `parse error: ${m}`);
  if (parts.policy_templates.length > 0) return ['policy templates are not supported in a tool policy'];
  if (parts.policies.length === 0) return ['the policy set has no policies'];
  const problems: string[] = [];
  const byId: Record<string, string> = Object.create(null);
  const ids: string[] = [];
  parts.policies.forEach((text, i) => {
    const json = engine.policyToJson(text);
    if (json.type !== 'success') {
      problems.push(...messagesOf((json as { errors?: unknown }).errors).map((m) => `parse error: ${m}`));
      return;
    }
    const annotated = json.json.annotations?.id;
    const id = annotated ?? `policy${i}`;
    if (!POLICY_ID.test(id)) problems.push(`policy id "${id}" must be 1 to 128 of A-Z a-z 0-9 _ . : -`);
    else if (Object.prototype.hasOwnProperty.call(byId, id)) problems.push(`policy id "${id}" is used twice`);
    else {
      byId[id] = text;
      ids.push(id);
    }
  });
  return problems.length > 0 ? problems : Object.freeze({ ids: Object.freeze(ids), byId: Object.freeze(byId) });
}

/**
 * Every problem with a policy set, validated against {@link TOOL_POLICY_SCHEMA} in strict mode: parse errors,
 * validation errors, and validation warnings (an impossible policy, a shadowed one) alike. Empty when valid.
 * Synth-time and cold-start check.
 */
export function toolPolicyProblems(policies: string, engine: CedarEngine = cedarEngine()): string[] {
  const identified = identifyPolicies(policies, engine);
  if (Array.isArray(identified)) return identified;
  const answer = engine.validate({
    schema: TOOL_POLICY_SCHEMA,
    policies: { staticPolicies: { ...identified.byId } },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type !== 'success') return messagesOf((answer as { errors?: unknown }).errors).map((m) => `validation failed: ${m}`);
  return [
    ...answer.validationErrors.map((e) => `policy "${e.policyId}": ${messagesOf([e.error])[0]}`),
    ...answer.validationWarnings.map((e) => `policy "${e.policyId}" (warning): ${messagesOf([e.error])[0]}`),
    ...messagesOf(answer.otherWarnings).map((m) => `warning: ${m}`),
  ];
}

/** What the caller's session and the approval gate say about this call (never from the model). */
export interface ToolCallContext {
  /**
   * An approval bound to this exact call (its canonical hash) was verified.
   * @default false
   */
  readonly approved?: boolean;
  /**
   * Capability labels of the tools the session has already called (session taint, for the lethal trifecta).
   * @default - none
   */
  readonly sessionCapabilities?: readonly ToolCapability[];
}

/** One tool call to authorize. */
export interface ToolCallRequest {
  /** The caller, from a verified token (`verifyIdentity`), never from arguments or headers. */
  readonly identity: VerifiedIdentity;
  /** The tool as the deployed registry describes it; `undefined` for a tool the registry does not know (deny). */
  readonly tool: RegisteredTool | undefined;
  /** The call's arguments; only their canonical hash reaches the policy (`context.argumentsHash`). */
  readonly args?: unknown;
  readonly context?: ToolCallContext;
  /** The server's annotations for the tool, if known: they may raise the tool's risk class, never lower it. */
  readonly annotations?: unknown;
}

/** Authorizes tool calls with one preparsed policy set. */
export interface ToolAuthorizer {
  /** SHA-256 of the policy text (for logs and cache keys). */
  readonly policyHash: string;
  /** Policy ids, in order. */
  readonly policyIds: readonly string[];
  /** Authorizes one call; never throws. */
  authorize(request: ToolCallRequest): ToolDecision;
}

/** Options of {@link createToolAuthorizer}. */
export interface ToolAuthorizerOptions {
  /**
   * The Cedar engine (tests inject faults with it). Authorizers built on the default engine are cached per
   * container and policy text, so the policies are parsed and validated once.
   * @default the real `@cedar-policy/cedar-wasm`
   */
  readonly engine?: CedarEngine;
}

const MAX_TAGS = 64;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 1024;
const MAX_GROUPS = 256;
const CAPABILITIES = new Set<string>(Object.values(ToolCapability));

function isStringList(value: unknown, max: number): value is readonly string[] {
  return Array.isArray(value) && value.length <= max && value.every((v) => typeof v === 'string' && isWellFormedString(v));
}

/** The principal entity and its groups, or a problem with the identity. */
function principalEntities(identity: VerifiedIdentity): CedarWasm.EntityJson[] | string {
  if (typeof identity !== 'object' || identity === null) return 'identity is not an object';
  const { subject, issuer, groups, scopes, clientId, claims } = identity;
  if (typeof subject !== 'string' || subject.length === 0 || !isWellFormedString(subject)) return 'identity has no valid subject';
  if (typeof issuer !== 'string' || issuer.length === 0 || !isWellFormedString(issuer)) return 'identity has no valid issuer';
  if (!isStringList(groups, MAX_GROUPS)) return 'identity groups are not a list of strings';
  if (!isStringList(scopes, MAX_GROUPS)) return 'identity scopes are not a list of strings';
  if (clientId !== undefined && (typeof clientId !== 'string' || !isWellFormedString(clientId))) return 'identity clientId is not a string';
  const tags: Record<string, string> = Object.create(null);
  if (typeof claims === 'object' && claims !== null) {
    let count = 0;
    for (const key of Object.keys(claims).sort()) {
      const value = (claims as Record<string, unknown>)[key];
      if (typeof value !== 'string' || key.length > MAX_TAG_KEY || value.length > MAX_TAG_VALUE || key === '__proto__') continue;
      if (!isWellFormedString(key) || !isWellFormedString(value)) continue;
      if (++count > MAX_TAGS) break;
      tags[key] = value;
    }
  }
  const uniqueGroups = [...new Set(groups)];
  const attrs: Record<string, CedarWasm.CedarValueJson> = { sub: subject, iss: issuer, groups: uniqueGroups, scopes: [...new Set(scopes)] };
  if (clientId !== undefined) attrs.clientId = clientId;
  return [
    {
      uid: { type: `${NS}::User`, id: subject },
      attrs,
      parents: uniqueGroups.map((g) => ({ type: `${NS}::Group`, id: g })),
      tags,
    },
    ...uniqueGroups.map((g) => ({ uid: { type: `${NS}::Group`, id: g }, attrs: {}, parents: [] })),
  ];
}

function toolEntity(tool: RegisteredTool, annotations: unknown): CedarWasm.EntityJson {
  const risk = effectiveRisk(tool.risk, annotations);
  return {
    uid: { type: `${NS}::Tool`, id: gatewayToolNameOf(tool) },
    attrs: {
      name: tool.name,
      target: tool.target,
      risk,
      riskLevel: riskLevel(risk),
      owner: tool.owner,
      capabilities: [...tool.capabilities],
      allowedGroups: [...tool.allowedGroups],
    },
    parents: [],
  };
}

function idsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Reads Cedar's answer; anything but a clean, well-formed decision is a deny. Exported for tests. */
export function interpretAnswer(answer: unknown): ToolDecision {
  try {
    if (typeof answer !== 'object' || answer === null) return toolDeny('TOOL_POLICY_ERROR', 'cedar returned no answer');
    const a = answer as { type?: unknown; response?: unknown; warnings?: unknown; errors?: unknown };
    if (a.type === 'failure') {
      const n = Array.isArray(a.errors) ? a.errors.length : 0;
      return toolDeny('TOOL_POLICY_ERROR', `cedar rejected the request (${n} error(s))`);
    }
    if (a.type !== 'success' || typeof a.response !== 'object' || a.response === null) {
      return toolDeny('TOOL_POLICY_ERROR', 'cedar answer is malformed');
    }
    if (!Array.isArray(a.warnings)) return toolDeny('TOOL_POLICY_ERROR', 'cedar answer is malformed (warnings)');
    if (a.warnings.length > 0) return toolDeny('TOOL_POLICY_ERROR', `cedar reported ${a.warnings.length} warning(s)`);
    const { decision, diagnostics } = a.response as { decision?: unknown; diagnostics?: unknown };
    if (typeof diagnostics !== 'object' || diagnostics === null) return toolDeny('TOOL_POLICY_ERROR', 'cedar answer is malformed (diagnostics)');
    const { reason, errors } = diagnostics as { reason?: unknown; errors?: unknown };
    const reasons = idsOf(reason);
    if (reasons === undefined || !Array.isArray(errors)) return toolDeny('TOOL_POLICY_ERROR', 'cedar answer is malformed (diagnostics)');
    if (errors.length > 0) {
      const errored = errors.map((e) => (e && typeof e === 'object' && typeof e.policyId === 'string' ? e.policyId : '?'));
      return toolDeny('TOOL_POLICY_ERROR', `policy evaluation errors in ${errored.join(',')}`, errored);
    }
    if (decision === 'allow') {
      if (reasons.length === 0) return toolDeny('TOOL_POLICY_ERROR', 'cedar allowed with no determining policy');
      return toolAllow(reasons);
    }
    if (decision === 'deny') {
      return toolDeny('TOOL_POLICY_DENIED', reasons.length > 0 ? `forbidden by ${reasons.join(',')}` : 'no policy permits the call', reasons);
    }
    return toolDeny('TOOL_POLICY_ERROR', 'cedar answer is malformed (decision)');
  } catch {
    return toolDeny('TOOL_POLICY_ERROR', 'cedar answer could not be read');
  }
}

const cache = new Map<string, ToolAuthorizer>();

/**
 * Validates a policy set (strict, against {@link TOOL_POLICY_SCHEMA}), preparses it and the schema, and returns an
 * authorizer. Throws a {@link ConfigurationError} (reason MISCONFIGURED) listing every problem. With the default
 * engine the result is cached per policy text, so a container parses its policies once.
 */
export function createToolAuthorizer(policies: string, options: ToolAuthorizerOptions = {}): ToolAuthorizer {
  const policyHash = typeof policies === 'string' && isWellFormedString(policies) ? sha256Hex(policies) : '';
  const useCache = options.engine === undefined && policyHash !== '';
  if (useCache) {
    const hit = cache.get(policyHash);
    if (hit) return hit;
  }
  const engine = options.engine ?? cedarEngine();
  const problems = toolPolicyProblems(policies, engine);
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `tool policy: ${p}`));
  const identified = identifyPolicies(policies, engine) as IdentifiedPolicies;
  const setId = `cad-tool-policies-${policyHash}`;
  const schemaName = `cad-tool-schema-${sha256Hex(TOOL_POLICY_SCHEMA).slice(0, 16)}`;
  const parsedSet = engine.preparsePolicySet(setId, { staticPolicies: { ...identified.byId } });
  const parsedSchema = engine.preparseSchema(schemaName, TOOL_POLICY_SCHEMA);
  if (parsedSet.type !== 'success' || parsedSchema.type !== 'success') {
    throw new ConfigurationError(['tool policy: cedar could not preparse the policies or the schema']);
  }

  const authorize = (request: ToolCallRequest): ToolDecision => {
    try {
      if (typeof request !== 'object' || request === null) return toolDeny('MALFORMED_REQUEST', 'no request');
      const { identity, tool, args, context, annotations } = request;
      if (tool === undefined || tool === null) return toolDeny('TOOL_UNKNOWN', 'the tool is not in the registry');
      const principal = principalEntities(identity);
      if (typeof principal === 'string') return toolDeny('IDENTITY_CLAIMS_INVALID', principal);
      let argumentsHash: string;
      try {
        argumentsHash = canonicalHash(args === undefined ? {} : args);
      } catch {
        return toolDeny('TOOL_ARGUMENTS_INVALID', 'arguments have no canonical JSON form');
      }
      const approved = context?.approved === true;
      const sessionCapabilities = context?.sessionCapabilities ?? [];
      if (!Array.isArray(sessionCapabilities) || sessionCapabilities.some((c) => !CAPABILITIES.has(c))) {
        return toolDeny('MALFORMED_REQUEST', 'session capabilities are not capability labels');
      }
      const answer = engine.statefulIsAuthorized({
        principal: { type: `${NS}::User`, id: identity.subject },
        action: { type: `${NS}::Action`, id: 'invoke' },
        resource: { type: `${NS}::Tool`, id: gatewayToolNameOf(tool) },
        context: { approved, argumentsHash, sessionCapabilities: [...new Set(sessionCapabilities)] },
        preparsedSchemaName: schemaName,
        validateRequest: true,
        preparsedPolicySetId: setId,
        entities: [...principal, toolEntity(tool, annotations)],
      });
      return interpretAnswer(answer);
    } catch {
      return toolDeny('TOOL_POLICY_ERROR', 'cedar evaluation threw');
    }
  };

  const authorizer: ToolAuthorizer = Object.freeze({ policyHash, policyIds: identified.ids, authorize });
  if (useCache) cache.set(policyHash, authorizer);
  return authorizer;
}

/**
 * `authorizer.authorize(request)` as a function: ALLOW only when the registry knows the tool, the identity is well
 * formed, and Cedar permits the call without any error or warning. Never throws.
 */
export function authorizeToolCall(authorizer: ToolAuthorizer, request: ToolCallRequest): ToolDecision {
  try {
    return authorizer.authorize(request);
  } catch {
    return toolDeny('TOOL_POLICY_ERROR', 'authorizer threw');
  }
}

/** The serialized tool policy (`ToolPolicy.toJson()`); the schema is always {@link TOOL_POLICY_SCHEMA}. */
export interface ToolPolicyDocument {
  readonly version: 1;
  readonly policies: string;
}

/**
 * Reads a serialized tool policy (strict JSON `{ "version": 1, "policies": "<cedar text>" }`) and returns the policy
 * text; {@link createToolAuthorizer} validates it. Throws a {@link ConfigurationError} for any other shape.
 */
export function parseToolPolicyDocument(text: string): string {
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (err) {
    throw new ConfigurationError([`tool policy is not valid JSON: ${(err as Error).message}`]);
  }
  const d = doc as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigurationError(['tool policy must be a JSON object']);
  const extra = Object.keys(d).filter((k) => k !== 'version' && k !== 'policies');
  if (d.version !== 1 || typeof d.policies !== 'string' || extra.length > 0) {
    throw new ConfigurationError(['tool policy must be { "version": 1, "policies": "<cedar text>" }']);
  }
  return d.policies;
}
