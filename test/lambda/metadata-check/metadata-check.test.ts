/**
 * The ingestion metadata check: the pure sidecar validator (usable in CI), event classification, and the handler
 * with a mocked S3 client, including the five fault kinds on each of its S3 calls. The invariant throughout: nothing
 * reaches the published (indexed) prefix unless its sidecar satisfies the contract.
 */
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, FaultKind, awsFault } from '../../rig/faults';
import { captureStdout, decisionLines } from '../../rig/decision-log-capture';
import { MetadataCheckConfig, layoutProblems, metadataCheckConfigFromEnv } from '../../../lambda/metadata-check/config';
import { MetadataContractSpec, parseMetadataContract, validateMetadataSidecar } from '../../../lambda/metadata-check/contract';
import { classifyKey, copySource, parseObjectCreatedEvent } from '../../../lambda/metadata-check/decide';
import { createHandler, handler as envHandler } from '../../../lambda/metadata-check/index';

process.env.AWS_REGION = 'us-east-1';

const CONTRACT: MetadataContractSpec = parseMetadataContract({
  version: 1,
  fields: [
    { key: 'tenant', type: 'STRING', required: true, pattern: '[a-z0-9-]{2,32}' },
    { key: 'groups', type: 'STRING_LIST', required: true, maxItems: 5 },
    { key: 'classification', type: 'STRING', required: true, allowedValues: ['public', 'internal', 'confidential'] },
    { key: 'year', type: 'NUMBER', required: true, integer: true, minimum: 1990, maximum: 2100 },
    { key: 'reviewed', type: 'BOOLEAN', required: false },
  ],
  allowUndeclaredKeys: false,
});

const GOOD = { metadataAttributes: { tenant: 'acme', groups: ['finance'], classification: 'internal', year: 2024 } };

describe('validateMetadataSidecar', () => {
  test('accepts the simple and the typed form', () => {
    expect(validateMetadataSidecar(CONTRACT, JSON.stringify(GOOD))).toEqual({ valid: true, attributes: GOOD.metadataAttributes });
    const typed = {
      metadataAttributes: {
        tenant: { value: { type: 'STRING', stringValue: 'acme' }, includeForEmbedding: false },
        groups: { value: { type: 'STRING_LIST', stringListValue: ['finance', 'hr'] } },
        classification: 'public',
        year: { value: { type: 'NUMBER', numberValue: 2020 } },
        reviewed: { value: { type: 'BOOLEAN', booleanValue: true }, includeForEmbedding: true },
      },
    };
    expect(validateMetadataSidecar(CONTRACT, Buffer.from(JSON.stringify(typed)))).toMatchObject({ valid: true, attributes: { groups: ['finance', 'hr'], reviewed: true } });
  });

  const attrs = (patch: Record<string, unknown>) => JSON.stringify({ metadataAttributes: { ...GOOD.metadataAttributes, ...patch } });
  test.each<[string, string | Uint8Array, RegExp]>([
    ['a missing required key', JSON.stringify({ metadataAttributes: { tenant: 'acme', groups: ['g'], classification: 'public' } }), /year is required/],
    ['an undeclared key', attrs({ owner: 'eve' }), /owner is not declared/],
    ['a wrong type', attrs({ year: '2024' }), /year must be a number/],
    ['a fractional year', attrs({ year: 2024.5 }), /whole number/],
    ['a year out of bounds', attrs({ year: 1800 }), /below the minimum/],
    ['a value outside the allowed list', attrs({ classification: 'secret' }), /not one of the allowed values/],
    ['a pattern mismatch (the whole value must match)', attrs({ tenant: 'acme corp!' }), /does not match the required pattern/],
    ['an empty group list', attrs({ groups: [] }), /non-empty list/],
    ['too many groups', attrs({ groups: ['a', 'b', 'c', 'd', 'e', 'f'] }), /more than 5 items/],
    ['a typed value of the wrong type', attrs({ year: { value: { type: 'STRING', stringValue: '2024' } } }), /declared NUMBER but typed STRING/],
    ['a typed value with two members', attrs({ tenant: { value: { type: 'STRING', stringValue: 'a', numberValue: 1 } } }), /exactly "type" and "stringValue"/],
    ['duplicate keys', '{"metadataAttributes": {"tenant": "acme", "tenant": "evil"}}', /not strict JSON/],
    ['a __proto__ key', '{"metadataAttributes": {"__proto__": {"tenant": "acme"}}}', /not strict JSON/],
    ['another top-level key', JSON.stringify({ ...GOOD, documentStructureConfiguration: {} }), /exactly one key/],
    ['more than 10 KB', JSON.stringify({ metadataAttributes: { ...GOOD.metadataAttributes, tenant: 'a'.repeat(11_000) } }), /larger than 10240 bytes/],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xff, 0x7d]), /not UTF-8/],
    ['not JSON', 'tenant=acme', /not strict JSON/],
  ])('rejects %s', (_n, sidecar, problem) => {
    const r = validateMetadataSidecar(CONTRACT, sidecar);
    expect(r.valid).toBe(false);
    expect(r.valid ? [] : r.problems.join('\n')).toMatch(problem);
  });

  test('problems name keys and rules, never values', () => {
    const r = validateMetadataSidecar(CONTRACT, attrs({ classification: 'top-secret-project-x' }));
    expect(JSON.stringify(r)).not.toContain('top-secret-project-x');
  });

  test.each<[string, unknown, RegExp]>([
    ['no fields', { version: 1, fields: [] }, /1 to 20 fields/],
    ['a reserved key', { version: 1, fields: [{ key: 'x-amz-bedrock-kb-source-uri', type: 'STRING', required: true }] }, /not a valid metadata key/],
    ['a duplicate key', { version: 1, fields: [{ key: 'a', type: 'STRING', required: true }, { key: 'a', type: 'NUMBER', required: true }] }, /declared twice/],
    ['a bad pattern', { version: 1, fields: [{ key: 'a', type: 'STRING', required: true, pattern: '(' }] }, /not a valid regular expression/],
    ['bounds on a string', { version: 1, fields: [{ key: 'a', type: 'STRING', required: true, minimum: 1 }] }, /minimum must be a finite number on a NUMBER field/],
  ])('a contract with %s is refused', (_n, contract, message) => {
    expect(() => parseMetadataContract(contract)).toThrow(message);
  });
});

describe('events, keys and configuration', () => {
  const layout = { bucket: 'docs-bucket', stagingPrefix: 'incoming/', publishedPrefix: 'published/', quarantinePrefix: 'quarantine/' };

  test('classifies documents, sidecars and everything else', () => {
    expect(classifyKey(layout, 'docs-bucket', 'incoming/fin/q1.pdf')).toMatchObject({
      kind: 'PAIR',
      triggeredBy: 'DOCUMENT',
      stagingSidecar: 'incoming/fin/q1.pdf.metadata.json',
      publishedDocument: 'published/fin/q1.pdf',
      publishedSidecar: 'published/fin/q1.pdf.metadata.json',
      quarantineDocument: 'quarantine/fin/q1.pdf',
    });
    expect(classifyKey(layout, 'docs-bucket', 'incoming/fin/q1.pdf.metadata.json')).toMatchObject({ kind: 'PAIR', triggeredBy: 'SIDECAR', stagingDocument: 'incoming/fin/q1.pdf' });
    for (const key of ['published/x.pdf', 'incoming/', 'incoming/dir/', 'incoming/.metadata.json', 'incoming/a.metadata.json.metadata.json', 'incomingx/a.pdf']) {
      expect(classifyKey(layout, 'docs-bucket', key).kind).toBe('IGNORE');
    }
    expect(classifyKey(layout, 'other-bucket', 'incoming/a.pdf').kind).toBe('IGNORE');
  });

  test('reads only S3 Object Created events from EventBridge', () => {
    expect(parseObjectCreatedEvent(objectCreated('incoming/a.pdf', 'v1'))).toEqual({ bucket: 'docs-bucket', key: 'incoming/a.pdf', versionId: 'v1' });
    expect(parseObjectCreatedEvent({ ...objectCreated('incoming/a.pdf'), source: 'custom.app' })).toBeUndefined();
    expect(parseObjectCreatedEvent({ Records: [] })).toBeUndefined();
  });

  test('encodes the copy source per segment with the exact version', () => {
    expect(copySource('docs-bucket', 'incoming/a b/ü?.pdf', 'v+1')).toBe('docs-bucket/incoming/a%20b/%C3%BC%3F.pdf?versionId=v%2B1');
  });

  test('prefixes must be separate clean paths', () => {
    expect(layoutProblems('incoming/', 'published/', 'quarantine/')).toEqual([]);
    expect(layoutProblems('docs/', 'docs/published/', 'quarantine/').join()).toMatch(/lies inside stagingPrefix/);
    expect(layoutProblems('incoming', '/published/', 'q/../').length).toBeGreaterThanOrEqual(2);
    expect(() => metadataCheckConfigFromEnv({})).toThrow(/CAD_METADATA_CONTRACT is not set/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
const s3 = mockClient(S3Client);
const CONFIG: MetadataCheckConfig = { contract: CONTRACT, layout: { bucket: 'docs-bucket', stagingPrefix: 'incoming/', publishedPrefix: 'published/', quarantinePrefix: 'quarantine/' } };
const handler = () => createHandler(CONFIG, { s3: new S3Client({ region: 'us-east-1' }) });

function objectCreated(key: string, versionId?: string): Record<string, unknown> {
  return {
    version: '0',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    detail: { version: '0', bucket: { name: 'docs-bucket' }, object: { key, size: 10, ...(versionId ? { 'version-id': versionId } : {}) }, reason: 'PutObject' },
  };
}

function body(text: string): { transformToByteArray: () => Promise<Uint8Array> } {
  return { transformToByteArray: async () => Buffer.from(text) };
}

function happy(sidecar: string | null = JSON.stringify(GOOD)): void {
  s3.on(HeadObjectCommand).resolves({ VersionId: 'doc-v1', ContentLength: 10 } as never);
  if (sidecar === null) s3.on(GetObjectCommand).rejects(Object.assign(new Error('no key'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
  else s3.on(GetObjectCommand).resolves({ VersionId: 'meta-v1', Body: body(sidecar) } as never);
  s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"e"' } } as never);
  s3.on(DeleteObjectCommand).resolves({} as never);
  s3.on(PutObjectTaggingCommand).resolves({ VersionId: 'doc-v1' } as never);
}

beforeEach(() => {
  s3.reset();
});

/** Every write the handler made, in order, as `<command> <key>[@version] [-> destination]`. */
function writes(): string[] {
  return s3.calls().flatMap((call) => {
    const cmd = call.args[0] as { constructor: { name: string }; input: Record<string, any> };
    const i = cmd.input;
    if (cmd instanceof CopyObjectCommand) return [`copy ${decodeURIComponent(i.CopySource)} -> ${i.Key} [${i.Tagging}]`];
    if (cmd instanceof DeleteObjectCommand) return [`delete ${i.Key}${i.VersionId ? `@${i.VersionId}` : ''}`];
    if (cmd instanceof PutObjectTaggingCommand) return [`tag ${i.Key}@${i.VersionId} ${i.Tagging.TagSet[0].Key}=${i.Tagging.TagSet[0].Value}`];
    return [];
  });
}

describe('the metadata-check handler', () => {
  test('a valid pair is published (sidecar first, exact versions), then removed from staging', async () => {
    happy();
    const r = await handler()(objectCreated('incoming/fin/q1.pdf', 'doc-v1'), { awsRequestId: 'r1' });
    expect(r).toEqual({ outcome: 'PUBLISHED', reasonCode: 'METADATA_VALID' });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'docs-bucket', Key: 'incoming/fin/q1.pdf', VersionId: 'doc-v1' });
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'docs-bucket', Key: 'incoming/fin/q1.pdf.metadata.json', Range: 'bytes=0-10240' });
    expect(writes()).toEqual([
      'copy docs-bucket/incoming/fin/q1.pdf.metadata.json?versionId=meta-v1 -> published/fin/q1.pdf.metadata.json [cad-metadata-status=VALID]',
      'copy docs-bucket/incoming/fin/q1.pdf?versionId=doc-v1 -> published/fin/q1.pdf [cad-metadata-status=VALID]',
      'delete incoming/fin/q1.pdf.metadata.json@meta-v1',
      'delete incoming/fin/q1.pdf@doc-v1',
    ]);
  });

  test('an invalid sidecar unpublishes first, then quarantines both', async () => {
    happy(JSON.stringify({ metadataAttributes: { tenant: 'acme' } }));
    const r = await handler()(objectCreated('incoming/fin/q1.pdf.metadata.json', 'meta-v1'));
    expect(r).toEqual({ outcome: 'QUARANTINED', reasonCode: 'METADATA_INVALID' });
    expect(writes()).toEqual([
      'delete published/fin/q1.pdf',
      'delete published/fin/q1.pdf.metadata.json',
      'copy docs-bucket/incoming/fin/q1.pdf?versionId=doc-v1 -> quarantine/fin/q1.pdf [cad-metadata-status=INVALID]',
      'copy docs-bucket/incoming/fin/q1.pdf.metadata.json?versionId=meta-v1 -> quarantine/fin/q1.pdf.metadata.json [cad-metadata-status=INVALID]',
      'delete incoming/fin/q1.pdf@doc-v1',
      'delete incoming/fin/q1.pdf.metadata.json@meta-v1',
    ]);
    // The sidecar event looks up the current document version, not the sidecar's.
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input.VersionId).toBeUndefined();
  });

  test('a document without a sidecar is flagged and stays in staging (never indexed)', async () => {
    happy(null);
    const r = await handler()(objectCreated('incoming/fin/q1.pdf', 'doc-v1'));
    expect(r).toEqual({ outcome: 'FLAGGED', reasonCode: 'METADATA_MISSING' });
    expect(writes()).toEqual(['tag incoming/fin/q1.pdf@doc-v1 cad-metadata-status=MISSING']);
  });

  test('a sidecar whose document has not arrived yet waits; other events are ignored', async () => {
    happy();
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    expect(await handler()(objectCreated('incoming/fin/q1.pdf.metadata.json'))).toEqual({ outcome: 'PENDING', reasonCode: 'NOT_APPLICABLE' });
    expect(await handler()(objectCreated('published/fin/q1.pdf'))).toEqual({ outcome: 'IGNORED', reasonCode: 'NOT_APPLICABLE' });
    expect(await handler()({ hello: 'world' })).toEqual({ outcome: 'IGNORED', reasonCode: 'NOT_APPLICABLE' });
    expect(writes()).toEqual([]);
  });

  test('a misconfigured environment fails the invocation and publishes nothing', async () => {
    await expect(envHandler(objectCreated('incoming/a.pdf'))).rejects.toThrow(/misconfigured/);
    expect(s3.calls()).toHaveLength(0);
  });

  // --- five faults at every S3 call site ---------------------------------------------------------------------
  // S3's own names: SlowDown comes with a 503 and must still read as a throttle.
  const behaviour = (kind: FaultKind, malformed: unknown) => async () => {
    switch (kind) {
      case 'throttle':
        throw awsFault('throttle', { name: 'SlowDown', httpStatusCode: 503, fault: 'server' });
      case 'server':
        throw awsFault('server', { name: 'InternalError' });
      case 'timeout':
        throw awsFault('timeout');
      case 'accessDenied':
        throw awsFault('accessDenied', { name: 'AccessDenied' });
      case 'malformed':
        return malformed;
    }
  };

  const sites: Array<[string, (kind: FaultKind) => void, string]> = [
    ['HeadObject', (k) => s3.on(HeadObjectCommand).callsFake(behaviour(k, { VersionId: 42 })), 'valid'],
    ['GetObject', (k) => s3.on(GetObjectCommand).callsFake(behaviour(k, { VersionId: ['x'], Body: body('{}') })), 'valid'],
    ['CopyObject (publish)', (k) => s3.on(CopyObjectCommand).callsFake(behaviour(k, { CopyObjectResult: {} })), 'valid'],
    ['DeleteObject (publish clean-up)', (k) => s3.on(DeleteObjectCommand).callsFake(behaviour(k, 'nope')), 'valid'],
    ['DeleteObject (unpublish)', (k) => s3.on(DeleteObjectCommand).callsFake(behaviour(k, 'nope')), 'invalid'],
    ['CopyObject (quarantine)', (k) => s3.on(CopyObjectCommand).callsFake(behaviour(k, null)), 'invalid'],
    ['PutObjectTagging', (k) => s3.on(PutObjectTaggingCommand).callsFake(behaviour(k, 7)), 'missing'],
  ];

  describe.each(FAULT_KINDS.map(([kind]) => kind))('fault: %s', (kind) => {
    test.each(sites)('%s → the invocation fails (to be retried) and no unvalidated document is published', async (_site, inject, scenario) => {
      happy(scenario === 'valid' ? JSON.stringify(GOOD) : scenario === 'invalid' ? '{"metadataAttributes": {}}' : null);
      inject(kind);
      const { lines } = await captureStdout(() => expect(handler()(objectCreated('incoming/fin/q1.pdf', 'doc-v1'))).rejects.toBeDefined());
      const published = writes().filter((w) => / -> published\//.test(w));
      // A copy into the published prefix only ever happens for a valid sidecar, and never for the document before its sidecar.
      if (scenario !== 'valid') expect(published).toEqual([]);
      else if (published.length > 0) expect(published[0]).toContain('.metadata.json?versionId=meta-v1 -> published/');
      const decision = decisionLines(lines);
      expect(decision[decision.length - 1]).toMatchObject({ control: 'ingestion', outcome: 'DENY', fields: expect.objectContaining({ outcome: 'FAULT' }) });
    });
  });
});
