import { classifyFault } from '../../lambda/shared/errors';
import { FAULT_CODE, FAULT_KINDS, RejectedFaultKind, awsFault } from './faults';

const REJECTED = FAULT_KINDS.filter(([kind]) => kind !== 'malformed') as Array<readonly [RejectedFaultKind, string]>;

describe('the fault rig', () => {
  test('lists the five kinds once each, with the five upstream codes', () => {
    expect(FAULT_KINDS.map(([k]) => k)).toEqual(['throttle', 'server', 'timeout', 'accessDenied', 'malformed']);
    expect(FAULT_CODE).toEqual({
      throttle: 'UPSTREAM_THROTTLED',
      server: 'UPSTREAM_UNAVAILABLE',
      timeout: 'UPSTREAM_TIMEOUT',
      accessDenied: 'UPSTREAM_ACCESS_DENIED',
      malformed: 'UPSTREAM_MALFORMED_RESPONSE',
    });
  });

  test.each(REJECTED)('awsFault(%s) is classified %s', (kind, code) => {
    const err = awsFault(kind);
    expect(err).toBeInstanceOf(Error);
    expect(classifyFault(err)).toBe(code);
  });

  test.each<[RejectedFaultKind, Parameters<typeof awsFault>[1]]>([
    ['throttle', { name: 'ProvisionedThroughputExceededException' }],
    ['throttle', { name: 'SlowDown', httpStatusCode: 503, fault: 'server' }],
    ['server', { name: 'ServiceException' }],
    ['server', { name: 'InternalServerError' }],
    ['accessDenied', { name: 'AccessDenied' }],
    ['accessDenied', { httpStatusCode: 400 }],
  ])('awsFault(%s, %j) keeps the kind and carries the overrides', (kind, overrides) => {
    const err = awsFault(kind, overrides) as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };
    expect(classifyFault(err)).toBe(FAULT_CODE[kind]);
    if (overrides?.name) expect(err.name).toBe(overrides.name);
    if (overrides?.httpStatusCode) expect(err.$metadata?.httpStatusCode).toBe(overrides.httpStatusCode);
    if (overrides?.fault) expect(err.$fault).toBe(overrides.fault);
  });
});
