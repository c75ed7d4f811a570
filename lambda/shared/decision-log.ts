/**
 * The decision log: exactly one JSON line per decision, in the shape of `log-contract.ts`, plus EMF metrics per
 * control and outcome. It only ever carries codes, hashes and identifiers: subjects are hashed, extra fields must be
 * short codes, and a deny's detail is sanitized and truncated.
 */
import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { sha256Hex } from './canonical-json';
import { Decision, toDecision } from './decision';
import {
  DECISION_LOG_MESSAGE,
  DECISION_LOG_SCHEMA_VERSION,
  DECISION_LOG_TYPE,
  DecisionLogField,
  DecisionMetric,
  DecisionMetricDimension,
  DecisionOutcome,
  GuardrailLogAction,
  METRIC_NAMESPACE,
} from './log-contract';
import { ReasonCode } from './reason-codes';

/** Value of an extra field of a decision line: a short code, a number, a flag, or a short list of codes. */
export type DecisionLogFieldValue = string | number | boolean | readonly string[];

/** One decision to log. */
export interface DecisionLogEntry {
  /** The control that decided, e.g. `identity`, `guardrail`, `retrieval` (a metric dimension: keep it constant). */
  readonly control: string;
  /** The decision; its `detail` (deny only) is sanitized and truncated into `reasonDetail`. */
  readonly decision: Decision;
  /** The raw subject (e.g. the verified `sub`); only its hash is logged. */
  readonly subject?: string;
  /** The request's id (Lambda or gateway request id). */
  readonly requestId?: string;
  /** What a guardrail did to the text, for guardrail controls. */
  readonly guardrailAction?: GuardrailLogAction;
  /** Extra short codes (ids, counts, flags); free text, tokens and long values are rejected and counted. */
  readonly fields?: Readonly<Record<string, DecisionLogFieldValue>>;
}

/** Options of {@link createDecisionLogger}. */
export interface DecisionLoggerOptions {
  /** The Powertools `service` of the log lines and metrics (e.g. `guardrail-enforcer`). */
  readonly serviceName: string;
  /**
   * CloudWatch namespace of the EMF metrics.
   * @default METRIC_NAMESPACE (`CdkAiDefense`)
   */
  readonly metricNamespace?: string;
  /**
   * Per-deployment secret salt for subject hashes: with it `subjectHash` is HMAC-SHA256(salt, subject), which
   * cannot be reversed by hashing guessed subjects (e-mail addresses); without it, SHA-256(subject).
   * @default - unsalted SHA-256
   */
  readonly subjectHashSalt?: string;
}

/** What {@link createDecisionLogger} returns. */
export interface DecisionLogger {
  /** The Powertools logger (for the handler's other, non-decision lines). */
  readonly logger: Logger;
  /** A buffered Powertools metrics instance for the handler's own metrics; {@link DecisionLogger.flush} publishes it. */
  readonly metrics: Metrics;
  /** Writes one decision line and its EMF metrics immediately. Never throws. */
  logDecision(entry: DecisionLogEntry): void;
  /** Publishes the handler's buffered metrics, if any. Never throws. */
  flush(): void;
}

/** Longest string accepted as an extra field value or request id. */
export const MAX_FIELD_LENGTH = 128;
/** Longest `reasonDetail` written. */
export const MAX_REASON_DETAIL_LENGTH = 256;
const MAX_FIELD_LIST = 16;
const MAX_FIELDS = 32;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const CONTROL_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** A code: visible ASCII without whitespace or quotes (ids, ARNs, enum values, hashes). */
const CODE_VALUE = /^[A-Za-z0-9_.:/@+=,#*|~-]*$/;
/** The start of a base64url-encoded JSON object (`{"`): JWTs and other JOSE objects. */
const JOSE_PREFIX = /eyJ[A-Za-z0-9_-]{2,}/;

/** True when a value may go into a decision line as an extra field or request id (a short code). */
export function isSafeLogCode(value: string): boolean {
  return value.length <= MAX_FIELD_LENGTH && CODE_VALUE.test(value) && !JOSE_PREFIX.test(value);
}

function safeFieldValue(value: unknown): DecisionLogFieldValue | undefined {
  if (typeof value === 'string') return isSafeLogCode(value) ? value : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (value.length > MAX_FIELD_LIST) return undefined;
    const out: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string' || !isSafeLogCode(item)) return undefined;
      out.push(item);
    }
    return out;
  }
  return undefined;
}

const REDACTIONS: ReadonlyArray<[RegExp, string]> = [
  // JWTs, JWS/JWE and any base64url JSON
  [/eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,4}/g, '[redacted-jose]'],
  // Authorization schemes followed by a credential
  [/\b(bearer|basic|digest|negotiate)\s+[^\s,;]+/gi, '$1 [redacted]'],
  // secret=..., "password": "...", api_key: ...
  [/\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|credential|session[_-]?token)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi, '$1$2[redacted]'],
  // AWS access key ids
  [/\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b/g, '[redacted-key-id]'],
  // Long opaque blobs (keys, signatures, secrets in base64/hex)
  [/[A-Za-z0-9+/_=-]{40,}/g, '[redacted-blob]'],
];
/** Control characters, default-ignorable (invisible) characters and line/paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Default_Ignorable_Code_Point}\u2028\u2029]/gu;

/**
 * Makes a deny's detail fit for a log line: redacts JOSE objects (JWTs), credentials after an authorization scheme
 * or a secret-like key, AWS access key ids and long opaque blobs; replaces control and invisible characters; collapses
 * whitespace; truncates to {@link MAX_REASON_DETAIL_LENGTH} characters. Never throws.
 */
export function sanitizeDetail(detail: unknown): string {
  try {
    if (typeof detail !== 'string') return '';
    // Bound the work first; redaction then runs on at most 1 KiB.
    let text = detail.slice(0, 1024);
    for (const [pattern, replacement] of REDACTIONS) text = text.replace(pattern, replacement);
    text = text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
    if (text.length > MAX_REASON_DETAIL_LENGTH) {
      let cut = MAX_REASON_DETAIL_LENGTH - 1;
      const code = text.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
      text = `${text.slice(0, cut)}…`;
    }
    return text;
  } catch {
    return '';
  }
}

/** The `subjectHash` of a subject: HMAC-SHA256(salt, subject) with a salt, otherwise SHA-256(subject), hex. */
export function hashSubject(subject: string, salt?: string): string {
  return salt ? createHmac('sha256', salt).update(subject, 'utf8').digest('hex') : sha256Hex(subject);
}

const GUARDRAIL_ACTIONS = new Set<string>(Object.values(GuardrailLogAction));

/** The attributes of one decision line (without Powertools' standard keys). Exported for tests and custom sinks. */
export function decisionLogAttributes(entry: DecisionLogEntry, subjectHashSalt?: string): Record<string, unknown> {
  let rejected = 0;
  const parsed = toDecision(entry?.decision);
  const decision: Decision = parsed ?? { outcome: DecisionOutcome.DENY, reasonCode: 'INTERNAL_ERROR' as ReasonCode, detail: 'logged value is not a Decision' };
  const control = typeof entry?.control === 'string' && CONTROL_NAME.test(entry.control) ? entry.control : 'invalid-control';
  const attributes: Record<string, unknown> = {
    [DecisionLogField.LOG_TYPE]: DECISION_LOG_TYPE,
    [DecisionLogField.SCHEMA_VERSION]: DECISION_LOG_SCHEMA_VERSION,
    [DecisionLogField.CONTROL]: control,
    [DecisionLogField.OUTCOME]: decision.outcome,
    [DecisionLogField.REASON_CODE]: decision.reasonCode,
  };
  if (typeof entry?.subject === 'string' && entry.subject.length > 0) {
    try {
      attributes[DecisionLogField.SUBJECT_HASH] = hashSubject(entry.subject, subjectHashSalt);
    } catch {
      rejected++;
    }
  }
  if (entry?.requestId !== undefined) {
    if (typeof entry.requestId === 'string' && isSafeLogCode(entry.requestId)) attributes[DecisionLogField.REQUEST_ID] = entry.requestId;
    else rejected++;
  }
  if (entry?.guardrailAction !== undefined) {
    if (GUARDRAIL_ACTIONS.has(entry.guardrailAction)) attributes[DecisionLogField.GUARDRAIL_ACTION] = entry.guardrailAction;
    else rejected++;
  }
  if (decision.outcome === DecisionOutcome.DENY && decision.detail !== undefined) {
    const detail = sanitizeDetail(decision.detail);
    if (detail) attributes[DecisionLogField.REASON_DETAIL] = detail;
  }
  const fields = entry?.fields;
  if (fields !== undefined) {
    const safe: Record<string, DecisionLogFieldValue> = {};
    let count = 0;
    if (typeof fields === 'object' && fields !== null) {
      for (const name of Object.keys(fields)) {
        const value = FIELD_NAME.test(name) && count < MAX_FIELDS ? safeFieldValue(fields[name]) : undefined;
        if (value === undefined) {
          rejected++;
        } else {
          safe[name] = value;
          count++;
        }
      }
    } else {
      rejected++;
    }
    if (count > 0) attributes[DecisionLogField.FIELDS] = safe;
  }
  if (rejected > 0) attributes[DecisionLogField.FIELDS_REJECTED] = rejected;
  return attributes;
}

/**
 * Creates the decision logger of one handler; call it once at module scope. Each `logDecision` writes one
 * INFO line `{"message":"decision", logType, schemaVersion, control, outcome, reasonCode, subjectHash?, requestId?,
 * guardrailAction?, reasonDetail?, fields?, fieldsRejected?}` and one EMF line with `Decisions` = 1 (and
 * `Denials` = 1 for a deny) on dimensions service, control and outcome.
 */
export function createDecisionLogger(options: DecisionLoggerOptions): DecisionLogger {
  const serviceName = options.serviceName;
  const namespace = options.metricNamespace ?? METRIC_NAMESPACE;
  const salt = options.subjectHashSalt;
  const logger = new Logger({ serviceName, logLevel: 'INFO' });
  const metrics = new Metrics({ namespace, serviceName });
  // A separate instance, published at once per decision, so decision metrics never mix with the handler's buffer.
  const decisionMetrics = new Metrics({ namespace, serviceName });

  const logDecision = (entry: DecisionLogEntry): void => {
    let attributes: Record<string, unknown>;
    try {
      attributes = decisionLogAttributes(entry, salt);
    } catch {
      attributes = {
        [DecisionLogField.LOG_TYPE]: DECISION_LOG_TYPE,
        [DecisionLogField.SCHEMA_VERSION]: DECISION_LOG_SCHEMA_VERSION,
        [DecisionLogField.CONTROL]: 'invalid-control',
        [DecisionLogField.OUTCOME]: DecisionOutcome.DENY,
        [DecisionLogField.REASON_CODE]: 'INTERNAL_ERROR',
      };
    }
    try {
      logger.info(DECISION_LOG_MESSAGE, attributes);
    } catch {
      // The log line is the audit record: fall back to a bare JSON line rather than lose it.
      try {
        process.stdout.write(`${JSON.stringify({ message: DECISION_LOG_MESSAGE, service: serviceName, ...attributes })}\n`);
      } catch {
        // Nothing left to write with.
      }
    }
    try {
      decisionMetrics.addDimension(DecisionMetricDimension.CONTROL, String(attributes[DecisionLogField.CONTROL]));
      decisionMetrics.addDimension(DecisionMetricDimension.OUTCOME, String(attributes[DecisionLogField.OUTCOME]));
      decisionMetrics.addMetric(DecisionMetric.DECISIONS, MetricUnit.Count, 1);
      if (attributes[DecisionLogField.OUTCOME] === DecisionOutcome.DENY) {
        decisionMetrics.addMetric(DecisionMetric.DENIALS, MetricUnit.Count, 1);
      }
      decisionMetrics.publishStoredMetrics();
    } catch {
      try {
        decisionMetrics.clearMetrics();
        decisionMetrics.clearDimensions();
      } catch {
        // Metrics are best effort; the decision line above is the record.
      }
    }
  };

  const flush = (): void => {
    try {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    } catch {
      // Best effort.
    }
  };

  return { logger, metrics, logDecision, flush };
}
