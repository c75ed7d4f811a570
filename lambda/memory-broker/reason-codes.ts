/**
 * Reason codes the memory broker needs in addition to the shared catalogue (`lambda/shared/reason-codes.ts`).
 * Like every reason code they are safe to show to a caller: they carry no data from the request.
 *
 * Until they are added to the shared catalogue, the broker returns them to the caller and logs the closest
 * catalogued code as `reasonCode` with the precise one in the `memoryReason` field (see {@link catalogueCodeFor}).
 */
import { ReasonCode, isReasonCode } from '../shared/reason-codes';

/** The broker's own codes, with their meaning. */
export const MemoryBrokerReasons = {
  MEMORY_SPACE_NOT_PERMITTED: 'The caller asked for a memory space that its verified identity does not include.',
  MEMORY_SHARED_WRITE_DISABLED: 'Writes to shared memory spaces are not enabled by configuration.',
  MEMORY_RECORD_NOT_FOUND: "The memory record does not exist or is not in the caller's own memory.",
  MEMORY_WRITE_REJECTED: 'The memory service rejected the record that was to be written.',
  UNKNOWN_TOOL: 'The call names a tool that the target does not serve.',
} as const;

/** A code of the broker: a catalogued one or one of {@link MemoryBrokerReasons}. */
export type BrokerReasonCode = ReasonCode | keyof typeof MemoryBrokerReasons;

/** The catalogued code logged for a broker code that the shared catalogue does not have yet. */
const CATALOGUE_FALLBACK: Record<keyof typeof MemoryBrokerReasons, ReasonCode> = {
  MEMORY_SPACE_NOT_PERMITTED: 'CALLER_CHOSE_PROTECTED_SETTING',
  MEMORY_SHARED_WRITE_DISABLED: 'CALLER_CHOSE_PROTECTED_SETTING',
  MEMORY_RECORD_NOT_FOUND: 'MALFORMED_REQUEST',
  MEMORY_WRITE_REJECTED: 'UPSTREAM_MALFORMED_RESPONSE',
  UNKNOWN_TOOL: 'MALFORMED_REQUEST',
};

/** The code to log as `reasonCode`: the code itself once catalogued, its fallback before. */
export function catalogueCodeFor(code: BrokerReasonCode): ReasonCode {
  if (isReasonCode(code)) return code;
  return CATALOGUE_FALLBACK[code as keyof typeof MemoryBrokerReasons] ?? 'INTERNAL_ERROR';
}
