/**
 * S3 I/O of the metadata check. Every write names an exact object version, so what is published is exactly what was
 * validated. Responses are returned as the SDK gives them and checked by the handler.
 */
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { MAX_SIDECAR_BYTES } from './contract';
import { copySource } from './decide';

/** The SDK clients the handler needs. */
export interface MetadataCheckClients {
  readonly s3: S3Client;
}

/** Clients for the Lambda environment. */
export function defaultClients(): MetadataCheckClients {
  // A hung connection fails the call (and the invocation is retried) instead of holding it to the Lambda timeout.
  return { s3: new S3Client({ maxAttempts: 3, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } }) };
}

/** True for S3's "no such object" errors (GetObject `NoSuchKey`, HeadObject `NotFound`/404). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (e?.name !== 'AccessDenied' && e?.$metadata?.httpStatusCode === 404);
}

/** HeadObject of the current (or given) version; `undefined` when there is no such object. */
export async function headObject(clients: MetadataCheckClients, bucket: string, key: string, versionId?: string): Promise<unknown | undefined> {
  try {
    return await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Reads at most one byte more than the sidecar limit (so an oversized sidecar is detected without reading it whole).
 * `undefined` when there is no sidecar.
 */
export async function readSidecar(clients: MetadataCheckClients, bucket: string, key: string): Promise<{ output: unknown; bytes: Uint8Array } | undefined> {
  try {
    const output = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${MAX_SIDECAR_BYTES}` }));
    const body = (output as { Body?: { transformToByteArray?: () => Promise<Uint8Array> } }).Body;
    if (!body || typeof body.transformToByteArray !== 'function') return { output, bytes: new Uint8Array(0) };
    return { output, bytes: await body.transformToByteArray() };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Copies an exact version to another key of the same bucket, replacing its tags with `tagging`. */
export async function copyVersion(clients: MetadataCheckClients, bucket: string, sourceKey: string, versionId: string | undefined, destinationKey: string, tagging: string): Promise<unknown> {
  return clients.s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: destinationKey,
      CopySource: copySource(bucket, sourceKey, versionId),
      TaggingDirective: 'REPLACE',
      Tagging: tagging,
      MetadataDirective: 'COPY',
    }),
  );
}

/** Deletes an exact version (or, without one, the current object); deleting what is not there succeeds. */
export async function deleteObject(clients: MetadataCheckClients, bucket: string, key: string, versionId?: string): Promise<unknown> {
  return clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
}

/** Replaces the tags of an exact version. */
export async function tagVersion(clients: MetadataCheckClients, bucket: string, key: string, versionId: string | undefined, key0: string, value: string): Promise<unknown> {
  return clients.s3.send(
    new PutObjectTaggingCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}), Tagging: { TagSet: [{ Key: key0, Value: value }] } }),
  );
}
