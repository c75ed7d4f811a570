import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNagAll } from '../../private/nag';

/**
 * A bucket that receives S3 server access logs of the audit buckets: private, TLS-only, versioned, retained.
 * S3 server access logging can only deliver to a bucket with SSE-S3 default encryption, so this one bucket
 * is not KMS-encrypted; it holds request metadata (who called what on which key), never log contents.
 */
export function accessLogsBucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeNagAll(
    bucket,
    ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security-S3DefaultEncryptionKMS'],
    'S3 server access logging delivers only to buckets encrypted with SSE-S3 (SSE-KMS targets are not supported), so the access-log bucket uses SSE-S3; it holds request metadata, not audit log contents.',
  );
  acknowledgeNagAll(
    bucket,
    ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled'],
    'This is the server access log destination itself; logging its own access into itself would create an endless loop of log objects.',
  );
  acknowledgeReplication(bucket);
  return bucket;
}

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

function acknowledgeReplication(bucket: s3.Bucket): void {
  acknowledgeNagAll(
    bucket,
    ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled'],
    'Cross-region replication needs a destination bucket in another region, which a single-stack construct cannot create; the bucket is versioned and retained, and replication can be added through the bucket escape hatch.',
  );
}
