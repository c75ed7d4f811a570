import { DecisionOutcome } from './log-contract';
import { ReasonCode } from './reason-codes';

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

export function allow(reasonCode: ReasonCode = 'ALLOWED'): AllowDecision {
  return { outcome: DecisionOutcome.ALLOW, reasonCode };
}

export function deny(reasonCode: ReasonCode, detail?: string): DenyDecision {
  return detail === undefined ? { outcome: DecisionOutcome.DENY, reasonCode } : { outcome: DecisionOutcome.DENY, reasonCode, detail };
}

export function notApplicable(reasonCode: ReasonCode = 'NOT_APPLICABLE'): NotApplicableDecision {
  return { outcome: DecisionOutcome.NOT_APPLICABLE, reasonCode };
}

export function isAllow(d: Decision): d is AllowDecision {
  return d.outcome === DecisionOutcome.ALLOW;
}

export function isDeny(d: Decision): d is DenyDecision {
  return d.outcome === DecisionOutcome.DENY;
}
