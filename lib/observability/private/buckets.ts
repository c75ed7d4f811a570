import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeReplication } from '../../private/buckets';

/** Props of an audit data bucket. */
export interface AuditBucketProps {
  /** Customer-managed key for default encryption (SSE-KMS with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** Where S3 server access logs of this bucket go. */
  readonly serverAccessLogsBucket: s3.IBucket;
  /** Prefix of this bucket's access logs in the access-log bucket. */
  readonly serverAccessLogsPrefix: string;
}

/** A bucket for audit data: private, TLS 1.2+ only, versioned, SSE-KMS with a customer key, access-logged, retained. */
export function auditBucket(scope: Construct, id: string, props: AuditBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: props.serverAccessLogsBucket,
    serverAccessLogsPrefix: props.serverAccessLogsPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeReplication(bucket);
  return bucket;
}
