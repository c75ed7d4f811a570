/**
 * The decision-log contract shared by every handler (which writes it) and AiAuditTrail (whose metric filters
 * and alarms read it). One JSON line per decision; changing a name here is a breaking change for alarms.
 *
 * A decision line looks like:
 * {"level":"INFO","message":"decision","service":"guardrail-enforcer","timestamp":"…",
 *  "logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"guardrail","outcome":"DENY",
 *  "reasonCode":"GUARDRAIL_BLOCKED","subjectHash":"…","requestId":"…","guardrailAction":"BLOCKED"}
 *
 * It never carries tokens, prompts, documents or secrets: only codes, hashes and identifiers.
 */

/** Value of the `logType` field that marks a decision line. */
export const DECISION_LOG_TYPE = 'cdk-ai-defense.decision';

/** Version of the decision line's shape. */
export const DECISION_LOG_SCHEMA_VERSION = 1;

/** CloudWatch namespace of the metrics the handlers emit (EMF) and the audit trail's metric filters publish. */
export const METRIC_NAMESPACE = 'CdkAiDefense';

/** Names of the fields of a decision line that the audit trail reads. */
export const DecisionLogField = {
  LOG_TYPE: 'logType',
  CONTROL: 'control',
  OUTCOME: 'outcome',
  REASON_CODE: 'reasonCode',
  SUBJECT_HASH: 'subjectHash',
  REQUEST_ID: 'requestId',
  GUARDRAIL_ACTION: 'guardrailAction',
  /** Version of the line's shape ({@link DECISION_LOG_SCHEMA_VERSION}). */
  SCHEMA_VERSION: 'schemaVersion',
  /** Sanitized, truncated detail of a deny (for operators; never shown to the caller). */
  REASON_DETAIL: 'reasonDetail',
  /** Object of extra short codes a control adds (validated: no free text). */
  FIELDS: 'fields',
  /** Number of extra fields (or a request id) that failed validation and were left out. */
  FIELDS_REJECTED: 'fieldsRejected',
} as const;

/** The three outcomes of a decision. */
export const DecisionOutcome = {
  ALLOW: 'ALLOW',
  DENY: 'DENY',
  NOT_APPLICABLE: 'NOT_APPLICABLE',
} as const;
export type DecisionOutcome = (typeof DecisionOutcome)[keyof typeof DecisionOutcome];

/** What a guardrail did to the text it screened, as logged in `guardrailAction`. */
export const GuardrailLogAction = {
  NONE: 'NONE',
  MASKED: 'MASKED',
  BLOCKED: 'BLOCKED',
} as const;
export type GuardrailLogAction = (typeof GuardrailLogAction)[keyof typeof GuardrailLogAction];

/** Metric names published by the audit trail's metric filters (namespace {@link METRIC_NAMESPACE}). */
export const AuditMetric = {
  ENFORCEMENT_DENIALS: 'EnforcementDenials',
  GUARDRAIL_INTERVENTIONS: 'GuardrailInterventions',
} as const;

/** Message of every decision line. */
export const DECISION_LOG_MESSAGE = 'decision';

/** EMF metrics every handler emits per decision (namespace {@link METRIC_NAMESPACE}). */
export const DecisionMetric = {
  /** Count of decisions; dimensions `service`, `control`, `outcome`. */
  DECISIONS: 'Decisions',
  /** Count of denials; emitted with `Decisions` on the same dimensions (`outcome` is `DENY`). */
  DENIALS: 'Denials',
} as const;

/** Dimension names of the {@link DecisionMetric} metrics. */
export const DecisionMetricDimension = {
  SERVICE: 'service',
  CONTROL: 'control',
  OUTCOME: 'outcome',
} as const;

/** CloudWatch Logs filter pattern that matches every denial decision line. */
export const DENIAL_FILTER_PATTERN = `{ ($.${DecisionLogField.LOG_TYPE} = "${DECISION_LOG_TYPE}") && ($.${DecisionLogField.OUTCOME} = "${DecisionOutcome.DENY}") }`;

/** CloudWatch Logs filter pattern that matches every guardrail intervention (blocked or masked). */
export const GUARDRAIL_INTERVENTION_FILTER_PATTERN = `{ ($.${DecisionLogField.LOG_TYPE} = "${DECISION_LOG_TYPE}") && (($.${DecisionLogField.GUARDRAIL_ACTION} = "${GuardrailLogAction.BLOCKED}") || ($.${DecisionLogField.GUARDRAIL_ACTION} = "${GuardrailLogAction.MASKED}")) }`;
