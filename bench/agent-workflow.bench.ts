/**
 * agent-workflow and soc-tools: the per-call cost of the deterministic parts around the agents (strict verdict
 * parsing, prompt building, strict IP parsing and range checks, the IP set plan, the approval check), one agent step
 * and one approved block through the handlers in process (SDK answers canned, no network), and the bundles' size and
 * cold import time.
 */
import * as path from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { StepConfig, WorkflowSettings } from '../lambda/agent-workflow/config';
import { buildPrompt, parseVerdict } from '../lambda/agent-workflow/decide';
import { createHandler as createRunner } from '../lambda/agent-workflow/index';
import { ApprovalKind, ApprovalRecord, ApprovalStatus } from '../lambda/approval/decide';
import { approvalHash, taskApprovalId } from '../lambda/approval/hash';
import { ApprovalStore, recordToItem } from '../lambda/approval/store';
import { assessBlockTarget, checkApproval, planBlock } from '../lambda/soc-tools/decide';
import { createHandler as createSocTools } from '../lambda/soc-tools/index';
import { HANDLERS_DIR, bundleFigures, coldImportMs, latency, printTable } from './lib';

const TRIAGE: StepConfig = {
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:triage',
  output: 'VERDICT',
  inputs: ['alert', 'enrichment'],
  verdicts: ['REMEDIATE', 'DOCUMENT'],
  defaultVerdict: 'DOCUMENT',
  echo: ['ip'],
};
const PRINCIPAL = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc|wfclient';
const REQUEST = { action: 'BLOCK_IP' as const, ip: '185.220.101.4', alertId: 'alert-1' };
const NOW = 1_760_000_000_000;

function approvedRecord(): ApprovalRecord {
  const token = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake+task/token=1';
  const call = { tool: 'block_ip', toolPin: 'arn:aws:states:us-east-1:123456789012:stateMachine:soc', arguments: { ...REQUEST }, principal: PRINCIPAL, session: 'arn:exec' };
  const nonce = 'b'.repeat(64);
  const expiresAt = NOW + 600_000;
  return { approvalId: taskApprovalId(token), kind: ApprovalKind.TASK, status: ApprovalStatus.APPROVED, call, nonce, createdAt: NOW - 1, expiresAt, approvalHash: approvalHash(call, nonce, expiresAt), taskToken: token, decidedAt: NOW, decidedBy: 'https://idp|bob' };
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

export async function run(): Promise<void> {
  const alert = { alertId: 'alert-1', findingType: 'Recon:EC2/PortProbeUnprotectedPort', severity: 'HIGH', sourceIp: '185.220.101.4', assetId: 'i-0123456789abcdef0', description: 'x'.repeat(500) };
  const enrichment = 'Known Tor exit node, score 97 (tor, scanner), last seen 2025-01-02 by feed-1. Asset owned by payments, criticality HIGH, prod. '.repeat(10);
  const existing = Array.from({ length: 10_000 - 1 }, (_v, i) => `9.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
  const v6 = assessBlockTarget('2a01:4f8:0:0::1', []);
  const v4 = assessBlockTarget('185.220.101.4', ['45.33.0.0/16', '2a01:4f9::/32']);
  if (!v4.ok || !v6.ok) throw new Error('expected blockable addresses');
  const record = approvedRecord();
  const approval = { approvalId: record.approvalId, decision: 'APPROVED', approvalHash: record.approvalHash, decidedAt: NOW };

  const rows: Array<Record<string, string | number>> = [];
  const add = async (step: string, fn: () => unknown, runs = 20_000) => {
    const f = await latency(fn, runs, 2_000);
    rows.push({ step, runs: f.runs, p50us: f.p50us, p99us: f.p99us, meanUs: f.meanUs });
  };
  await add('parseVerdict: valid verdict with echo', () => parseVerdict('{"verdict":"REMEDIATE","ip":"185.220.101.4"}', TRIAGE, { ip: '185.220.101.4' }));
  await add('parseVerdict: prose → default', () => parseVerdict('I would block 185.220.101.4 right away.', TRIAGE, { ip: '185.220.101.4' }));
  await add('parseVerdict: wrong echo → default', () => parseVerdict('```json\n{"verdict":"REMEDIATE","ip":"8.8.8.8"}\n```', TRIAGE, { ip: '185.220.101.4' }));
  await add('buildPrompt: alert + 1,200-char enrichment', () => buildPrompt('Triage', TRIAGE, { alert, enrichment }));
  await add('assessBlockTarget: IPv4, 2 protected blocks', () => assessBlockTarget('185.220.101.4', ['45.33.0.0/16', '2a01:4f9::/32']));
  await add('assessBlockTarget: IPv6 (uncompressed text)', () => assessBlockTarget('2A01:04F8:0000:0000:0000:0000:0000:0001', []));
  await add('planBlock: IPv4 into a set of 9,999', () => planBlock(existing, v4), 200);
  await add('planBlock: IPv6 into a set of 9,999 IPv4 entries', () => planBlock(existing, v6), 200);
  await add('checkApproval: record integrity + exact request', () => checkApproval(record, REQUEST, approval, PRINCIPAL, NOW + 1));
  printTable('agent-workflow / soc-tools: deterministic checks per call (no I/O)', rows);

  // One agent step through the runner: prompt, cached token, Lambda invoke (canned answer), strict verdict.
  const answer = new TextEncoder().encode(JSON.stringify({ status: 'COMPLETED', reasonCode: 'ALLOWED', turns: 1, toolCalls: 0, answer: '{"verdict":"REMEDIATE","ip":"185.220.101.4"}' }));
  const settings: WorkflowSettings = {
    steps: { Triage: TRIAGE },
    inputSchema: { type: 'object' },
    principal: PRINCIPAL,
    tokenUrl: 'https://soc.auth.us-east-1.amazoncognito.com/oauth2/token',
    clientId: 'wfclient',
    clientSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wf-AbCdEf',
    scope: 'wf/invoke',
    maxPromptChars: 20_000,
    agentTimeoutMs: 5_000,
    tokenTimeoutMs: 1_000,
  };
  const runner = createRunner(settings, {
    lambda: { send: async () => ({ StatusCode: 200, Payload: answer }) } as unknown as LambdaClient,
    tokens: { token: async () => 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZiJ9.c2ln', invalidate: () => undefined },
  });
  const event = { action: 'RUN_AGENT', step: 'Triage', executionId: 'arn:aws:states:us-east-1:123456789012:execution:soc:run-1', inputs: { alert, enrichment }, expect: { ip: '185.220.101.4' } };
  const step = await quietly(() => latency(() => runner(event), 3_000, 300));

  // One approved block through soc-tools: approval record read and checked, IP set read and updated (canned).
  const item = recordToItem(record);
  const dynamodb = { send: async () => ({ Item: item }) } as unknown as DynamoDBClient;
  const socTools = createSocTools(
    { tools: ['block_ip'], ipSetV4: { name: 'v4', id: '11111111-2222-3333-4444-555555555555' }, ipSetV6: { name: 'v6', id: '66666666-2222-3333-4444-555555555555' }, ipSetScope: 'REGIONAL', protectedCidrs: [], approvalTable: 'approvals', workflowPrincipal: PRINCIPAL, timeoutMs: 5_000 },
    {
      dynamodb,
      approvals: new ApprovalStore(dynamodb, 'approvals'),
      ipSets: { getIpSet: async () => ({ IPSet: { Addresses: ['9.9.9.9/32'] }, LockToken: 'lock-1' }), updateIpSet: async () => ({ NextLockToken: 'lock-2' }) },
      now: () => NOW + 1,
    },
  );
  const block = await quietly(() => latency(() => socTools({ task: 'block_ip', request: REQUEST, approval }), 3_000, 300));
  printTable('through the handlers in process (SDK answers canned; decision line included)', [
    { call: 'agent-workflow RUN_AGENT (VERDICT)', runs: step.runs, p50us: step.p50us, p99us: step.p99us, meanUs: step.meanUs },
    { call: 'soc-tools block_ip task', runs: block.runs, p50us: block.p50us, p99us: block.p99us, meanUs: block.meanUs },
  ]);

  printTable(
    'bundles',
    ['agent-workflow', 'soc-tools'].map((h) => {
      const size = bundleFigures(h);
      return { handler: h, bytes: size.bytes, gzipBytes: size.gzipBytes, coldImportMs: Math.round(coldImportMs(path.join(HANDLERS_DIR, h, 'index.mjs'))) };
    }),
  );
}
