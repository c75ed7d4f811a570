/**
 * Configuration of the approver API: the approver identity (`CAD_IDENTITY_CONFIG`, written by `CallerIdentity`), the
 * approval table, the approver group and the deadline, as `ApprovalWorkflow` sets them.
 */
import { IdentityConfig } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { approverGroupFromEnv, storeSettingsFromEnv } from '../approval/config';

/** Most pending requests one list returns. */
export const LIST_LIMIT = 50;

/** The handler's configuration. */
export interface ApprovalApiConfig {
  /** How approvers' tokens are verified. */
  readonly identity: IdentityConfig;
  readonly tableName: string;
  /** The group (verified groups claim) whose members may list, view and decide. */
  readonly approverGroup: string;
  /** The handler's own deadline, in milliseconds. */
  readonly timeoutMs: number;
}

/** Reads the configuration; throws a `ConfigurationError` naming every problem. */
export function approvalApiConfigFromEnv(env: Readonly<Record<string, string | undefined>>): ApprovalApiConfig {
  const settings = storeSettingsFromEnv(env);
  return Object.freeze({
    identity: identityConfigFromEnv(env),
    tableName: settings.tableName,
    approverGroup: approverGroupFromEnv(env),
    timeoutMs: settings.timeoutMs,
  });
}
