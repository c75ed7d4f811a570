import fc from 'fast-check';
import { settingsFromEnv, SharedWrites } from '../../../lambda/memory-broker/config';
import {
  ALL_SPACES,
  PERSONAL_SPACE,
  RecallRequest,
  checkOwnership,
  mergeRecalled,
  parseToolRequest,
  planRead,
  planWrite,
  readCreateResponse,
  readDeleteResponse,
  readRetrieveResponse,
  textAfterScreening,
} from '../../../lambda/memory-broker/decide';
import {
  ACTOR_SEGMENT_LENGTH,
  CallerScope,
  ScopeIdentity,
  ScopeRules,
  STRATEGY_NAMESPACE_TEMPLATES,
  actorIdFor,
  deriveActorSegment,
  deriveCallerScope,
  groupSharedNamespace,
  isValidRecordId,
  isValidSessionId,
  isValidSpaceId,
  isValidSubject,
  isWithinNamespace,
  personalNamespaces,
  sessionSummariesNamespace,
} from '../../../lambda/memory-broker/namespaces';
import { MEMORY_BROKER_TOOL_DEFINITIONS, memoryToolDefinitions } from '../../../lambda/memory-broker/tools';
import { isReasonCode } from '../../../lambda/shared/reason-codes';

const ISSUER = 'https://idp.example.test/tenant-1';
const LIMITS = { maxTextLength: 2000, maxRecallResults: 5 };
const RULES: ScopeRules = { sharedGroups: ['eng', 'ops'], shareTenantSpace: false };
const TENANT_RULES: ScopeRules = { tenantClaim: 'custom:tenant', sharedGroups: ['eng'], shareTenantSpace: true };
const RECORD_ID = `mem-${'a'.repeat(40)}`;

function identity(subject: string, extra: Partial<ScopeIdentity> = {}): ScopeIdentity {
  return { issuer: ISSUER, subject, groups: [], claims: {}, ...extra };
}

function scopeOf(id: ScopeIdentity, rules: ScopeRules = RULES): CallerScope {
  const r = deriveCallerScope(id, rules);
  if (!r.ok) throw new Error(r.detail);
  return r.scope;
}

/** Identifiers that must be rejected wherever an id goes: separators, traversal, wildcards, braces, look-alikes, empty, overlong. */
const HOSTILE_IDS: Array<[string, string]> = [
  ['empty', ''],
  ['slash separator', 'eng/ops'],
  ['leading slash', '/eng'],
  ['trailing slash', 'eng/'],
  ['colon separator', 'eng:ops'],
  ['traversal', '..'],
  ['traversal segment', 'eng/../ops'],
  ['dot', 'eng.ops'],
  ['wildcard *', 'eng*'],
  ['wildcard ?', 'eng?'],
  ['template braces', '{actorId}'],
  ['IAM variable', '${aws:PrincipalTag/actor}'],
  ['Cyrillic look-alike', 'еng'],
  ['fullwidth look-alike', 'ｅｎｇ'],
  ['combining accent', 'e\u0301ng'],
  ['zero-width joiner', 'e\u200dng'],
  ['space', 'eng ops'],
  ['tab', 'eng\t'],
  ['NUL', 'eng\u0000'],
  ['newline', 'eng\n'],
  ['percent-encoded slash', 'eng%2Fops'],
  ['backslash', 'eng\\ops'],
  ['starts with dash', '-eng'],
  ['starts with underscore', '_eng'],
];

describe('actor ids', () => {
  test('are a fixed prefix and 64 hex digits of SHA-256 over (domain, issuer, subject), deterministic', () => {
    const a = deriveActorSegment(ISSUER, 'alice');
    expect(a).toMatch(/^a-[0-9a-f]{64}$/);
    expect(a).toHaveLength(ACTOR_SEGMENT_LENGTH);
    expect(deriveActorSegment(ISSUER, 'alice')).toBe(a);
    expect(deriveActorSegment(ISSUER, 'Alice')).not.toBe(a);
    expect(deriveActorSegment(`${ISSUER}/`, 'alice')).not.toBe(a);
    // The encoding is unambiguous: moving characters between issuer and subject changes the id.
    expect(deriveActorSegment('https://x/a', 'b')).not.toBe(deriveActorSegment('https://x/', 'ab'));
  });

  test('subjects with separators, wildcards or braces are hashed, never placed in a namespace', () => {
    for (const subject of ['../bob', 'bob/', '*', '{actorId}', 'actor/a-1', '${aws:username}']) {
      const scope = scopeOf(identity(subject));
      expect(scope.personalRoot).toMatch(/^\/actor\/a-[0-9a-f]{64}\/$/);
    }
  });

  test.each<[string, string]>([
    ['empty', ''],
    ['non-ASCII look-alike', 'аlice'],
    ['fullwidth', 'ａlice'],
    ['space', 'alice smith'],
    ['control character', 'alice\u0000'],
    ['zero-width space', 'ali\u200bce'],
    ['overlong (256)', 'a'.repeat(256)],
  ])('a subject that is %s is rejected (no scope, no actor id)', (_name, subject) => {
    expect(isValidSubject(subject)).toBe(false);
    expect(() => deriveActorSegment(ISSUER, subject)).toThrow(/subject/);
    const r = deriveCallerScope(identity(subject), RULES);
    expect(r.ok).toBe(false);
  });

  test('a 255-character ASCII subject is accepted; issuers must be visible ASCII', () => {
    expect(scopeOf(identity('s'.repeat(255))).actorSegment).toHaveLength(ACTOR_SEGMENT_LENGTH);
    expect(deriveCallerScope({ ...identity('alice'), issuer: 'https://idp.exаmple' }, RULES).ok).toBe(false);
    expect(deriveCallerScope({ ...identity('alice'), issuer: '' }, RULES).ok).toBe(false);
  });
});

describe('the namespace hierarchy', () => {
  test('the strategy templates start with the actor id and end with /', () => {
    expect(STRATEGY_NAMESPACE_TEMPLATES).toEqual({
      SEMANTIC: '/{actorId}/facts/',
      USER_PREFERENCE: '/{actorId}/preferences/',
      SUMMARIZATION: '/{actorId}/summaries/{sessionId}/',
    });
  });

  test('a caller without tenant lives at /actor/<segment>/, with notes, and only the shared groups it is in', () => {
    const scope = scopeOf(identity('alice', { groups: ['ops', 'Eng', 'eng-team', 'admins'] }));
    const seg = deriveActorSegment(ISSUER, 'alice');
    expect(scope.actorId).toBe(`actor/${seg}`);
    expect(scope.personalRoot).toBe(`/actor/${seg}/`);
    expect(scope.notesNamespace).toBe(`/actor/${seg}/notes/`);
    // 'Eng' and 'eng-team' are not 'eng': membership is literal, never case-folded or prefix-matched.
    expect(scope.sharedSpaces).toEqual([{ name: 'group:ops', namespace: '/group/ops/shared/' }]);
  });

  test('with a tenant claim, the actor and its group spaces live under /tenant/<id>/', () => {
    const scope = scopeOf(identity('alice', { groups: ['eng'], claims: { 'custom:tenant': 'acme' } }), TENANT_RULES);
    const seg = deriveActorSegment(ISSUER, 'alice');
    expect(scope.actorId).toBe(`tenant/acme/actor/${seg}`);
    expect(scope.personalRoot).toBe(`/tenant/acme/actor/${seg}/`);
    expect(scope.sharedSpaces).toEqual([
      { name: 'tenant', namespace: '/tenant/acme/shared/' },
      { name: 'group:eng', namespace: '/tenant/acme/group/eng/shared/' },
    ]);
    // The same user in another tenant has another memory.
    const other = scopeOf(identity('alice', { claims: { 'custom:tenant': 'globex' } }), TENANT_RULES);
    expect(other.personalRoot).not.toBe(scope.personalRoot);
    expect(other.personalRoot.startsWith(scope.personalRoot) || scope.personalRoot.startsWith(other.personalRoot)).toBe(false);
  });

  test('a missing tenant claim, or one that is not a string, fails: never a namespace without the tenant', () => {
    for (const claims of [{}, { 'custom:tenant': ['acme'] }, { 'custom:tenant': 7 }, { 'custom:tenant': null }]) {
      expect(deriveCallerScope(identity('alice', { claims }), TENANT_RULES).ok).toBe(false);
    }
  });

  test.each(HOSTILE_IDS)('a tenant claim with %s is rejected, never normalized', (_name, value) => {
    expect(isValidSpaceId(value)).toBe(false);
    const r = deriveCallerScope(identity('alice', { claims: { 'custom:tenant': value } }), TENANT_RULES);
    expect(r.ok).toBe(false);
  });

  test.each(HOSTILE_IDS)('a group named with %s never gets a space (configuration rejects it; a claim never matches)', (_name, value) => {
    expect(isValidSpaceId(value)).toBe(false);
    expect(() => groupSharedNamespace(value)).toThrow();
    // The verified claim may carry anything: only exact, configured names map to a space.
    const scope = scopeOf(identity('alice', { groups: [value] }), { sharedGroups: ['eng'], shareTenantSpace: false });
    expect(scope.sharedSpaces).toEqual([]);
    expect(settingsFromEnv({ MEMORY_ID: 'store_1-abcdefghij', SHARED_GROUPS: JSON.stringify([value]) }).ok).toBe(false);
  });

  test.each([...HOSTILE_IDS, ['overlong (101)', 'a'.repeat(101)] as [string, string]])('a session id with %s is rejected', (_name, value) => {
    expect(isValidSessionId(value)).toBe(false);
    const root = scopeOf(identity('alice')).personalRoot;
    expect(() => sessionSummariesNamespace(root, value)).toThrow(/session id/);
    expect(parseToolRequest('recall', { query: 'q', sessionId: value }, LIMITS)).toMatchObject({ ok: false, reasonCode: 'MALFORMED_REQUEST' });
  });

  test('valid session ids, tenant and group ids are used as given (case kept)', () => {
    expect(isValidSessionId('Sess-01_a')).toBe(true);
    expect(isValidSessionId('s'.repeat(100))).toBe(true);
    expect(isValidSpaceId('Eng')).toBe(true);
    expect(isValidSpaceId('e'.repeat(64))).toBe(true);
    expect(isValidSpaceId('e'.repeat(65))).toBe(false);
    expect(groupSharedNamespace('Eng')).toBe('/group/Eng/shared/');
    expect(groupSharedNamespace('eng')).not.toBe(groupSharedNamespace('Eng'));
  });

  test('actor ids refuse invalid segments and tenants', () => {
    expect(() => actorIdFor('a-123')).toThrow(/actor segment/);
    expect(() => actorIdFor(`A-${'0'.repeat(64)}`)).toThrow(/actor segment/);
    expect(() => actorIdFor(deriveActorSegment(ISSUER, 'alice'), 'acme/x')).toThrow(/tenant/);
  });

  test('isWithinNamespace compares literally and refuses wildcards, dots and foreign characters', () => {
    expect(isWithinNamespace('/actor/a-1/notes/', '/actor/a-1/')).toBe(true);
    expect(isWithinNamespace('/actor/a-12/notes/', '/actor/a-1/')).toBe(false);
    expect(isWithinNamespace('/actor/a-1/*', '/actor/a-1/')).toBe(false);
    expect(isWithinNamespace('/actor/a-1/../a-2/', '/actor/a-1/')).toBe(false);
    expect(isWithinNamespace('/actor/a-1/ä/', '/actor/a-1/')).toBe(false);
    expect(isWithinNamespace(7, '/actor/a-1/')).toBe(false);
    expect(isWithinNamespace('/actor/a-1/x', '/actor/a-1')).toBe(false);
  });
});

describe('property: distinct verified identities never share or nest a namespace', () => {
  const issuerArb = fc.constantFrom(ISSUER, 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc', 'https://login.example.org');
  const subjectArb = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }),
    fc.constantFrom('alice', 'alice2', 'Alice', 'bob', '../alice', 'alice/', '*', '{actorId}', 'a', 'aa'),
  );
  const tenantArb = fc.option(fc.constantFrom('acme', 'acme2', 'Acme', 'globex'), { nil: undefined });
  const groupsArb = fc.subarray(['eng', 'ops', 'Eng', 'eng/ops', '*', '..']);
  const identityArb = fc.record({ issuer: issuerArb, subject: subjectArb, tenant: tenantArb, groups: groupsArb });
  const sessionArb = fc.constantFrom('s1', 'S1', 's-1', 's_1', 'session-2026-01-01', 'x'.repeat(100));

  const toScope = (i: { issuer: string; subject: string; tenant?: string; groups: string[] }, rules: ScopeRules) =>
    scopeOf({ issuer: i.issuer, subject: i.subject, groups: i.groups, claims: i.tenant ? { 'custom:tenant': i.tenant } : {} }, rules);

  test('neither identity\'s namespaces is a prefix of the other\'s (10,000 runs)', () => {
    fc.assert(
      fc.property(identityArb, identityArb, sessionArb, sessionArb, fc.boolean(), (i1, i2, s1, s2, tenanted) => {
        const rules = tenanted ? TENANT_RULES : RULES;
        const one = tenanted ? { ...i1, tenant: i1.tenant ?? 'acme' } : { ...i1, tenant: undefined };
        const two = tenanted ? { ...i2, tenant: i2.tenant ?? 'acme' } : { ...i2, tenant: undefined };
        fc.pre(one.issuer !== two.issuer || one.subject !== two.subject || one.tenant !== two.tenant);
        const n1 = personalNamespaces(toScope(one, rules), s1);
        const n2 = personalNamespaces(toScope(two, rules), s2);
        // Plain booleans (not expect) keep 10,000 runs fast; fast-check reports the counterexample.
        return n1.every((a) => a.endsWith('/') && n2.every((b) => b.endsWith('/') && !b.startsWith(a) && !a.startsWith(b)));
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });

  /** Tool calls a model could make, hostile ones included. */
  const argsArb = fc.oneof(
    fc.record({ query: fc.string({ minLength: 1, maxLength: 20 }), space: fc.option(fc.constantFrom('personal', 'all', 'tenant', 'group:eng', 'group:ops', 'group:Eng', 'group:../x', 'group:*', '/actor/'), { nil: undefined }), sessionId: fc.option(fc.constantFrom('s1', 's-2', '../s', '*'), { nil: undefined }) }, { requiredKeys: ['query'] }),
    fc.record({ text: fc.string({ minLength: 1, maxLength: 20 }), space: fc.option(fc.constantFrom('personal', 'tenant', 'group:eng', 'group:ops'), { nil: undefined }) }, { requiredKeys: ['text'] }),
    fc.record({ query: fc.constant('q'), actorId: fc.string(), namespace: fc.constantFrom('/', '/actor/', '*'), tenant: fc.string(), groups: fc.array(fc.string()) }, { requiredKeys: ['query'] }),
  );

  test('no request generated for one identity can read or write the other\'s own records (10,000 runs)', () => {
    fc.assert(
      fc.property(identityArb, identityArb, argsArb, fc.boolean(), fc.constantFrom<SharedWrites>('NONE', 'SCREENED'), (i1, i2, args, tenanted, sharedWrites) => {
        const rules = tenanted ? TENANT_RULES : RULES;
        const one = tenanted ? { ...i1, tenant: i1.tenant ?? 'acme' } : { ...i1, tenant: undefined };
        const two = tenanted ? { ...i2, tenant: i2.tenant ?? 'acme' } : { ...i2, tenant: undefined };
        fc.pre(one.issuer !== two.issuer || one.subject !== two.subject || one.tenant !== two.tenant);
        const caller = toScope(one, rules);
        const victim = toScope(two, rules);
        const victimNamespaces = personalNamespaces(victim, 's1');
        const touches = (prefix: string) => victimNamespaces.some((v) => v.startsWith(prefix) || prefix.startsWith(v));
        const tool = 'text' in args ? 'remember' : 'recall';
        const parsed = parseToolRequest(tool, args, LIMITS);
        if (!parsed.ok) return;
        if (parsed.value.tool === 'recall') {
          const targets = planRead(caller, parsed.value);
          if (targets.ok) for (const t of targets.value) expect(touches(t.namespace)).toBe(false);
        } else if (parsed.value.tool === 'remember') {
          const plan = planWrite(caller, parsed.value.space, { sharedWrites, screened: true });
          if (plan.ok) expect(touches(plan.value.namespace)).toBe(false);
        }
        // And forget: a record of the victim's own memory is never the caller's to delete.
        const victimRecord = { memoryRecord: { memoryRecordId: RECORD_ID, namespaces: [victimNamespaces[1 + ('query' in args ? args.query.length : 0) % 4]] } };
        expect(checkOwnership(victimRecord, RECORD_ID, caller).ok).toBe(false);
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });
});

describe('parseToolRequest', () => {
  test('accepts each tool with its own arguments and fills defaults', () => {
    expect(parseToolRequest('remember', { text: 'likes tea' }, LIMITS)).toEqual({ ok: true, value: { tool: 'remember', text: 'likes tea', space: 'personal' } });
    expect(parseToolRequest('recall', { query: 'tea', space: 'all', maxResults: 3 }, LIMITS)).toEqual({
      ok: true,
      value: { tool: 'recall', query: 'tea', space: 'all', maxResults: 3 },
    });
    expect(parseToolRequest('forget', { recordId: RECORD_ID }, LIMITS)).toEqual({ ok: true, value: { tool: 'forget', recordId: RECORD_ID } });
  });

  test.each(['actorId', 'actor_id', 'ActorId', 'userId', 'namespace', 'namespacePath', 'tenant', 'tenantId', 'groups', 'group', 'sub', 'issuer', 'memoryId', 'guardrailVersion'])(
    'an identity-like argument %s is refused as choosing a protected setting',
    (key) => {
      expect(parseToolRequest('recall', { query: 'q', [key]: 'x' }, LIMITS)).toMatchObject({ ok: false, reasonCode: 'CALLER_CHOSE_PROTECTED_SETTING' });
    },
  );

  test.each<[string, string, unknown]>([
    ['unknown tool', 'delete_all', { query: 'q' }],
    ['missing tool name', '', { query: 'q' }],
  ])('%s → TOOL_UNKNOWN', (_n, tool, args) => {
    expect(parseToolRequest(tool || undefined, args, LIMITS)).toMatchObject({ ok: false, reasonCode: 'TOOL_UNKNOWN' });
  });

  test.each<[string, string, unknown, string]>([
    ['arguments not an object', 'recall', ['q'], 'MALFORMED_REQUEST'],
    ['arguments null', 'recall', null, 'MALFORMED_REQUEST'],
    ['extra key', 'recall', { query: 'q', verbose: true }, 'MALFORMED_REQUEST'],
    ['another tool\'s key', 'forget', { recordId: RECORD_ID, text: 'x' }, 'MALFORMED_REQUEST'],
    ['__proto__ key', 'recall', JSON.parse('{"query":"q","__proto__":{"x":1}}'), 'MALFORMED_REQUEST'],
    ['constructor key', 'recall', { query: 'q', constructor: 'x' }, 'MALFORMED_REQUEST'],
    ['query not a string', 'recall', { query: 5 }, 'MALFORMED_REQUEST'],
    ['empty query', 'recall', { query: '' }, 'MALFORMED_REQUEST'],
    ['overlong query', 'recall', { query: 'q'.repeat(2001) }, 'REQUEST_TOO_LARGE'],
    ['lone surrogate', 'remember', { text: 'a\ud800b' }, 'MALFORMED_REQUEST'],
    ['overlong text', 'remember', { text: 't'.repeat(2001) }, 'REQUEST_TOO_LARGE'],
    ['smuggled tag characters', 'remember', { text: 'hi\u{E0041}\u{E0042}' }, 'SMUGGLED_CHARACTERS'],
    ['bidi control', 'remember', { text: 'abc\u202Edef' }, 'SMUGGLED_CHARACTERS'],
    ['space all on remember', 'remember', { text: 't', space: 'all' }, 'MALFORMED_REQUEST'],
    ['space traversal', 'recall', { query: 'q', space: 'group:../eng' }, 'MALFORMED_REQUEST'],
    ['space wildcard', 'recall', { query: 'q', space: 'group:*' }, 'MALFORMED_REQUEST'],
    ['space namespace', 'recall', { query: 'q', space: '/actor/' }, 'MALFORMED_REQUEST'],
    ['space look-alike', 'recall', { query: 'q', space: 'group:еng' }, 'MALFORMED_REQUEST'],
    ['space not a string', 'recall', { query: 'q', space: ['personal'] }, 'MALFORMED_REQUEST'],
    ['sessionId with shared space', 'recall', { query: 'q', space: 'all', sessionId: 's1' }, 'MALFORMED_REQUEST'],
    ['maxResults 0', 'recall', { query: 'q', maxResults: 0 }, 'MALFORMED_REQUEST'],
    ['maxResults above the limit', 'recall', { query: 'q', maxResults: 6 }, 'MALFORMED_REQUEST'],
    ['maxResults fractional', 'recall', { query: 'q', maxResults: 2.5 }, 'MALFORMED_REQUEST'],
    ['record id of another shape', 'forget', { recordId: 'mem-short' }, 'MALFORMED_REQUEST'],
    ['record id with traversal', 'forget', { recordId: `mem-${'a'.repeat(36)}/../x` }, 'MALFORMED_REQUEST'],
    ['record id wildcard', 'forget', { recordId: `mem-${'a'.repeat(36)}*` }, 'MALFORMED_REQUEST'],
  ])('%s is refused', (_n, tool, args, code) => {
    expect(parseToolRequest(tool, args, LIMITS)).toMatchObject({ ok: false, reasonCode: code });
  });

  test('record ids follow the service pattern (40 to 50 characters)', () => {
    expect(isValidRecordId(`mem-${'a'.repeat(36)}`)).toBe(true);
    expect(isValidRecordId(`mem-${'a'.repeat(46)}`)).toBe(true);
    expect(isValidRecordId(`mem-${'a'.repeat(47)}`)).toBe(false);
    expect(isValidRecordId(`mem-${'ä'.repeat(36)}`)).toBe(false);
  });
});

describe('plans', () => {
  const scope = scopeOf(identity('alice', { groups: ['eng'] }));
  const recall = (space: string, sessionId?: string): RecallRequest => ({ tool: 'recall', query: 'q', space, maxResults: 5, ...(sessionId ? { sessionId } : {}) });

  test('recall reads the personal root, one session, a shared space the caller is in, or all of them', () => {
    expect(planRead(scope, recall(PERSONAL_SPACE))).toEqual({ ok: true, value: [{ space: 'personal', namespace: scope.personalRoot }] });
    expect(planRead(scope, recall(PERSONAL_SPACE, 's1'))).toEqual({ ok: true, value: [{ space: 'personal', namespace: `${scope.personalRoot}summaries/s1/` }] });
    expect(planRead(scope, recall('group:eng'))).toEqual({ ok: true, value: [{ space: 'group:eng', namespace: '/group/eng/shared/' }] });
    expect(planRead(scope, recall(ALL_SPACES))).toEqual({
      ok: true,
      value: [
        { space: 'personal', namespace: scope.personalRoot },
        { space: 'group:eng', namespace: '/group/eng/shared/' },
      ],
    });
  });

  test('a space outside the caller\'s verified scope is refused, never widened', () => {
    expect(planRead(scope, recall('group:ops'))).toMatchObject({ ok: false, reasonCode: 'MEMORY_SPACE_NOT_PERMITTED' });
    expect(planRead(scope, recall('tenant'))).toMatchObject({ ok: false, reasonCode: 'MEMORY_SPACE_NOT_PERMITTED' });
    expect(planWrite(scope, 'group:ops', { sharedWrites: 'SCREENED', screened: true })).toMatchObject({ ok: false, reasonCode: 'MEMORY_SPACE_NOT_PERMITTED' });
  });

  test('writes go to the caller\'s notes; shared writes need SCREENED and a guardrail', () => {
    expect(planWrite(scope, 'personal', { sharedWrites: 'NONE', screened: false })).toEqual({ ok: true, value: { namespace: scope.notesNamespace, space: 'personal', shared: false } });
    expect(planWrite(scope, 'group:eng', { sharedWrites: 'SCREENED', screened: true })).toEqual({ ok: true, value: { namespace: '/group/eng/shared/', space: 'group:eng', shared: true } });
    expect(planWrite(scope, 'group:eng', { sharedWrites: 'NONE', screened: true })).toMatchObject({ ok: false, reasonCode: 'MEMORY_SHARED_WRITE_DISABLED' });
    expect(planWrite(scope, 'group:eng', { sharedWrites: 'SCREENED', screened: false })).toMatchObject({ ok: false, reasonCode: 'MEMORY_SHARED_WRITE_DISABLED' });
  });
});

describe('reading responses', () => {
  const scope = scopeOf(identity('alice'));
  const target = { space: 'personal', namespace: scope.personalRoot };
  const rec = (id: string, ns: unknown, extra: Record<string, unknown> = {}) => ({ memoryRecordId: id, content: { text: `t-${id}` }, memoryStrategyId: 's', namespaces: ns, ...extra });
  const id = (n: number) => `mem-${String(n).padStart(40, '0')}`;

  test('records inside the namespace asked for are returned with their space, score and date', () => {
    const createdAt = new Date('2026-01-02T03:04:05Z');
    expect(readRetrieveResponse({ memoryRecordSummaries: [rec(id(1), [`${scope.personalRoot}facts/`], { score: 0.9, createdAt })] }, target)).toEqual([
      { recordId: id(1), text: `t-${id(1)}`, space: 'personal', score: 0.9, createdAt: '2026-01-02T03:04:05.000Z' },
    ]);
  });

  test.each<[string, unknown]>([
    ['not an object', 'junk'],
    ['no list', {}],
    ['a record outside the namespace', { memoryRecordSummaries: [rec(id(1), ['/actor/a-other/facts/'])] }],
    ['a record with one namespace outside', { memoryRecordSummaries: [rec(id(1), [`${scope.personalRoot}facts/`, '/group/x/shared/'])] }],
    ['a record without namespaces', { memoryRecordSummaries: [rec(id(1), [])] }],
    ['a wildcard namespace', { memoryRecordSummaries: [rec(id(1), [`${scope.personalRoot}*`])] }],
    ['an invalid id', { memoryRecordSummaries: [rec('x', [scope.personalRoot])] }],
    ['no text', { memoryRecordSummaries: [{ ...rec(id(1), [scope.personalRoot]), content: {} }] }],
    ['a score that is not a number', { memoryRecordSummaries: [rec(id(1), [scope.personalRoot], { score: 'high' })] }],
    ['a date that is not a date', { memoryRecordSummaries: [rec(id(1), [scope.personalRoot], { createdAt: 'yesterday' })] }],
  ])('a response with %s is malformed (thrown, so the whole recall is denied)', (_n, response) => {
    expect(() => readRetrieveResponse(response, target)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
  });

  test('merging orders by score, drops duplicates and caps the count', () => {
    const m = (n: number, score?: number) => ({ recordId: id(n), text: 't', space: 'personal', ...(score !== undefined ? { score } : {}) });
    expect(mergeRecalled([[m(1, 0.2), m(2)], [m(3, 0.9), m(1, 0.2)]], 2).map((r) => r.recordId)).toEqual([id(3), id(1)]);
  });

  test('a create response must report exactly the one record, SUCCEEDED, with a valid id', () => {
    const ok = { successfulRecords: [{ memoryRecordId: id(7), status: 'SUCCEEDED', requestIdentifier: 'r1' }], failedRecords: [] };
    expect(readCreateResponse(ok, 'r1')).toEqual({ ok: true, value: id(7) });
    expect(readCreateResponse({ successfulRecords: [], failedRecords: [{ status: 'FAILED', errorCode: 429 }] }, 'r1')).toMatchObject({ reasonCode: 'UPSTREAM_THROTTLED' });
    expect(readCreateResponse({ successfulRecords: [], failedRecords: [{ status: 'FAILED', errorCode: 503 }] }, 'r1')).toMatchObject({ reasonCode: 'UPSTREAM_UNAVAILABLE' });
    expect(readCreateResponse({ successfulRecords: [], failedRecords: [{ status: 'FAILED', errorCode: 400 }] }, 'r1')).toMatchObject({ reasonCode: 'MEMORY_WRITE_REJECTED' });
    for (const bad of [{}, { successfulRecords: [], failedRecords: [] }, { ...ok, successfulRecords: [{ ...ok.successfulRecords[0], status: 'FAILED' }] }, { ...ok, successfulRecords: [{ ...ok.successfulRecords[0], requestIdentifier: 'r2' }] }, { ...ok, successfulRecords: [{ status: 'SUCCEEDED', memoryRecordId: 'x' }] }]) {
      expect(() => readCreateResponse(bad, 'r1')).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
    }
  });

  test('ownership: only a record wholly inside the caller\'s own memory may be deleted', () => {
    const mine = { memoryRecord: { memoryRecordId: RECORD_ID, namespaces: [`${scope.personalRoot}facts/`] } };
    expect(checkOwnership(mine, RECORD_ID, scope)).toEqual({ ok: true, value: `${scope.personalRoot}facts/` });
    const bob = scopeOf(identity('bob'));
    for (const namespaces of [[`${bob.personalRoot}notes/`], ['/group/eng/shared/'], [`${scope.personalRoot}facts/`, `${bob.personalRoot}facts/`], [scope.personalRoot.slice(0, -1)]]) {
      expect(checkOwnership({ memoryRecord: { memoryRecordId: RECORD_ID, namespaces } }, RECORD_ID, scope)).toMatchObject({ ok: false, reasonCode: 'MEMORY_RECORD_NOT_FOUND' });
    }
    for (const bad of [{}, { memoryRecord: { memoryRecordId: `mem-${'b'.repeat(40)}`, namespaces: [scope.personalRoot] } }, { memoryRecord: { memoryRecordId: RECORD_ID, namespaces: [] } }]) {
      expect(() => checkOwnership(bad, RECORD_ID, scope)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
    }
    expect(() => readDeleteResponse({ memoryRecordId: 'other' }, RECORD_ID)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
    expect(() => readDeleteResponse({ memoryRecordId: RECORD_ID }, RECORD_ID)).not.toThrow();
  });

  test('screening: a block or an unusable answer stores nothing; a mask stores the masked text', () => {
    expect(textAfterScreening({ action: 'BLOCKED', reasonCode: 'GUARDRAIL_BLOCKED', findings: 1 }, 100)).toMatchObject({ ok: false, reasonCode: 'GUARDRAIL_BLOCKED' });
    expect(textAfterScreening({ action: 'MASKED', reasonCode: 'GUARDRAIL_MASKED', text: 'mail {EMAIL}', findings: 1 }, 100)).toEqual({ ok: true, value: { text: 'mail {EMAIL}', masked: true } });
    expect(textAfterScreening({ action: 'ALLOWED', reasonCode: 'ALLOWED', findings: 0 }, 100)).toMatchObject({ ok: false, reasonCode: 'GUARDRAIL_PARTIAL_COVERAGE' });
  });
});

describe('configuration, tools and codes', () => {
  const env = { MEMORY_ID: 'store_1-abcdefghij' };

  test('defaults are secure: no shared writes, no tenant, bounded text and results', () => {
    expect(settingsFromEnv(env)).toEqual({
      ok: true,
      settings: { memoryId: 'store_1-abcdefghij', sharedGroups: [], shareTenantSpace: false, sharedWrites: 'NONE', maxTextLength: 2000, maxRecallResults: 5, timeoutMs: 12000 },
    });
  });

  test.each<[string, Record<string, string>]>([
    ['no memory id', {}],
    ['memory id with a slash', { MEMORY_ID: 'store/1-abcdefghij' }],
    ['shared writes without a guardrail', { ...env, SHARED_WRITES: 'SCREENED' }],
    ['unknown shared-writes mode', { ...env, SHARED_WRITES: 'ALL' }],
    ['guardrail id without version', { ...env, GUARDRAIL_IDENTIFIER: 'gr1' }],
    ['DRAFT guardrail', { ...env, GUARDRAIL_IDENTIFIER: 'gr1', GUARDRAIL_VERSION: 'DRAFT' }],
    ['tenant space without tenant claim', { ...env, SHARE_TENANT_SPACE: 'true' }],
    ['tenant claim __proto__', { ...env, TENANT_CLAIM: '__proto__' }],
    ['shared groups not JSON', { ...env, SHARED_GROUPS: 'eng,ops' }],
    ['duplicate shared groups', { ...env, SHARED_GROUPS: '["eng","eng"]' }],
    ['eleven shared groups', { ...env, SHARED_GROUPS: JSON.stringify(Array.from({ length: 11 }, (_, i) => `g${i}`)) }],
    ['text limit out of range', { ...env, MAX_TEXT_LENGTH: '20000' }],
    ['results not a number', { ...env, MAX_RECALL_RESULTS: 'five' }],
  ])('fails with %s', (_n, e) => {
    const r = settingsFromEnv(e);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.length).toBeGreaterThan(0);
  });

  test('tool schemas name no identity and share one source', () => {
    expect(MEMORY_BROKER_TOOL_DEFINITIONS.map((t) => t.name)).toEqual(['remember', 'recall', 'forget']);
    const text = JSON.stringify(MEMORY_BROKER_TOOL_DEFINITIONS);
    for (const word of ['actorId', 'userId', 'tenant"', 'groups', 'namespace', 'memoryId']) expect(text).not.toContain(word);
    // Only what an AgentCore Gateway inline tool schema accepts (type, description, properties, required, items).
    const allowed = new Set(['type', 'description', 'properties', 'required', 'items']);
    const check = (schema: Record<string, any>): void => {
      for (const key of Object.keys(schema)) expect(allowed.has(key)).toBe(true);
      for (const child of Object.values(schema.properties ?? {})) check(child as Record<string, any>);
    };
    for (const t of MEMORY_BROKER_TOOL_DEFINITIONS) check(t.inputSchema);
    const custom = memoryToolDefinitions({ maxTextLength: 500, maxRecallResults: 3 });
    expect((custom[0].inputSchema as any).properties.text.description).toContain('1 to 500 characters');
    expect((custom[1].inputSchema as any).properties.maxResults.description).toContain('1 to 3');
  });

  test('the broker codes are in the shared catalogue', () => {
    for (const code of ['MEMORY_SPACE_NOT_PERMITTED', 'MEMORY_SHARED_WRITE_DISABLED', 'MEMORY_RECORD_NOT_FOUND', 'MEMORY_WRITE_REJECTED', 'TOOL_UNKNOWN']) {
      expect(isReasonCode(code)).toBe(true);
    }
    expect(isReasonCode('UNKNOWN_TOOL')).toBe(false);
  });
});
