/**
 * The five fault kinds every handler test injects at every AWS call site, the reason code each must deny with,
 * and errors shaped like what an AWS SDK v3 client rejects with for each.
 */
import type { ReasonCode } from '../../lambda/shared/reason-codes';

/** A fault kind: the four an AWS call rejects with, and a response that cannot be trusted. */
export type FaultKind = 'throttle' | 'server' | 'timeout' | 'accessDenied' | 'malformed';

/** The fault kinds an AWS call rejects with (a malformed response is a resolved value, built by each test). */
export type RejectedFaultKind = Exclude<FaultKind, 'malformed'>;

/** Each fault kind with the reason code of the fail-closed deny it must cause, in a fixed order (for `test.each`). */
export const FAULT_KINDS: ReadonlyArray<readonly [FaultKind, ReasonCode]> = [
  ['throttle', 'UPSTREAM_THROTTLED'],
  ['server', 'UPSTREAM_UNAVAILABLE'],
  ['timeout', 'UPSTREAM_TIMEOUT'],
  ['accessDenied', 'UPSTREAM_ACCESS_DENIED'],
  ['malformed', 'UPSTREAM_MALFORMED_RESPONSE'],
];

/** The reason code of each fault kind. */
export const FAULT_CODE: Readonly<Record<FaultKind, ReasonCode>> = Object.fromEntries(FAULT_KINDS) as Record<FaultKind, ReasonCode>;

/** What an {@link awsFault} may change of the default error of its kind. */
export interface AwsFaultOverrides {
  /** The error name (the AWS exception name), e.g. `ProvisionedThroughputExceededException`, `SlowDown`, `AccessDenied`. */
  readonly name?: string;
  readonly message?: string;
  /** `$metadata.httpStatusCode`. */
  readonly httpStatusCode?: number;
  /** `$fault`. */
  readonly fault?: 'client' | 'server';
}

const DEFAULTS: Record<RejectedFaultKind, { name: string; message: string; httpStatusCode?: number; fault?: 'client' | 'server' }> = {
  throttle: { name: 'ThrottlingException', message: 'rate exceeded', httpStatusCode: 400, fault: 'client' },
  server: { name: 'InternalServerException', message: 'internal error', httpStatusCode: 500, fault: 'server' },
  // What the SDK's request handler rejects with when the socket times out: no `$metadata`, no `$fault`.
  timeout: { name: 'TimeoutError', message: 'socket timed out' },
  accessDenied: { name: 'AccessDeniedException', message: 'not authorized', httpStatusCode: 403, fault: 'client' },
};

/**
 * An error shaped like an AWS SDK v3 service exception of the given kind (`name`, `message`, `$fault`,
 * `$metadata.httpStatusCode`), which `classifyFault` maps to `FAULT_CODE[kind]`. A `timeout` is the SDK's
 * `TimeoutError` (no HTTP response).
 */
export function awsFault(kind: RejectedFaultKind, overrides: AwsFaultOverrides = {}): Error {
  const base = DEFAULTS[kind];
  const httpStatusCode = overrides.httpStatusCode ?? base.httpStatusCode;
  const fault = overrides.fault ?? base.fault;
  const err = Object.assign(new Error(overrides.message ?? base.message), { name: overrides.name ?? base.name });
  if (fault !== undefined) Object.assign(err, { $fault: fault });
  if (httpStatusCode !== undefined) Object.assign(err, { $metadata: { httpStatusCode, requestId: 'req-1' } });
  return err;
}

/** A response that never comes: for the handler's own deadline to turn into `UPSTREAM_TIMEOUT`. */
export const hang = (): Promise<never> => new Promise<never>(() => undefined);
