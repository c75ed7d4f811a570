import fc from 'fast-check';
import { ReasonCatalogue } from '../../../lambda/shared/reason-codes';
import {
  ApprovalKind,
  ApprovalRecord,
  ApprovalStatus,
  ApprovalStep,
  ApprovalReasonCode,
  ApproverDecision,
  DecisionRequest,
  approvalDecision,
  assessCall,
  assessDecision,
  newPendingRecord,
  parsePendingEntry,
  pendingEntryText,
  planPendingCounter,
  recordIntegrity,
} from '../../../lambda/approval/decide';
import { BoundCall, HashDomain, MAX_ARGUMENTS_BYTES, approvalHash, boundCallProblems, callDigest, principalCounterId, taskApprovalId } from '../../../lambda/approval/hash';
import { recordFromItem, recordToItem } from '../../../lambda/approval/store';
import { callArb, hex64, mutateCall, mutationArb, same } from './arbitraries';

const NOW = 1_760_000_000_000;
const TTL = 15 * 60 * 1000;
const NONCE = 'a'.repeat(64);
const PIN = 'b'.repeat(64);
const ALICE = 'https://idp.example.test/tenant-1|alice';
const BOB = 'https://idp.example.test/tenant-1|bob';

const CALL: BoundCall = {
  tool: 'Payments___transfer',
  toolPin: PIN,
  arguments: { amount: 100, currency: 'EUR', to: { iban: 'DE00 1234', name: 'Carol' } },
  principal: ALICE,
  session: 'mcp-session-1',
};

function pending(call: BoundCall = CALL, now = NOW): ApprovalRecord {
  return newPendingRecord({ kind: ApprovalKind.CALL, call, nonce: NONCE, now, ttlMs: TTL });
}

function withStatus(record: ApprovalRecord, status: ApprovalRecord['status'], extra: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const decided = status === ApprovalStatus.PENDING ? {} : { decidedAt: record.createdAt + 1000, decidedBy: BOB };
  return { ...record, status, ...decided, ...(status === ApprovalStatus.USED ? { usedAt: record.createdAt + 2000 } : {}), ...extra };
}

describe('approval hashes', () => {
  test('the call digest and the approval hash are canonical: key order and whitespace do not matter', () => {
    const reordered: BoundCall = { ...CALL, arguments: { to: { name: 'Carol', iban: 'DE00 1234' }, currency: 'EUR', amount: 100 } };
    expect(callDigest(reordered)).toBe(callDigest(CALL));
    expect(approvalHash(reordered, NONCE, NOW)).toBe(approvalHash(CALL, NONCE, NOW));
    expect(callDigest(CALL)).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ['tool', { tool: 'Payments___transfer2' }],
    ['toolPin', { toolPin: 'c'.repeat(64) }],
    ['arguments (a value)', { arguments: { ...CALL.arguments, amount: 101 } }],
    ['arguments (a type: 100 vs "100")', { arguments: { ...CALL.arguments, amount: '100' } }],
    ['arguments (an extra key)', { arguments: { ...CALL.arguments, memo: '' } }],
    ['arguments (a nested value)', { arguments: { ...CALL.arguments, to: { iban: 'DE00 1234', name: 'Mallory' } } }],
    ['principal', { principal: BOB }],
    ['principal (the issuer)', { principal: 'https://idp.example.test/tenant-2|alice' }],
    ['session', { session: 'mcp-session-2' }],
  ])('a change of %s changes the digest and the approval hash', (_field, change) => {
    const changed = { ...CALL, ...change } as BoundCall;
    expect(callDigest(changed)).not.toBe(callDigest(CALL));
    expect(approvalHash(changed, NONCE, NOW)).not.toBe(approvalHash(CALL, NONCE, NOW));
  });

  test('the nonce and the expiry are bound into the approval hash (not the digest)', () => {
    expect(approvalHash(CALL, 'c'.repeat(64), NOW)).not.toBe(approvalHash(CALL, NONCE, NOW));
    expect(approvalHash(CALL, NONCE, NOW + 1)).not.toBe(approvalHash(CALL, NONCE, NOW));
  });

  test('the three hashes are domain-separated', () => {
    expect(new Set([HashDomain.CALL, HashDomain.APPROVAL, HashDomain.TASK]).size).toBe(3);
    expect(callDigest(CALL)).not.toBe(approvalHash(CALL, NONCE, NOW));
    expect(taskApprovalId('token')).not.toBe(taskApprovalId('token2'));
    expect(principalCounterId(ALICE)).toMatch(/^principal#[0-9a-f]{64}$/);
  });

  test.each([
    ['a tool with a space', { tool: 'pay ments' }, 'tool'],
    ['an empty tool', { tool: '' }, 'tool'],
    ['a pin with a space', { toolPin: 'a b' }, 'toolPin'],
    ['a principal without issuer', { principal: 'alice' }, 'principal'],
    ['a principal with a newline', { principal: 'https://i|ali\nce' }, 'principal'],
    ['a principal with a zero-width space', { principal: 'https://i|ali\u200bce' }, 'principal'],
    ['an empty session', { session: '' }, 'session'],
    ['arguments as an array', { arguments: [1, 2] }, 'arguments'],
    ['arguments with undefined', { arguments: { a: undefined } }, 'arguments'],
    ['arguments with NaN', { arguments: { a: NaN } }, 'arguments'],
    ['arguments with a lone surrogate', { arguments: { a: '\ud800' } }, 'arguments'],
    ['arguments too large', { arguments: { a: 'x'.repeat(MAX_ARGUMENTS_BYTES) } }, 'arguments'],
  ])('fails validation: %s', (_name, change, field) => {
    const problems = boundCallProblems({ ...CALL, ...change });
    expect(problems.join(' ')).toContain(field);
  });

  test('accepts a valid call; rejects non-objects', () => {
    expect(boundCallProblems(CALL)).toEqual([]);
    expect(boundCallProblems(null)).toEqual(['the call is not an object']);
    expect(boundCallProblems('x')).toEqual(['the call is not an object']);
  });
});

describe('assessCall: what the gate does with the stored approval', () => {
  const record = pending();
  const exp = record.expiresAt;
  test.each<[string, ApprovalRecord | undefined, number, string, string | undefined]>([
    ['no record → request', undefined, NOW, 'REQUEST:APPROVAL_REQUIRED', undefined],
    ['pending and live → pending', record, NOW + 1, 'DENY:APPROVAL_PENDING', ApprovalStep.PENDING],
    ['pending and expired → request again', record, exp, 'REQUEST:APPROVAL_EXPIRED', ApprovalStep.DENIED_EXPIRED],
    ['approved, live, unused → consume', withStatus(record, ApprovalStatus.APPROVED), exp - 1, 'CONSUME', undefined],
    ['approved at exactly the expiry → expired', withStatus(record, ApprovalStatus.APPROVED), exp, 'REQUEST:APPROVAL_EXPIRED', ApprovalStep.DENIED_EXPIRED],
    ['approved but used → replay', withStatus(record, ApprovalStatus.APPROVED, { usedAt: NOW }), NOW + 1, 'REQUEST:APPROVAL_REPLAYED', ApprovalStep.DENIED_REPLAY],
    ['rejected and live → rejected, no new request', withStatus(record, ApprovalStatus.REJECTED), NOW + 1, 'DENY:APPROVAL_REJECTED', ApprovalStep.DENIED_REJECTED],
    ['rejected and expired → request again', withStatus(record, ApprovalStatus.REJECTED), exp + 1, 'REQUEST:APPROVAL_REQUIRED', ApprovalStep.DENIED_EXPIRED],
    ['used → replay, request again', withStatus(record, ApprovalStatus.USED), NOW + 1, 'REQUEST:APPROVAL_REPLAYED', ApprovalStep.DENIED_REPLAY],
    ['tampered hash → mismatch', withStatus(record, ApprovalStatus.APPROVED, { approvalHash: 'c'.repeat(64) }), NOW + 1, 'DENY:APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED],
    ['tampered nonce → mismatch', withStatus(record, ApprovalStatus.APPROVED, { nonce: 'c'.repeat(64) }), NOW + 1, 'DENY:APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED],
    ['extended expiry → mismatch', withStatus(record, ApprovalStatus.APPROVED, { expiresAt: exp + TTL }), exp + 1, 'DENY:APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED],
    ['a workflow approval under a call digest → mismatch', withStatus(record, ApprovalStatus.APPROVED, { kind: ApprovalKind.TASK }), NOW + 1, 'DENY:APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED],
    ['another call stored under this digest → mismatch', withStatus(pending({ ...CALL, session: 'other' }), ApprovalStatus.APPROVED, { approvalId: callDigest(CALL) }), NOW + 1, 'DENY:APPROVAL_HASH_MISMATCH', ApprovalStep.DENIED_TAMPERED],
  ])('%s', (_name, stored, now, expected, step) => {
    const a = assessCall(stored, CALL, now);
    expect(a.action === 'CONSUME' ? 'CONSUME' : `${a.action}:${a.code}`).toBe(expected);
    if (a.action !== 'CONSUME') expect(a.step).toBe(step);
    if (a.action === 'REQUEST' && stored !== undefined) expect(a.replaces).toBe(stored);
  });

  test('a consume carries the stored hash and nonce for the conditional write', () => {
    const approved = withStatus(record, ApprovalStatus.APPROVED);
    expect(assessCall(approved, CALL, NOW + 1)).toEqual({ action: 'CONSUME', approvalHash: record.approvalHash, nonce: NONCE });
  });
});

describe('assessDecision: whether an approver decision is recorded', () => {
  const record = pending();
  const ok: DecisionRequest = { approver: BOB, decision: ApproverDecision.APPROVE, approvalHash: record.approvalHash, now: NOW + 1 };
  test.each<[string, ApprovalRecord | undefined, Partial<typeof ok>, string]>([
    ['approve', record, {}, 'APPROVED'],
    ['reject', record, { decision: ApproverDecision.REJECT }, 'REJECTED'],
    ['no such request', undefined, {}, 'APPROVAL_NOT_FOUND'],
    ['self-approval', record, { approver: ALICE }, 'APPROVAL_SELF_APPROVAL'],
    ['self-rejection is also refused', record, { approver: ALICE, decision: ApproverDecision.REJECT }, 'APPROVAL_SELF_APPROVAL'],
    ['already approved', withStatus(record, ApprovalStatus.APPROVED), {}, 'APPROVAL_NOT_PENDING'],
    ['already rejected', withStatus(record, ApprovalStatus.REJECTED), {}, 'APPROVAL_NOT_PENDING'],
    ['already used', withStatus(record, ApprovalStatus.USED), {}, 'APPROVAL_NOT_PENDING'],
    ['expired', record, { now: record.expiresAt }, 'APPROVAL_EXPIRED'],
    ['a stale or different hash', record, { approvalHash: 'c'.repeat(64) }, 'APPROVAL_HASH_MISMATCH'],
    ['a tampered record', { ...record, call: { ...record.call, arguments: { amount: 1 } } }, {}, 'APPROVAL_HASH_MISMATCH'],
  ])('%s', (_name, stored, change, expected) => {
    const a = assessDecision(stored, { ...ok, ...change });
    expect(a.ok ? a.status : a.code).toBe(expected);
  });

  test('the approver is compared as the full principal: the same subject at another issuer is another principal', () => {
    const a = assessDecision(record, { ...ok, approver: 'https://other-idp.example.test|alice' });
    expect(a.ok).toBe(true);
  });

  test('record integrity: call and task records', () => {
    expect(recordIntegrity(record)).toBe(true);
    const task = newPendingRecord({ kind: ApprovalKind.TASK, call: CALL, nonce: NONCE, now: NOW, ttlMs: TTL, taskToken: 'tok' });
    expect(task.approvalId).toBe(taskApprovalId('tok'));
    expect(recordIntegrity(task)).toBe(true);
    expect(recordIntegrity({ ...task, taskToken: 'other' })).toBe(false);
    expect(recordIntegrity({ ...task, taskToken: undefined })).toBe(false);
    expect(recordIntegrity({ ...record, taskToken: 'tok' })).toBe(false);
    expect(recordIntegrity({ ...record, nonce: 'not hex' })).toBe(false);
  });
});

describe('planPendingCounter: the per-principal cap', () => {
  const entry = (i: number, expiresAt: number) => ({ approvalId: i.toString(16).padStart(64, '0'), expiresAt });
  const fresh = { approvalId: 'f'.repeat(64), expiresAt: NOW + TTL };

  test('a first request creates the counter (condition: it does not exist)', () => {
    expect(planPendingCounter(undefined, fresh, NOW, 5)).toEqual({ ok: true, entries: [fresh], nextVersion: 1 });
  });

  test('refuses at the cap; expired entries do not count; the write is conditioned on the version read', () => {
    const full = { entries: [1, 2, 3, 4, 5].map((i) => entry(i, NOW + 1000)), version: 7 };
    expect(planPendingCounter(full, fresh, NOW, 5)).toEqual({ ok: false, live: 5 });
    const someExpired = { entries: [...[1, 2, 3].map((i) => entry(i, NOW + 1000)), entry(4, NOW), entry(5, NOW - 1)], version: 7 };
    const plan = planPendingCounter(someExpired, fresh, NOW, 5);
    expect(plan).toEqual({ ok: true, entries: [entry(1, NOW + 1000), entry(2, NOW + 1000), entry(3, NOW + 1000), fresh], expectedVersion: 7, nextVersion: 8 });
  });

  test('a new request for the same call replaces its old entry instead of counting twice', () => {
    const counter = { entries: [{ ...fresh, expiresAt: NOW + 10 }], version: 1 };
    expect(planPendingCounter(counter, fresh, NOW, 1)).toEqual({ ok: true, entries: [fresh], expectedVersion: 1, nextVersion: 2 });
  });

  test('entries round-trip and malformed ones are refused', () => {
    expect(parsePendingEntry(pendingEntryText(fresh))).toEqual(fresh);
    expect(parsePendingEntry('0#' + 'f'.repeat(64))).toBeUndefined();
    expect(parsePendingEntry('12#' + 'F'.repeat(64))).toBeUndefined();
    expect(parsePendingEntry('12#abc')).toBeUndefined();
  });
});

describe('reason codes', () => {
  const APPROVAL_CODES: readonly ApprovalReasonCode[] = [
    'APPROVAL_REQUIRED',
    'APPROVAL_PENDING',
    'APPROVAL_EXPIRED',
    'APPROVAL_REJECTED',
    'APPROVAL_REPLAYED',
    'APPROVAL_HASH_MISMATCH',
    'APPROVAL_SELF_APPROVAL',
    'APPROVAL_CAP_REACHED',
    'APPROVAL_NOT_APPROVER',
    'APPROVAL_NOT_FOUND',
    'APPROVAL_NOT_PENDING',
  ];

  test('every approval code is in the shared catalogue, with a description', () => {
    expect(Object.keys(ReasonCatalogue).filter((c) => c.startsWith('APPROVAL_')).sort()).toEqual([...APPROVAL_CODES].sort());
    for (const code of APPROVAL_CODES) expect(ReasonCatalogue[code].length).toBeGreaterThan(20);
  });

  test('a step decision carries the precise code: ALLOWED allows, any other code denies with it', () => {
    expect(approvalDecision('ALLOWED')).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED' });
    for (const code of APPROVAL_CODES) expect(approvalDecision(code, 'why')).toEqual({ outcome: 'DENY', reasonCode: code, detail: 'why' });
    expect(approvalDecision('UPSTREAM_TIMEOUT')).toEqual({ outcome: 'DENY', reasonCode: 'UPSTREAM_TIMEOUT' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests: any change to any bound field, in the call or in the stored approval, means no consume.
// ---------------------------------------------------------------------------------------------------------------

describe('property: an approval covers exactly one call (fast-check, seed 42)', () => {
  test('10,000 runs: a call with any bound field changed is never consumed; a canonically equal call is', () => {
    fc.assert(
      fc.property(callArb, mutationArb, fc.integer({ min: 0, max: TTL - 1 }), (call, m, age) => {
        fc.pre(boundCallProblems(call).length === 0);
        const mutated = mutateCall(call, m);
        fc.pre(boundCallProblems(mutated).length === 0);
        const approved = withStatus(pending(call), ApprovalStatus.APPROVED);
        const a = assessCall(approved, mutated, NOW + age);
        const unchanged = same(call, mutated);
        expect(a.action === 'CONSUME').toBe(unchanged);
        expect(callDigest(mutated) === callDigest(call)).toBe(unchanged);
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });

  test('10,000 runs: a stored approval with any bound field changed (call, nonce, expiry, hash) is never consumed and fails integrity', () => {
    const field = fc.constantFrom('call', 'nonce', 'expiresAt', 'approvalHash');
    fc.assert(
      fc.property(callArb, mutationArb, field, hex64, fc.integer({ min: 1, max: TTL }), (call, m, which, hex, shift) => {
        fc.pre(boundCallProblems(call).length === 0);
        const approved = withStatus(pending(call), ApprovalStatus.APPROVED);
        let tampered: ApprovalRecord;
        if (which === 'call') {
          const mutated = mutateCall(call, m);
          fc.pre(boundCallProblems(mutated).length === 0 && !same(call, mutated));
          tampered = { ...approved, call: mutated };
        } else if (which === 'nonce') {
          fc.pre(hex !== approved.nonce);
          tampered = { ...approved, nonce: hex };
        } else if (which === 'expiresAt') {
          tampered = { ...approved, expiresAt: approved.expiresAt + shift };
        } else {
          fc.pre(hex !== approved.approvalHash);
          tampered = { ...approved, approvalHash: hex };
        }
        expect(recordIntegrity(tampered)).toBe(false);
        expect(assessCall(tampered, call, NOW + 1).action).not.toBe('CONSUME');
        expect(assessDecision(tampered, { approver: BOB, decision: ApproverDecision.APPROVE, approvalHash: tampered.approvalHash, now: NOW + 1 }).ok).toBe(false);
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });

  test('an approval is never consumed at or after its expiry, and a decision is never recorded then', () => {
    fc.assert(
      fc.property(callArb, fc.integer({ min: 0, max: 10 * TTL }), (call, late) => {
        fc.pre(boundCallProblems(call).length === 0);
        const p = pending(call);
        const approved = withStatus(p, ApprovalStatus.APPROVED);
        expect(assessCall(approved, call, approved.expiresAt + late).action).not.toBe('CONSUME');
        expect(assessDecision(p, { approver: BOB, decision: ApproverDecision.APPROVE, approvalHash: p.approvalHash, now: p.expiresAt + late }).ok).toBe(false);
      }),
      { seed: 42, numRuns: 2_000 },
    );
  });

  test('the stored item round-trips exactly (what the approver sees is what was hashed)', () => {
    fc.assert(
      fc.property(callArb, (call) => {
        fc.pre(boundCallProblems(call).length === 0);
        const record = pending(call);
        const back = recordFromItem(recordToItem(record));
        expect(recordIntegrity(back)).toBe(true);
        expect(same(back.call, call)).toBe(true);
        expect(back.approvalHash).toBe(record.approvalHash);
      }),
      { seed: 42, numRuns: 2_000 },
    );
  });
});
