/**
 * Reason codes of the security-operations tools. They are all in the shared catalogue
 * (`lambda/shared/reason-codes.ts`, group "Security-operations tools"); decision lines and task failures carry the
 * exact code.
 */
import { ReasonCode } from '../shared/reason-codes';

/** The codes only the security-operations tools emit. */
export type SocReasonCode = Extract<ReasonCode, 'IP_NOT_PUBLIC' | 'IP_PROTECTED' | 'BLOCKLIST_FULL'>;

/** The codes only the security-operations tools emit, as a list (checked against the catalogue at compile time). */
export const SOC_REASON_CODES: readonly SocReasonCode[] = Object.freeze(['IP_NOT_PUBLIC', 'IP_PROTECTED', 'BLOCKLIST_FULL'] as const satisfies readonly ReasonCode[]);
