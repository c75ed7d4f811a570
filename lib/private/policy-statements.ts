import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * A key-policy statement that lets CloudWatch Logs use the key, only for log groups of this account and region (the
 * `aws:logs:arn` encryption context).
 * @param sid statement id, if any
 */
export function cloudWatchLogsKeyStatement(scope: IConstruct, sid?: string): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
    },
  });
}

/**
 * The minimum Lambda needs to attach a function to a VPC (the actions of the AWS managed
 * AWSLambdaVPCAccessExecutionRole, without its logs wildcard). EC2 scopes none of them by resource, so the statement
 * is on `*`: acknowledge `AwsSolutions-IAM5[Resource::*]` where it is used.
 */
export function lambdaVpcAccessStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
}
