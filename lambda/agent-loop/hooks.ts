/**
 * Hooks of the agent loop: deterministic code that runs at fixed points of every invocation and can allow, deny or
 * (for texts) replace what passes. The model only proposes; hooks and the loop decide.
 *
 * Points: `onPrompt` (the user's prompt, before the first model call), `beforeModel` (each model call),
 * `beforeTool` (each proposed tool call), `afterTool` (each tool result, before the model sees it) and `onFinal`
 * (the answer, before the caller sees it). Hooks run in order and the first deny wins; a hook that throws denies with
 * the fault's reason code. Text hooks pass their (possibly replaced) text on to the next hook.
 *
 * Built-in hooks: {@link allowlistHook} (TOOL_NOT_ALLOWED), {@link localToolGroupsHook} (TOOL_POLICY_DENIED),
 * {@link approvalHook} (local tools marked
 * `requiresApproval` stop the loop with APPROVAL_REQUIRED), {@link guardrailHook} (the prompt and every tool result
 * screened as INPUT, the answer as OUTPUT) and {@link lambdaHook} (a customer's hook function). The handler orders
 * them: allowlist, groups, approval, customer hooks, guardrail last, so that whatever reaches the model or the caller has
 * been screened after every other hook.
 */
import { Decision, allow, deny, notApplicable } from '../shared/decision';
import { MalformedResponseError, classifyFault, describeFault } from '../shared/errors';
import { VerifiedIdentity } from '../shared/identity';
import { GuardrailLogAction } from '../shared/log-contract';
import { ReasonCode, isReasonCode } from '../shared/reason-codes';
import { HookPoint } from './config';
import { deniedWith } from './reason-codes';

/** A hook's decision: the shared three-way Decision, with a catalogued reason code. */
export type LoopDecision = Decision;

/** A frozen allow. */
export function loopAllow(reasonCode: ReasonCode = 'ALLOWED'): LoopDecision {
  return allow(reasonCode);
}

/** A frozen deny; `detail` is for logs only and never shown to the caller or the model. */
export function loopDeny(reasonCode: ReasonCode, detail?: string): LoopDecision {
  return deny(reasonCode, detail);
}

/** A frozen not-applicable: the hook has nothing to say. */
export function loopNotApplicable(): LoopDecision {
  return notApplicable();
}

/** Where a tool runs. */
export type ToolSource = 'GATEWAY' | 'LOCAL' | 'UNKNOWN';

/** A tool call the model proposed. */
export interface ToolCall {
  /** Converse's `toolUseId`. */
  readonly toolUseId: string;
  /** The tool the model named (not necessarily one it may call). */
  readonly name: string;
  /** The arguments the model wrote: untrusted. */
  readonly input: Readonly<Record<string, unknown>>;
  readonly source: ToolSource;
  readonly requiresApproval: boolean;
}

/** What every hook gets besides its subject. Identity comes from the verified token, never from the model. */
export interface HookContext {
  readonly identity: VerifiedIdentity;
  readonly sessionId: string;
  /** The model turn (1-based; 0 before the first model call). */
  readonly turn: number;
  /** Milliseconds since the epoch, from the loop's clock. */
  readonly now: number;
  /** Aborted when the invocation ends (deadline or fault). */
  readonly signal: AbortSignal;
}

/** A text hook's verdict: allow with the text to pass on (possibly replaced), or deny. */
export interface TextVerdict {
  readonly decision: LoopDecision;
  /** The text to pass on when allowed; unchanged when absent. */
  readonly text?: string;
  /** What a guardrail did, for the decision log. */
  readonly guardrailAction?: GuardrailLogAction;
  /** Number of guardrail filters that fired, for the decision log. */
  readonly findings?: number;
}

/** What `beforeModel` sees of a model call (sizes and names only). */
export interface ModelCallView {
  readonly turn: number;
  readonly messageCount: number;
  readonly estimatedChars: number;
  readonly toolNames: readonly string[];
}

/** A hook: implement any subset of the points. Methods may be sync or async; a throw denies. */
export interface AgentHook {
  /** Short name for the decision log (`[A-Za-z][A-Za-z0-9_.-]*`). */
  readonly name: string;
  onPrompt?(prompt: string, ctx: HookContext): TextVerdict | Promise<TextVerdict>;
  beforeModel?(view: ModelCallView, ctx: HookContext): LoopDecision | Promise<LoopDecision>;
  beforeTool?(call: ToolCall, ctx: HookContext): LoopDecision | Promise<LoopDecision>;
  afterTool?(call: ToolCall, result: string, ctx: HookContext): TextVerdict | Promise<TextVerdict>;
  onFinal?(answer: string, ctx: HookContext): TextVerdict | Promise<TextVerdict>;
}

/** The text points. */
export type TextPoint = 'onPrompt' | 'afterTool' | 'onFinal';

/** Result of running the hooks of one point. */
export type HookRun<T> =
  | { readonly ok: true; readonly value: T; readonly records: readonly HookRecord[] }
  | { readonly ok: false; readonly reasonCode: ReasonCode; readonly detail?: string; readonly hook: string; readonly records: readonly HookRecord[] };

/** What one hook did, for the decision log. */
export interface HookRecord {
  readonly hook: string;
  readonly decision: LoopDecision;
  readonly guardrailAction?: GuardrailLogAction;
  readonly findings?: number;
}

const OUTCOMES = new Set(['ALLOW', 'DENY', 'NOT_APPLICABLE']);

/**
 * Reads an untrusted hook result as a decision (a fresh frozen copy), or undefined. Never throws. A deny with a
 * well-formed code the catalogue does not have becomes HOOK_DENIED (see `deniedWith`); an allow with one, ALLOWED.
 */
export function toLoopDecision(value: unknown): LoopDecision | undefined {
  try {
    if (typeof value !== 'object' || value === null) return undefined;
    const { outcome, reasonCode, detail } = value as { outcome?: unknown; reasonCode?: unknown; detail?: unknown };
    const code = deniedWith(reasonCode, 'HOOK_DENIED');
    if (typeof outcome !== 'string' || !OUTCOMES.has(outcome) || code === undefined) return undefined;
    if (outcome === 'ALLOW') return loopAllow(isReasonCode(reasonCode) ? reasonCode : 'ALLOWED');
    if (outcome === 'NOT_APPLICABLE') return loopNotApplicable();
    if (detail !== undefined && typeof detail !== 'string') return undefined;
    const details = [code.detail, detail].filter((d): d is string => d !== undefined);
    return loopDeny(code.reasonCode, details.length > 0 ? details.join(': ') : undefined);
  } catch {
    return undefined;
  }
}

function faultDeny(err: unknown): LoopDecision {
  return loopDeny(classifyFault(err), describeFault(err));
}

/** Runs the decision hooks of one point in order; the first deny wins. A throw or a non-decision denies. */
export async function runDecisionHooks<S>(
  hooks: readonly AgentHook[],
  point: 'beforeModel' | 'beforeTool',
  subject: S,
  ctx: HookContext,
): Promise<HookRun<undefined>> {
  const records: HookRecord[] = [];
  for (const hook of hooks) {
    const fn = hook[point] as ((s: S, c: HookContext) => LoopDecision | Promise<LoopDecision>) | undefined;
    if (typeof fn !== 'function') continue;
    let decision: LoopDecision;
    try {
      decision = toLoopDecision(await fn.call(hook, subject, ctx)) ?? loopDeny('INTERNAL_ERROR', `hook ${hook.name} returned a value that is not a decision`);
    } catch (err) {
      decision = faultDeny(err);
    }
    records.push({ hook: hook.name, decision });
    if (decision.outcome === 'DENY') return { ok: false, reasonCode: decision.reasonCode, detail: decision.detail, hook: hook.name, records };
  }
  return { ok: true, value: undefined, records };
}

/**
 * Runs the text hooks of one point in order, each on the previous one's text; the first deny wins. A throw, a
 * non-verdict, or an allow whose replacement is not a string denies.
 */
export async function runTextHooks(
  hooks: readonly AgentHook[],
  point: TextPoint,
  text: string,
  ctx: HookContext,
  call?: ToolCall,
): Promise<HookRun<string>> {
  const records: HookRecord[] = [];
  let current = text;
  for (const hook of hooks) {
    const fn = hook[point];
    if (typeof fn !== 'function') continue;
    let verdict: TextVerdict | undefined;
    try {
      const raw = point === 'afterTool' ? await hook.afterTool!(call as ToolCall, current, ctx) : await (fn as (t: string, c: HookContext) => TextVerdict | Promise<TextVerdict>).call(hook, current, ctx);
      verdict = typeof raw === 'object' && raw !== null ? raw : undefined;
    } catch (err) {
      const decision = faultDeny(err);
      records.push({ hook: hook.name, decision });
      return { ok: false, reasonCode: decision.reasonCode, detail: decision.outcome === 'DENY' ? decision.detail : undefined, hook: hook.name, records };
    }
    const decision = toLoopDecision(verdict?.decision) ?? loopDeny('INTERNAL_ERROR', `hook ${hook.name} returned a value that is not a verdict`);
    const replaced = verdict?.text;
    const bad = decision.outcome !== 'DENY' && replaced !== undefined && typeof replaced !== 'string';
    const final = bad ? loopDeny('INTERNAL_ERROR', `hook ${hook.name} replaced the text with a non-string`) : decision;
    records.push({ hook: hook.name, decision: final, guardrailAction: verdict?.guardrailAction, findings: verdict?.findings });
    if (final.outcome === 'DENY') return { ok: false, reasonCode: final.reasonCode, detail: final.detail, hook: hook.name, records };
    if (typeof replaced === 'string') current = replaced;
  }
  return { ok: true, value: current, records };
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in hooks
// ---------------------------------------------------------------------------------------------------------------

/** Denies (TOOL_NOT_ALLOWED) every call to a tool that is not in the agent's allowlist. */
export function allowlistHook(allowed: ReadonlySet<string>): AgentHook {
  return {
    name: 'allowlist',
    beforeTool: (call) => (allowed.has(call.name) ? loopAllow() : loopDeny('TOOL_NOT_ALLOWED', 'the tool is not in the agent allowlist')),
  };
}

/**
 * Authorizes local tools by the caller's verified groups: a tool with a group list may be called only by a caller
 * whose groups claim holds one of the exact names (TOOL_POLICY_DENIED otherwise). Gateway tools are not applicable
 * here: the gateway's own policy (Cedar) authorizes them.
 */
export function localToolGroupsHook(allowedGroups: ReadonlyMap<string, readonly string[]>): AgentHook {
  return {
    name: 'local-tool-groups',
    beforeTool: (call, ctx) => {
      const groups = call.source === 'LOCAL' ? allowedGroups.get(call.name) : undefined;
      if (groups === undefined) return loopNotApplicable();
      return ctx.identity.groups.some((g) => groups.includes(g)) ? loopAllow() : loopDeny('TOOL_POLICY_DENIED', 'the caller is in none of the groups of the tool');
    },
  };
}

/**
 * Stops the loop (APPROVAL_REQUIRED) before a local tool marked `requiresApproval` runs: the loop has no approval
 * gate of its own. Gateway tools are not applicable here: the gateway's approval gate decides on the exact call.
 */
export function approvalHook(): AgentHook {
  return {
    name: 'approval',
    beforeTool: (call) =>
      call.source === 'LOCAL' && call.requiresApproval ? loopDeny('APPROVAL_REQUIRED', 'local tool requires approval') : loopNotApplicable(),
  };
}

/** The result of screening one text with the guardrail (the enforcer's fail-closed screening). */
export interface ScreenResult {
  readonly action: 'ALLOWED' | 'MASKED' | 'BLOCKED';
  readonly reasonCode: ReasonCode;
  /** The screened (ALLOWED) or masked (MASKED) text; absent when BLOCKED. */
  readonly text?: string;
  readonly findings: number;
  /** Fault detail for the log. */
  readonly detail?: string;
}

/** Screens one text as INPUT or OUTPUT. Must not throw for a fault: it blocks with the fault's code. */
export type ScreenText = (text: string, source: 'INPUT' | 'OUTPUT') => Promise<ScreenResult>;

function screenVerdict(result: ScreenResult): TextVerdict {
  if (result.action === 'BLOCKED') {
    return { decision: loopDeny(result.reasonCode, result.detail), guardrailAction: GuardrailLogAction.BLOCKED, findings: result.findings };
  }
  if (typeof result.text !== 'string') {
    return { decision: loopDeny('INTERNAL_ERROR', 'screening allowed text but returned none'), guardrailAction: GuardrailLogAction.BLOCKED, findings: result.findings };
  }
  const masked = result.action === 'MASKED';
  return {
    decision: loopAllow(masked ? 'GUARDRAIL_MASKED' : 'ALLOWED'),
    text: result.text,
    guardrailAction: masked ? GuardrailLogAction.MASKED : GuardrailLogAction.NONE,
    findings: result.findings,
  };
}

/**
 * The guardrail: the user's prompt and every tool result are screened as INPUT (they become model input, and the
 * prompt-attack filter runs on INPUT only: indirect prompt injection in tool results is caught here); the answer is
 * screened as OUTPUT. Blocked → deny with the guardrail's code; masked → the masked text passes on.
 */
export function guardrailHook(screen: ScreenText): AgentHook {
  return {
    name: 'guardrail',
    onPrompt: async (prompt) => screenVerdict(await screen(prompt, 'INPUT')),
    afterTool: async (_call, result) => screenVerdict(await screen(result, 'INPUT')),
    onFinal: async (answer) => screenVerdict(await screen(answer, 'OUTPUT')),
  };
}

/** What a local tool or hook function learns about the caller: verified claims only, never the token. */
export interface CallerView {
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  readonly clientId?: string;
}

/** The caller as local tools and hook functions receive it. */
export function callerView(identity: VerifiedIdentity): CallerView {
  return {
    issuer: identity.issuer,
    subject: identity.subject,
    groups: [...identity.groups],
    scopes: [...identity.scopes],
    ...(identity.clientId !== undefined ? { clientId: identity.clientId } : {}),
  };
}

/** Invokes a customer hook function with a payload and returns its parsed JSON answer; rejects on any fault. */
export type InvokeFunction = (payload: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/**
 * The event a customer hook function receives:
 * `{ hookPoint, sessionId, turn, caller: { issuer, subject, groups, scopes, clientId? }, tool?: { name, input }, text? }`
 * (`text` is the tool result for AFTER_TOOL and the answer for FINAL_ANSWER, both before the guardrail).
 * It answers `{ "outcome": "ALLOW" }` or `{ "outcome": "DENY", "reasonCode": "<CODE>" }` and nothing else.
 */
export function hookFunctionEvent(point: HookPoint, ctx: HookContext, extra: { tool?: ToolCall; text?: string }): Record<string, unknown> {
  return {
    hookPoint: point,
    sessionId: ctx.sessionId,
    turn: ctx.turn,
    caller: callerView(ctx.identity),
    ...(extra.tool ? { tool: { name: extra.tool.name, input: extra.tool.input } } : {}),
    ...(extra.text !== undefined ? { text: extra.text } : {}),
  };
}

/** Reads a hook function's answer strictly: ALLOW, or DENY with an optional code (see `deniedWith`). Throws when malformed. */
export function readHookAnswer(answer: unknown): LoopDecision {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new MalformedResponseError('hook answer is not a JSON object');
  const keys = Object.keys(answer);
  const { outcome, reasonCode } = answer as { outcome?: unknown; reasonCode?: unknown };
  if (outcome === 'ALLOW' && keys.every((k) => k === 'outcome')) return loopAllow();
  if (outcome === 'DENY' && keys.every((k) => k === 'outcome' || k === 'reasonCode')) {
    if (reasonCode === undefined) return loopDeny('HOOK_DENIED', 'hook function denied');
    const code = deniedWith(reasonCode, 'HOOK_DENIED');
    if (code !== undefined) return loopDeny(code.reasonCode, `hook function ${code.detail ?? 'denied'}`);
  }
  throw new MalformedResponseError('hook answer must be {"outcome":"ALLOW"} or {"outcome":"DENY","reasonCode":"<CODE>"}');
}

/** A customer hook function as a hook: it may allow or deny, never replace text (the guardrail screens after it). */
export function lambdaHook(point: HookPoint, name: string, invoke: InvokeFunction): AgentHook {
  const ask = async (ctx: HookContext, extra: { tool?: ToolCall; text?: string }): Promise<LoopDecision> =>
    readHookAnswer(await invoke(hookFunctionEvent(point, ctx, extra), ctx.signal));
  switch (point) {
    case HookPoint.BEFORE_TOOL:
      return { name, beforeTool: (call, ctx) => ask(ctx, { tool: call }) };
    case HookPoint.AFTER_TOOL:
      return { name, afterTool: async (call, result, ctx) => ({ decision: await ask(ctx, { tool: call, text: result }) }) };
    case HookPoint.FINAL_ANSWER:
      return { name, onFinal: async (answer, ctx) => ({ decision: await ask(ctx, { text: answer }) }) };
    default:
      throw new Error(`unknown hook point ${String(point)}`);
  }
}
