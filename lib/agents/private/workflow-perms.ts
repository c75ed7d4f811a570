/** The exact AWS actions each part of an agent workflow and the security-operations example needs, and nothing more. */
export const WorkflowPerms = {
  /** The step runner reading the workflow client's secret (through the Parameters and Secrets extension). */
  CLIENT_SECRET: ['secretsmanager:GetSecretValue'],
  /** What Secrets Manager does with the reader's credentials on a customer-managed secret key. */
  SECRET_KEY: ['kms:Decrypt'],
  /** The enrichment tools and the remediation's approval check: read one item. */
  TABLE_READ: ['dynamodb:GetItem'],
  /** The ticket tool: write one item (conditionally). */
  TABLE_WRITE: ['dynamodb:PutItem'],
  /** What DynamoDB does with a reader's credentials on a customer-managed table key. */
  TABLE_KEY_READ: ['kms:Decrypt'],
  /** What DynamoDB does with a writer's credentials on a customer-managed table key. */
  TABLE_KEY_WRITE: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  /** The remediation: read the IP set and its lock token, then update it. */
  IP_SET: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
  /** A state machine invoking a step's function (exactly the function, not its versions). */
  INVOKE: ['lambda:InvokeFunction'],
} as const;
