/**
 * The agentic loop over Bedrock Converse, with every dependency injected (model call, tools, hooks, clock): no SDK,
 * no environment. The application executes tools, never the model: the model only proposes tool calls, and each
 * proposal passes the allowlist, the approval check and the customer's hooks before anything runs; each result is
 * screened before the model sees it, and the answer before the caller sees it.
 *
 *   prompt → onPrompt hooks (guardrail INPUT) → [ beforeModel → Converse → tool calls: beforeTool → run → afterTool
 *   (guardrail INPUT) ]* → onFinal hooks (guardrail OUTPUT) → answer
 *
 * Stops: a fault anywhere (model, guardrail, gateway, tool, hook) ends the invocation at once with DENIED and its
 * reason code, and nothing runs after it; an approval the gateway (or a local tool's marker) asks for ends it with
 * APPROVAL_REQUIRED rather than letting the model retry blindly; the turn, tool-call and context limits end it with
 * STOPPED. Nothing the caller receives is unscreened: an answer that passed the guardrail, or a fixed refusal.
 */
import { canonicalHash } from '../shared/canonical-json';
import { MalformedResponseError, classifyFault, describeFault } from '../shared/errors';
import { VerifiedIdentity } from '../shared/identity';
import { GuardrailLogAction } from '../shared/log-contract';
import { ReasonCode, isReasonCode } from '../shared/reason-codes';
import { AgentLimits, TOOL_NAME_PATTERN } from './config';
import {
  AgentHook,
  HookContext,
  HookRecord,
  LoopDecision,
  ModelCallView,
  ToolCall,
  ToolSource,
  loopAllow,
  loopDeny,
  runDecisionHooks,
  runTextHooks,
} from './hooks';
import { APPROVAL_CODES, isStopCode } from './reason-codes';

// ---------------------------------------------------------------------------------------------------------------
// Conversation shapes (the subset of Converse's Message that the loop writes and reads)
// ---------------------------------------------------------------------------------------------------------------

/** A content block of the conversation. */
export type Block =
  | { readonly text: string }
  | { readonly toolUse: { readonly toolUseId: string; readonly name: string; readonly input: unknown } }
  | { readonly toolResult: { readonly toolUseId: string; readonly content: ReadonlyArray<{ readonly text: string }>; readonly status?: 'success' | 'error' } }
  | { readonly reasoningContent: unknown };

/** A message of the conversation. */
export interface Message {
  readonly role: 'user' | 'assistant';
  readonly content: readonly Block[];
}

/** A tool spec as offered to the model. */
export interface ToolSpecView {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** The Converse request the loop builds (a `ConverseCommandInput`). */
export interface ConverseRequest {
  readonly modelId: string;
  readonly system: ReadonlyArray<{ readonly text: string }>;
  readonly messages: readonly Message[];
  readonly toolConfig?: { readonly tools: ReadonlyArray<{ readonly toolSpec: { readonly name: string; readonly description?: string; readonly inputSchema: { readonly json: unknown } } }> };
  readonly inferenceConfig: { readonly maxTokens: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------------------------

/** One allowlisted tool. */
export interface ToolCatalogEntry {
  readonly name: string;
  readonly source: Exclude<ToolSource, 'UNKNOWN'>;
  readonly requiresApproval: boolean;
}

/** What running a tool produced. Faults are not outcomes: the executor throws them. */
export type ToolOutcome =
  /** Tool output (untrusted: screened before the model sees it). `isError` marks a tool-level error result. */
  | { readonly kind: 'RESULT'; readonly text: string; readonly isError: boolean }
  /** The tool or the gateway refused the call (a policy decision): the model is told the code. */
  | { readonly kind: 'DENIED'; readonly reasonCode: ReasonCode; readonly detail?: string }
  /** A human must approve this exact call first: the loop stops. */
  | { readonly kind: 'APPROVAL'; readonly reasonCode: ReasonCode; readonly approvalId?: string };

/** Lists and runs the agent's tools for one caller. */
export interface ToolExecutor {
  /** Specs of the tools the executor can run (the loop keeps only allowlisted ones). Throws on a fault. */
  listTools(signal: AbortSignal): Promise<readonly ToolSpecView[]>;
  /** Runs one allowlisted call. Throws on a fault (the loop stops). */
  call(call: ToolCall, signal: AbortSignal): Promise<ToolOutcome>;
}

// ---------------------------------------------------------------------------------------------------------------
// Input, dependencies, result
// ---------------------------------------------------------------------------------------------------------------

/** One invocation. */
export interface AgentLoopInput {
  /** The caller, from a verified token (never from the prompt or the model). */
  readonly identity: VerifiedIdentity;
  readonly sessionId: string;
  readonly prompt: string;
  /** Start time, milliseconds since the epoch. */
  readonly now: number;
}

/** One decision the loop made, for the decision log. */
export interface LoopEvent {
  /** `agent-prompt`, `agent-model`, `agent-tool`, `agent-answer`. */
  readonly control: string;
  readonly decision: LoopDecision;
  readonly guardrailAction?: GuardrailLogAction;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/** What the loop needs. */
export interface AgentLoopDeps {
  readonly modelId: string;
  readonly systemPrompt: string;
  /** One Converse call; rejects with the SDK's error on any fault. */
  converse(request: ConverseRequest, signal: AbortSignal): Promise<unknown>;
  readonly tools: ToolExecutor;
  /** The allowlist. */
  readonly catalog: readonly ToolCatalogEntry[];
  /** In the order they run (see hooks.ts). */
  readonly hooks: readonly AgentHook[];
  readonly limits: AgentLimits;
  /** Milliseconds since the epoch. */
  clock(): number;
  /** Receives each decision; must not throw (a throw is ignored). */
  log?(event: LoopEvent): void;
  /** Aborted by the caller at its deadline. */
  readonly signal?: AbortSignal;
}

/** How an invocation ended. */
export type AgentLoopStatus = 'COMPLETED' | 'REFUSED' | 'APPROVAL_REQUIRED' | 'STOPPED' | 'DENIED';

/** The call that waits for a human approval. */
export interface PendingApproval {
  /** The tool's name. */
  readonly tool: string;
  readonly toolUseId: string;
  /** SHA-256 of the canonical JSON of the arguments (the approval binds the exact call). */
  readonly argumentsHash: string;
  /** The approval request's id, when the gateway gave one. */
  readonly approvalId?: string;
}

/** The end of an invocation. `answer` is set only for COMPLETED (screened) and REFUSED (a fixed refusal). */
export interface AgentLoopResult {
  readonly status: AgentLoopStatus;
  readonly reasonCode: ReasonCode;
  readonly answer?: string;
  readonly approval?: PendingApproval;
  /** Model turns used. */
  readonly turns: number;
  /** Tool calls that ran. */
  readonly toolCalls: number;
  /** For the log only, never for the caller. */
  readonly detail?: string;
}

/** The answer when the guardrail (or a hook) refuses the prompt or the answer: fixed text, nothing from the model. */
export const REFUSAL_ANSWER = "Sorry, I can't help with that request.";

/** What the model sees instead of a result that was withheld. */
export function withheldNotice(code: ReasonCode): string {
  return `Tool result withheld (${code}).`;
}

/** What the model sees of a tool result that is empty. */
export const EMPTY_RESULT = '(the tool returned no output)';

/** What the model sees for a call that was refused and did not run. */
export function refusedNotice(code: ReasonCode): string {
  return `Tool call refused (${code}); the tool did not run.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading Converse responses
// ---------------------------------------------------------------------------------------------------------------

/** A proposed tool call as the model wrote it. */
export interface ProposedToolUse {
  readonly toolUseId: string;
  readonly name: string;
  readonly input: unknown;
}

/** A Converse response, read and distrusted. */
export interface ModelTurn {
  readonly stopReason: string;
  /** The assistant message's blocks to keep in the conversation (text, toolUse, reasoningContent). */
  readonly content: readonly Block[];
  /** The text blocks joined. */
  readonly text: string;
  readonly toolUses: readonly ProposedToolUse[];
}

const STOP_REASONS = new Set([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'guardrail_intervened',
  'content_filtered',
  'malformed_model_output',
  'malformed_tool_use',
  'model_context_window_exceeded',
]);
const TOOL_USE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_BLOCKS = 128;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a Converse response; throws a {@link MalformedResponseError} for anything it cannot trust. */
export function readConverseResponse(raw: unknown): ModelTurn {
  if (!isPlainObject(raw)) throw new MalformedResponseError('Converse response is not an object');
  const stopReason = raw.stopReason;
  if (typeof stopReason !== 'string' || !STOP_REASONS.has(stopReason)) throw new MalformedResponseError('Converse response has an unknown stopReason');
  const output = raw.output;
  const message = isPlainObject(output) ? output.message : undefined;
  if (!isPlainObject(message) || message.role !== 'assistant' || !Array.isArray(message.content)) {
    throw new MalformedResponseError('Converse response has no assistant message');
  }
  if (message.content.length > MAX_BLOCKS) throw new MalformedResponseError('Converse response has too many content blocks');
  const content: Block[] = [];
  const texts: string[] = [];
  const toolUses: ProposedToolUse[] = [];
  const ids = new Set<string>();
  for (const block of message.content as unknown[]) {
    if (!isPlainObject(block)) throw new MalformedResponseError('Converse content block is not an object');
    if (typeof block.text === 'string') {
      texts.push(block.text);
      content.push({ text: block.text });
    } else if (block.toolUse !== undefined) {
      const tu = block.toolUse;
      if (!isPlainObject(tu) || typeof tu.toolUseId !== 'string' || !TOOL_USE_ID.test(tu.toolUseId) || typeof tu.name !== 'string' || tu.name.length > 256) {
        throw new MalformedResponseError('Converse toolUse block is malformed');
      }
      if (ids.has(tu.toolUseId)) throw new MalformedResponseError('Converse response repeats a toolUseId');
      ids.add(tu.toolUseId);
      toolUses.push({ toolUseId: tu.toolUseId, name: tu.name, input: tu.input });
      content.push({ toolUse: { toolUseId: tu.toolUseId, name: tu.name, input: tu.input ?? {} } });
    } else if (block.reasoningContent !== undefined) {
      // Kept for the model (some require their reasoning back with tool results); never returned to the caller.
      content.push({ reasoningContent: block.reasoningContent });
    }
    // Other kinds (citations, images, ...) are neither kept nor returned.
  }
  if (stopReason === 'tool_use' && toolUses.length === 0) throw new MalformedResponseError('Converse stopped for tool_use without a toolUse block');
  return { stopReason, content, text: texts.join('\n'), toolUses };
}

// ---------------------------------------------------------------------------------------------------------------
// Context window
// ---------------------------------------------------------------------------------------------------------------

/** Texts with which Bedrock models report an input that does not fit their context window (ValidationException). */
export const CONTEXT_OVERFLOW_MESSAGES: readonly string[] = [
  'input is too long for requested model',
  'input length and `max_tokens` exceed context limit',
  'too many total text bytes',
  'prompt is too long',
  'input tokens exceeded',
  'maximum context length',
];

/** True when a Converse error says the input does not fit the model's context window. */
export function isContextOverflowError(err: unknown): boolean {
  try {
    if (typeof err !== 'object' || err === null) return false;
    const { name, message } = err as { name?: unknown; message?: unknown };
    if (name !== 'ValidationException' || typeof message !== 'string') return false;
    const lower = message.toLowerCase();
    return CONTEXT_OVERFLOW_MESSAGES.some((m) => lower.includes(m));
  } catch {
    return false;
  }
}

/** Characters of a conversation as the request carries it (the loop's size estimate). */
export function conversationSize(messages: readonly Message[]): number {
  return JSON.stringify(messages).length;
}

/**
 * Drops the oldest complete tool-use/tool-result pairs (an assistant message and the user message with its results)
 * until `overhead + size ≤ budget`. The first user message (the prompt) and the latest pair are always kept, so no
 * toolResult is ever left without its toolUse and roles still alternate. Returns undefined when even that does not
 * fit. Pure and deterministic.
 */
export function trimConversation(messages: readonly Message[], budget: number, overhead: number): { messages: Message[]; dropped: number } | undefined {
  const out = [...messages];
  let dropped = 0;
  while (overhead + conversationSize(out) > budget) {
    if (out.length <= 3 || out[1].role !== 'assistant' || out[2].role !== 'user') return undefined;
    out.splice(1, 2);
    dropped++;
  }
  return { messages: out, dropped };
}

/** Every broken invariant of a conversation (empty when consistent): for tests and defensive checks. */
export function conversationProblems(messages: readonly Message[]): string[] {
  const problems: string[] = [];
  if (messages.length === 0 || messages[0].role !== 'user' || !messages[0].content.every((b) => 'text' in b)) problems.push('the first message must be the user prompt');
  for (let i = 1; i < messages.length; i++) {
    const m = messages[i];
    if (m.role !== (i % 2 === 1 ? 'assistant' : 'user')) problems.push(`message ${i} breaks the user/assistant alternation`);
    if (m.role === 'user') {
      const prev = messages[i - 1];
      const uses = prev.content.flatMap((b) => ('toolUse' in b ? [b.toolUse.toolUseId] : []));
      const results = m.content.flatMap((b) => ('toolResult' in b ? [b.toolResult.toolUseId] : []));
      if (results.length !== m.content.length) problems.push(`message ${i} must hold tool results only`);
      if (JSON.stringify([...uses].sort()) !== JSON.stringify([...results].sort())) problems.push(`message ${i} has tool results that do not match the tool uses before it`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------------------------------

const SAFE_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function logName(name: string): string {
  return SAFE_NAME.test(name) ? name : 'invalid-name';
}

function emit(deps: AgentLoopDeps, event: LoopEvent): void {
  try {
    deps.log?.(event);
  } catch {
    // The log is best effort here; the handler writes the final decision itself.
  }
}

function emitHookRecords(deps: AgentLoopDeps, control: string, records: readonly HookRecord[], fields: Record<string, string | number | boolean>): void {
  for (const r of records) {
    emit(deps, {
      control,
      decision: r.decision,
      ...(r.guardrailAction ? { guardrailAction: r.guardrailAction } : {}),
      fields: { ...fields, hook: r.hook, ...(r.findings !== undefined ? { findings: r.findings } : {}) },
    });
  }
}

function argumentsHash(input: unknown): string {
  try {
    return canonicalHash(input);
  } catch {
    return 'unhashable';
  }
}

class Stop extends Error {
  public constructor(public readonly result: Omit<AgentLoopResult, 'turns' | 'toolCalls'>) {
    super(result.status);
    this.name = 'Stop';
  }
}

function denied(reasonCode: ReasonCode, detail?: string): Stop {
  return new Stop({ status: 'DENIED', reasonCode, ...(detail !== undefined ? { detail } : {}) });
}

/** Deny or refuse, depending on whether the code is a fault (or identity) or a content/policy decision. */
function deniedOrRefused(reasonCode: ReasonCode, detail?: string): Stop {
  if (isStopCode(reasonCode)) return denied(reasonCode, detail);
  return new Stop({ status: 'REFUSED', reasonCode, answer: REFUSAL_ANSWER, ...(detail !== undefined ? { detail } : {}) });
}

/**
 * Runs one invocation to its end. Never throws: every fault becomes a DENIED result with the fault's reason code.
 * The caller should still run it under its own deadline (`deps.signal`).
 */
export async function runAgentLoop(input: AgentLoopInput, deps: AgentLoopDeps): Promise<AgentLoopResult> {
  const state = { turns: 0, toolCalls: 0 };
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await loop(input, deps, state, controller.signal);
    return { ...result, turns: state.turns, toolCalls: state.toolCalls };
  } catch (err) {
    if (err instanceof Stop) return { ...err.result, turns: state.turns, toolCalls: state.toolCalls };
    return { status: 'DENIED', reasonCode: classifyFault(err), detail: describeFault(err), turns: state.turns, toolCalls: state.toolCalls };
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

async function loop(input: AgentLoopInput, deps: AgentLoopDeps, state: { turns: number; toolCalls: number }, signal: AbortSignal): Promise<Omit<AgentLoopResult, 'turns' | 'toolCalls'>> {
  const { limits } = deps;
  const ctx = (): HookContext => ({ identity: input.identity, sessionId: input.sessionId, turn: state.turns, now: deps.clock(), signal });
  const catalog = new Map(deps.catalog.map((t) => [t.name, t]));

  // 1. The prompt: size, then hooks (the guardrail screens it as INPUT last).
  if (input.prompt.length > limits.maxPromptChars) throw deniedOrRefused('REQUEST_TOO_LARGE', 'prompt exceeds maxPromptChars');
  const prompt = await runTextHooks(deps.hooks, 'onPrompt', input.prompt, ctx());
  emitHookRecords(deps, 'agent-prompt', prompt.records, {});
  if (!prompt.ok) throw deniedOrRefused(prompt.reasonCode, prompt.detail);

  // 2. The tools offered: only allowlisted ones (a model asking for any other is refused anyway).
  let specs: ToolSpecView[] = [];
  if (catalog.size > 0) {
    try {
      specs = (await deps.tools.listTools(signal)).filter((s) => catalog.has(s.name));
    } catch (err) {
      throw denied(classifyFault(err), `tools/list: ${describeFault(err)}`);
    }
  }
  const toolConfig = specs.length > 0
    ? { tools: specs.map((s) => ({ toolSpec: { name: s.name, ...(s.description ? { description: s.description } : {}), inputSchema: { json: s.inputSchema } } })) }
    : undefined;
  const system = [{ text: deps.systemPrompt }];
  const overhead = JSON.stringify(system).length + (toolConfig ? JSON.stringify(toolConfig).length : 0);
  const withStatus = /(^|\.)anthropic\.claude/.test(deps.modelId);

  let messages: Message[] = [{ role: 'user', content: [{ text: prompt.value }] }];
  let budget = limits.maxContextChars;
  let overflowRetries = 0;

  const overflow = (detail: string): void => {
    overflowRetries++;
    if (overflowRetries > limits.maxOverflowRetries) throw new Stop({ status: 'STOPPED', reasonCode: 'CONTEXT_OVERFLOW', detail });
    // Deterministic: each retry aims a quarter below the size that did not fit.
    budget = Math.min(budget, Math.floor((overhead + conversationSize(messages)) * 0.75));
    emit(deps, { control: 'agent-model', decision: loopDeny('CONTEXT_OVERFLOW', detail), fields: { turn: state.turns, retry: overflowRetries } });
  };

  for (;;) {
    if (state.turns >= limits.maxTurns) throw new Stop({ status: 'STOPPED', reasonCode: 'TURN_LIMIT' });

    const trimmed = trimConversation(messages, budget, overhead);
    if (!trimmed) throw new Stop({ status: 'STOPPED', reasonCode: 'CONTEXT_OVERFLOW', detail: 'the prompt and the latest tool results alone exceed the context budget' });
    messages = trimmed.messages;

    const view: ModelCallView = { turn: state.turns + 1, messageCount: messages.length, estimatedChars: overhead + conversationSize(messages), toolNames: specs.map((s) => s.name) };
    const before = await runDecisionHooks(deps.hooks, 'beforeModel', view, ctx());
    emitHookRecords(deps, 'agent-model', before.records, { turn: view.turn });
    if (!before.ok) throw isStopCode(before.reasonCode) ? denied(before.reasonCode, before.detail) : new Stop({ status: 'STOPPED', reasonCode: before.reasonCode, detail: before.detail });

    if (signal.aborted) throw denied('UPSTREAM_TIMEOUT', 'the invocation ended before the model call');
    const request: ConverseRequest = {
      modelId: deps.modelId,
      system,
      messages,
      ...(toolConfig ? { toolConfig } : {}),
      inferenceConfig: { maxTokens: limits.maxOutputTokens },
    };
    let raw: unknown;
    try {
      raw = await deps.converse(request, signal);
    } catch (err) {
      if (isContextOverflowError(err)) {
        overflow('the model reported a context overflow');
        continue;
      }
      throw denied(classifyFault(err), `converse: ${describeFault(err)}`);
    }
    const turn = readConverseResponse(raw);
    if (turn.stopReason === 'model_context_window_exceeded') {
      overflow('the model stopped at its context window');
      continue;
    }
    state.turns++;
    emit(deps, { control: 'agent-model', decision: loopAllow(), fields: { turn: state.turns, stopReason: turn.stopReason, toolUses: turn.toolUses.length } });

    switch (turn.stopReason) {
      case 'guardrail_intervened':
      case 'content_filtered':
        throw new Stop({ status: 'REFUSED', reasonCode: 'GUARDRAIL_BLOCKED', answer: REFUSAL_ANSWER, detail: `model stopReason ${turn.stopReason}` });
      case 'malformed_model_output':
      case 'malformed_tool_use':
        throw denied('UPSTREAM_MALFORMED_RESPONSE', `model stopReason ${turn.stopReason}`);
      case 'max_tokens':
        throw new Stop({ status: 'STOPPED', reasonCode: 'MODEL_OUTPUT_INCOMPLETE' });
      default:
        break;
    }

    if (turn.toolUses.length === 0) return finish(turn.text, deps, ctx());

    const results = await runTools(turn.toolUses, catalog, input.identity, deps, state, ctx, signal, withStatus);
    messages = [...messages, { role: 'assistant', content: turn.content }, { role: 'user', content: results }];
  }
}

async function finish(text: string, deps: AgentLoopDeps, ctx: HookContext): Promise<Omit<AgentLoopResult, 'turns' | 'toolCalls'>> {
  if (text.length === 0) return { status: 'COMPLETED', reasonCode: 'ALLOWED', answer: '' };
  const final = await runTextHooks(deps.hooks, 'onFinal', text, ctx);
  emitHookRecords(deps, 'agent-answer', final.records, {});
  if (!final.ok) throw deniedOrRefused(final.reasonCode, final.detail);
  const masked = final.records.some((r) => r.guardrailAction === GuardrailLogAction.MASKED);
  return { status: 'COMPLETED', reasonCode: masked ? 'GUARDRAIL_MASKED' : 'ALLOWED', answer: final.value };
}

interface PlannedCall {
  readonly call: ToolCall;
  readonly index: number;
}

async function runTools(
  toolUses: readonly ProposedToolUse[],
  catalog: ReadonlyMap<string, ToolCatalogEntry>,
  identity: VerifiedIdentity,
  deps: AgentLoopDeps,
  state: { turns: number; toolCalls: number },
  ctx: () => HookContext,
  signal: AbortSignal,
  withStatus: boolean,
): Promise<Block[]> {
  const { limits } = deps;
  const texts: Array<{ text: string; error: boolean } | undefined> = new Array(toolUses.length).fill(undefined);
  const refuse = (i: number, name: string, code: ReasonCode, detail?: string): void => {
    texts[i] = { text: refusedNotice(code), error: true };
    emit(deps, { control: 'agent-tool', decision: loopDeny(code, detail), fields: { turn: state.turns, tool: logName(name), executed: false } });
  };

  // 1. Decide on every proposed call before any of them runs, so that an approval stop leaves the turn unexecuted.
  const runnable: PlannedCall[] = [];
  for (let i = 0; i < toolUses.length; i++) {
    const tu = toolUses[i];
    if (i >= limits.maxToolCallsPerTurn) {
      refuse(i, tu.name, 'TOOL_CALL_LIMIT', 'beyond maxToolCallsPerTurn');
      continue;
    }
    const entry = TOOL_NAME_PATTERN.test(tu.name) ? catalog.get(tu.name) : undefined;
    const call: ToolCall = Object.freeze({
      toolUseId: tu.toolUseId,
      name: tu.name,
      input: isPlainObject(tu.input) ? tu.input : {},
      source: entry?.source ?? 'UNKNOWN',
      requiresApproval: entry?.requiresApproval ?? false,
    });
    const hooks = await runDecisionHooks(deps.hooks, 'beforeTool', call, ctx());
    if (!hooks.ok) {
      if (APPROVAL_CODES.has(hooks.reasonCode)) {
        emit(deps, { control: 'agent-tool', decision: loopDeny(hooks.reasonCode, hooks.detail), fields: { turn: state.turns, tool: logName(call.name), hook: hooks.hook, executed: false } });
        throw new Stop({
          status: 'APPROVAL_REQUIRED',
          reasonCode: hooks.reasonCode,
          approval: { tool: call.name, toolUseId: call.toolUseId, argumentsHash: argumentsHash(call.input) },
        });
      }
      if (isStopCode(hooks.reasonCode)) throw denied(hooks.reasonCode, `hook ${hooks.hook}: ${hooks.detail ?? ''}`);
      refuse(i, call.name, hooks.reasonCode, `hook ${hooks.hook}: ${hooks.detail ?? 'denied'}`);
      continue;
    }
    // Defense in depth, whatever the hooks said: nothing outside the allowlist ever runs.
    if (!entry) {
      refuse(i, call.name, 'TOOL_NOT_ALLOWED', 'not in the catalog');
      continue;
    }
    if (!isPlainObject(tu.input)) {
      refuse(i, call.name, 'MALFORMED_REQUEST', 'tool input is not an object');
      continue;
    }
    runnable.push({ call, index: i });
  }

  // 2. Run: calls that need approval first (an approval stop then leaves the others unexecuted), in model order.
  const ordered = [...runnable.filter((p) => p.call.requiresApproval), ...runnable.filter((p) => !p.call.requiresApproval)];
  for (const { call, index } of ordered) {
    const fields = { turn: state.turns, tool: logName(call.name), source: call.source };
    if (signal.aborted) throw denied('UPSTREAM_TIMEOUT', 'the invocation ended before the tool could run');
    if (state.toolCalls >= limits.maxToolCalls) throw new Stop({ status: 'STOPPED', reasonCode: 'TOOL_CALL_LIMIT' });
    if (deps.clock() >= identity.expiresAt * 1000) throw denied('IDENTITY_EXPIRED', 'the caller token expired during the invocation');
    state.toolCalls++;
    let outcome: ToolOutcome;
    try {
      outcome = await deps.tools.call(call, signal);
    } catch (err) {
      throw denied(classifyFault(err), `tool ${logName(call.name)}: ${describeFault(err)}`);
    }
    if (outcome.kind === 'APPROVAL') {
      const code = isReasonCode(outcome.reasonCode) && APPROVAL_CODES.has(outcome.reasonCode) ? outcome.reasonCode : 'APPROVAL_REQUIRED';
      emit(deps, { control: 'agent-tool', decision: loopDeny(code), fields: { ...fields, executed: false } });
      throw new Stop({
        status: 'APPROVAL_REQUIRED',
        reasonCode: code,
        approval: {
          tool: call.name,
          toolUseId: call.toolUseId,
          argumentsHash: argumentsHash(call.input),
          ...(outcome.approvalId !== undefined ? { approvalId: outcome.approvalId } : {}),
        },
      });
    }
    if (outcome.kind === 'DENIED') {
      const code = isReasonCode(outcome.reasonCode) ? outcome.reasonCode : 'TOOL_DENIED';
      if (isStopCode(code)) throw denied(code, `tool ${logName(call.name)} answered ${code}`);
      texts[index] = { text: refusedNotice(code), error: true };
      emit(deps, { control: 'agent-tool', decision: loopDeny(code, outcome.detail), fields: { ...fields, executed: false } });
      continue;
    }
    if (outcome.kind !== 'RESULT' || typeof outcome.text !== 'string') throw denied('INTERNAL_ERROR', 'the tool executor returned an unknown outcome');
    emit(deps, { control: 'agent-tool', decision: loopAllow(), fields: { ...fields, executed: true, isError: outcome.isError } });
    if (outcome.text.length > limits.maxToolResultChars) {
      texts[index] = { text: withheldNotice('REQUEST_TOO_LARGE'), error: true };
      emit(deps, { control: 'agent-tool-result', decision: loopDeny('REQUEST_TOO_LARGE', 'tool result exceeds maxToolResultChars'), fields });
      continue;
    }
    // Bedrock refuses blank text blocks; an empty result becomes a fixed notice (screened like any result).
    const resultText = outcome.text.trim().length === 0 ? EMPTY_RESULT : outcome.text;
    const screened = await runTextHooks(deps.hooks, 'afterTool', resultText, ctx(), call);
    emitHookRecords(deps, 'agent-tool-result', screened.records, fields);
    if (!screened.ok) {
      if (isStopCode(screened.reasonCode)) throw denied(screened.reasonCode, `afterTool ${screened.hook}: ${screened.detail ?? ''}`);
      texts[index] = { text: withheldNotice(screened.reasonCode), error: true };
      continue;
    }
    texts[index] = { text: screened.value, error: outcome.isError };
  }

  return toolUses.map((tu, i) => {
    const t = texts[i] ?? { text: refusedNotice('INTERNAL_ERROR'), error: true };
    return { toolResult: { toolUseId: tu.toolUseId, content: [{ text: t.text }], ...(withStatus ? { status: t.error ? ('error' as const) : ('success' as const) } : {}) } };
  });
}
