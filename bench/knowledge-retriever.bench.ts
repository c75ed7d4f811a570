/**
 * knowledge-retriever: compute time and AWS calls per request for 100 retrieved chunks spread over k granted
 * prefixes, against the naive approach of one GetDataAccess call per chunk.
 *
 * The handler runs in process with counting fake clients (no network): the figures are the library's own compute
 * cost and the number of AWS calls it would make, not AWS latency.
 */
import { bundleFigures, latency, printTable, round } from './lib';
import { CALLER_TOKEN_ARGUMENT } from '../lambda/shared/caller-context';
import { TokenVerifier, VerifiedIdentity } from '../lambda/shared/identity';
import { RetrieverClients } from '../lambda/knowledge-retriever/clients';
import { FilterPolicySpec, buildRetrievalFilter } from '../lambda/knowledge-retriever/filter';
import { GrantsCheckMode } from '../lambda/knowledge-retriever/grants';
import { RetrieverSettings, createHandler } from '../lambda/knowledge-retriever/index';
import { UriAuthorizer, authorizeUris } from '../lambda/knowledge-retriever/uri-authorizer';

const CHUNKS = 100;
const DISTINCT_DOCUMENTS = 40;
const BUCKET = 'docs-bucket';

const POLICY: FilterPolicySpec = {
  version: 1,
  identityConditions: [
    { kind: 'CLAIM_EQUALS', key: 'tenant', claim: 'custom:tenant', valueType: 'STRING' },
    { kind: 'GROUPS_CONTAIN', key: 'groups' },
  ],
  staticConditions: [],
  callerFilterKeys: ['tenant', 'groups'],
  maxValuesPerCondition: 50,
};

const IDENTITY: VerifiedIdentity = Object.freeze({
  subject: 'alice',
  issuer: 'https://idp.example.test',
  groups: ['finance'],
  scopes: [],
  expiresAt: 0,
  claims: { sub: 'alice', 'custom:tenant': 'acme' },
});

/** 100 chunks from 40 documents spread round-robin over k prefixes (all granted), plus the scopes that grant them. */
function workload(k: number): { response: unknown; scopes: string[]; uris: string[] } {
  const scopes = Array.from({ length: k }, (_, i) => `s3://${BUCKET}/published/p${i}/*`);
  const uris: string[] = [];
  const results = Array.from({ length: CHUNKS }, (_, i) => {
    const doc = i % DISTINCT_DOCUMENTS;
    const uri = `s3://${BUCKET}/published/p${doc % k}/doc-${doc}.pdf`;
    uris.push(uri);
    return { content: { type: 'TEXT', text: `chunk ${i} of document ${doc}` }, location: { type: 'S3', s3Location: { uri } }, score: 1 - i / CHUNKS, metadata: { tenant: 'acme', groups: ['finance'] } };
  });
  return { response: { retrievalResults: results }, scopes, uris };
}

interface Counts {
  retrieve: number;
  sts: number;
  list: number;
  gda: number;
}

function fakeClients(w: ReturnType<typeof workload>, counts: Counts): RetrieverClients {
  const prefixes = w.scopes.map((s) => s.slice(0, -1));
  const s3 = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, any> }) => {
      if (cmd.constructor.name === 'ListCallerAccessGrantsCommand') {
        counts.list++;
        return { CallerAccessGrantsList: w.scopes.map((GrantScope) => ({ GrantScope, Permission: 'READ' })) };
      }
      counts.gda++;
      const match = prefixes.find((p) => (cmd.input.Target as string).startsWith(p));
      if (!match) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
      return { MatchedGrantTarget: `${match}*` };
    },
  };
  return {
    bedrockAgentRuntime: { send: async () => (counts.retrieve++, w.response) } as never,
    sts: {
      send: async () => (
        counts.sts++, { Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) } }
      ),
    } as never,
    ssoOidc: undefined as never,
    s3ControlFor: () => s3 as never,
  };
}

function settings(checkMode: GrantsCheckMode, concurrency: number): RetrieverSettings {
  return {
    identity: { issuer: IDENTITY.issuer, audience: 'api' },
    routing: { knowledgeBases: [{ id: 'KB12345678', sourceScopes: [`s3://${BUCKET}/published/*`] }], maxKnowledgeBasesPerRequest: 1 },
    filterPolicy: POLICY,
    returnedMetadataKeys: ['tenant', 'groups'],
    grants: {
      accountId: '123456789012',
      identityMode: 'GROUP_ROLES',
      groupRoles: [{ group: 'finance', roleArn: 'arn:aws:iam::123456789012:role/finance' }],
      checkMode,
      revocationWindowMs: 300_000,
      maxRolesPerCaller: 5,
      callTimeoutMs: 5_000,
      concurrency,
      maxListPages: 10,
      maxCachedIdentities: 100,
    },
    unsafeMetadataFilterOnly: false,
    defaultResults: 100,
    timeoutMs: 20_000,
    callTimeoutMs: 5_000,
  };
}

const verifier: TokenVerifier = { verify: async () => IDENTITY, hydrate: async () => undefined };
const EVENT = { query: 'revenue', maxResults: CHUNKS, [CALLER_TOKEN_ARGUMENT]: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln' };
const CONTEXT = { clientContext: { custom: { bedrockAgentCoreToolName: 'Knowledge___search_knowledge' } } };

async function callsPerRequest(k: number, mode: GrantsCheckMode, concurrency: number): Promise<{ cold: Counts; warm: Counts; returned: number }> {
  const w = workload(k);
  const counts: Counts = { retrieve: 0, sts: 0, list: 0, gda: 0 };
  const h = createHandler(settings(mode, concurrency), fakeClients(w, counts), { verifier });
  const first = await h(EVENT, CONTEXT);
  const cold = { ...counts };
  await h(EVENT, CONTEXT);
  const warm = { retrieve: counts.retrieve - cold.retrieve, sts: counts.sts - cold.sts, list: counts.list - cold.list, gda: counts.gda - cold.gda };
  return { cold, warm, returned: first.ok ? first.results.length : -1 };
}

const total = (c: Counts): number => c.retrieve + c.sts + c.list + c.gda;

export async function run(): Promise<void> {
  const quiet = process.stdout.write.bind(process.stdout);
  const ks = [1, 5, 20, 40];

  // AWS calls per request (decision logs silenced while measuring).
  const rows: Array<Record<string, string | number>> = [];
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    for (const k of ks) {
      const list = await callsPerRequest(k, 'LIST_CALLER_GRANTS', 8);
      const gda1 = await callsPerRequest(k, 'GET_DATA_ACCESS', 1);
      const gda8 = await callsPerRequest(k, 'GET_DATA_ACCESS', 8);
      rows.push({
        k,
        returned: list.returned,
        'naive (GDA per chunk)': 1 + 1 + CHUNKS,
        'LIST cold': total(list.cold),
        'LIST warm': total(list.warm),
        'GDA cold (conc 1)': total(gda1.cold),
        'GDA cold (conc 8)': total(gda8.cold),
        'GDA warm': total(gda8.warm),
      });
    }
  } finally {
    process.stdout.write = quiet;
  }
  printTable(`AWS calls per request: ${CHUNKS} chunks from ${DISTINCT_DOCUMENTS} documents over k granted prefixes (Retrieve + STS + Access Grants)`, rows);

  // Pure compute: literal authorization of 100 chunk sources against k scopes, and filter building.
  const compute: Array<Record<string, string | number>> = [];
  for (const k of ks) {
    const w = workload(k);
    const authorizer = UriAuthorizer.fromScopes(w.scopes).authorizer;
    const match = await latency(() => w.uris.every((u) => authorizer.admitsUri(u)), 2000, 200);
    const full = await latency(() => authorizeUris(w.uris, w.scopes), 2000, 200);
    compute.push({ k, 'admit 100 URIs p50 µs': match.p50us, 'p99 µs': match.p99us, 'authorizeUris (build + 100) p50 µs': full.p50us, 'p99 µs ': full.p99us });
  }
  printTable('Compute: literal URI authorization of 100 chunk sources', compute);

  const filter = await latency(() => buildRetrievalFilter(POLICY, IDENTITY, { equals: { key: 'tenant', value: 'acme' } }), 5000, 500);
  printTable('Compute: identity filter with a caller filter', [{ 'p50 µs': filter.p50us, 'p99 µs': filter.p99us, 'mean µs': filter.meanUs }]);

  // Whole handler in process (fake clients, warm cache): parsing, filter, Retrieve parsing, authorization, answer, log line.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const handlerRows: Array<Record<string, string | number>> = [];
  try {
    for (const k of [1, 40]) {
      for (const mode of ['LIST_CALLER_GRANTS', 'GET_DATA_ACCESS'] as const) {
        const counts: Counts = { retrieve: 0, sts: 0, list: 0, gda: 0 };
        const h = createHandler(settings(mode, 8), fakeClients(workload(k), counts), { verifier });
        const l = await latency(() => h(EVENT, CONTEXT), 1000, 100);
        handlerRows.push({ k, mode, 'p50 ms': round(l.p50us / 1000, 2), 'p99 ms': round(l.p99us / 1000, 2) });
      }
    }
  } finally {
    process.stdout.write = quiet;
  }
  printTable('Handler per request, in process, warm cache (100 chunks)', handlerRows);

  try {
    const b = bundleFigures('knowledge-retriever');
    printTable('Bundle', [{ handler: 'knowledge-retriever', bytes: b.bytes, gzip: b.gzipBytes }]);
  } catch {
    console.log('(bundle figures need `npm run bundle` first)');
  }
}
