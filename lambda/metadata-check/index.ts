/**
 * metadata-check: the ingestion check of a SecureKnowledgeBase, run on every S3 "Object Created" event (via
 * EventBridge) in the staging prefix of the documents bucket.
 *
 * For a document and its sidecar (`<document>.metadata.json`):
 * - sidecar valid against the metadata contract → the exact validated versions are copied to the published prefix
 *   (sidecar first, then document) and removed from staging: only now can a sync index the document;
 * - sidecar invalid → the published copies are removed first (so a sync unindexes them), then both are moved to the
 *   quarantine prefix, tagged `cad-metadata-status=INVALID`;
 * - no sidecar yet → the document is tagged `cad-metadata-status=MISSING` and stays in staging, which is never
 *   indexed; the sidecar's own event completes the pair later.
 *
 * A fault throws after logging, so Lambda retries the event (then parks it in the failure destination); until the
 * pair is processed, nothing unlabeled is in the indexed prefix. Importing never throws; configuration is read on the
 * first call.
 */
import { Decision, allow, deny, notApplicable } from '../shared/decision';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { EnforcementError, MalformedResponseError, classifyFault, describeFault } from '../shared/errors';
import { MetadataCheckClients, copyVersion, defaultClients, deleteObject, headObject, readSidecar, tagVersion } from './clients';
import { MetadataCheckConfig, metadataCheckConfigFromEnv } from './config';
import { validateMetadataSidecar } from './contract';
import { MetadataStatus, STATUS_TAG, classifyKey, parseObjectCreatedEvent, statusTagging } from './decide';

export { validateMetadataSidecar, parseMetadataContract, METADATA_SIDECAR_SUFFIX, MAX_SIDECAR_BYTES } from './contract';

const SERVICE_NAME = 'metadata-check';
const CONTROL = 'ingestion';

/** What the check did with an event. */
export const CheckOutcome = {
  PUBLISHED: 'PUBLISHED',
  QUARANTINED: 'QUARANTINED',
  FLAGGED: 'FLAGGED',
  /** The document is not there (yet): the sidecar arrived first, or the event is stale. */
  PENDING: 'PENDING',
  IGNORED: 'IGNORED',
} as const;
export type CheckOutcome = (typeof CheckOutcome)[keyof typeof CheckOutcome];

/** The handler's result (EventBridge ignores it; tests and logs read it). */
export interface CheckResult {
  readonly outcome: CheckOutcome;
  readonly reasonCode: string;
}

/** A Lambda-style handler. */
export type MetadataCheckHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<CheckResult>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function versionOf(output: unknown, what: string): string | undefined {
  if (!isObject(output)) throw new MalformedResponseError(`${what} response is not an object`);
  const v = output.VersionId;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw new MalformedResponseError(`${what} returned an invalid VersionId`);
  return v;
}

function confirmed(output: unknown, what: string): void {
  if (!isObject(output)) throw new MalformedResponseError(`${what} response is not an object`);
}

function copyConfirmed(output: unknown): void {
  const result = isObject(output) ? output.CopyObjectResult : undefined;
  if (!isObject(result) || typeof result.ETag !== 'string') throw new MalformedResponseError('CopyObject did not confirm the copy');
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function record(decision: Decision, requestId: string | undefined, fields: Record<string, DecisionLogFieldValue>): void {
  try {
    const log = logs();
    log.logDecision({ control: CONTROL, decision, requestId, fields });
    log.flush();
  } catch {
    // The S3 state is the outcome; the log line is best effort here.
  }
}

/** Builds the handler from explicit configuration and clients. */
export function createHandler(config: MetadataCheckConfig, clients: MetadataCheckClients): MetadataCheckHandler {
  const { layout, contract } = config;
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const fields: Record<string, DecisionLogFieldValue> = {};
    const finish = (outcome: CheckOutcome, decision: Decision): CheckResult => {
      fields.outcome = outcome;
      record(decision, requestId, fields);
      return { outcome, reasonCode: decision.reasonCode };
    };

    const ev = parseObjectCreatedEvent(event);
    if (!ev) return finish(CheckOutcome.IGNORED, notApplicable());
    const target = classifyKey(layout, ev.bucket, ev.key);
    if (target.kind === 'IGNORE') {
      fields.ignored = target.reason.replace(/ /g, '_');
      return finish(CheckOutcome.IGNORED, notApplicable());
    }
    fields.triggeredBy = target.triggeredBy;
    const bucket = layout.bucket;
    try {
      // The document: the event's exact version when the event is for it, else the current version.
      const head = await headObject(clients, bucket, target.stagingDocument, target.triggeredBy === 'DOCUMENT' ? ev.versionId : undefined);
      if (head === undefined) return finish(CheckOutcome.PENDING, notApplicable());
      const documentVersion = versionOf(head, 'HeadObject');

      const sidecar = await readSidecar(clients, bucket, target.stagingSidecar);
      if (sidecar === undefined) {
        confirmed(await tagVersion(clients, bucket, target.stagingDocument, documentVersion, STATUS_TAG, MetadataStatus.MISSING), 'PutObjectTagging');
        return finish(CheckOutcome.FLAGGED, deny('METADATA_MISSING', 'the document has no metadata sidecar'));
      }
      const sidecarVersion = versionOf(sidecar.output, 'GetObject');
      const validation = validateMetadataSidecar(contract, sidecar.bytes);

      if (!validation.valid) {
        fields.problems = validation.problems.length;
        // Unpublish first: from here on a sync removes any earlier copy from the index.
        confirmed(await deleteObject(clients, bucket, target.publishedDocument), 'DeleteObject');
        confirmed(await deleteObject(clients, bucket, target.publishedSidecar), 'DeleteObject');
        copyConfirmed(await copyVersion(clients, bucket, target.stagingDocument, documentVersion, target.quarantineDocument, statusTagging(MetadataStatus.INVALID)));
        copyConfirmed(await copyVersion(clients, bucket, target.stagingSidecar, sidecarVersion, target.quarantineSidecar, statusTagging(MetadataStatus.INVALID)));
        confirmed(await deleteObject(clients, bucket, target.stagingDocument, documentVersion), 'DeleteObject');
        confirmed(await deleteObject(clients, bucket, target.stagingSidecar, sidecarVersion), 'DeleteObject');
        return finish(CheckOutcome.QUARANTINED, deny('METADATA_INVALID', validation.problems.slice(0, 5).join('; ')));
      }

      // Sidecar first: the document never sits in the indexed prefix without its labels.
      copyConfirmed(await copyVersion(clients, bucket, target.stagingSidecar, sidecarVersion, target.publishedSidecar, statusTagging(MetadataStatus.VALID)));
      copyConfirmed(await copyVersion(clients, bucket, target.stagingDocument, documentVersion, target.publishedDocument, statusTagging(MetadataStatus.VALID)));
      confirmed(await deleteObject(clients, bucket, target.stagingSidecar, sidecarVersion), 'DeleteObject');
      confirmed(await deleteObject(clients, bucket, target.stagingDocument, documentVersion), 'DeleteObject');
      return finish(CheckOutcome.PUBLISHED, allow('METADATA_VALID'));
    } catch (err) {
      record(deny(classifyFault(err), describeFault(err)), requestId, { ...fields, outcome: 'FAULT' });
      // Rethrow so Lambda retries the event; nothing unvalidated has been published.
      throw err instanceof Error ? err : new EnforcementError('INTERNAL_ERROR', describeFault(err));
    }
  };
}

let configured: MetadataCheckHandler | undefined;
let misconfiguration: string | undefined;

function fromEnvironment(): MetadataCheckHandler | undefined {
  try {
    return createHandler(metadataCheckConfigFromEnv(process.env), defaultClients());
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    misconfiguration = Array.isArray(problems) ? problems.join('; ') : describeFault(err);
    return undefined;
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: MetadataCheckHandler = async (event, context) => {
  configured ??= fromEnvironment();
  if (!configured) {
    record(deny('MISCONFIGURED', misconfiguration), typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined, {});
    // Fail the invocation: the event goes to the failure destination and nothing is published.
    throw new EnforcementError('MISCONFIGURED', 'metadata-check is misconfigured');
  }
  return configured(event, context);
};
