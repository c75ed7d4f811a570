/**
 * The catalogue of reason codes. Every deny (and every notable allow) names one of these; they are safe to show
 * to a caller and to put in logs and metrics, because they carry no data from the request.
 *
 * Codes are grouped by the control that emits them. Adding a code is compatible; renaming one breaks alarms and
 * dashboards that filter on it.
 */
export const ReasonCatalogue = {
  // Generic decision outcomes
  ALLOWED: 'The request satisfied every check of the control.',
  NOT_APPLICABLE: 'The control does not apply to this request (for example a method it does not inspect).',

  // Identity
  IDENTITY_MISSING: 'No bearer token was presented.',
  IDENTITY_INVALID: 'The bearer token failed verification (signature, algorithm, issuer, audience, client, token use).',
  IDENTITY_EXPIRED: 'The bearer token is expired or not yet valid.',
  IDENTITY_CLAIMS_INVALID: 'The verified token lacks a claim the control needs, or a claim has an invalid shape.',

  // Input and configuration
  MALFORMED_REQUEST: 'The request did not match the expected event shape.',
  REQUEST_TOO_LARGE: 'The request exceeds a hard size limit and is rejected, never truncated.',
  CALLER_CHOSE_PROTECTED_SETTING: 'The request tried to choose a setting that only configuration may set.',
  SMUGGLED_CHARACTERS: 'The text carries invisible characters (tags, variation selectors, zero-width, bidi controls).',
  MISCONFIGURED: 'The handler configuration is missing or invalid; the handler denies until it is fixed.',

  // Faults in a dependency (the five fault kinds)
  UPSTREAM_THROTTLED: 'A dependency throttled the call.',
  UPSTREAM_UNAVAILABLE: 'A dependency failed with a server error (5xx) or could not be reached.',
  UPSTREAM_TIMEOUT: 'A dependency did not answer in time.',
  UPSTREAM_ACCESS_DENIED: 'The handler itself was denied access to a dependency.',
  UPSTREAM_MALFORMED_RESPONSE: 'A dependency answered with a response the handler could not trust.',
  INTERNAL_ERROR: 'An unexpected error; the control failed closed.',

  // Guardrails
  GUARDRAIL_BLOCKED: 'The guardrail blocked the text.',
  GUARDRAIL_MASKED: 'The guardrail allowed the text with sensitive parts masked.',
  GUARDRAIL_PARTIAL_COVERAGE: 'The guardrail did not prove that it screened every character.',

  // Human approval
  APPROVAL_REQUIRED: 'The tool is high-risk and needs a human approval of this exact call before it runs.',
  APPROVAL_PENDING: 'An approval of this exact call was requested and no approver has decided yet.',
} as const;

/** A reason code from the catalogue. */
export type ReasonCode = keyof typeof ReasonCatalogue;

/** True when a string is a catalogued reason code. */
export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ReasonCatalogue, value);
}
