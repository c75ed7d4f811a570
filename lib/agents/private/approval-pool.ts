import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { CallerIdentity, CognitoTokenUse } from '../../common/caller-identity';
import { createSecureUserPool } from '../../private/secure-user-pool';

/** The approvers' user pool created by `ApprovalWorkflow` when none is given. */
export interface ApproverPool {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly identity: CallerIdentity;
}

/**
 * A user pool for approvers: no self sign-up (an administrator adds each approver), MFA required (TOTP only), a
 * strong password policy, threat protection enforced (plus tier), deletion protection; an app client for the
 * approver UI (SRP sign-in, no secret, no OAuth flows, one-hour tokens, revocation on); and the approver group.
 * Approvers present their ID token: API Gateway's Cognito authorizer accepts ID tokens without OAuth scopes.
 */
export function createApproverPool(scope: Construct, approverGroup: string): ApproverPool {
  const { userPool, client } = createSecureUserPool(scope, 'UserPool', { clientConstructId: 'ApproverClient' });
  new cognito.CfnUserPoolGroup(scope, 'ApproverGroup', {
    userPoolId: userPool.userPoolId,
    groupName: approverGroup,
    description: 'cdk-ai-defense: members may approve or reject high-risk tool calls and workflow steps',
  });
  // The approver API verifies tokens inside the VPC, where the pool's keys cannot be fetched: pin them at deploy.
  const identity = CallerIdentity.cognito({ userPool, clients: [client], tokenUse: CognitoTokenUse.ID }).withPinnedKeys(scope);
  return { userPool, client, identity };
}
