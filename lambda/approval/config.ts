/**
 * Configuration of the approval controls, as the `ApprovalWorkflow` construct writes it into the environment of the
 * tool interceptor (the gate), the approver API and the workflow request function. Read once per container; an
 * invalid value is a `ConfigurationError` (MISCONFIGURED), so a misconfigured control denies everything.
 */
import { intSetting } from '../shared/env-settings';
import { ConfigurationError } from '../shared/errors';

/** Environment variable names. */
export const ApprovalEnv = {
  /** Name of the approval table (required). */
  TABLE_NAME: 'CAD_APPROVAL_TABLE_NAME',
  /** ARN of the SNS topic that tells approvers about new requests (optional: no notification without it). */
  TOPIC_ARN: 'CAD_APPROVAL_TOPIC_ARN',
  /** How long a request, and an approval of it, stays valid, in seconds. */
  TTL_SECONDS: 'CAD_APPROVAL_TTL_SECONDS',
  /** Most pending requests one principal may have. */
  MAX_PENDING: 'CAD_APPROVAL_MAX_PENDING',
  /** The group (verified groups claim) whose members may decide (approver API only). */
  APPROVER_GROUP: 'CAD_APPROVAL_APPROVER_GROUP',
  /** The control's own deadline, in milliseconds. */
  TIMEOUT_MS: 'CAD_APPROVAL_TIMEOUT_MS',
} as const;

/** Defaults. */
export const APPROVAL_DEFAULTS = {
  ttlSeconds: 900,
  maxPendingPerPrincipal: 5,
  timeoutMs: 3_000,
  approverGroup: 'approvers',
} as const;

/** Allowed ranges (inclusive). */
export const APPROVAL_LIMITS = {
  ttlSeconds: [60, 3_600] as const,
  maxPendingPerPrincipal: [1, 100] as const,
  timeoutMs: [100, 60_000] as const,
};

/** DynamoDB table names. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
/** SNS topic ARNs (any partition). */
export const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
/** Cognito group names (1 to 128 visible characters without spaces at the ends). */
export const GROUP_NAME_PATTERN = /^(?! )[\p{L}\p{M}\p{S}\p{N}\p{P} ]{1,128}(?<! )$/u;

/** The settings every approval control shares. */
export interface ApprovalStoreSettings {
  readonly tableName: string;
  readonly topicArn?: string;
  readonly ttlSeconds: number;
  readonly maxPendingPerPrincipal: number;
  readonly timeoutMs: number;
}

/** Problems with shared settings given in code (for factories that take them directly). */
export function storeSettingsProblems(settings: ApprovalStoreSettings): string[] {
  const problems: string[] = [];
  if (typeof settings.tableName !== 'string' || !TABLE_NAME_PATTERN.test(settings.tableName)) problems.push('tableName is not a DynamoDB table name');
  if (settings.topicArn !== undefined && (typeof settings.topicArn !== 'string' || !TOPIC_ARN_PATTERN.test(settings.topicArn))) problems.push('topicArn is not an SNS topic ARN');
  const range = (name: string, value: number, [min, max]: readonly [number, number]): void => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} is ${value}; allowed: a whole number from ${min} to ${max}`);
  };
  range('ttlSeconds', settings.ttlSeconds, APPROVAL_LIMITS.ttlSeconds);
  range('maxPendingPerPrincipal', settings.maxPendingPerPrincipal, APPROVAL_LIMITS.maxPendingPerPrincipal);
  range('timeoutMs', settings.timeoutMs, APPROVAL_LIMITS.timeoutMs);
  return problems;
}

/** Reads the shared settings from the environment; throws a `ConfigurationError` naming every problem. */
export function storeSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ApprovalStoreSettings {
  const problems: string[] = [];
  const tableName = env[ApprovalEnv.TABLE_NAME];
  if (tableName === undefined || !TABLE_NAME_PATTERN.test(tableName)) problems.push(`${ApprovalEnv.TABLE_NAME} is missing or not a DynamoDB table name`);
  const topicArn = env[ApprovalEnv.TOPIC_ARN];
  if (topicArn !== undefined && topicArn !== '' && !TOPIC_ARN_PATTERN.test(topicArn)) problems.push(`${ApprovalEnv.TOPIC_ARN} is not an SNS topic ARN`);
  const settings = {
    tableName: tableName ?? '',
    ...(topicArn ? { topicArn } : {}),
    ttlSeconds: intSetting(problems, env, ApprovalEnv.TTL_SECONDS, APPROVAL_DEFAULTS.ttlSeconds, APPROVAL_LIMITS.ttlSeconds),
    maxPendingPerPrincipal: intSetting(problems, env, ApprovalEnv.MAX_PENDING, APPROVAL_DEFAULTS.maxPendingPerPrincipal, APPROVAL_LIMITS.maxPendingPerPrincipal),
    timeoutMs: intSetting(problems, env, ApprovalEnv.TIMEOUT_MS, APPROVAL_DEFAULTS.timeoutMs, APPROVAL_LIMITS.timeoutMs),
  };
  if (problems.length > 0) throw new ConfigurationError(problems);
  return Object.freeze(settings);
}

/** Reads the approver group from the environment; throws a `ConfigurationError` when it is invalid. */
export function approverGroupFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  const group = env[ApprovalEnv.APPROVER_GROUP] ?? APPROVAL_DEFAULTS.approverGroup;
  if (!GROUP_NAME_PATTERN.test(group)) throw new ConfigurationError([`${ApprovalEnv.APPROVER_GROUP} is not a group name`]);
  return group;
}
