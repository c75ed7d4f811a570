/**
 * Fail-closed error handling: typed errors that carry a reason code, the mapping of any thrown value to one of the
 * five fault kinds, a timeout helper, and `guard()`, which turns anything that goes wrong into a deny.
 */
import { Decision, deny, toDecision } from './decision';
import { ReasonCode } from './reason-codes';

/** Base class of the errors this library throws on purpose; `classifyFault` reports their `reasonCode` as is. */
export class EnforcementError extends Error {
  /** The reason code a deny caused by this error carries. */
  public readonly reasonCode: ReasonCode;

  public constructor(reasonCode: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Literal names: bundles are minified, and class names would be mangled.
    this.name = 'EnforcementError';
    this.reasonCode = reasonCode;
  }
}

/** Thrown when an AWS (or other dependency's) response cannot be trusted: missing fields, wrong types, impossible values. */
export class MalformedResponseError extends EnforcementError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super('UPSTREAM_MALFORMED_RESPONSE', message, options);
    this.name = 'MalformedResponseError';
  }
}

/** Thrown when configuration (usually read from the environment at cold start) is missing or invalid. */
export class ConfigurationError extends EnforcementError {
  /** Every problem found, one message each. */
  public readonly problems: readonly string[];

  public constructor(problems: readonly string[]) {
    super('MISCONFIGURED', problems.join('; '));
    this.name = 'ConfigurationError';
    this.problems = Object.freeze([...problems]);
  }
}

/** Rejection of {@link withTimeout} when the deadline passes first. Its `name` is `TimeoutError`. */
export class OperationTimeoutError extends EnforcementError {
  public readonly timeoutMs: number;
  public readonly label: string;

  public constructor(label: string, timeoutMs: number) {
    super('UPSTREAM_TIMEOUT', `${label} did not settle within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
    this.label = label;
  }
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'Throttling',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'RequestTimeoutException', 'ModelTimeoutException']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedException',
  'UnauthorizedOperation',
  'ForbiddenException',
]);
const UNAVAILABLE_NAMES = new Set([
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'BadGatewayException',
  'DependencyFailedException',
  'ServiceFailureException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
const MALFORMED_NAMES = new Set(['MalformedResponseError', 'SyntaxError']);

interface FaultShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: unknown };
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

function classifyOne(err: unknown): ReasonCode | undefined {
  if (err instanceof EnforcementError) {
    // A deny caused by our own error keeps its code, but never one that reads as success.
    return err.reasonCode === 'ALLOWED' || err.reasonCode === 'NOT_APPLICABLE' ? 'INTERNAL_ERROR' : err.reasonCode;
  }
  if (err instanceof SyntaxError) return 'UPSTREAM_MALFORMED_RESPONSE';
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as FaultShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.$metadata === 'object' && e.$metadata !== null ? e.$metadata.httpStatusCode : undefined;
  const throttlingFlag = typeof e.$retryable === 'object' && e.$retryable !== null && e.$retryable.throttling === true;

  if (MALFORMED_NAMES.has(name)) return 'UPSTREAM_MALFORMED_RESPONSE';
  if (TIMEOUT_NAMES.has(name) || TIMEOUT_CODES.has(code) || status === 408) return 'UPSTREAM_TIMEOUT';
  if (THROTTLING_NAMES.has(name) || THROTTLING_NAMES.has(code) || throttlingFlag || status === 429) return 'UPSTREAM_THROTTLED';
  if (ACCESS_DENIED_NAMES.has(name) || ACCESS_DENIED_NAMES.has(code) || status === 403) return 'UPSTREAM_ACCESS_DENIED';
  if (
    UNAVAILABLE_NAMES.has(name) ||
    UNAVAILABLE_NAMES.has(code) ||
    NETWORK_CODES.has(code) ||
    e.$fault === 'server' ||
    (typeof status === 'number' && status >= 500 && status <= 599)
  ) {
    return 'UPSTREAM_UNAVAILABLE';
  }
  return undefined;
}

/**
 * Maps any thrown value to the reason code of a fail-closed deny:
 * - throttling (`ThrottlingException`, `ThrottledException`, `TooManyRequestsException`, `SlowDown`,
 *   `$retryable.throttling`, HTTP 429) → `UPSTREAM_THROTTLED`;
 * - server faults (`$fault: 'server'`, HTTP 5xx, `InternalServerException`, `ServiceUnavailable`, network resets)
 *   → `UPSTREAM_UNAVAILABLE`;
 * - timeouts (`TimeoutError`, `AbortError`, `ETIMEDOUT`, HTTP 408, `ModelTimeoutException`, {@link OperationTimeoutError})
 *   → `UPSTREAM_TIMEOUT`;
 * - access denied (`AccessDenied`, `AccessDeniedException`, `UnauthorizedException`, HTTP 403) → `UPSTREAM_ACCESS_DENIED`;
 * - {@link MalformedResponseError} and `SyntaxError` → `UPSTREAM_MALFORMED_RESPONSE`;
 * - an {@link EnforcementError} → its own `reasonCode`;
 * - anything else → `INTERNAL_ERROR`.
 * Follows `cause` up to three levels when the outer error is unknown. Never throws (hostile getters included).
 */
export function classifyFault(err: unknown): ReasonCode {
  try {
    let current: unknown = err;
    for (let depth = 0; depth < 4; depth++) {
      const code = classifyOne(current);
      if (code !== undefined) return code;
      if (typeof current !== 'object' || current === null) break;
      const cause = (current as FaultShape).cause;
      if (cause === undefined || cause === current) break;
      current = cause;
    }
  } catch {
    // A getter or proxy that throws tells us nothing trustworthy.
  }
  return 'INTERNAL_ERROR';
}

const MAX_FAULT_DESCRIPTION = 200;

/**
 * A short description of a thrown value for logs: `name`, `code`, and for AWS SDK errors the HTTP status and AWS
 * request id (never the service's message, which can echo request content); for other errors the first line of
 * the message. Truncated to 200 characters. The decision logger sanitizes it again. Never throws.
 */
export function describeFault(err: unknown): string {
  try {
    if (typeof err !== 'object' || err === null) return `non-error thrown (${typeof err})`;
    const e = err as FaultShape & { message?: unknown };
    const parts: string[] = [typeof e.name === 'string' && e.name ? e.name : 'Error'];
    if (typeof e.code === 'string' && e.code) parts.push(`code=${e.code}`);
    const metadata = typeof e.$metadata === 'object' && e.$metadata !== null ? (e.$metadata as { httpStatusCode?: unknown; requestId?: unknown }) : undefined;
    if (typeof metadata?.httpStatusCode === 'number') parts.push(`http=${metadata.httpStatusCode}`);
    if (typeof metadata?.requestId === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(metadata.requestId)) parts.push(`awsRequestId=${metadata.requestId}`);
    // An AWS service's message can echo request values (a validation error quoting the input, so a prompt or a
    // document): for SDK errors only the name, status and request id are logged; CloudTrail has the rest.
    const message = metadata === undefined && typeof e.message === 'string' ? e.message.split('\n', 1)[0] : '';
    const text = message ? `${parts.join(' ')}: ${message}` : parts.join(' ');
    return text.length > MAX_FAULT_DESCRIPTION ? `${text.slice(0, MAX_FAULT_DESCRIPTION - 1)}…` : text;
  } catch {
    return 'unreadable error';
  }
}

/** Largest delay `setTimeout` honours. */
const MAX_TIMEOUT_MS = 2_147_483_647;

function invalidTimeout(ms: unknown): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS
    ? undefined
    : `timeout must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], got ${String(ms)}`;
}

/**
 * Settles like `promise`, or rejects with an {@link OperationTimeoutError} (`name` `TimeoutError`, classified as
 * `UPSTREAM_TIMEOUT`) if it has not settled after `ms` milliseconds. The timer is cleared as soon as the race ends.
 * It does not cancel the underlying work: pass an `AbortSignal` to the SDK call for that.
 * An invalid `ms` rejects with a `RangeError`.
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, label = 'operation'): Promise<T> {
  const problem = invalidTimeout(ms);
  if (problem) return Promise.reject(new RangeError(problem));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OperationTimeoutError(label, ms)), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Options of {@link guard}. */
export interface GuardOptions {
  /**
   * Deny with `UPSTREAM_TIMEOUT` when the work has not produced a decision after this many milliseconds.
   * @default - no deadline of its own (the Lambda timeout still applies)
   */
  readonly timeoutMs?: number;
}

/**
 * Runs a control and always returns a Decision. Any synchronous throw, rejection, timeout, or a return value that
 * is not a well-formed Decision becomes `deny(<code>, <detail for logs>)`, with the code from {@link classifyFault}
 * (`INTERNAL_ERROR` for a non-Decision value, `MISCONFIGURED` for invalid options). The returned decision is a
 * fresh frozen copy. Never throws and never rejects.
 */
export async function guard(work: () => Promise<Decision> | Decision, options?: GuardOptions): Promise<Decision> {
  try {
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined) {
      const problem = invalidTimeout(timeoutMs);
      if (problem) return deny('MISCONFIGURED', `guard: ${problem}`);
    }
    const running = new Promise<unknown>((resolve) => resolve(work()));
    const result = timeoutMs === undefined ? await running : await withTimeout(running, timeoutMs, 'control');
    return toDecision(result) ?? deny('INTERNAL_ERROR', 'control returned a value that is not a Decision');
  } catch (err) {
    return deny(classifyFault(err), describeFault(err));
  }
}
