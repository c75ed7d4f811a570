/**
 * Reason codes the knowledge retriever and the metadata check need beyond the shared catalogue. Until they are added
 * to `lambda/shared/reason-codes.ts`, decisions carry the catalogued fallback code and the specific code travels in
 * the decision line's `knowledgeReason` field; once catalogued, the specific code is used directly.
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** The new codes, their meaning, and the catalogued code used until they exist there. */
export const KnowledgeReasonCatalogue = {
  KNOWLEDGE_NO_USABLE_CLAIMS: {
    description: 'The verified identity carries nothing the retrieval can be filtered or authorized with; the caller gets no results.',
    fallback: 'IDENTITY_CLAIMS_INVALID',
  },
  KNOWLEDGE_TOO_MANY_VALUES: {
    description: 'An identity condition would need more values (groups, list claim entries) than the policy allows; denied, never truncated.',
    fallback: 'IDENTITY_CLAIMS_INVALID',
  },
  KNOWLEDGE_ROUTE_DENIED: {
    description: 'No knowledge base is routed for the verified identity (unknown group or subject).',
    fallback: 'IDENTITY_CLAIMS_INVALID',
  },
  KNOWLEDGE_FILTER_REJECTED: {
    description: 'The caller-supplied narrowing filter broke the filter grammar.',
    fallback: 'MALFORMED_REQUEST',
  },
  KNOWLEDGE_UNKNOWN_TOOL: {
    description: 'The gateway asked for a tool this target does not serve.',
    fallback: 'MALFORMED_REQUEST',
  },
  KNOWLEDGE_PARTIAL: {
    description: 'Allowed, but some chunks were dropped because their authorization failed (a fault); the answer is partial.',
    fallback: 'ALLOWED',
  },
  METADATA_VALID: {
    description: 'The document and its metadata sidecar satisfy the metadata contract; both were published to the indexed prefix.',
    fallback: 'ALLOWED',
  },
  METADATA_MISSING: {
    description: 'The document has no metadata sidecar; it stays outside the indexed prefix, flagged, until one arrives.',
    fallback: 'MALFORMED_REQUEST',
  },
  METADATA_INVALID: {
    description: 'The metadata sidecar violates the metadata contract; the document was quarantined and unpublished.',
    fallback: 'MALFORMED_REQUEST',
  },
} as const satisfies Record<string, { description: string; fallback: ReasonCode }>;

/** A code of {@link KnowledgeReasonCatalogue}. */
export type KnowledgeReason = keyof typeof KnowledgeReasonCatalogue;

/** The catalogued code to put on a decision: the specific code once the shared catalogue has it, else its fallback. */
export function reasonFor(code: KnowledgeReason): ReasonCode {
  return isReasonCode(code) ? code : KnowledgeReasonCatalogue[code].fallback;
}
