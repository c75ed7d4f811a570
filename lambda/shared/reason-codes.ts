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
  APPROVAL_EXPIRED: 'The approval, or the request for it, expired before it was used or decided; a new request is needed.',
  APPROVAL_REJECTED: 'An approver rejected this exact call; it stays rejected until the request expires.',
  APPROVAL_REPLAYED: 'The approval of this exact call was already used: an approval lets the call run once.',
  APPROVAL_HASH_MISMATCH: 'The approval hash does not match the exact call (a changed field, a stale view, or a tampered record).',
  APPROVAL_SELF_APPROVAL: 'The approver is the principal who requested the call; approver and requester must differ.',
  APPROVAL_CAP_REACHED: 'The principal already has the most pending approval requests allowed; wait for a decision or for expiry.',
  APPROVAL_NOT_APPROVER: 'The verified caller is not in the approver group.',
  APPROVAL_NOT_FOUND: 'No approval request exists with this id.',
  APPROVAL_NOT_PENDING: 'The approval request was already decided, or changed meanwhile; a decision is recorded once.',

  // Tools (registry, Cedar policy, arguments, scanning and pinning)
  TOOL_UNKNOWN: 'The tool is not in the deployed tool registry; unknown tools are denied.',
  TOOL_POLICY_DENIED: 'The tool policy (Cedar) did not permit the call, or a forbid policy matched.',
  TOOL_POLICY_ERROR: 'The tool policy could not be evaluated without error; the call is denied.',
  TOOL_ARGUMENTS_INVALID: "The tool arguments do not match the tool's registered input schema.",
  TOOL_DEFINITION_REJECTED: 'The tool definition failed the tool scanner and was removed from the tool list.',
  TOOL_DEFINITION_MALFORMED: 'The tool definition is not a well-formed MCP tool and was removed from the tool list.',
  TOOL_PIN_MISMATCH: 'The tool definition differs from its pinned hash and was removed from the tool list.',
  TOOL_UNPINNED: 'The tool has no pin for its server and was removed from the tool list.',
  TOOL_NAME_COLLISION: 'Two tools in the list share a name (or a look-alike name); all of them were removed.',

  // Knowledge retrieval and the ingestion check
  KNOWLEDGE_NO_USABLE_CLAIMS: 'The verified identity carries nothing the retrieval can be filtered or authorized with; the caller gets no results.',
  KNOWLEDGE_TOO_MANY_VALUES: 'An identity condition would need more values (groups, list claim entries) than the policy allows; denied, never truncated.',
  KNOWLEDGE_ROUTE_DENIED: 'No knowledge base is routed for the verified identity (unknown group or subject).',
  KNOWLEDGE_FILTER_REJECTED: 'The caller-supplied narrowing filter broke the filter grammar.',
  KNOWLEDGE_PARTIAL: 'Allowed, but some chunks were dropped because their authorization failed (a fault); the answer is partial.',
  METADATA_VALID: 'The document and its metadata sidecar satisfy the metadata contract; both were published to the indexed prefix.',
  METADATA_MISSING: 'The document has no metadata sidecar; it stays outside the indexed prefix, flagged, until one arrives.',
  METADATA_INVALID: 'The metadata sidecar violates the metadata contract; the document was quarantined and unpublished.',

  // Memory
  MEMORY_SPACE_NOT_PERMITTED: 'The caller asked for a memory space that its verified identity does not include.',
  MEMORY_SHARED_WRITE_DISABLED: 'Writes to shared memory spaces are not enabled by configuration.',
  MEMORY_RECORD_NOT_FOUND: "The memory record does not exist or is not in the caller's own memory.",
  MEMORY_WRITE_REJECTED: 'The memory service rejected the record that was to be written.',

  // Three-legged OAuth (session binding)
  OAUTH_STATE_UNKNOWN: 'The callback carries a state that matches no pending authorization (never issued, or already removed).',
  OAUTH_USER_MISMATCH: 'The signed-in user is not the user who started the authorization.',
  OAUTH_SESSION_MISMATCH: 'The session of the callback is not the session recorded with its state.',
  OAUTH_BINDING_REPLAYED: 'The authorization was already completed once; a binding is single use.',
  OAUTH_BINDING_EXPIRED: 'The authorization was started ten minutes ago or more.',
  OAUTH_FLOW_FAILED: 'AgentCore Identity reported the authorization session as failed, or returned neither a token nor an authorization URL.',

  // Agent loop
  TOOL_NOT_ALLOWED: "The model asked for a tool outside the agent's allowlist; the call was refused and nothing ran.",
  TOOL_DENIED: 'The tool (or the gateway in front of it) refused the call without a more precise reason code.',
  TURN_LIMIT: 'The agent used its maximum number of model turns without a final answer.',
  TOOL_CALL_LIMIT: 'The agent reached its maximum number of tool calls.',
  CONTEXT_OVERFLOW: 'The conversation no longer fits the model context after deterministic trimming.',
  MODEL_OUTPUT_INCOMPLETE: 'The model stopped before finishing its answer (maximum output tokens).',
  HOOK_DENIED: 'A customer hook denied the step without a more precise reason code.',

  // Security-operations tools
  IP_NOT_PUBLIC: 'The address is private, loopback, link-local, multicast, documentation or otherwise special-purpose; it is never blocked.',
  IP_PROTECTED: "The address lies in a range the deployer protected from blocking (the organisation's own egress, partners).",
  BLOCKLIST_FULL: 'The IP set holds the most addresses WAF allows; nothing was added.',
} as const;

/** A reason code from the catalogue. */
export type ReasonCode = keyof typeof ReasonCatalogue;

/** True when a string is a catalogued reason code. */
export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ReasonCatalogue, value);
}
