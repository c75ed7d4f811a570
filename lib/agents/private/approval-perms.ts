/**
 * The exact AWS actions each part of the approval workflow needs, and nothing more. (DynamoDB authorizes a
 * TransactWriteItems by the actions of its items: PutItem and UpdateItem here.)
 */
export const ApprovalPerms = {
  /** The tool interceptor's gate: read an approval and a counter, store a request (Put + Update), use an approval. */
  GATE_TABLE: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** The workflow request function: the same as the gate (it stores requests; it never uses one). */
  REQUEST_TABLE: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** The approver API on the table: read an approval, record a decision and update the counter (two Updates). */
  API_TABLE: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  /** The approver API on the pending index. */
  API_INDEX: ['dynamodb:Query'],
  /** What DynamoDB does with the caller's credentials on a customer-managed table key. */
  TABLE_KEY: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  /** Publishing to the KMS-encrypted topic. */
  TOPIC: ['sns:Publish'],
  /** What SNS does with the publisher's credentials on a customer-managed topic key. */
  TOPIC_KEY: ['kms:Decrypt', 'kms:GenerateDataKey'],
  /** The approver API answering a waiting workflow task. */
  TASK_RESPONSE: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
} as const;
