/**
 * Reason codes of the tool controls (Cedar authorization, argument validation, tool scanning and pinning) that are
 * not yet in the shared catalogue (`lambda/shared/reason-codes.ts`). They follow the catalogue's rules: safe to show
 * to a caller, no data from the request. To be merged into `ReasonCatalogue`; until then {@link ToolDecision}
 * accepts both sets.
 */
import { ReasonCode } from '../shared/reason-codes';

/** New codes, with their catalogue descriptions. */
export const ToolReasonCatalogue = {
  TOOL_UNKNOWN: 'The tool is not in the deployed tool registry; unknown tools are denied.',
  TOOL_POLICY_DENIED: 'The tool policy (Cedar) did not permit the call, or a forbid policy matched.',
  TOOL_POLICY_ERROR: 'The tool policy could not be evaluated without error; the call is denied.',
  TOOL_ARGUMENTS_INVALID: "The tool arguments do not match the tool's registered input schema.",
  TOOL_DEFINITION_REJECTED: 'The tool definition failed the tool scanner and was removed from the tool list.',
  TOOL_DEFINITION_MALFORMED: 'The tool definition is not a well-formed MCP tool and was removed from the tool list.',
  TOOL_PIN_MISMATCH: 'The tool definition differs from its pinned hash and was removed from the tool list.',
  TOOL_UNPINNED: 'The tool has no pin for its server and was removed from the tool list.',
  TOOL_NAME_COLLISION: 'Two tools in the list share a name (or a look-alike name); all of them were removed.',
} as const;

/** A code of {@link ToolReasonCatalogue}. */
export type ToolReasonCode = keyof typeof ToolReasonCatalogue;

/** The codes, as a list (for the catalogue merge and for tests). */
export const TOOL_REASON_CODES: readonly ToolReasonCode[] = Object.freeze(Object.keys(ToolReasonCatalogue) as ToolReasonCode[]);

/** A reason code of the shared catalogue or of {@link ToolReasonCatalogue}. */
export type AnyReasonCode = ReasonCode | ToolReasonCode;

/** The tool controls' decision: the shape of the shared `Decision` (allow or deny), with the tool codes allowed. */
export type ToolDecision =
  | { readonly outcome: 'ALLOW'; readonly reasonCode: AnyReasonCode; readonly determiningPolicies?: readonly string[] }
  | { readonly outcome: 'DENY'; readonly reasonCode: AnyReasonCode; readonly detail?: string; readonly determiningPolicies?: readonly string[] };

/** A frozen allow. */
export function toolAllow(determiningPolicies?: readonly string[]): ToolDecision {
  return Object.freeze(
    determiningPolicies === undefined
      ? { outcome: 'ALLOW' as const, reasonCode: 'ALLOWED' as const }
      : { outcome: 'ALLOW' as const, reasonCode: 'ALLOWED' as const, determiningPolicies: Object.freeze([...determiningPolicies]) },
  );
}

/** A frozen deny; `detail` is for logs only and never shown to the caller. */
export function toolDeny(reasonCode: AnyReasonCode, detail?: string, determiningPolicies?: readonly string[]): ToolDecision {
  const out: { outcome: 'DENY'; reasonCode: AnyReasonCode; detail?: string; determiningPolicies?: readonly string[] } = {
    outcome: 'DENY',
    reasonCode,
  };
  if (detail !== undefined) out.detail = detail;
  if (determiningPolicies !== undefined) out.determiningPolicies = Object.freeze([...determiningPolicies]);
  return Object.freeze(out);
}
