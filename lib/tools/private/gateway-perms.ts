/** IAM actions the GuardedGateway grants, by purpose (no wildcards). */
export const GatewayPerms = {
  /** The REQUEST interceptor on the session-taint table: a consistent read and a set-union write, nothing else. */
  TAINT_TABLE: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  /** What DynamoDB does with the caller's credentials on a customer-managed table key (through DynamoDB only). */
  TAINT_TABLE_KEY: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
} as const;
