/**
 * tool calls: the per-`tools/call` work of the REQUEST interceptor (JWT verification with cached keys, strict
 * argument validation, canonical hashing of the call, preparsed Cedar evaluation, and all of it in a row), and the
 * per-`tools/list` work of the RESPONSE interceptor (scan and pin of a 34-tool list). In-process, no network.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as cedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalHash, parseStrictJson } from '../lambda/shared/canonical-json';
import { createTokenVerifier } from '../lambda/shared/identity';
import { DEFAULT_TOOL_POLICIES, TOOL_POLICY_SCHEMA, createToolAuthorizer } from '../lambda/tool-interceptor/cedar';
import { pinOf } from '../lambda/tool-interceptor/pin';
import { RegisteredTool, RiskClass, ToolCapability } from '../lambda/tool-interceptor/registry';
import { scanToolDefinition } from '../lambda/tool-interceptor/scan';
import { compileToolSchema, parseAndValidateArguments } from '../lambda/tool-interceptor/schema-validate';
import { filterToolList } from '../lambda/tool-interceptor/tool-list';
import { createTestIssuer } from '../test/lambda/shared/jwt-helper';
import { ROOT, latency, printTable } from './lib';

const RUNS = 5000;

export async function run(): Promise<void> {
  const idp = createTestIssuer({ alg: 'RS256' });
  const verifier = createTokenVerifier({ issuer: idp.issuer, audience: 'gateway', jwks: idp.jwks, groupsClaim: 'groups' });
  // Valid for the whole bench.
  const token = idp.sign({ sub: 'user-1234', aud: 'gateway', groups: ['analysts', 'staff'], email: 'jane@example.com', exp: idp.now() + 3600 });
  const es = createTestIssuer({ alg: 'ES256', kid: 'es-1' });
  const esVerifier = createTokenVerifier({ issuer: es.issuer, audience: 'gateway', jwks: es.jwks, groupsClaim: 'groups' });
  const esToken = es.sign({ sub: 'user-1234', aud: 'gateway', groups: ['analysts'], exp: es.now() + 3600 });

  const tool: RegisteredTool = {
    name: 'search_orders',
    target: 'Orders',
    risk: RiskClass.MEDIUM,
    capabilities: [ToolCapability.SENSITIVE_DATA],
    owner: 'team-orders',
    allowedGroups: ['analysts'],
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 500 },
        status: { type: 'string', enum: ['open', 'shipped', 'returned'] },
        from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        limit: { type: 'integer', minimum: 1, maximum: 100 },
      },
      required: ['query'],
    },
  };
  const schema = compileToolSchema(tool.inputSchema);
  const argsText = '{"query":"late deliveries to Lyon","status":"shipped","from":"2025-01-01","limit":25}';
  const args = parseStrictJson(argsText);
  const call = { tool: 'Orders___search_orders', arguments: args, principal: 'https://idp.example.test/tenant-1|user-1234', session: 'sess-42' };

  const coldStart = Date.now();
  const authz = createToolAuthorizer(DEFAULT_TOOL_POLICIES);
  const authorizerMs = Date.now() - coldStart;
  const identity = await verifier.verify(token);
  const decision = authz.authorize({ identity, tool, args });
  if (decision.outcome !== 'ALLOW') throw new Error(`bench setup: expected ALLOW, got ${JSON.stringify(decision)}`);

  // The unprepared path (parse the policy set and schema on every call), for comparison.
  const unprepared = () =>
    cedarWasm.isAuthorized({
      principal: { type: 'CdkAiDefense::User', id: 'user-1234' },
      action: { type: 'CdkAiDefense::Action', id: 'invoke' },
      resource: { type: 'CdkAiDefense::Tool', id: 'Orders___search_orders' },
      context: { approved: false, argumentsHash: canonicalHash(args), sessionCapabilities: [] },
      schema: TOOL_POLICY_SCHEMA,
      validateRequest: true,
      policies: { staticPolicies: DEFAULT_TOOL_POLICIES },
      entities: [
        { uid: { type: 'CdkAiDefense::User', id: 'user-1234' }, attrs: { sub: 'user-1234', iss: 'i', groups: ['analysts'], scopes: [] }, parents: [], tags: {} },
        {
          uid: { type: 'CdkAiDefense::Tool', id: 'Orders___search_orders' },
          attrs: { name: 'search_orders', target: 'Orders', risk: 'MEDIUM', riskLevel: 1, owner: 'o', capabilities: [], allowedGroups: ['analysts'] },
          parents: [],
        },
      ],
    });

  const rows: Array<Record<string, string | number>> = [];
  const measure = async (step: string, fn: () => unknown | Promise<unknown>, runs = RUNS) => {
    const f = await latency(fn, runs, Math.min(500, runs / 10));
    rows.push({ step, runs: f.runs, p50us: f.p50us, p99us: f.p99us, meanUs: f.meanUs });
  };

  await measure('JWT verify RS256 (pinned/cached keys)', () => verifier.verify(token));
  await measure('JWT verify ES256 (pinned/cached keys)', () => esVerifier.verify(esToken));
  await measure('parse + validate arguments (strict)', () => parseAndValidateArguments(argsText, schema));
  await measure('canonical SHA-256 of the call', () => canonicalHash(call));
  await measure('Cedar authorize (preparsed, default policy)', () => authz.authorize({ identity, tool, args }));
  await measure('Cedar isAuthorized (unprepared, for comparison)', unprepared, 2000);
  await measure('tools/call total: verify + validate + hash + authorize', async () => {
    const id = await verifier.verify(token);
    const v = parseAndValidateArguments(argsText, schema);
    if (!v.ok) throw new Error('invalid');
    canonicalHash({ ...call, arguments: v.value });
    return authz.authorize({ identity: id, tool, args: v.value });
  });

  const corpus = path.join(ROOT, 'test', 'fixtures', 'mcp-tools', 'benign');
  const defs = fs.readdirSync(corpus).sort().map((f) => parseStrictJson(fs.readFileSync(path.join(corpus, f), 'utf8')) as Record<string, unknown>);
  const gatewayList = { tools: defs.map((d) => ({ ...d, name: `Tools___${d.name as string}` })) };
  const pins = defs.map((d) => ({ server: 'Tools', name: d.name as string, sha256: pinOf(d, 'Tools') }));
  const sequential = defs.find((d) => d.name === 'sequentialthinking') as Record<string, unknown>;
  await measure('scan one definition (2 KB description)', () => scanToolDefinition(sequential), 2000);
  await measure('pin one definition', () => pinOf(sequential, 'Tools'), 2000);
  await measure(`tools/list filter: scan + pin ${defs.length} tools`, () => filterToolList(gatewayList, { pins }), 200);
  const kept = filterToolList(gatewayList, { pins }).kept.length;

  printTable('tools/call and tools/list enforcement (microseconds)', rows);
  console.log(`\nauthorizer cold start (strict validation + preparse of the default policy): ${authorizerMs} ms; tools/list kept ${kept}/${defs.length}`);
}

