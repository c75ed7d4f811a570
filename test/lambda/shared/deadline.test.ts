import { OperationTimeoutError, classifyFault } from '../../../lambda/shared/errors';
import { withDeadline } from '../../../lambda/shared/deadline';
import { withDeadline as exported } from '../../../lambda/shared/index';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('withDeadline', () => {
  test('is exported by the enforcement package', () => {
    expect(exported).toBe(withDeadline);
  });

  test('settles like the work when it is in time, with a signal that is never aborted', async () => {
    let seen: AbortSignal | undefined;
    await expect(withDeadline(1000, 'read', async (signal) => {
      seen = signal;
      return 7;
    })).resolves.toBe(7);
    expect(seen?.aborted).toBe(false);
    await expect(withDeadline(1000, 'read', async () => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
  });

  test('fails with UPSTREAM_TIMEOUT naming the label when the work does not settle in time', async () => {
    const result = withDeadline(20, 'approval gate', () => new Promise<never>(() => undefined));
    await expect(result).rejects.toBeInstanceOf(OperationTimeoutError);
    await expect(result).rejects.toMatchObject({ name: 'TimeoutError', label: 'approval gate', timeoutMs: 20, reasonCode: 'UPSTREAM_TIMEOUT' });
    await expect(result).rejects.toThrow('approval gate did not settle within 20 ms');
    expect(classifyFault(await result.catch((e: unknown) => e))).toBe('UPSTREAM_TIMEOUT');
  });

  test('aborts the signal with the same error before the caller sees the timeout', async () => {
    let signal: AbortSignal | undefined;
    const err = await withDeadline(20, 'oauth callback', (s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    }).catch((e: unknown) => e);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(err);
  });

  test('no step after the deadline changes state: a write that checks the signal never runs', async () => {
    const writes: string[] = [];
    const result = withDeadline(20, 'approval api', async (signal) => {
      await sleep(60); // a slow read, past the deadline
      signal.throwIfAborted();
      writes.push('consumed approval');
    });
    await expect(result).rejects.toBeInstanceOf(OperationTimeoutError);
    await sleep(80);
    expect(writes).toEqual([]);
  });

  test.each([
    ['resolves', async () => 'done'],
    ['rejects', async () => Promise.reject(new Error('inner'))],
  ])('clears its timer as soon as the work %s', async (_, work) => {
    jest.useFakeTimers();
    try {
      await withDeadline(60_000, 'session taint read', work).catch(() => undefined);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
