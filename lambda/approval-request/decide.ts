/**
 * The workflow approval request's pure part: reading the payload the `approvalTask` step sends (a Step Functions
 * task token and the call to approve) strictly. No SDK, no environment, no clock.
 */
import { BoundCall, boundCallProblems } from '../approval/hash';
import { isTaskToken } from '../approval/store';

/** The payload keys, exactly (anything else is rejected). */
export const REQUEST_KEYS: readonly string[] = Object.freeze(['arguments', 'principal', 'session', 'taskToken', 'tool', 'toolPin']);

/** A valid request. */
export interface TaskApprovalRequest {
  readonly taskToken: string;
  readonly call: BoundCall;
}

/** The parsed payload, or what is wrong with it. */
export type ParsedTaskRequest = { readonly ok: true; readonly value: TaskApprovalRequest } | { readonly ok: false; readonly detail: string };

/** Reads the payload strictly: exactly the six keys, a task token, and a valid call. Never throws. */
export function parseTaskRequest(event: unknown): ParsedTaskRequest {
  try {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, detail: 'the payload is not an object' };
    const keys = Object.keys(event).sort();
    if (keys.length !== REQUEST_KEYS.length || keys.some((k, i) => k !== REQUEST_KEYS[i])) return { ok: false, detail: `the payload must have exactly ${REQUEST_KEYS.join(', ')}` };
    const e = event as Record<string, unknown>;
    if (!isTaskToken(e.taskToken)) return { ok: false, detail: 'taskToken is missing or malformed' };
    const call = { tool: e.tool, toolPin: e.toolPin, arguments: e.arguments, principal: e.principal, session: e.session };
    const problems = boundCallProblems(call);
    if (problems.length > 0) return { ok: false, detail: problems.join('; ') };
    return { ok: true, value: { taskToken: e.taskToken, call: call as unknown as BoundCall } };
  } catch {
    return { ok: false, detail: 'the payload could not be read' };
  }
}
