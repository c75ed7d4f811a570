import { RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNagAll } from './nag';

/**
 * A bucket that receives S3 server access logs of the library's data buckets: private, TLS 1.2+ only, versioned,
 * retained. S3 server access logging only delivers to buckets with SSE-S3 default encryption, so this one bucket is
 * not KMS-encrypted; it holds request metadata (who called what on which key), never object contents.
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
    'S3 server access logging delivers only to buckets encrypted with SSE-S3 (SSE-KMS targets are not supported), so the access-log bucket uses SSE-S3; it holds request metadata, never object contents.',
  );
  acknowledgeNagAll(
    bucket,
    ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled'],
    'This is the server access log destination itself; logging its own access into itself would create an endless loop of log objects.',
  );
  acknowledgeReplication(bucket);
  return bucket;
}

/** Cross-region replication needs a bucket in another region, which one stack cannot create. */
export function acknowledgeReplication(bucket: s3.IBucket): void {
  acknowledgeNagAll(
    bucket,
    ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled'],
    'Cross-region replication needs a destination bucket in another region, which a single-stack construct cannot create; the bucket is versioned and retained, and replication can be added through the bucket escape hatch.',
  );
}
