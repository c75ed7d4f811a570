/**
 * memory-broker: the per-call overhead of deriving and validating namespaces from a verified identity (actor hash,
 * tenant and group checks, argument parsing, plans, response checks), the whole handler in process with canned
 * AgentCore answers (token verification included, no network), and the bundle's size and cold import time.
 */
import * as path from 'path';
import { BrokerSettings } from '../lambda/memory-broker/config';
import { checkOwnership, mergeRecalled, parseToolRequest, planRead, planWrite, readRetrieveResponse } from '../lambda/memory-broker/decide';
import { createHandlerWith } from '../lambda/memory-broker/index';
import { ScopeIdentity, deriveActorSegment, deriveCallerScope } from '../lambda/memory-broker/namespaces';
import { CALLER_TOKEN_ARGUMENT } from '../lambda/shared/caller-context';
import { createTokenVerifier } from '../lambda/shared/identity';
import { createTestIssuer } from '../test/lambda/shared/jwt-helper';
import { HANDLERS_DIR, bundleFigures, coldImportMs, latency, printTable } from './lib';

const HANDLER = 'memory-broker';
const ISSUER = 'https://idp.example.test/tenant-1';
const SUBJECT = '3f1c2d4e-9a8b-4c7d-8e6f-5a4b3c2d1e0f';
const LIMITS = { maxTextLength: 2000, maxRecallResults: 5 };
const RULES = { sharedGroups: ['eng', 'ops', 'support'], shareTenantSpace: false };
const TENANT_RULES = { tenantClaim: 'custom:tenant', sharedGroups: ['eng', 'ops', 'support'], shareTenantSpace: true };

export async function run(): Promise<void> {
  const identity: ScopeIdentity = { issuer: ISSUER, subject: SUBJECT, groups: ['eng', 'support', 'Everyone'], claims: {} };
  const tenantIdentity: ScopeIdentity = { ...identity, claims: { 'custom:tenant': 'acme' } };
  const scoped = deriveCallerScope(identity, RULES);
  if (!scoped.ok) throw new Error(scoped.detail);
  const scope = scoped.scope;
  const text = 'The customer prefers e-mail over phone and works in the Berlin office. '.repeat(28).slice(0, 2000);
  const records = {
    memoryRecordSummaries: Array.from({ length: 5 }, (_, i) => ({
      memoryRecordId: `mem-${String(i).padStart(40, '0')}`,
      content: { text: `fact ${i}: ${text.slice(0, 200)}` },
      memoryStrategyId: 'cad_semantic_facts-abcdefghij',
      namespaces: [`${scope.personalRoot}facts/`],
      createdAt: new Date(0),
      score: i / 10,
    })),
  };
  const owned = { memoryRecord: { memoryRecordId: records.memoryRecordSummaries[0].memoryRecordId, namespaces: [`${scope.personalRoot}facts/`] } };

  const rows: Array<Record<string, string | number>> = [];
  const add = async (step: string, fn: () => unknown, runs = 20_000) => {
    const f = await latency(fn, runs, 2_000);
    rows.push({ step, runs: f.runs, p50us: f.p50us, p99us: f.p99us, meanUs: f.meanUs });
  };
  await add('deriveActorSegment (SHA-256 of canonical [domain, iss, sub])', () => deriveActorSegment(ISSUER, SUBJECT));
  await add('deriveCallerScope (actor, 3 groups checked)', () => deriveCallerScope(identity, RULES));
  await add('deriveCallerScope (tenant claim, tenant + 2 group spaces)', () => deriveCallerScope(tenantIdentity, TENANT_RULES));
  await add('parse + plan recall (space all)', () => {
    const r = parseToolRequest('recall', { query: 'office location', space: 'all', maxResults: 5 }, LIMITS);
    return r.ok && r.value.tool === 'recall' ? planRead(scope, r.value) : r;
  });
  await add('parse + plan remember (2,000 chars, smuggling scan)', () => {
    const r = parseToolRequest('remember', { text }, LIMITS);
    return r.ok && r.value.tool === 'remember' ? planWrite(scope, r.value.space, { sharedWrites: 'NONE', screened: true }) : r;
  });
  await add('parse: hostile arguments refused (actorId)', () => parseToolRequest('recall', { query: 'q', actorId: 'actor/a-0' }, LIMITS));
  await add('check a 5-record retrieve response + merge', () => mergeRecalled([readRetrieveResponse(records, { space: 'personal', namespace: scope.personalRoot })], 5));
  await add('ownership check (forget)', () => checkOwnership(owned, owned.memoryRecord.memoryRecordId, scope));
  printTable('memory-broker: namespace derivation and validation per call (no I/O)', rows);

  // The whole handler in process: token verification (RS256, pinned key), parsing, scope, plan, canned AgentCore answers, log line.
  const idp = createTestIssuer({ issuer: ISSUER });
  const token = idp.sign({ sub: SUBJECT, aud: 'memory', groups: ['eng'], exp: idp.now() + 3600 });
  const settings: BrokerSettings = { memoryId: 'store_1-abcdefghij', sharedGroups: ['eng'], shareTenantSpace: false, sharedWrites: 'NONE', maxTextLength: 2000, maxRecallResults: 5, timeoutMs: 5000 };
  const tokenScope = deriveCallerScope({ issuer: ISSUER, subject: SUBJECT, groups: ['eng'], claims: {} }, settings);
  if (!tokenScope.ok) throw new Error(tokenScope.detail);
  const canned = { memoryRecordSummaries: records.memoryRecordSummaries.map((r) => ({ ...r, namespaces: [`${tokenScope.scope.personalRoot}facts/`] })) };
  const handler = createHandlerWith(settings, {
    verifier: createTokenVerifier({ issuer: ISSUER, audience: 'memory', jwks: idp.jwks, groupsClaim: 'groups' }),
    memory: {
      retrieve: async () => canned,
      createRecord: async () => ({ successfulRecords: [{ memoryRecordId: `mem-${'9'.repeat(40)}`, status: 'SUCCEEDED' }], failedRecords: [] }),
      getRecord: async () => ({}),
      deleteRecord: async () => ({}),
    },
    now: () => new Date(0),
    newRequestIdentifier: () => 'rem-1',
  });
  const context = { awsRequestId: 'bench', clientContext: { custom: { bedrockAgentCoreToolName: 'Memory___recall' } } };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let whole;
  try {
    whole = await latency(() => handler({ query: 'office location', [CALLER_TOKEN_ARGUMENT]: token }, context), 3_000, 300);
  } finally {
    process.stdout.write = write;
  }
  printTable('memory-broker: one recall through the handler (verify + derive + plan + check + log; AgentCore canned)', [
    { runs: whole.runs, p50us: whole.p50us, p99us: whole.p99us, meanUs: whole.meanUs },
  ]);

  const size = bundleFigures(HANDLER);
  printTable('memory-broker: bundle', [
    {
      bytes: size.bytes,
      gzipBytes: size.gzipBytes,
      coldImportMs: Math.round(coldImportMs(path.join(HANDLERS_DIR, HANDLER, 'index.mjs'))),
    },
  ]);
}
