/**
 * Session taint: the pure parts (keys, reading items, updates, expiry) and the DynamoDB store against the in-memory
 * table, with a property test that the taint only ever grows and ends as the union of what was recorded, and one
 * that, under the default tool policy, no sequence of calls reaches external access after sensitive data and
 * untrusted content without an approval.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { VerifiedIdentity } from '../../../lambda/shared/identity';
import { DEFAULT_TOOL_POLICIES, authorizeToolCall, createToolAuthorizer } from '../../../lambda/tool-interceptor/cedar';
import { createDynamoDbSessionTaintStore } from '../../../lambda/tool-interceptor/clients';
import { TAINT_TTL_SECONDS } from '../../../lambda/tool-interceptor/config';
import { NO_SESSION } from '../../../lambda/tool-interceptor/decide';
import { RegisteredTool, RiskClass, ToolCapability } from '../../../lambda/tool-interceptor/registry';
import { capabilitiesOfItem, taintExpiresAt, taintKey, taintSubjectProblems, taintUpdate } from '../../../lambda/tool-interceptor/session-taint';
import { FakeTaintTable, TAINT_TABLE, applyTaintUpdate, testTaintClient } from './taint-table';

const S = ToolCapability.SENSITIVE_DATA;
const U = ToolCapability.UNTRUSTED_CONTENT;
const E = ToolCapability.EXTERNAL_ACCESS;
const ALICE = 'https://idp.example.test/tenant-1|alice';
const NOW = 1_760_000_000_000;

const ddb = mockClient(DynamoDBClient);
let table: FakeTaintTable;
beforeEach(() => {
  ddb.reset();
  table = new FakeTaintTable();
  table.install(ddb);
});

const store = () => createDynamoDbSessionTaintStore({ tableName: TAINT_TABLE, client: testTaintClient(), now: () => NOW });

describe('keys', () => {
  test('one key per (principal, session): 64 hex, stable, different for another principal or session', () => {
    const k = taintKey(ALICE, 'sess-1');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(taintKey(ALICE, 'sess-1')).toBe(k);
    expect(taintKey(ALICE, 'sess-2')).not.toBe(k);
    expect(taintKey('https://idp.example.test/tenant-1|bob', 'sess-1')).not.toBe(k);
    expect(taintKey(ALICE, NO_SESSION)).not.toBe(k);
  });

  test('the encoding is unambiguous: moving a "|" between principal and session gives another key', () => {
    expect(taintKey('iss|a|b', 'c')).not.toBe(taintKey('iss|a', 'b|c'));
  });

  test.each<[string, unknown, unknown]>([
    ['an empty principal', '', 'sess'],
    ['a principal without an issuer', 'alice', 'sess'],
    ['a principal with a lone surrogate', 'iss|\ud800', 'sess'],
    ['a principal that is not a string', 42, 'sess'],
    ['an empty session', ALICE, ''],
    ['a session with a space', ALICE, 'a b'],
    ['a session of 257 characters', ALICE, 'x'.repeat(257)],
  ])('fails for %s (MALFORMED_REQUEST)', (_name, principal, session) => {
    expect(taintSubjectProblems(principal, session)).not.toEqual([]);
    expect(() => taintKey(principal as string, session as string)).toThrow(expect.objectContaining({ reasonCode: 'MALFORMED_REQUEST' }));
  });
});

describe('reading items', () => {
  const id = taintKey(ALICE, 'sess-1');

  test('no item is a clean session; an item without labels too; labels come back in a fixed order', () => {
    expect(capabilitiesOfItem(undefined, id)).toEqual([]);
    expect(capabilitiesOfItem({ id: { S: id }, expiresAt: { N: '1' } }, id)).toEqual([]);
    expect(capabilitiesOfItem({ id: { S: id }, caps: { SS: [E, S] }, expiresAt: { N: '1760000000' } }, id)).toEqual([S, E]);
  });

  test('an expired item still counts: expiry bounds storage, not protection', () => {
    expect(capabilitiesOfItem({ id: { S: id }, caps: { SS: [U] }, expiresAt: { N: '1' } }, id)).toEqual([U]);
  });

  test.each<[string, unknown]>([
    ['not an object', 'item'],
    ['a list', []],
    ['no key', { caps: { SS: [S] } }],
    ['another key', { id: { S: 'a'.repeat(64) }, caps: { SS: [S] } }],
    ['a numeric key', { id: { N: '1' } }],
    ['an unknown label', { id: { S: id }, caps: { SS: [S, 'ADMIN'] } }],
    ['a lower-case label', { id: { S: id }, caps: { SS: ['sensitive_data'] } }],
    ['a list instead of a set', { id: { S: id }, caps: { L: [{ S: S }] } }],
    ['a string instead of a set', { id: { S: id }, caps: { S: S } }],
    ['an empty set', { id: { S: id }, caps: { SS: [] } }],
    ['a set with a second type', { id: { S: id }, caps: { SS: [S], S: S } }],
    ['an expiry that is a string', { id: { S: id }, expiresAt: { S: '1' } }],
    ['an expiry that is not a whole number', { id: { S: id }, expiresAt: { N: '1.5' } }],
  ])('an item with %s is a malformed response', (_name, item) => {
    expect(() => capabilitiesOfItem(item, id)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
  });
});

describe('updates and expiry', () => {
  test.each<[string, ToolCapability[], ToolCapability[], boolean, ToolCapability[]]>([
    ['a clean session, a tool without labels: nothing to write', [], [], false, []],
    ['a clean session, a labeled tool', [], [U], true, [U]],
    ['a tainted session, a tool without labels: the expiry is pushed out', [S], [], true, [S]],
    ['labels already there', [S, U], [U], true, [S, U]],
    ['the third leg', [S, U], [E], true, [S, U, E]],
    ['duplicates in the tool labels', [], [E, E, S], true, [S, E]],
  ])('%s', (_name, session, tool, write, after) => {
    const u = taintUpdate(session, tool);
    expect(u.write).toBe(write);
    expect(u.after).toEqual(after);
    expect(u.add).toEqual([...new Set(tool)].sort((a, b) => [S, U, E].indexOf(a) - [S, U, E].indexOf(b)));
  });

  test('the expiry is now plus the TTL in whole epoch seconds, rounded up', () => {
    expect(taintExpiresAt(NOW, 3_600)).toBe(NOW / 1000 + 3_600);
    expect(taintExpiresAt(NOW + 1, 3_600)).toBe(NOW / 1000 + 3_601);
  });

  test.each<[string, number, number]>([
    ['a zero clock', 0, 3_600],
    ['a fractional clock', 1.5, 3_600],
    ['a TTL under the minimum', NOW, TAINT_TTL_SECONDS.min - 1],
    ['a TTL over the maximum', NOW, TAINT_TTL_SECONDS.max + 1],
    ['a fractional TTL', NOW, 3_600.5],
  ])('fails for %s (INTERNAL_ERROR)', (_name, now, ttl) => {
    expect(() => taintExpiresAt(now, ttl)).toThrow(expect.objectContaining({ reasonCode: 'INTERNAL_ERROR' }));
  });
});

describe('the DynamoDB store', () => {
  test('reads strongly consistent by the hashed key; writes ADD to a string set and SET the expiry, returning the whole item', async () => {
    const s = store();
    expect(await s.readTaint(ALICE, 'sess-1')).toEqual([]);
    expect(await s.addTaint(ALICE, 'sess-1', [U, S], 3_600)).toEqual([S, U]);
    expect(await s.addTaint(ALICE, 'sess-1', [E], 3_600)).toEqual([S, U, E]);
    expect(await s.readTaint(ALICE, 'sess-1')).toEqual([S, U, E]);
    const id = taintKey(ALICE, 'sess-1');
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: TAINT_TABLE, Key: { id: { S: id } }, ConsistentRead: true });
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input).toEqual({
      TableName: TAINT_TABLE,
      Key: { id: { S: id } },
      UpdateExpression: 'ADD #caps :caps SET #exp = :exp',
      ExpressionAttributeNames: { '#caps': 'caps', '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':caps': { SS: [S, U] }, ':exp': { N: String(NOW / 1000 + 3_600) } },
      ReturnValues: 'ALL_NEW',
    });
  });

  test('a write without labels only pushes the expiry out', async () => {
    const s = store();
    await s.addTaint(ALICE, 'sess-1', [S], 3_600);
    expect(await s.addTaint(ALICE, 'sess-1', [], 7_200)).toEqual([S]);
    expect(ddb.commandCalls(UpdateItemCommand)[1].args[0].input).toMatchObject({ UpdateExpression: 'SET #exp = :exp', ExpressionAttributeNames: { '#exp': 'expiresAt' } });
    expect(table.items.get(taintKey(ALICE, 'sess-1'))?.expiresAt).toEqual({ N: String(NOW / 1000 + 7_200) });
  });

  test('an answer to a write that does not show the expiry just set is a malformed response', async () => {
    const id = taintKey(ALICE, 'sess-1');
    ddb.on(UpdateItemCommand).resolves({ Attributes: { id: { S: id }, caps: { SS: [S] }, expiresAt: { N: '1' } } });
    await expect(store().addTaint(ALICE, 'sess-1', [S], 3_600)).rejects.toMatchObject({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' });
  });

  test('labels that are not capabilities are refused before any write', async () => {
    await expect(store().addTaint(ALICE, 'sess-1', ['ROOT' as ToolCapability], 3_600)).rejects.toMatchObject({ reasonCode: 'INTERNAL_ERROR' });
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test.each<[string, Parameters<typeof createDynamoDbSessionTaintStore>[0], RegExp]>([
    ['an invalid table name', { tableName: 'a b' }, /tableName is not a DynamoDB table name/],
    ['a deadline under 100 ms', { tableName: TAINT_TABLE, timeoutMs: 50 }, /timeoutMs is 50/],
  ])('fails for %s (MISCONFIGURED)', (_name, options, message) => {
    expect(() => createDynamoDbSessionTaintStore(options)).toThrow(message);
  });

  test('the fake refuses what a sticky taint must never do (so the store is proven not to do it)', () => {
    const base = { TableName: TAINT_TABLE, Key: { id: { S: 'x' } }, ExpressionAttributeNames: { '#caps': 'caps' }, ExpressionAttributeValues: { ':caps': { SS: [S] } } };
    expect(() => applyTaintUpdate({ ...base, UpdateExpression: 'DELETE #caps :caps' }, {})).toThrow(/unsupported/);
    expect(() => applyTaintUpdate({ ...base, UpdateExpression: 'REMOVE #caps' }, {})).toThrow(/unsupported/);
    expect(() => applyTaintUpdate({ ...base, UpdateExpression: 'SET #caps = :caps' }, { caps: { SS: [S, U] } })).toThrow(/SET of the capability set/);
    expect(applyTaintUpdate({ ...base, UpdateExpression: 'ADD #caps :caps' }, { caps: { SS: [U] } })).toEqual({ caps: { SS: [U, S] } });
  });
});

describe('properties', () => {
  const labels = fc.subarray([S, U, E]);

  test('folding updates: the taint never shrinks and ends as the union of every recorded tool', () => {
    fc.assert(
      fc.property(fc.array(labels, { maxLength: 12 }), (calls) => {
        let session: readonly ToolCapability[] = [];
        for (const tool of calls) {
          const u = taintUpdate(session, tool);
          if (!session.every((c) => u.after.includes(c)) || !tool.every((c) => u.after.includes(c))) return false;
          if (!u.write && (tool.length > 0 || session.length > 0)) return false;
          session = u.after;
        }
        return new Set(session).size === new Set(calls.flat()).size;
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });

  test('under the default policy, external access after sensitive data and untrusted content is never allowed without an approval', () => {
    const authorizer = createToolAuthorizer(DEFAULT_TOOL_POLICIES);
    const identity: VerifiedIdentity = { subject: 'alice', issuer: 'https://idp.example.test', groups: ['staff'], scopes: [], expiresAt: 2_000_000_000, claims: { sub: 'alice' } };
    const toolArb = fc.record({ risk: fc.constantFrom<RiskClass>('LOW', 'MEDIUM', 'HIGH', 'CRITICAL'), capabilities: labels });
    fc.assert(
      fc.property(fc.array(toolArb, { minLength: 1, maxLength: 8 }), (calls) => {
        let session: readonly ToolCapability[] = [];
        for (const [i, t] of calls.entries()) {
          const tool: RegisteredTool = { name: `t${i}`, target: 'x', risk: t.risk, capabilities: t.capabilities, owner: 'o', allowedGroups: ['staff'] };
          const d = authorizeToolCall(authorizer, { identity, tool, args: {}, context: { approved: false, sessionCapabilities: session } });
          const union = new Set([...session, ...t.capabilities]);
          if (d.outcome === 'ALLOW' && union.has(S) && union.has(U) && union.has(E)) return false;
          if (d.outcome === 'ALLOW' && t.risk === 'CRITICAL') return false;
          if (d.outcome === 'ALLOW') session = taintUpdate(session, t.capabilities).after;
        }
        return true;
      }),
      { seed: 42, numRuns: 2_000 },
    );
  });

  test('the store against the table: any interleaving of writes to two sessions keeps each one the union of its own', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('s1', 's2'), labels), { maxLength: 10 }), async (writes) => {
        table.items.clear();
        const s = store();
        await Promise.all(writes.map(([session, caps]) => s.addTaint(ALICE, session, caps, 3_600)));
        for (const session of ['s1', 's2']) {
          const expected = new Set(writes.filter(([w]) => w === session).flatMap(([, c]) => c));
          const got = await s.readTaint(ALICE, session);
          if (got.length !== expected.size || !got.every((c) => expected.has(c))) return false;
        }
        return true;
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
