/**
 * The approval gate: where the tool interceptor sends calls to high-risk tools. A human approves the exact call
 * (tool, tool pin, arguments, principal, session), bound by a canonical hash, and the same call then proceeds once.
 *
 * The interceptor depends only on this interface. Until an approval workflow is configured, `DenyAllApprovalGate`
 * denies every such call with APPROVAL_REQUIRED, so a high-risk tool never runs unapproved.
 */
import { Decision, deny } from '../shared/decision';

/** The exact call an approval covers. Every field is bound into the approval's hash. */
export interface ApprovalSubject {
  /** Registered tool name as the gateway exposes it (`<Target>___<tool>`). */
  readonly tool: string;
  /** The tool's pin (SHA-256 of its canonical definition and server), or `unpinned`. */
  readonly toolPin: string;
  /** The arguments, after reserved arguments are removed and the schema is checked. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The verified principal: `<issuer>|<subject>` of the caller's token. */
  readonly principal: string;
  /** The MCP session (or another stable session id) of the call. */
  readonly session: string;
}

/** A call to the gate: the subject plus the request id for the decision log. */
export interface ApprovalCheck {
  readonly subject: ApprovalSubject;
  readonly requestId: string;
  /** Current time in milliseconds since the epoch (passed in, never read inside decisions). */
  readonly now: number;
}

/**
 * Decides whether an approved, unexpired, unused approval covers exactly this call, and consumes it if so.
 * Returns allow (the call proceeds, exactly once) or deny (APPROVAL_REQUIRED, APPROVAL_PENDING, ...). Never throws:
 * implementations turn faults into a deny.
 */
export interface ApprovalGate {
  check(request: ApprovalCheck): Promise<Decision>;
}

/** The gate used when no approval workflow is configured: every high-risk call is denied. */
export class DenyAllApprovalGate implements ApprovalGate {
  public async check(): Promise<Decision> {
    return deny('APPROVAL_REQUIRED', 'no approval workflow is configured for high-risk tools');
  }
}
