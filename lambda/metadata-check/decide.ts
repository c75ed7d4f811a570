/**
 * Pure decisions of the ingestion metadata check: which objects an S3 "Object Created" event concerns, and where a
 * document and its sidecar go (published, quarantined, or left flagged in staging).
 *
 * Layout: uploads land in the staging prefix, which the knowledge base never indexes. A document is copied to the
 * published prefix (the data source's only inclusion prefix) only together with a sidecar that satisfies the
 * metadata contract, so an unlabeled document is never in the indexed prefix. No SDK, no environment, no clock.
 */
import { METADATA_SIDECAR_SUFFIX } from './contract';

/** Where documents live in the documents bucket. Every prefix ends with `/`, and none contains another. */
export interface IngestionLayout {
  readonly bucket: string;
  readonly stagingPrefix: string;
  readonly publishedPrefix: string;
  readonly quarantinePrefix: string;
}

/** The object an event names. */
export interface ObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/**
 * Reads an EventBridge "Object Created" event from S3 (`source: aws.s3`). Undefined for anything else. The key is
 * used exactly as the event carries it.
 */
export function parseObjectCreatedEvent(event: unknown): ObjectEvent | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as Record<string, unknown>;
  if (e.source !== 'aws.s3' || e['detail-type'] !== 'Object Created') return undefined;
  const detail = e.detail as Record<string, unknown> | undefined;
  const bucket = (detail?.bucket as Record<string, unknown> | undefined)?.name;
  const object = detail?.object as Record<string, unknown> | undefined;
  const key = object?.key;
  const versionId = object?.['version-id'];
  if (typeof bucket !== 'string' || bucket.length === 0 || typeof key !== 'string' || key.length === 0 || key.length > 1024) return undefined;
  if (versionId !== undefined && (typeof versionId !== 'string' || versionId.length === 0 || versionId.length > 1024)) return undefined;
  return { bucket, key, ...(typeof versionId === 'string' ? { versionId } : {}) };
}

/** What an event key means. */
export type IngestionTarget =
  | { readonly kind: 'IGNORE'; readonly reason: string }
  | {
      readonly kind: 'PAIR';
      /** Which of the pair the event was for. */
      readonly triggeredBy: 'DOCUMENT' | 'SIDECAR';
      /** Document path below the staging prefix. */
      readonly relative: string;
      readonly stagingDocument: string;
      readonly stagingSidecar: string;
      readonly publishedDocument: string;
      readonly publishedSidecar: string;
      readonly quarantineDocument: string;
      readonly quarantineSidecar: string;
    };

/** Classifies an event for a key of the documents bucket. */
export function classifyKey(layout: IngestionLayout, bucket: string, key: string): IngestionTarget {
  if (bucket !== layout.bucket) return { kind: 'IGNORE', reason: 'another bucket' };
  if (!key.startsWith(layout.stagingPrefix)) return { kind: 'IGNORE', reason: 'outside the staging prefix' };
  const rel = key.slice(layout.stagingPrefix.length);
  if (rel.length === 0 || rel.endsWith('/')) return { kind: 'IGNORE', reason: 'a folder marker' };
  const isSidecar = rel.endsWith(METADATA_SIDECAR_SUFFIX);
  const relative = isSidecar ? rel.slice(0, -METADATA_SIDECAR_SUFFIX.length) : rel;
  if (relative.length === 0 || relative.endsWith('/')) return { kind: 'IGNORE', reason: 'a sidecar without a document name' };
  if (relative.endsWith(METADATA_SIDECAR_SUFFIX)) return { kind: 'IGNORE', reason: 'a sidecar of a sidecar' };
  const sidecarRel = `${relative}${METADATA_SIDECAR_SUFFIX}`;
  return {
    kind: 'PAIR',
    triggeredBy: isSidecar ? 'SIDECAR' : 'DOCUMENT',
    relative,
    stagingDocument: layout.stagingPrefix + relative,
    stagingSidecar: layout.stagingPrefix + sidecarRel,
    publishedDocument: layout.publishedPrefix + relative,
    publishedSidecar: layout.publishedPrefix + sidecarRel,
    quarantineDocument: layout.quarantinePrefix + relative,
    quarantineSidecar: layout.quarantinePrefix + sidecarRel,
  };
}

/** The `CopySource` of an exact object version (URL-encoded per path segment, as S3 requires). */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId ? `${path}?versionId=${encodeURIComponent(versionId)}` : path;
}

/** Tag key the check writes on documents it flags, quarantines or publishes. */
export const STATUS_TAG = 'cad-metadata-status';

/** Values of {@link STATUS_TAG}. */
export const MetadataStatus = {
  VALID: 'VALID',
  MISSING: 'MISSING',
  INVALID: 'INVALID',
} as const;
export type MetadataStatus = (typeof MetadataStatus)[keyof typeof MetadataStatus];

/** The `Tagging` header value for a status. */
export function statusTagging(status: MetadataStatus): string {
  return `${STATUS_TAG}=${status}`;
}
