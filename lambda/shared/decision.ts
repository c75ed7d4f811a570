import { DecisionOutcome } from './log-contract';
import { isReasonCode, ReasonCode } from './reason-codes';

/** The control allowed the request. */
export interface AllowDecision {
  readonly outcome: typeof DecisionOutcome.ALLOW;
  readonly reasonCode: ReasonCode;
}

/** The control denied the request; `reasonCode` is safe to show, `detail` is for logs only. */
export interface DenyDecision {
  readonly outcome: typeof DecisionOutcome.DENY;
  readonly reasonCode: ReasonCode;
  readonly detail?: string;
}

/** The control has nothing to say about this request. */
export interface NotApplicableDecision {
  readonly outcome: typeof DecisionOutcome.NOT_APPLICABLE;
  readonly reasonCode: ReasonCode;
}

/** The three-way result of every control, in the manner of cdk-nag's compliance result. */
export type Decision = AllowDecision | DenyDecision | NotApplicableDecision;

/** An allow decision (frozen). */
export function allow(reasonCode: ReasonCode = 'ALLOWED'): AllowDecision {
  return Object.freeze({ outcome: DecisionOutcome.ALLOW, reasonCode });
}

/** A deny decision (frozen); `detail` is for logs only and never shown to the caller. */
export function deny(reasonCode: ReasonCode, detail?: string): DenyDecision {
  return Object.freeze(
    detail === undefined ? { outcome: DecisionOutcome.DENY, reasonCode } : { outcome: DecisionOutcome.DENY, reasonCode, detail },
  );
}

/** A not-applicable decision (frozen). */
export function notApplicable(reasonCode: ReasonCode = 'NOT_APPLICABLE'): NotApplicableDecision {
  return Object.freeze({ outcome: DecisionOutcome.NOT_APPLICABLE, reasonCode });
}

export function isAllow(d: Decision): d is AllowDecision {
  return d.outcome === DecisionOutcome.ALLOW;
}

export function isDeny(d: Decision): d is DenyDecision {
  return d.outcome === DecisionOutcome.DENY;
}

/**
 * Reads an untrusted value as a Decision: a fresh frozen copy when it has a known outcome, a catalogued reason code
 * and (for a deny) an optional string detail, otherwise `undefined`. Each property is read once, so a getter or
 * proxy cannot show one value to the check and another to the caller. Never throws.
 */
export function toDecision(value: unknown): Decision | undefined {
  try {
    if (typeof value !== 'object' || value === null) return undefined;
    const { outcome, reasonCode } = value as { outcome?: unknown; reasonCode?: unknown };
    if (!isReasonCode(reasonCode)) return undefined;
    switch (outcome) {
      case DecisionOutcome.ALLOW:
        return allow(reasonCode);
      case DecisionOutcome.NOT_APPLICABLE:
        return notApplicable(reasonCode);
      case DecisionOutcome.DENY: {
        const detail = (value as { detail?: unknown }).detail;
        if (detail !== undefined && typeof detail !== 'string') return undefined;
        return deny(reasonCode, detail);
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** True when a value has the shape of a Decision (see {@link toDecision}). */
export function isDecision(value: unknown): value is Decision {
  return toDecision(value) !== undefined;
}
