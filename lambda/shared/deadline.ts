/**
 * A deadline that aborts the work's signal BEFORE the caller gets its timeout, so that no step after the deadline
 * can still change state (consume an approval, record a decision, write a binding, complete a session): each step
 * checks the signal, and SDK calls receive it.
 */
import { OperationTimeoutError } from './errors';

/**
 * Runs `work` with an AbortSignal; rejects with an `OperationTimeoutError` (classified UPSTREAM_TIMEOUT) after `ms`
 * milliseconds, aborting the signal first. The timer is cleared as soon as the work settles.
 */
export async function withDeadline<T>(ms: number, label: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new OperationTimeoutError(label, ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
