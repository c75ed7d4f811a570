/**
 * Reason codes of the three-legged OAuth (3LO) session binding, to be merged into the shared catalogue
 * (`lambda/shared/reason-codes.ts`). Like every reason code they carry no data from the request, so they are safe to
 * show to the user and to put in logs and metrics.
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** The codes this handler adds, each with what it means. */
export const OAuthBindingReasonCatalogue = {
  OAUTH_STATE_UNKNOWN: 'The callback carries a state that matches no pending authorization (never issued, or already removed).',
  OAUTH_USER_MISMATCH: 'The signed-in user is not the user who started the authorization.',
  OAUTH_SESSION_MISMATCH: 'The session of the callback is not the session recorded with its state.',
  OAUTH_BINDING_REPLAYED: 'The authorization was already completed once; a binding is single use.',
  OAUTH_BINDING_EXPIRED: 'The authorization was started ten minutes ago or more.',
  OAUTH_FLOW_FAILED: 'AgentCore Identity reported the authorization session as failed, or returned neither a token nor an authorization URL.',
} as const;

/** A reason code of the session binding. */
export type OAuthBindingReasonCode = keyof typeof OAuthBindingReasonCatalogue;

/** Every code the callback and the start of a flow can answer with: the shared catalogue plus the binding codes. */
export type CallbackReasonCode = ReasonCode | OAuthBindingReasonCode;

/** True when a string is one of the binding codes. */
export function isOAuthBindingReasonCode(value: unknown): value is OAuthBindingReasonCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(OAuthBindingReasonCatalogue, value);
}

/** True when a string is a code the handler may answer with. */
export function isCallbackReasonCode(value: unknown): value is CallbackReasonCode {
  return isReasonCode(value) || isOAuthBindingReasonCode(value);
}
