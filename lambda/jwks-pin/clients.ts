/**
 * I/O of the jwks-pin handler: HTTPS GET of the issuer's discovery and JWKS documents (redirects refused, content
 * type checked, size capped while reading, timeouts), the PUT of the CloudFormation response, and the drift metric.
 * `fetch` is injectable, so every fault is tested without a network.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../shared/log-contract';
import { JWKS_DRIFT_DIMENSION, JWKS_DRIFT_METRIC, JWKS_LIMITS, JWKS_PIN_SERVICE } from './contract';
import { httpsUrlProblem } from './decide';

/** The subset of the WHATWG `fetch` the handler uses (the Node.js global by default). */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** A fetch that failed in a way worth one more attempt (a 5xx, a timeout, a network error). */
export class TransientFetchError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'TransientFetchError';
  }
}

/** A fetch that failed for good (a redirect, a 4xx, the wrong content type, too large, not UTF-8). */
export class FetchRefusedError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'FetchRefusedError';
  }
}

/** Media types accepted for JSON documents. */
export const JSON_MEDIA_TYPES: readonly string[] = ['application/json', 'application/jwk-set+json'];

/** Options of {@link fetchDocument}. */
export interface FetchDocumentOptions {
  /** Largest body read, in bytes. */
  readonly maxBytes: number;
  /** @default JWKS_LIMITS.requestTimeoutMs */
  readonly timeoutMs?: number;
  /** What the document is, for messages (e.g. "the JWKS"). */
  readonly what: string;
  /** Aborts the request (and any further attempt) when the caller's own deadline passes. */
  readonly signal?: AbortSignal;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readCapped(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    throw new FetchRefusedError(`${what} is ${declared} bytes; allowed: at most ${maxBytes}`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new FetchRefusedError(`${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * Rejects with a {@link TransientFetchError} after `ms` or when `parent` aborts, and then aborts `controller`.
 * `clear` stops the timer and the listener.
 */
function deadline(ms: number, controller: AbortController, what: string, parent?: AbortSignal): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    const stop = (message: string): void => {
      controller.abort();
      reject(new TransientFetchError(message));
    };
    timer = setTimeout(() => stop(`${what} did not arrive within ${ms} ms`), ms);
    onAbort = () => stop(`${what} was abandoned at the deadline`);
    if (parent?.aborted) onAbort();
    else parent?.addEventListener('abort', onAbort, { once: true });
  });
  // The race may be decided by the work; this rejection must not surface as unhandled.
  promise.catch(() => undefined);
  return {
    promise,
    clear: () => {
      clearTimeout(timer);
      if (onAbort) parent?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * GETs one JSON document over HTTPS and returns its text. Refuses: a URL that is not https, any redirect (the
 * document must be served where it is configured), a status other than 200, a content type other than JSON, a
 * body larger than `maxBytes` (declared or read), and a body that is not UTF-8. A 5xx, a network error or a
 * timeout (connect, headers and body together) is a {@link TransientFetchError}; everything else a
 * {@link FetchRefusedError}.
 */
export async function fetchDocument(fetchFn: FetchFunction, url: string, options: FetchDocumentOptions): Promise<string> {
  const problem = httpsUrlProblem(options.what, url);
  if (problem) throw new FetchRefusedError(problem);
  const timeoutMs = options.timeoutMs ?? JWKS_LIMITS.requestTimeoutMs;
  const controller = new AbortController();
  const timer = deadline(timeoutMs, controller, options.what, options.signal);
  const work = async (): Promise<string> => {
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'GET',
        redirect: 'manual',
        headers: { accept: JSON_MEDIA_TYPES.join(', ') },
        signal: controller.signal,
      });
    } catch (err) {
      throw new TransientFetchError(`${options.what} could not be fetched (${(err as Error)?.name ?? 'Error'}: ${String((err as Error)?.message ?? err).split('\n', 1)[0]})`);
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      throw new FetchRefusedError(`${options.what} answered with a redirect (HTTP ${response.status}); redirects are refused`);
    }
    if (response.status >= 500) throw new TransientFetchError(`${options.what} answered HTTP ${response.status}`);
    if (response.status !== 200) throw new FetchRefusedError(`${options.what} answered HTTP ${response.status}`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';', 1)[0].trim().toLowerCase();
    if (!JSON_MEDIA_TYPES.includes(mediaType)) {
      throw new FetchRefusedError(`${options.what} has content type ${JSON.stringify(mediaType)}; allowed: ${JSON_MEDIA_TYPES.join(', ')}`);
    }
    const bytes = await readCapped(response, options.maxBytes, options.what);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new FetchRefusedError(`${options.what} is not UTF-8 text`);
    }
  };
  try {
    return await Promise.race([work(), timer.promise]);
  } finally {
    timer.clear();
  }
}

/** {@link fetchDocument}, tried `attempts` times when the failure is transient. */
export async function fetchDocumentWithRetry(fetchFn: FetchFunction, url: string, options: FetchDocumentOptions, attempts: number = JWKS_LIMITS.attempts): Promise<string> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fetchDocument(fetchFn, url, options);
    } catch (err) {
      last = err;
      if (!(err instanceof TransientFetchError) || options.signal?.aborted) throw err;
    }
  }
  throw last;
}

/**
 * PUTs the response to CloudFormation's presigned URL: an empty content type (the URL is signed for it), no
 * redirects, a timeout. Rejects when S3 does not answer 200, so that Lambda retries the whole invocation.
 */
export async function sendCfnResponse(fetchFn: FetchFunction, responseUrl: string, body: string, timeoutMs = 10_000): Promise<void> {
  const controller = new AbortController();
  const timer = deadline(timeoutMs, controller, 'the CloudFormation response');
  try {
    const response = await Promise.race([
      fetchFn(responseUrl, {
        method: 'PUT',
        redirect: 'manual',
        headers: { 'content-type': '' },
        body,
        signal: controller.signal,
      }),
      timer.promise,
    ]);
    if (response.status !== 200) throw new Error(`CloudFormation's response URL answered HTTP ${response.status}`);
  } finally {
    timer.clear();
  }
}

/** Where the handler reports: its log and the drift metric. */
export interface PinReporter {
  /** Publishes {@link JWKS_DRIFT_METRIC} for the issuer (0 or 1). Never throws. */
  publishDrift(issuer: string, value: 0 | 1): void;
  /** Writes one structured log line. Never throws. */
  log(level: 'info' | 'error', message: string, fields: Record<string, unknown>): void;
}

/** The handler's I/O. */
export interface PinClients {
  readonly fetch: FetchFunction;
  readonly reporter: PinReporter;
}

/** The Powertools reporter: JSON log lines and EMF metrics (no CloudWatch API call, so no permission is needed). */
export function powertoolsReporter(): PinReporter {
  const logger = new Logger({ serviceName: JWKS_PIN_SERVICE, logLevel: 'INFO' });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: JWKS_PIN_SERVICE });
  return {
    publishDrift(issuer, value) {
      try {
        metrics.addDimension(JWKS_DRIFT_DIMENSION, issuer);
        metrics.addMetric(JWKS_DRIFT_METRIC, MetricUnit.Count, value);
        metrics.publishStoredMetrics();
      } catch {
        // A missing datapoint is itself alarmed (the alarm treats missing data as drift).
        metrics.clearMetrics();
        metrics.clearDimensions();
      }
    },
    log(level, message, fields) {
      try {
        logger[level](message, fields);
      } catch {
        // Logging is best effort; the outcome goes to CloudFormation or the metric.
      }
    },
  };
}

/** Clients for the Lambda environment: the Node.js global fetch and the Powertools reporter. */
export function defaultClients(): PinClients {
  return { fetch: (url, init) => fetch(url, init), reporter: powertoolsReporter() };
}
