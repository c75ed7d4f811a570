/**
 * Reason codes the agent loop needs in addition to the shared catalogue (`lambda/shared/reason-codes.ts`). Like every
 * reason code they are safe to show to a caller: they carry no data from the request.
 *
 * Until they are merged into the shared catalogue, the loop returns them to its caller and logs the closest
 * catalogued code as `reasonCode`, with the precise one in the `agentReason` field (see {@link catalogueCodeFor}).
 * Codes passed through from the gateway or a local tool (for example `TOOL_POLICY_DENIED`) are handled the same way.
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** The loop's own codes, with their catalogue descriptions. */
export const AgentLoopReasons = {
  TOOL_NOT_ALLOWED: "The model asked for a tool outside the agent's allowlist; the call was refused and nothing ran.",
  TOOL_DENIED: 'The tool (or the gateway in front of it) refused the call without a more precise reason code.',
  TURN_LIMIT: 'The agent used its maximum number of model turns without a final answer.',
  TOOL_CALL_LIMIT: 'The agent reached its maximum number of tool calls.',
  CONTEXT_OVERFLOW: 'The conversation no longer fits the model context after deterministic trimming.',
  MODEL_OUTPUT_INCOMPLETE: 'The model stopped before finishing its answer (maximum output tokens).',
  HOOK_DENIED: 'A customer hook denied the step without a more precise reason code.',
} as const;

/** A code of {@link AgentLoopReasons}. */
export type AgentLoopReasonCode = keyof typeof AgentLoopReasons;

/** Every new code, as a list (for the catalogue merge and for tests). */
export const AGENT_LOOP_REASON_CODES: readonly AgentLoopReasonCode[] = Object.freeze(Object.keys(AgentLoopReasons) as AgentLoopReasonCode[]);

/**
 * A reason code as the loop reports it: catalogued, the loop's own, or a code passed through from the gateway or a
 * local tool. Always matches {@link SAFE_CODE}.
 */
export type AgentReasonCode = ReasonCode | AgentLoopReasonCode | (string & { readonly __externalCode?: never });

/** The shape of every reason code: upper-case letters, digits and underscores, 2 to 64 characters. */
export const SAFE_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** True when a value may be passed on as a reason code (it cannot carry request data). */
export function isSafeCode(value: unknown): value is string {
  return typeof value === 'string' && SAFE_CODE.test(value);
}

/** The two codes with which a gateway (or a tool) says a human must approve the exact call first. */
export const APPROVAL_CODES: ReadonlySet<string> = new Set(['APPROVAL_REQUIRED', 'APPROVAL_PENDING']);

/**
 * Codes that mean a control could not decide (a fault) or that the caller's identity is no longer good: the loop
 * stops at once, runs nothing more, and returns a deny. Any other deny of a step is a policy or content decision
 * that the model is told about (a refused call, a withheld result).
 */
export function isStopCode(code: string): boolean {
  return (
    code.startsWith('UPSTREAM_') ||
    code.startsWith('IDENTITY_') ||
    code === 'INTERNAL_ERROR' ||
    code === 'MISCONFIGURED'
  );
}

const CATALOGUE_FALLBACK: Record<AgentLoopReasonCode, ReasonCode> = {
  TOOL_NOT_ALLOWED: 'CALLER_CHOSE_PROTECTED_SETTING',
  TOOL_DENIED: 'CALLER_CHOSE_PROTECTED_SETTING',
  TURN_LIMIT: 'REQUEST_TOO_LARGE',
  TOOL_CALL_LIMIT: 'REQUEST_TOO_LARGE',
  CONTEXT_OVERFLOW: 'REQUEST_TOO_LARGE',
  MODEL_OUTPUT_INCOMPLETE: 'UPSTREAM_MALFORMED_RESPONSE',
  HOOK_DENIED: 'CALLER_CHOSE_PROTECTED_SETTING',
};

/** The code to log as `reasonCode`: the code itself once catalogued, a close catalogued code before. */
export function catalogueCodeFor(code: string): ReasonCode {
  if (isReasonCode(code)) return code;
  if (Object.prototype.hasOwnProperty.call(CATALOGUE_FALLBACK, code)) return CATALOGUE_FALLBACK[code as AgentLoopReasonCode];
  // A code passed through from the gateway or a tool (TOOL_POLICY_DENIED, TOOL_ARGUMENTS_INVALID, ...): a policy deny.
  return 'CALLER_CHOSE_PROTECTED_SETTING';
}
