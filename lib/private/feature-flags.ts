import { Construct } from 'constructs';

/**
 * CDK feature flags whose secure behaviour the library relies on. They are set on the construct's own scope (flags
 * are read from context, and a construct's context applies to everything below it), so a construct behaves the same
 * in an app that never set them, such as one created before they existed.
 *
 * - `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`: deliver S3 server access logs through a bucket policy, not the
 *   legacy `LogDeliveryWrite` ACL (which ACL-disabled, bucket-owner-enforced log buckets reject).
 * - `@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`: strip every rule from a new VPC's default security group.
 */
export const LIBRARY_FEATURE_FLAGS: Readonly<Record<string, boolean>> = Object.freeze({
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
});

/** Sets {@link LIBRARY_FEATURE_FLAGS} on a construct; call it first in the constructor, before any child exists. */
export function applyLibraryFeatureFlags(scope: Construct): void {
  for (const [flag, value] of Object.entries(LIBRARY_FEATURE_FLAGS)) scope.node.setContext(flag, value);
}
