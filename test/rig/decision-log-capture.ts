/**
 * Reading what the handlers write to stdout: Powertools decision lines and EMF metric lines, one JSON document a line.
 */
import { DECISION_LOG_TYPE, DecisionLogField } from '../../lambda/shared/log-contract';

/** One parsed log line (a decision line or an EMF document). */
export type LogLine = Record<string, any>;

/** What {@link captureStdout} returns: the value of `fn`, the parsed JSON lines, and the raw text written. */
export interface CapturedStdout<T> {
  readonly value: T;
  readonly lines: LogLine[];
  readonly raw: string;
}

/** The JSON documents in `raw`: every line that starts with `{`, parsed (a line that is not JSON fails the test). */
export function parseLogLines(raw: string): LogLine[] {
  return raw
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The decision lines (`logType` `cdk-ai-defense.decision`) among parsed lines; EMF lines and other logs are left out. */
export function decisionLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((l) => l[DecisionLogField.LOG_TYPE] === DECISION_LOG_TYPE);
}

/**
 * Runs `fn` with `process.stdout.write` captured (nothing reaches the test output) and returns its value with
 * everything written meanwhile. The spy is undone in `finally`: a write that a suite had already silenced with its
 * own spy gets that spy's implementation back, otherwise the real `write` is restored.
 */
export async function captureStdout<T>(fn: () => T | Promise<T>): Promise<CapturedStdout<T>> {
  const chunks: string[] = [];
  const alreadyMocked = jest.isMockFunction(process.stdout.write);
  const spy = jest.spyOn(process.stdout, 'write');
  const previous = spy.getMockImplementation();
  spy.mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    const value = await fn();
    const raw = chunks.join('');
    return { value, lines: parseLogLines(raw), raw };
  } finally {
    if (alreadyMocked && previous) spy.mockImplementation(previous);
    else spy.mockRestore();
  }
}

/** {@link captureStdout}, keeping only the decision lines in `lines`. */
export async function captureDecisions<T>(fn: () => T | Promise<T>): Promise<CapturedStdout<T>> {
  const captured = await captureStdout(fn);
  return { ...captured, lines: decisionLines(captured.lines) };
}
