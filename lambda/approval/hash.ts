/**
 * Approval hashing: what exactly an approval covers. Pure (no SDK, no environment, no clock).
 *
 * - The call digest identifies a call: the canonical (RFC 8785) hash of tool, tool pin, arguments, principal and
 *   session. It is the approval's id in the table, so the gate finds the approval of exactly this call and no other.
 * - The approval hash is what a human approves: the same fields plus the request's random nonce and its expiry.
 *   The approver echoes it with the decision; the gate recomputes it from the current call and the stored nonce and
 *   expiry before it lets the call run. Any change to any bound field gives another hash.
 *
 * Each hash carries its own domain string, so a digest of one kind can never be presented as the other.
 */
import { canonicalHash, canonicalize, isWellFormedString, sha256Hex } from '../shared/canonical-json';

/** Domain strings of the three hashes (changing one invalidates every stored approval). */
export const HashDomain = {
  CALL: 'cdk-ai-defense.approval-call.v1',
  APPROVAL: 'cdk-ai-defense.approval.v1',
  TASK: 'cdk-ai-defense.approval-task.v1',
} as const;

/**
 * The exact call an approval covers (the same shape as the tool interceptor's `ApprovalSubject`). Every field is
 * bound into the hashes.
 */
export interface BoundCall {
  /** Tool (or workflow action) name. */
  readonly tool: string;
  /** The tool's pin (SHA-256 of its definition) or `unpinned`; for workflow approvals, the state machine ARN. */
  readonly toolPin: string;
  /** The arguments (JSON data). */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The verified requesting principal, `<issuer>|<subject>`. */
  readonly principal: string;
  /** The session (MCP session, or the workflow execution). */
  readonly session: string;
}

/** Largest canonical form of the arguments accepted, in UTF-8 bytes (bigger calls are denied, never truncated). */
export const MAX_ARGUMENTS_BYTES = 64 * 1024;
/** Tool names: the gateway's `<Target>___<tool>` and MCP names fit. */
export const TOOL_PATTERN = /^[A-Za-z0-9_.-]{1,256}$/;
/** Tool pins: visible ASCII without spaces (a SHA-256 hex pin, `unpinned`, or a state machine ARN). */
export const TOOL_PIN_PATTERN = /^[\x21-\x7e]{1,512}$/;
/** Principals: `<issuer>|<subject>`, no control or format characters, at most 1,024 characters. */
export const PRINCIPAL_PATTERN = /^[^|\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,511}\|[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,512}$/u;
/** Sessions: 1 to 512 characters, no control or format characters. */
export const SESSION_PATTERN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,512}$/u;
/** Approval ids, nonces and hashes: SHA-256 (or 256 random bits) as lowercase hex. */
export const HEX256_PATTERN = /^[0-9a-f]{64}$/;

/** What is wrong with a call, or an empty list. Never throws. */
export function boundCallProblems(call: unknown): string[] {
  try {
    if (typeof call !== 'object' || call === null || Array.isArray(call)) return ['the call is not an object'];
    const c = call as Record<string, unknown>;
    const problems: string[] = [];
    const text = (name: string, pattern: RegExp): void => {
      const value = c[name];
      if (typeof value !== 'string' || !isWellFormedString(value) || !pattern.test(value)) problems.push(`${name} is missing or malformed`);
    };
    text('tool', TOOL_PATTERN);
    text('toolPin', TOOL_PIN_PATTERN);
    text('principal', PRINCIPAL_PATTERN);
    text('session', SESSION_PATTERN);
    const args = c.arguments;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      problems.push('arguments is not an object');
    } else {
      try {
        if (Buffer.byteLength(canonicalize(args), 'utf8') > MAX_ARGUMENTS_BYTES) problems.push(`arguments exceed ${MAX_ARGUMENTS_BYTES} bytes`);
      } catch {
        problems.push('arguments are not JSON data');
      }
    }
    return problems;
  } catch {
    return ['the call could not be read'];
  }
}

/** The bound fields of a call, copied (so a getter cannot show one value to the hash and another later). */
function fields(call: BoundCall): Record<string, unknown> {
  return { tool: call.tool, toolPin: call.toolPin, arguments: call.arguments, principal: call.principal, session: call.session };
}

/** The call digest: the approval id of a gate approval. Throws for a call that is not JSON data. */
export function callDigest(call: BoundCall): string {
  return canonicalHash({ domain: HashDomain.CALL, ...fields(call) });
}

/** The approval hash of one request for a call: the call, the request's nonce and its expiry (ms since the epoch). */
export function approvalHash(call: BoundCall, nonce: string, expiresAt: number): string {
  return canonicalHash({ domain: HashDomain.APPROVAL, ...fields(call), nonce, expiresAt });
}

/** The approval id of a workflow (Step Functions) approval: a hash of its task token, so a retried request is idempotent. */
export function taskApprovalId(taskToken: string): string {
  return canonicalHash({ domain: HashDomain.TASK, taskToken });
}

/** The canonical JSON text of the arguments, as stored and shown to approvers. */
export function canonicalArguments(args: Readonly<Record<string, unknown>>): string {
  return canonicalize(args);
}

/** The key of a principal's pending-request counter (a hash: the raw principal never becomes a key). */
export function principalCounterId(principal: string): string {
  return `principal#${sha256Hex(principal)}`;
}
