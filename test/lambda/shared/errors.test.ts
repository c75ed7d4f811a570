import {
  AccessDeniedException,
  InternalServerException,
  ModelTimeoutException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { ThrottledException } from '@aws-sdk/client-bedrock-agentcore';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { StrictJsonError } from '../../../lambda/shared/canonical-json';
import { Decision, allow, deny, isAllow, isDecision, isDeny, notApplicable, toDecision } from '../../../lambda/shared/decision';
import {
  ConfigurationError,
  EnforcementError,
  MalformedResponseError,
  OperationTimeoutError,
  classifyFault,
  describeFault,
  guard,
  withTimeout,
} from '../../../lambda/shared/errors';
import { IdentityError } from '../../../lambda/shared/identity';
import { ReasonCatalogue, isReasonCode } from '../../../lambda/shared/reason-codes';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
/** An error shaped like an AWS SDK v3 service exception. */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, ...extra });
}

describe('decision', () => {
  test('constructors return frozen decisions with the right outcome', () => {
    expect(allow()).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED' });
    expect(deny('GUARDRAIL_BLOCKED')).toEqual({ outcome: 'DENY', reasonCode: 'GUARDRAIL_BLOCKED' });
    expect(deny('GUARDRAIL_BLOCKED', 'why')).toEqual({ outcome: 'DENY', reasonCode: 'GUARDRAIL_BLOCKED', detail: 'why' });
    expect(notApplicable()).toEqual({ outcome: 'NOT_APPLICABLE', reasonCode: 'NOT_APPLICABLE' });
    expect(Object.isFrozen(allow())).toBe(true);
    expect(Object.isFrozen(deny('INTERNAL_ERROR', 'x'))).toBe(true);
    expect(Object.isFrozen(notApplicable())).toBe(true);
    expect('detail' in deny('INTERNAL_ERROR')).toBe(false);
  });

  test('isAllow and isDeny', () => {
    expect([isAllow(allow()), isAllow(deny('INTERNAL_ERROR')), isAllow(notApplicable())]).toEqual([true, false, false]);
    expect([isDeny(allow()), isDeny(deny('INTERNAL_ERROR')), isDeny(notApplicable())]).toEqual([false, true, false]);
  });

  test.each([
    ['an allow', { outcome: 'ALLOW', reasonCode: 'ALLOWED' }, allow()],
    ['a deny with detail', { outcome: 'DENY', reasonCode: 'MISCONFIGURED', detail: 'd' }, deny('MISCONFIGURED', 'd')],
    ['a not-applicable', { outcome: 'NOT_APPLICABLE', reasonCode: 'NOT_APPLICABLE' }, notApplicable()],
    ['an allow with stray properties (dropped)', { outcome: 'ALLOW', reasonCode: 'GUARDRAIL_MASKED', extra: 1 }, allow('GUARDRAIL_MASKED')],
  ])('toDecision reads %s', (_name, value, expected) => {
    expect(toDecision(value)).toEqual(expected);
    expect(isDecision(value)).toBe(true);
  });

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'ALLOW'],
    ['an unknown outcome', { outcome: 'MAYBE', reasonCode: 'ALLOWED' }],
    ['a lower-case outcome', { outcome: 'allow', reasonCode: 'ALLOWED' }],
    ['an uncatalogued reason code', { outcome: 'DENY', reasonCode: 'NOPE' }],
    ['an inherited reason code name', { outcome: 'DENY', reasonCode: 'toString' }],
    ['a missing reason code', { outcome: 'ALLOW' }],
    ['a non-string detail', { outcome: 'DENY', reasonCode: 'INTERNAL_ERROR', detail: 42 }],
    ['a throwing getter', Object.defineProperty({}, 'outcome', { get: () => { throw new Error('boom'); }, enumerable: true })],
  ])('toDecision rejects %s', (_name, value) => {
    expect(toDecision(value)).toBeUndefined();
    expect(isDecision(value)).toBe(false);
  });

  test('toDecision reads each property once (a getter cannot flip the outcome after the check)', () => {
    let reads = 0;
    const flipping = {
      get outcome() {
        reads++;
        return reads === 1 ? 'DENY' : 'ALLOW';
      },
      reasonCode: 'INTERNAL_ERROR',
    };
    const decision = toDecision(flipping)!;
    expect(decision.outcome).toBe('DENY');
    expect(decision.outcome).toBe('DENY');
    expect(reads).toBe(1);
  });

  test('the README catalogue table is generated from ReasonCatalogue', () => {
    const readme = readFileSync(path.join(__dirname, '../../../lambda/shared/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Reason-code catalogue'));
    const table = section.split('\n').filter((line) => line.startsWith('|')).join('\n');
    const expected = ['| Code | Meaning |', '| --- | --- |', ...Object.entries(ReasonCatalogue).map(([code, text]) => `| \`${code}\` | ${text} |`)].join('\n');
    // On failure, paste the expected table into lambda/shared/README.md.
    expect(table).toBe(expected);
  });

  test('isReasonCode accepts catalogued codes only', () => {
    expect(Object.keys(ReasonCatalogue).every(isReasonCode)).toBe(true);
    expect(isReasonCode('hasOwnProperty')).toBe(false);
    expect(isReasonCode(undefined)).toBe(false);
  });
});

describe('classifyFault', () => {
  test.each<[string, unknown, string]>([
    // throttling
    ['SDK ThrottlingException', new ThrottlingException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }), 'UPSTREAM_THROTTLED'],
    ['AgentCore ThrottledException', new ThrottledException({ message: 'x', $metadata: {} }), 'UPSTREAM_THROTTLED'],
    ['TooManyRequestsException', sdkError('TooManyRequestsException'), 'UPSTREAM_THROTTLED'],
    ['$retryable.throttling on an unknown name', sdkError('CustomThing', { $retryable: { throttling: true } }), 'UPSTREAM_THROTTLED'],
    ['HTTP 429 alone', sdkError('Unknown', meta(429)), 'UPSTREAM_THROTTLED'],
    ['S3 SlowDown (a 503)', sdkError('SlowDown', { $fault: 'server', ...meta(503) }), 'UPSTREAM_THROTTLED'],
    ['a SlowDown code', Object.assign(new Error('x'), { code: 'SlowDown' }), 'UPSTREAM_THROTTLED'],
    ['RequestLimitExceeded', sdkError('RequestLimitExceeded'), 'UPSTREAM_THROTTLED'],
    // server faults
    ['SDK InternalServerException', new InternalServerException({ message: 'x', $metadata: { httpStatusCode: 500 } }), 'UPSTREAM_UNAVAILABLE'],
    ['SDK ServiceUnavailableException', new ServiceUnavailableException({ message: 'x', $metadata: {} }), 'UPSTREAM_UNAVAILABLE'],
    ['ServiceUnavailable name', sdkError('ServiceUnavailable'), 'UPSTREAM_UNAVAILABLE'],
    ['$fault server on an unknown name', sdkError('Weird', { $fault: 'server' }), 'UPSTREAM_UNAVAILABLE'],
    ['HTTP 502 alone', sdkError('Unknown', meta(502)), 'UPSTREAM_UNAVAILABLE'],
    ['HTTP 599', sdkError('Unknown', meta(599)), 'UPSTREAM_UNAVAILABLE'],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'UPSTREAM_UNAVAILABLE'],
    ['DNS failure', Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), 'UPSTREAM_UNAVAILABLE'],
    // timeouts
    ['our own timeout', new OperationTimeoutError('call', 10), 'UPSTREAM_TIMEOUT'],
    ['SDK TimeoutError', sdkError('TimeoutError'), 'UPSTREAM_TIMEOUT'],
    ['AbortError', sdkError('AbortError'), 'UPSTREAM_TIMEOUT'],
    ['DOMException TimeoutError from AbortSignal.timeout', new DOMException('t', 'TimeoutError'), 'UPSTREAM_TIMEOUT'],
    ['ETIMEDOUT', Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'UPSTREAM_TIMEOUT'],
    ['Bedrock ModelTimeoutException', new ModelTimeoutException({ message: 'x', $metadata: { httpStatusCode: 408 } }), 'UPSTREAM_TIMEOUT'],
    ['HTTP 408', sdkError('Unknown', meta(408)), 'UPSTREAM_TIMEOUT'],
    // access denied
    ['SDK AccessDeniedException', new AccessDeniedException({ message: 'x', $metadata: { httpStatusCode: 403 } }), 'UPSTREAM_ACCESS_DENIED'],
    ['S3 AccessDenied', sdkError('AccessDenied'), 'UPSTREAM_ACCESS_DENIED'],
    ['UnauthorizedException', sdkError('UnauthorizedException'), 'UPSTREAM_ACCESS_DENIED'],
    ['HTTP 403 alone', sdkError('Unknown', meta(403)), 'UPSTREAM_ACCESS_DENIED'],
    // malformed responses
    ['MalformedResponseError', new MalformedResponseError('no results array'), 'UPSTREAM_MALFORMED_RESPONSE'],
    ['SyntaxError from JSON.parse', (() => { try { JSON.parse('{'); } catch (e) { return e; } return undefined; })(), 'UPSTREAM_MALFORMED_RESPONSE'],
    ['StrictJsonError', new StrictJsonError('duplicate key', 3), 'UPSTREAM_MALFORMED_RESPONSE'],
    // our own typed errors
    ['an IdentityError', new IdentityError('IDENTITY_EXPIRED', 'expired'), 'IDENTITY_EXPIRED'],
    ['a ConfigurationError', new ConfigurationError(['bad']), 'MISCONFIGURED'],
    ['an EnforcementError claiming ALLOWED', new EnforcementError('ALLOWED', 'x'), 'INTERNAL_ERROR'],
    ['an EnforcementError claiming NOT_APPLICABLE', new EnforcementError('NOT_APPLICABLE', 'x'), 'INTERNAL_ERROR'],
    // through causes
    ['a wrapper whose cause is a throttle', new Error('wrapped', { cause: sdkError('ThrottlingException') }), 'UPSTREAM_THROTTLED'],
    ['a known outer error wins over its cause', new MalformedResponseError('x', { cause: sdkError('ThrottlingException') }), 'UPSTREAM_MALFORMED_RESPONSE'],
    // anything else
    ['SDK ValidationException', new ValidationException({ message: 'x', $metadata: { httpStatusCode: 400 } }), 'INTERNAL_ERROR'],
    ['a TypeError', new TypeError('x is undefined'), 'INTERNAL_ERROR'],
    ['a string', 'boom', 'INTERNAL_ERROR'],
    ['null', null, 'INTERNAL_ERROR'],
    ['undefined', undefined, 'INTERNAL_ERROR'],
    ['a number', 42, 'INTERNAL_ERROR'],
    ['an object that only claims a reasonCode', { reasonCode: 'ALLOWED' }, 'INTERNAL_ERROR'],
    ['an HTTP 404', sdkError('NotFound', meta(404)), 'INTERNAL_ERROR'],
    ['a deep cause chain (not followed forever)', new Error('1', { cause: new Error('2', { cause: new Error('3', { cause: new Error('4', { cause: sdkError('ThrottlingException') }) }) }) }), 'INTERNAL_ERROR'],
    ['a proxy whose every property read throws', new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } }), 'INTERNAL_ERROR'],
  ])('%s', (_name, err, expected) => {
    expect(classifyFault(err)).toBe(expected);
  });

  test('a self-referencing cause does not loop', () => {
    const err = new Error('loop') as Error & { cause?: unknown };
    err.cause = err;
    expect(classifyFault(err)).toBe('INTERNAL_ERROR');
  });
});

describe('describeFault', () => {
  test.each<[string, unknown, string]>([
    ['an SDK error (its message can echo request content, so it is left out)', new ThrottlingException({ message: 'Rate exceeded\nsecond line', $metadata: { httpStatusCode: 429 } }), 'ThrottlingException http=429'],
    ['an SDK error with a request id', new ThrottlingException({ message: "Value 'my secret prompt' failed", $metadata: { httpStatusCode: 400, requestId: 'abc-123' } }), 'ThrottlingException http=400 awsRequestId=abc-123'],
    ['an error with a code', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'Error code=ECONNRESET: reset'],
    ['a string', 'boom', 'non-error thrown (string)'],
    ['undefined', undefined, 'non-error thrown (undefined)'],
    ['an error without a message', new RangeError(), 'RangeError'],
    ['a hostile proxy', new Proxy({}, { get: () => { throw new Error('trap'); } }), 'unreadable error'],
  ])('%s', (_name, err, expected) => {
    expect(describeFault(err)).toBe(expected);
  });

  test('truncates to 200 characters', () => {
    const text = describeFault(new Error('x'.repeat(1000)));
    expect(text.length).toBe(200);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('withTimeout', () => {
  test('settles like the promise when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('inner')), 1000)).rejects.toThrow('inner');
  });

  test('rejects with a TimeoutError naming the label when the deadline passes', async () => {
    const never = new Promise<never>(() => undefined);
    const result = withTimeout(never, 20, 'ApplyGuardrail');
    await expect(result).rejects.toBeInstanceOf(OperationTimeoutError);
    await expect(result).rejects.toMatchObject({ name: 'TimeoutError', label: 'ApplyGuardrail', timeoutMs: 20, reasonCode: 'UPSTREAM_TIMEOUT' });
    await expect(result).rejects.toThrow('ApplyGuardrail did not settle within 20 ms');
  });

  test('clears its timer as soon as the promise settles', async () => {
    jest.useFakeTimers();
    try {
      const pending = withTimeout(Promise.resolve('done'), 60_000);
      await expect(pending).resolves.toBe('done');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test.each([0, -1, NaN, Infinity, 2 ** 31, '10' as unknown as number])('fails with a RangeError for timeout %p', async (ms) => {
    await expect(withTimeout(Promise.resolve(1), ms)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('guard', () => {
  test.each<[string, () => Promise<Decision> | Decision, Decision]>([
    ['an allow', async () => allow(), allow()],
    ['a synchronous deny', () => deny('GUARDRAIL_BLOCKED', 'blocked'), deny('GUARDRAIL_BLOCKED', 'blocked')],
    ['a not-applicable', async () => notApplicable(), notApplicable()],
  ])('passes through %s', async (_name, work, expected) => {
    await expect(guard(work)).resolves.toEqual(expected);
  });

  test.each<[string, () => unknown, string, string | null]>([
    ['a synchronous throw', () => { throw new TypeError('x.y is undefined'); }, 'INTERNAL_ERROR', 'TypeError: x.y is undefined'],
    ['a throttling rejection', async () => { throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }); }, 'UPSTREAM_THROTTLED', 'ThrottlingException http=429'],
    ['an access-denied rejection', () => Promise.reject(new AccessDeniedException({ message: 'no', $metadata: {} })), 'UPSTREAM_ACCESS_DENIED', null],
    ['a malformed response', async () => { throw new MalformedResponseError('assessments missing'); }, 'UPSTREAM_MALFORMED_RESPONSE', 'MalformedResponseError: assessments missing'],
    ['a thrown string', () => { throw 'oops'; }, 'INTERNAL_ERROR', 'non-error thrown (string)'],
    ['a rejection with undefined', () => Promise.reject(undefined), 'INTERNAL_ERROR', null],
    ['an undefined return', async () => undefined, 'INTERNAL_ERROR', 'control returned a value that is not a Decision'],
    ['a string return', () => 'ALLOW', 'INTERNAL_ERROR', null],
    ['an allow without a reason code', async () => ({ outcome: 'ALLOW' }), 'INTERNAL_ERROR', null],
    ['an unknown outcome', async () => ({ outcome: 'ALLOW_ALL', reasonCode: 'ALLOWED' }), 'INTERNAL_ERROR', null],
    ['a boolean true', async () => true, 'INTERNAL_ERROR', null],
    ['a hostile proxy thrown', () => { throw new Proxy({}, { get: () => { throw new Error('trap'); } }); }, 'INTERNAL_ERROR', 'unreadable error'],
  ])('denies on %s', async (_name, work, code, detail) => {
    const decision = await guard(work as () => Promise<Decision>);
    expect(decision.outcome).toBe('DENY');
    expect(decision.reasonCode).toBe(code);
    if (detail !== null) expect(decision).toMatchObject({ detail });
  });

  test('denies with UPSTREAM_TIMEOUT when the work is too slow', async () => {
    const decision = await guard(() => new Promise<Decision>((resolve) => setTimeout(() => resolve(allow()), 500)), { timeoutMs: 20 });
    expect(decision).toEqual(deny('UPSTREAM_TIMEOUT', 'TimeoutError: control did not settle within 20 ms'));
  });

  test('returns the decision when the work is in time', async () => {
    await expect(guard(async () => allow(), { timeoutMs: 1000 })).resolves.toEqual(allow());
  });

  test.each([0, -5, NaN, Infinity])('denies with MISCONFIGURED for timeoutMs %p', async (timeoutMs) => {
    const decision = await guard(async () => allow(), { timeoutMs });
    expect(decision.reasonCode).toBe('MISCONFIGURED');
    expect(decision.outcome).toBe('DENY');
  });

  test('returns a frozen copy, not the object the work returned', async () => {
    const returned = { outcome: 'ALLOW', reasonCode: 'ALLOWED' } as Decision;
    const decision = await guard(async () => returned);
    expect(decision).not.toBe(returned);
    expect(Object.isFrozen(decision)).toBe(true);
  });

  test('never throws or rejects, whatever the work throws or returns (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }), fc.boolean(), async (value, shouldThrow) => {
        const decision = await guard(shouldThrow ? () => { throw value; } : async () => value as Decision);
        expect(isDecision(decision)).toBe(true);
        if (shouldThrow || !isDecision(value)) expect(decision.outcome).toBe('DENY');
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
