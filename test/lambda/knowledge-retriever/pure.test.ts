/**
 * The pure pieces of the knowledge retriever: literal URI authorization, the identity filter builder, routing,
 * argument and response parsing, answer assembly, the per-identity cache and configuration parsing.
 * The two central guarantees are property-tested (fast-check, fixed seed, 10,000 runs each).
 */
import * as fc from 'fast-check';
import { ConfigurationError } from '../../../lambda/shared/errors';
import { TtlCache } from '../../../lambda/knowledge-retriever/cache';
import { KnowledgeConfigDocument, parseKnowledgeConfig } from '../../../lambda/knowledge-retriever/config';
import { assembleAnswer, candidateSources, parseRetrieveResponse, parseSearchArguments } from '../../../lambda/knowledge-retriever/decide';
import {
  FilterIdentity,
  FilterPolicySpec,
  IdentityConditionSpec,
  RetrievalFilterNode,
  buildRetrievalFilter,
  parseFilterPolicy,
  topLevelMembers,
  validateCallerFilter,
} from '../../../lambda/knowledge-retriever/filter';
import { resolveKnowledgeBases } from '../../../lambda/knowledge-retriever/routing';
import { KNOWLEDGE_TOOL_DEFINITIONS } from '../../../lambda/knowledge-retriever/tools';
import { UriAuthorizer, authorizeUris, formatS3Uri, parseGrantScope, parseS3Uri, scopeCovers } from '../../../lambda/knowledge-retriever/uri-authorizer';
import { isReasonCode } from '../../../lambda/shared/reason-codes';

const RUNS = { seed: 42, numRuns: 10_000 };

// ---------------------------------------------------------------------------------------------------------------
describe('parseS3Uri and parseGrantScope', () => {
  test.each([
    ['s3://docs-bucket/published/a.pdf', { bucket: 'docs-bucket', key: 'published/a.pdf' }],
    ['s3://docs-bucket/published/../secret/x', { bucket: 'docs-bucket', key: 'published/../secret/x' }],
    ['s3://docs-bucket/a%2Fb', { bucket: 'docs-bucket', key: 'a%2Fb' }],
    ['s3://docs-bucket/a//b', { bucket: 'docs-bucket', key: 'a//b' }],
    ['s3://docs.bucket.eu/ü/ß.txt', { bucket: 'docs.bucket.eu', key: 'ü/ß.txt' }],
  ])('parses %s literally, never decoding or normalizing', (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
    expect(formatS3Uri(parseS3Uri(uri)!)).toBe(uri);
  });

  test.each([
    ['S3://docs-bucket/a'],
    ['s3:/docs-bucket/a'],
    ['https://docs-bucket.s3.amazonaws.com/a'],
    ['s3://Docs-Bucket/a'],
    ['s3://docs..bucket/a'],
    ['s3://192.168.1.1/a'],
    ['s3://docs-bucket'],
    ['s3://docs-bucket/'],
    ['s3:///a'],
    ['s3://docs-bucket/a\u0000b'],
    ['s3://docs-bucket/a\ud800'],
    [`s3://docs-bucket/${'k'.repeat(1025)}`],
    [42],
    [undefined],
  ])('rejects %p', (uri) => {
    expect(parseS3Uri(uri)).toBeUndefined();
  });

  test.each([
    ['s3://docs/*', { bucket: 'docs', kind: 'BUCKET', path: '' }],
    ['s3://docs/finance/*', { bucket: 'docs', kind: 'PREFIX', path: 'finance/' }],
    ['s3://docs/finance/q1/*', { bucket: 'docs', kind: 'PREFIX', path: 'finance/q1/' }],
    ['s3://docs/finance/report.pdf', { bucket: 'docs', kind: 'OBJECT', path: 'finance/report.pdf' }],
  ])('parses the scope %s', (scope, expected) => {
    expect(parseGrantScope(scope)).toEqual(expected);
  });

  test.each([['s3://docs/finance*'], ['s3://docs/fin*/x/*'], ['s3://'], ['s3://docs'], ['s3://docs/'], ['s3://*/*'], ['s3://docs/**'], ['s3://DOCS/*']])(
    'does not honour the scope %s (character-level wildcard, default location or malformed)',
    (scope) => {
      expect(parseGrantScope(scope)).toBeUndefined();
    },
  );

  test('prefixes only match at a / boundary: projectA/* never admits projectA-secret', () => {
    const a = new UriAuthorizer([parseGrantScope('s3://docs/projectA/*')!]);
    expect(a.admitsUri('s3://docs/projectA/plan.pdf')).toBe(true);
    expect(a.admitsUri('s3://docs/projectA-secret/plan.pdf')).toBe(false);
    expect(a.admitsUri('s3://docs/projectA')).toBe(false);
    expect(a.admitsUri('s3://docs-other/projectA/plan.pdf')).toBe(false);
    expect(a.admitsUri('s3://docs/projecta/plan.pdf')).toBe(false);
    expect(a.admitsUri('s3://docs/projectA%2Fplan.pdf')).toBe(false);
  });

  test('an object scope admits exactly that key; a bucket scope admits that bucket only', () => {
    const a = new UriAuthorizer([parseGrantScope('s3://docs/x/one.pdf')!, parseGrantScope('s3://open/*')!]);
    expect(a.admitsUri('s3://docs/x/one.pdf')).toBe(true);
    expect(a.admitsUri('s3://docs/x/one.pdf.bak')).toBe(false);
    expect(a.admitsUri('s3://docs/x/one.pd')).toBe(false);
    expect(a.admitsUri('s3://open/anything/at/all')).toBe(true);
    expect(a.admitsUri('s3://opener/anything')).toBe(false);
  });

  test('a hand-built scope that breaks the rules admits nothing', () => {
    const a = new UriAuthorizer([
      { bucket: 'docs', kind: 'PREFIX', path: 'projectA' },
      { bucket: 'docs', kind: 'PREFIX', path: 'a*/' },
      { bucket: 'BAD', kind: 'BUCKET', path: '' },
      { bucket: 'docs', kind: 'OTHER' as 'BUCKET', path: '' },
    ]);
    expect(a.scopes).toEqual([]);
    expect(a.admitsUri('s3://docs/projectA-secret/x')).toBe(false);
    expect(scopeCovers({ bucket: 'docs', kind: 'PREFIX', path: 'projectA' }, { bucket: 'docs', key: 'projectA-secret' })).toBe(false);
  });

  test('authorizeUris deduplicates and sorts every URI into exactly one list', () => {
    const r = authorizeUris(
      ['s3://docs/a/1', 's3://docs/a/1', 's3://docs/b/2', 'https://x', 's3://docs/a/2'],
      ['s3://docs/a/*', 's3://docs/c*', 7],
    );
    expect(r).toEqual({ allowed: ['s3://docs/a/1', 's3://docs/a/2'], denied: ['s3://docs/b/2'], invalid: ['https://x'], unusableScopes: ['s3://docs/c*', '7'] });
  });

  // --- property: the authorizer never admits a URI outside a granted prefix ------------------------------------
  const buckets = ['docs', 'docs-secret', 'docs.eu', 'doc', 'Docs', 'docs..x', 'a'];
  const segments = ['a', 'b', 'projectA', 'projectA-secret', 'project', '..', '.', '%2F', '%252F', '', ' ', 'é', 'e\u0301', '*', '?x', '#', '\\', 'A', '+', 'a/b'];
  const segmentArb = fc.constantFrom(...segments);
  const pathArb = fc.array(segmentArb, { minLength: 0, maxLength: 4 }).map((s) => s.join('/'));
  const bucketArb = fc.constantFrom(...buckets);
  const scopeArb = fc.oneof(
    fc.tuple(bucketArb, pathArb).map(([b, p]) => `s3://${b}/${p}/*`),
    fc.tuple(bucketArb).map(([b]) => `s3://${b}/*`),
    fc.tuple(bucketArb, pathArb).map(([b, p]) => `s3://${b}/${p}`),
    fc.tuple(bucketArb, pathArb).map(([b, p]) => `s3://${b}/${p}*`),
    fc.string({ maxLength: 30 }),
  );
  const uriArb = fc.oneof(
    fc.tuple(bucketArb, pathArb).map(([b, p]) => `s3://${b}/${p}`),
    fc.tuple(fc.constantFrom('s3://', 'S3://', 's3:/', ''), bucketArb, pathArb).map(([s, b, p]) => `${s}${b}/${p}`),
    fc.string({ maxLength: 40 }),
  );

  /** URIs derived from the granted scopes by the mutations attacks use: sibling prefixes, encodings, case, dot segments. */
  const mutation = fc.constantFrom('', 'x.pdf', '-secret/x.pdf', 'sub/x.pdf', '%2Fx.pdf', '/../x.pdf', '..', 'X.PDF', '*', '?v=1');
  const scopesWithUris = fc.array(scopeArb, { minLength: 1, maxLength: 6 }).chain((scopes) =>
    fc.tuple(
      fc.constant(scopes),
      fc.array(
        fc.oneof(
          uriArb,
          fc.tuple(fc.constantFrom(...scopes), mutation, fc.boolean()).map(([scope, m, drop]) => {
            const base = scope.endsWith('*') ? scope.slice(0, -1) : scope;
            return `${drop && base.endsWith('/') ? base.slice(0, -1) : base}${m}`;
          }),
        ),
        { minLength: 1, maxLength: 8 },
      ),
    ),
  );

  /** Independent oracle: segment-wise comparison on a regex split, with the library's policy for wildcards. */
  function inside(uri: string, scope: string): boolean {
    const m = /^s3:\/\/([a-z0-9.-]+)\/([\s\S]*)$/.exec(uri);
    const s = /^s3:\/\/([a-z0-9.-]+)\/([\s\S]*)$/.exec(scope);
    if (!m || !s || m[1] !== s[1] || m[2] === '') return false;
    const key = m[2];
    const path = s[2];
    if (path === '*') return true;
    if (path.endsWith('/*')) {
      const dir = path.slice(0, -2);
      if (dir.includes('*')) return false;
      const want = dir.split('/');
      const have = key.split('/');
      return have.length > want.length && want.every((seg, i) => seg === have[i]);
    }
    return !path.includes('*') && key === path;
  }

  test('property: an admitted URI always lies inside some granted scope (10,000 runs)', () => {
    fc.assert(
      fc.property(scopesWithUris, ([scopes, uris]) => {
        const { authorizer } = UriAuthorizer.fromScopes(scopes);
        for (const uri of uris) {
          if (authorizer.admitsUri(uri)) {
            if (!scopes.some((scope) => inside(uri, scope))) return false;
          }
        }
        const r = authorizeUris(uris, scopes);
        return r.allowed.every((uri) => scopes.some((scope) => inside(uri, scope)));
      }),
      RUNS,
    );
  });

  test('property: a well-formed URI inside a usable scope is admitted (10,000 runs)', () => {
    const goodBucket = fc.constantFrom('docs', 'docs-secret', 'docs.eu');
    const goodSeg = fc.constantFrom('a', 'b', 'projectA', 'projectA-secret', '..', '%2F', 'é');
    fc.assert(
      fc.property(goodBucket, fc.array(goodSeg, { minLength: 1, maxLength: 3 }), fc.array(goodSeg, { minLength: 1, maxLength: 3 }), (b, dir, rest) => {
        const scope = `s3://${b}/${dir.join('/')}/*`;
        const uri = `s3://${b}/${dir.join('/')}/${rest.join('/')}`;
        return UriAuthorizer.fromScopes([scope]).authorizer.admitsUri(uri) === inside(uri, scope) && inside(uri, scope);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
const POLICY: FilterPolicySpec = {
  version: 1,
  identityConditions: [
    { kind: 'CLAIM_EQUALS', key: 'tenant', claim: 'custom:tenant', valueType: 'STRING' },
    { kind: 'GROUPS_CONTAIN', key: 'groups' },
    { kind: 'NUMBER_AT_MOST', key: 'year', claim: 'custom:clearance_year' },
  ],
  staticConditions: [{ operator: 'in', key: 'classification', value: ['public', 'internal'] }],
  callerFilterKeys: ['tenant', 'groups', 'year', 'classification', 'department'],
  maxValuesPerCondition: 50,
};

const ALICE: FilterIdentity = { subject: 'alice', groups: ['finance', 'hr'], claims: { 'custom:tenant': 'acme', 'custom:clearance_year': '2024' } };

describe('buildRetrievalFilter', () => {
  test('builds identity conditions, then static conditions, then the caller filter, as one andAll', () => {
    const r = buildRetrievalFilter(POLICY, ALICE, { equals: { key: 'department', value: 'tax' } });
    expect(r).toEqual({
      ok: true,
      identityNodes: expect.any(Array),
      callerNode: { equals: { key: 'department', value: 'tax' } },
      filter: {
        andAll: [
          { equals: { key: 'tenant', value: 'acme' } },
          { orAll: [{ listContains: { key: 'groups', value: 'finance' } }, { listContains: { key: 'groups', value: 'hr' } }] },
          { lessThanOrEquals: { key: 'year', value: 2024 } },
          { in: { key: 'classification', value: ['public', 'internal'] } },
          { equals: { key: 'department', value: 'tax' } },
        ],
      },
    });
  });

  test('one condition alone is never wrapped in andAll; one group is a single listContains', () => {
    const policy: FilterPolicySpec = { ...POLICY, identityConditions: [{ kind: 'GROUPS_CONTAIN', key: 'groups' }], staticConditions: [] };
    const r = buildRetrievalFilter(policy, { ...ALICE, groups: ['finance'] });
    expect(r.ok && r.filter).toEqual({ listContains: { key: 'groups', value: 'finance' } });
  });

  test('a caller orAll stays one AND member: it can never sit beside the identity conditions', () => {
    const caller = { orAll: [{ equals: { key: 'tenant', value: 'other' } }, { equals: { key: 'department', value: 'x' } }] };
    const r = buildRetrievalFilter(POLICY, ALICE, caller);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const members = topLevelMembers(r.filter);
    expect(members.slice(0, 3)).toEqual(r.identityNodes);
    expect(members[members.length - 1]).toEqual(caller);
  });

  test.each<[string, FilterIdentity]>([
    ['no tenant claim', { ...ALICE, claims: { 'custom:clearance_year': 2024 } }],
    ['an empty tenant claim', { ...ALICE, claims: { ...ALICE.claims, 'custom:tenant': '' } }],
    ['a tenant claim of the wrong type', { ...ALICE, claims: { ...ALICE.claims, 'custom:tenant': ['acme'] } }],
    ['no groups', { ...ALICE, groups: [] }],
    ['a non-numeric clearance year', { ...ALICE, claims: { ...ALICE.claims, 'custom:clearance_year': '2024x' } }],
    ['an inherited claim only', { ...ALICE, claims: Object.create({ 'custom:tenant': 'acme', 'custom:clearance_year': 1 }) }],
  ])('an identity with %s gets no filter (and so no Retrieve), never "no filter"', (_name, identity) => {
    const r = buildRetrievalFilter(POLICY, identity);
    expect(r).toEqual({ ok: false, failure: 'NO_USABLE_CLAIMS', detail: expect.any(String) });
  });

  test('too many groups is denied, never truncated', () => {
    const groups = Array.from({ length: 51 }, (_, i) => `g${i}`);
    expect(buildRetrievalFilter(POLICY, { ...ALICE, groups })).toMatchObject({ ok: false, failure: 'TOO_MANY_VALUES' });
  });

  test('every kind of identity condition uses positive operators only', () => {
    const identity: FilterIdentity = { subject: 'alice', groups: ['g'], claims: { t: 'acme', l: ['x', 'y'], n: 3, b: 'true', d: ['d1', 'd2'] } };
    const specs: IdentityConditionSpec[] = [
      { kind: 'SUBJECT_EQUALS', key: 'owner' },
      { kind: 'CLAIM_EQUALS', key: 'flag', claim: 'b', valueType: 'BOOLEAN' },
      { kind: 'CLAIM_IN', key: 'dept', claim: 'd', valueType: 'STRING' },
      { kind: 'LIST_CONTAINS_ANY', key: 'labels', claim: 'l' },
      { kind: 'NUMBER_AT_LEAST', key: 'level', claim: 'n' },
    ];
    const r = buildRetrievalFilter({ ...POLICY, identityConditions: specs, staticConditions: [] }, identity);
    expect(r.ok && r.identityNodes).toEqual([
      { equals: { key: 'owner', value: 'alice' } },
      { equals: { key: 'flag', value: true } },
      { in: { key: 'dept', value: ['d1', 'd2'] } },
      { orAll: [{ listContains: { key: 'labels', value: 'x' } }, { listContains: { key: 'labels', value: 'y' } }] },
      { greaterThanOrEquals: { key: 'level', value: 3 } },
    ]);
  });

  test('a policy without identity conditions builds nothing', () => {
    expect(buildRetrievalFilter({ ...POLICY, identityConditions: [] }, ALICE)).toMatchObject({ ok: false, failure: 'POLICY_INVALID' });
  });

  test.each<[string, unknown]>([
    ['two operators in one node', { equals: { key: 'tenant', value: 'a' }, in: { key: 'tenant', value: ['a'] } }],
    ['an andAll with one member', { andAll: [{ equals: { key: 'tenant', value: 'a' } }] }],
    ['an orAll with 21 members', { orAll: Array.from({ length: 21 }, () => ({ equals: { key: 'tenant', value: 'a' } })) }],
    ['startsWith', { startsWith: { key: 'tenant', value: 'a' } }],
    ['an undeclared key', { equals: { key: 'x-amz-bedrock-kb-source-uri', value: 's3://x/y' } }],
    ['an extra operand key', { equals: { key: 'tenant', value: 'a', also: 1 } }],
    ['a number bound with a string', { lessThan: { key: 'year', value: '2020' } }],
    ['an empty in list', { in: { key: 'tenant', value: [] } }],
    ['a mixed in list', { in: { key: 'tenant', value: ['a', 1] } }],
    ['nesting deeper than 4', { andAll: [{ andAll: [{ andAll: [{ andAll: [{ equals: { key: 'tenant', value: 'a' } }, { equals: { key: 'tenant', value: 'b' } }] }, { equals: { key: 'tenant', value: 'c' } }] }, { equals: { key: 'tenant', value: 'c' } }] }, { equals: { key: 'tenant', value: 'c' } }] }],
    ['a __proto__ node', JSON.parse('{"__proto__": {"key": "tenant", "value": "a"}}')],
    ['an array', [{ equals: { key: 'tenant', value: 'a' } }]],
    ['a class instance', new Date()],
  ])('rejects a caller filter with %s', (_name, filter) => {
    expect(buildRetrievalFilter(POLICY, ALICE, filter)).toMatchObject({ ok: false, failure: 'FILTER_REJECTED' });
  });

  test('the caller filter is rebuilt from validated parts, not passed through', () => {
    const original = { in: { key: 'tenant', value: ['a', 'b'] } };
    const v = validateCallerFilter(original, ['tenant']);
    expect(v).toEqual({ ok: true, node: original });
    expect(v.ok && (v.node as { in: { value: unknown } }).in.value).not.toBe(original.in.value);
  });

  // --- property: every filter carries the identity conditions ----------------------------------------------------
  const keyArb = fc.constantFrom('tenant', 'groups', 'year', 'owner', 'dept', 'labels');
  const claimNameArb = fc.constantFrom('c1', 'c2', 'c3');
  const specArb: fc.Arbitrary<IdentityConditionSpec> = fc.oneof(
    fc.record({ kind: fc.constant<'CLAIM_EQUALS'>('CLAIM_EQUALS'), key: keyArb, claim: claimNameArb, valueType: fc.constantFrom<'STRING' | 'NUMBER' | 'BOOLEAN'>('STRING', 'NUMBER', 'BOOLEAN') }),
    fc.record({ kind: fc.constant<'CLAIM_IN'>('CLAIM_IN'), key: keyArb, claim: claimNameArb, valueType: fc.constantFrom<'STRING' | 'NUMBER'>('STRING', 'NUMBER') }),
    fc.record({ kind: fc.constant<'LIST_CONTAINS_ANY'>('LIST_CONTAINS_ANY'), key: keyArb, claim: claimNameArb }),
    fc.record({ kind: fc.constant<'GROUPS_CONTAIN'>('GROUPS_CONTAIN'), key: keyArb }),
    fc.record({ kind: fc.constantFrom<'NUMBER_AT_MOST' | 'NUMBER_AT_LEAST'>('NUMBER_AT_MOST', 'NUMBER_AT_LEAST'), key: keyArb, claim: claimNameArb }),
    fc.record({ kind: fc.constant<'SUBJECT_EQUALS'>('SUBJECT_EQUALS'), key: keyArb }),
  );
  const claimValueArb = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.integer({ min: -5, max: 3000 }),
    fc.constantFrom('2024', '1e3', 'true', 'false', '', ' ', '\ud800'),
    fc.boolean(),
    fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 4 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.double(),
  );
  const identityArb: fc.Arbitrary<FilterIdentity> = fc.record({
    subject: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constant('')),
    groups: fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.constant('')), { maxLength: 4 }),
    claims: fc.record({ c1: claimValueArb, c2: claimValueArb, c3: claimValueArb }, { requiredKeys: [] }),
  });
  const leafArb: fc.Arbitrary<unknown> = fc.record({
    op: fc.constantFrom('equals', 'notEquals', 'in', 'notIn', 'listContains', 'lessThan', 'stringContains', 'startsWith', 'bogus'),
    key: fc.constantFrom('tenant', 'groups', 'year', 'secret'),
    value: claimValueArb,
  }).map(({ op, key, value }) => ({ [op]: { key, value } }));
  const callerArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leafArb, fc.record({ andAll: fc.array(tie('node'), { maxLength: 3 }) }), fc.record({ orAll: fc.array(tie('node'), { maxLength: 3 }) })),
  })).node;

  /** Every andAll/orAll anywhere has at least two members; no node has two operators. */
  function wellFormed(node: unknown): boolean {
    const keys = Object.keys(node as object);
    if (keys.length !== 1) return false;
    const v = (node as Record<string, unknown>)[keys[0]];
    if (keys[0] === 'andAll' || keys[0] === 'orAll') return Array.isArray(v) && v.length >= 2 && v.every(wellFormed);
    return typeof v === 'object' && v !== null;
  }

  function operatorsOf(node: RetrievalFilterNode): string[] {
    const [op] = Object.keys(node);
    const v = (node as Record<string, unknown>)[op];
    return op === 'andAll' || op === 'orAll' ? [op, ...(v as RetrievalFilterNode[]).flatMap(operatorsOf)] : [op];
  }

  test('property: a built filter always carries every identity condition as a top-level AND member (10,000 runs)', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 4 }), identityArb, fc.option(callerArb, { nil: undefined }), (specs, identity, caller) => {
        const policy: FilterPolicySpec = { ...POLICY, identityConditions: specs, staticConditions: POLICY.staticConditions, callerFilterKeys: ['tenant', 'groups', 'year'] };
        const r = buildRetrievalFilter(policy, identity, caller);
        if (!r.ok) return r.failure !== 'POLICY_INVALID';
        const members = topLevelMembers(r.filter);
        if (r.identityNodes.length !== specs.length) return false;
        // Identity nodes come first, in policy order, each one a member in its own right.
        if (!r.identityNodes.every((n, i) => members[i] === n)) return false;
        // The caller filter, if any, is the last member and never in the same orAll as an identity node.
        if (caller !== undefined && members[members.length - 1] !== r.callerNode) return false;
        if (caller === undefined && members.length !== specs.length + policy.staticConditions.length) return false;
        // Positive operators only for identity values.
        const identityOps = r.identityNodes.flatMap(operatorsOf);
        if (identityOps.some((op) => op === 'notEquals' || op === 'notIn' || op === 'startsWith' || op === 'andAll')) return false;
        return wellFormed(r.filter);
      }),
      RUNS,
    );
  });

  test('property: an identity lacking a usable value for any condition never gets a filter (10,000 runs)', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 4 }), identityArb, (specs, identity) => {
        const policy: FilterPolicySpec = { ...POLICY, identityConditions: specs };
        const r = buildRetrievalFilter(policy, identity);
        const anyUnusable = specs.some((s) => !buildRetrievalFilter({ ...policy, identityConditions: [s] }, identity).ok);
        return anyUnusable ? !r.ok : r.ok;
      }),
      RUNS,
    );
  });
});

describe('parseFilterPolicy', () => {
  test('accepts the policy the construct writes', () => {
    expect(parseFilterPolicy(JSON.parse(JSON.stringify(POLICY)))).toEqual(POLICY);
  });

  test.each<[string, unknown, RegExp]>([
    ['no identity condition', { ...POLICY, identityConditions: [] }, /at least one identity condition/],
    ['an unknown kind', { ...POLICY, identityConditions: [{ kind: 'CLAIM_NOT_EQUALS', key: 'a', claim: 'b' }] }, /kind "CLAIM_NOT_EQUALS" is unknown/],
    ['a reserved key', { ...POLICY, identityConditions: [{ kind: 'SUBJECT_EQUALS', key: 'x-amz-bedrock-kb-source-uri' }] }, /not a valid metadata key/],
    ['a missing claim', { ...POLICY, identityConditions: [{ kind: 'CLAIM_EQUALS', key: 'a', valueType: 'STRING' }] }, /claim undefined is not a claim name/],
    ['a static notEquals', { ...POLICY, staticConditions: [{ operator: 'notEquals', key: 'a', value: 'b' }] }, /operator "notEquals" is not allowed/],
    ['a wrong version', { ...POLICY, version: 2 }, /version must be 1/],
  ])('fails on %s', (_n, value, message) => {
    expect(() => parseFilterPolicy(value)).toThrow(ConfigurationError);
    expect(() => parseFilterPolicy(value)).toThrow(message);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('routing, arguments, responses and answers', () => {
  const kbA = { id: 'KBAAAAAAAA', sourceScopes: ['s3://docs-a/published/*'] };
  const kbB = { id: 'KBBBBBBBBB', sourceScopes: ['s3://docs-b/published/*'] };
  const routing = {
    knowledgeBases: [kbA, kbB],
    routes: [
      { kind: 'GROUP' as const, value: 'finance', knowledgeBase: 0 },
      { kind: 'GROUP' as const, value: 'hr', knowledgeBase: 1 },
      { kind: 'SUBJECT' as const, value: 'carol', knowledgeBase: 1 },
    ],
    maxKnowledgeBasesPerRequest: 1,
  };

  test.each<[string, { subject: string; groups: string[] }, string[] | undefined]>([
    ['a routed group', { subject: 'alice', groups: ['finance'] }, ['KBAAAAAAAA']],
    ['an unknown group beside a routed one', { subject: 'alice', groups: ['intern', 'hr'] }, ['KBBBBBBBBB']],
    ['a routed subject', { subject: 'carol', groups: [] }, ['KBBBBBBBBB']],
    ['only an unknown group (denied)', { subject: 'bob', groups: ['intern'] }, undefined],
    ['no group (denied)', { subject: 'bob', groups: [] }, undefined],
    ['more knowledge bases than allowed (denied)', { subject: 'carol', groups: ['finance'] }, undefined],
  ])('routes %s', (_n, identity, expected) => {
    const r = resolveKnowledgeBases(routing, identity);
    if (expected) expect(r.ok && r.targets.map((t) => t.id)).toEqual(expected);
    else expect(r.ok).toBe(false);
  });

  test('an unrouted configuration has exactly one knowledge base for every verified caller', () => {
    expect(resolveKnowledgeBases({ knowledgeBases: [kbA], maxKnowledgeBasesPerRequest: 1 }, { subject: 'x', groups: [] })).toEqual({ ok: true, targets: [kbA] });
    expect(resolveKnowledgeBases({ knowledgeBases: [kbA, kbB], maxKnowledgeBasesPerRequest: 2 }, { subject: 'x', groups: [] }).ok).toBe(false);
  });

  test.each<[string, unknown]>([
    ['identity-like arguments', { query: 'q', userId: 'admin' }],
    ['groups', { query: 'q', groups: ['admins'] }],
    ['tenant', { query: 'q', tenant: 'other' }],
    ['__proto__', JSON.parse('{"query": "q", "__proto__": {"x": 1}}')],
    ['a blank query', { query: '   ' }],
    ['a long query', { query: 'q'.repeat(10_001) }],
    ['zero results', { query: 'q', maxResults: 0 }],
    ['101 results', { query: 'q', maxResults: 101 }],
    ['fractional results', { query: 'q', maxResults: 2.5 }],
    ['a string filter', { query: 'q', filter: 'tenant=acme' }],
    ['not an object', ['q']],
  ])('rejects arguments with %s', (_n, args) => {
    expect(parseSearchArguments(args).ok).toBe(false);
  });

  test('accepts query, filter and maxResults, with the default count', () => {
    expect(parseSearchArguments({ query: 'q' })).toEqual({ ok: true, value: { query: 'q', maxResults: 5 } });
    expect(parseSearchArguments({ query: 'q', maxResults: 100, filter: { equals: { key: 'a', value: 1 } } })).toEqual({
      ok: true,
      value: { query: 'q', maxResults: 100, filter: { equals: { key: 'a', value: 1 } } },
    });
  });

  const result = (uri: string | undefined, extra: Record<string, unknown> = {}) => ({
    content: { type: 'TEXT', text: `text of ${uri}` },
    ...(uri ? { location: { type: 'S3', s3Location: { uri } } } : {}),
    score: 0.5,
    metadata: { tenant: 'acme', secretNote: 'x', ...(uri ? { 'x-amz-bedrock-kb-source-uri': uri } : {}) },
    ...extra,
  });

  test.each<[string, unknown]>([
    ['not an object', 'nope'],
    ['no results array', { results: [] }],
    ['more results than requested', { retrievalResults: [result('s3://docs-a/published/1'), result('s3://docs-a/published/2')] }],
    ['a non-object result', { retrievalResults: [7] }],
    ['a string score', { retrievalResults: [result('s3://docs-a/published/1', { score: '0.9' })] }],
    ['array metadata', { retrievalResults: [result('s3://docs-a/published/1', { metadata: [] })] }],
  ])('a Retrieve response with %s is malformed', (_n, response) => {
    expect(() => parseRetrieveResponse(response, 'KBAAAAAAAA', 1)).toThrow(/Retrieve|retrievalResults/);
  });

  test('results without a usable source, with a mismatched source or without text are kept as unusable', () => {
    const chunks = parseRetrieveResponse(
      {
        retrievalResults: [
          result(undefined),
          result('s3://docs-a/published/1', { metadata: { 'x-amz-bedrock-kb-source-uri': 's3://docs-a/published/OTHER' } }),
          result('s3://docs-a/published/2', { content: { type: 'IMAGE' } }),
          { content: { text: 't' }, location: { type: 'WEB', webLocation: { url: 'https://x' } } },
          result('s3://docs-a/published/3'),
        ],
      },
      'KBAAAAAAAA',
      5,
    );
    expect(chunks.map((c) => c.unusable)).toEqual(['NO_SOURCE', 'SOURCE_MISMATCH', 'NO_TEXT', 'NO_SOURCE', undefined]);
  });

  test('the answer holds authorized chunks only, sorted by score, with contract metadata only; drops leave no trace', () => {
    const chunks = parseRetrieveResponse(
      {
        retrievalResults: [
          result('s3://docs-a/published/low', { score: 0.1 }),
          result('s3://docs-a/published/secret', { score: 0.99 }),
          result('s3://docs-a/other/outside', { score: 0.98 }),
          result('s3://docs-a/published/high', { score: 0.9 }),
          result('s3://docs-a/published/flaky', { score: 0.95 }),
          result('s3://docs-a/published/high', { score: 0.7 }),
        ],
      },
      'KBAAAAAAAA',
      6,
    );
    const scopes = new Map([['KBAAAAAAAA', UriAuthorizer.fromScopes(kbA.sourceScopes).authorizer]]);
    expect(candidateSources(chunks, scopes)).toEqual(['s3://docs-a/published/low', 's3://docs-a/published/secret', 's3://docs-a/published/high', 's3://docs-a/published/flaky']);
    const { answer, dropped } = assembleAnswer(
      chunks,
      scopes,
      { allowed: new Set(['s3://docs-a/published/low', 's3://docs-a/published/high']), faulted: new Set(['s3://docs-a/published/flaky']) },
      ['tenant'],
      10,
    );
    expect(answer).toEqual({
      ok: true,
      partial: true,
      results: [
        { text: 'text of s3://docs-a/published/high', source: 's3://docs-a/published/high', score: 0.9, metadata: { tenant: 'acme' } },
        { text: 'text of s3://docs-a/published/high', source: 's3://docs-a/published/high', score: 0.7, metadata: { tenant: 'acme' } },
        { text: 'text of s3://docs-a/published/low', source: 's3://docs-a/published/low', score: 0.1, metadata: { tenant: 'acme' } },
      ],
    });
    expect(JSON.stringify(answer)).not.toMatch(/secret|outside|flaky/);
    expect(dropped).toEqual({ unusable: 0, outsideKnowledgeBase: 1, unauthorized: 1, faulted: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('TtlCache', () => {
  test('expires entries and evicts the least recently used', () => {
    const c = new TtlCache<number>(2);
    c.set('a', 1, 100, 0);
    c.set('b', 2, 100, 0);
    expect(c.get('a', 50)).toBe(1);
    c.set('c', 3, 100, 50);
    expect(c.get('b', 50)).toBeUndefined();
    expect(c.get('a', 99)).toBe(1);
    expect(c.get('a', 100)).toBeUndefined();
    c.set('d', 4, 10, 10);
    expect(c.get('d', 10)).toBeUndefined();
    expect(() => new TtlCache(0)).toThrow(RangeError);
  });
});

describe('configuration and catalogue', () => {
  const doc: KnowledgeConfigDocument = {
    version: 1,
    knowledgeBases: [{ id: 'KBAAAAAAAA', sourceScopes: ['s3://docs-a/published/*'] }],
    routes: null,
    maxKnowledgeBasesPerRequest: 3,
    filterPolicy: POLICY,
    returnedMetadataKeys: ['tenant'],
    accessGrants: {
      accountId: '123456789012',
      identityMode: 'GROUP_ROLES',
      groupRoles: [{ group: 'finance', roleArn: 'arn:aws:iam::123456789012:role/finance-reader' }],
      checkMode: 'LIST_CALLER_GRANTS',
      revocationWindowSeconds: 300,
    },
    unsafeMetadataFilterOnly: false,
    defaultResults: 5,
    timeoutMs: 27_000,
    callTimeoutMs: 5_000,
  };

  test('parses a valid document', () => {
    const c = parseKnowledgeConfig(JSON.parse(JSON.stringify(doc)));
    expect(c.grants).toMatchObject({ revocationWindowMs: 300_000, maxRolesPerCaller: 5, identityMode: 'GROUP_ROLES' });
    expect(c.routing.routes).toBeUndefined();
  });

  test.each<[string, Partial<KnowledgeConfigDocument> | Record<string, unknown>, RegExp]>([
    ['no access grants and no explicit opt-out', { accessGrants: null }, /accessGrants is required unless unsafeMetadataFilterOnly/],
    ['an opt-out together with grants', { unsafeMetadataFilterOnly: true }, /must be false when accessGrants/],
    ['a bad knowledge base id', { knowledgeBases: [{ id: 'kb', sourceScopes: ['s3://d/p/*'] }] }, /not a knowledge base id/],
    ['an unusable source scope', { knowledgeBases: [{ id: 'KBAAAAAAAA', sourceScopes: ['s3://docs/pub*'] }] }, /usable S3 scopes/],
    ['two knowledge bases without routes', { knowledgeBases: [doc.knowledgeBases[0], { id: 'KBBBBBBBBB', sourceScopes: ['s3://bucket-b/p/*'] }] }, /routes are required/],
    ['a revocation window of an hour', { accessGrants: { ...doc.accessGrants!, revocationWindowSeconds: 3600 } }, /revocationWindowSeconds is 3600/],
    ['an identity filter policy with no identity condition', { filterPolicy: { ...POLICY, identityConditions: [] } }, /at least one identity condition/],
  ])('fails on %s', (_n, patch, message) => {
    expect(() => parseKnowledgeConfig({ ...doc, ...patch })).toThrow(message);
  });

  test('the knowledge and metadata codes are in the shared catalogue, and the tool schema allows no identity argument', () => {
    const codes = ['KNOWLEDGE_NO_USABLE_CLAIMS', 'KNOWLEDGE_TOO_MANY_VALUES', 'KNOWLEDGE_ROUTE_DENIED', 'KNOWLEDGE_FILTER_REJECTED', 'KNOWLEDGE_PARTIAL', 'METADATA_VALID', 'METADATA_MISSING', 'METADATA_INVALID', 'TOOL_UNKNOWN'];
    for (const code of codes) expect(isReasonCode(code)).toBe(true);
    expect(isReasonCode('KNOWLEDGE_UNKNOWN_TOOL')).toBe(false);
    const schema = KNOWLEDGE_TOOL_DEFINITIONS[0].inputSchema as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(['filter', 'maxResults', 'query']);
    expect(schema.additionalProperties).toBe(false);
  });
});
