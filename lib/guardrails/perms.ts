/** IAM action lists of the guardrails area, in the aws-cdk `perms.ts` manner. */
export namespace GuardrailPerms {
  /** Screening text with a guardrail (on the guardrail ARN). */
  export const APPLY_PERMS = ['bedrock:ApplyGuardrail'];
  /**
   * Using a guardrail encrypted with a customer-managed key: AWS documents `kms:Decrypt` as the only key action
   * a guardrail user needs (creators also need GenerateDataKey, DescribeKey and CreateGrant).
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html
   */
  export const KEY_USER_PERMS = ['kms:Decrypt'];
}

/** Names of the CloudWatch metrics Amazon Bedrock publishes for guardrails. */
export namespace GuardrailMetricNames {
  /** @see https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-guardrails-cw-metrics.html */
  export const NAMESPACE = 'AWS/Bedrock/Guardrails';
  export const INVOCATIONS = 'Invocations';
  export const INVOCATIONS_INTERVENED = 'InvocationsIntervened';
  export const INVOCATION_LATENCY = 'InvocationLatency';
  export const INVOCATION_CLIENT_ERRORS = 'InvocationClientErrors';
  export const INVOCATION_SERVER_ERRORS = 'InvocationServerErrors';
  export const INVOCATION_THROTTLES = 'InvocationThrottles';
  export const TEXT_UNIT_COUNT = 'TextUnitCount';
}
