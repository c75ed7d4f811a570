import { ArnFormat, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The AgentCore Identity data-plane actions the library grants, one by one (IAM action = API name).
 * `GetWorkloadAccessTokenForUserId` is here only for the loudly named opt-in: it trusts any user id its caller names.
 */
export const IdentityAction = {
  WORKLOAD_TOKEN: 'bedrock-agentcore:GetWorkloadAccessToken',
  WORKLOAD_TOKEN_FOR_JWT: 'bedrock-agentcore:GetWorkloadAccessTokenForJWT',
  WORKLOAD_TOKEN_FOR_USER_ID: 'bedrock-agentcore:GetWorkloadAccessTokenForUserId',
  RESOURCE_OAUTH2_TOKEN: 'bedrock-agentcore:GetResourceOauth2Token',
  COMPLETE_RESOURCE_TOKEN_AUTH: 'bedrock-agentcore:CompleteResourceTokenAuth',
} as const;

/** DynamoDB actions on the binding table: the agent only records, the callback only reads and consumes. */
export const BindingTableAction = {
  RECORD: ['dynamodb:PutItem'],
  CONSUME: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
} as const;

/** KMS actions DynamoDB performs with the caller's credentials on a customer-managed table key. */
export const BINDING_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'];

function arn(scope: IConstruct, resource: string): string {
  return Stack.of(scope).formatArn({ service: 'bedrock-agentcore', resource, arnFormat: ArnFormat.NO_RESOURCE_NAME });
}

/**
 * ARNs built from names, never from resource attributes: the callback function's policy then does not depend on
 * the workload identity, whose return URLs usually point at the API that fronts that same function.
 */
export const IdentityArns = {
  /** `workload-identity-directory/default`: data-plane token actions are authorized on it as well. */
  directory: (scope: IConstruct): string => arn(scope, 'workload-identity-directory/default'),
  workloadIdentity: (scope: IConstruct, name: string): string => arn(scope, `workload-identity-directory/default/workload-identity/${name}`),
  /** `token-vault/default`: the vault that holds every credential provider. */
  tokenVault: (scope: IConstruct): string => arn(scope, 'token-vault/default'),
  oauth2Provider: (scope: IConstruct, name: string): string => arn(scope, `token-vault/default/oauth2credentialprovider/${name}`),
};
