/**
 * How the agent loop treats reason codes. Every code it returns or logs is a code of the shared catalogue
 * (`lambda/shared/reason-codes.ts`), its own included (`TOOL_NOT_ALLOWED`, `TURN_LIMIT`, ...).
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** The shape of every reason code: upper-case letters, digits and underscores, 2 to 64 characters. */
export const SAFE_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** True when a value has the shape of a reason code (it cannot carry request data). */
export function isSafeCode(value: unknown): value is string {
  return typeof value === 'string' && SAFE_CODE.test(value);
}

/**
 * The code a hook function, a local tool or the gateway denied with, as the loop uses it: a catalogued code as is;
 * a well-formed code of its own that the catalogue does not have (for example `OUT_OF_HOURS`) as `otherwise`
 * (`HOOK_DENIED` or `TOOL_DENIED`), with the code named in the detail for operators. Undefined for anything that
 * is not a code at all.
 */
export function deniedWith(value: unknown, otherwise: 'HOOK_DENIED' | 'TOOL_DENIED'): { readonly reasonCode: ReasonCode; readonly detail?: string } | undefined {
  if (isReasonCode(value)) return { reasonCode: value };
  return isSafeCode(value) ? { reasonCode: otherwise, detail: `denied with its own code ${value}` } : undefined;
}

/** The two codes with which a gateway (or a tool) says a human must approve the exact call first. */
export const APPROVAL_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['APPROVAL_REQUIRED', 'APPROVAL_PENDING']);

/**
 * Codes that mean a control could not decide (a fault) or that the caller's identity is no longer good: the loop
 * stops at once, runs nothing more, and returns a deny. Any other deny of a step is a policy or content decision
 * that the model is told about (a refused call, a withheld result).
 */
export function isStopCode(code: ReasonCode): boolean {
  return (
    code.startsWith('UPSTREAM_') ||
    code.startsWith('IDENTITY_') ||
    code === 'INTERNAL_ERROR' ||
    code === 'MISCONFIGURED'
  );
}
