/**
 * guardrail-enforcer: bundle size and cold import time next to a module that bundles only
 * `@aws-sdk/client-bedrock-runtime` (bundled by scripts/bundle-handlers.mjs, as the handlers are), and the per-call
 * overhead of the decision logic (no network: ApplyGuardrail responses are canned).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { configFromEnv } from '../lambda/guardrail-enforcer/config';
import { assessResponse, combineAssessments, handleSmuggling, parseStandaloneRequest, planScreening } from '../lambda/guardrail-enforcer/decide';
import { screenGuarded } from '../lambda/guardrail-enforcer/index';
import { HANDLERS_DIR, bundleFigures, bundleLikeHandlers, coldImportMs, latency, printTable, round, writeImportOnlyModule } from './lib';

const HANDLER = 'guardrail-enforcer';

/** Bundles a module that imports only the Bedrock runtime client, as the handlers are bundled. */
function bundleSdkOnly(): Promise<string> {
  const entry = writeImportOnlyModule(
    'bedrock-runtime-only.entry',
    "import { ApplyGuardrailCommand, BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';\nexport const refs = [ApplyGuardrailCommand, BedrockRuntimeClient];\n",
  );
  return bundleLikeHandlers(entry, 'bedrock-runtime-only');
}

/** A realistic ApplyGuardrail response: a prompt attack blocked and an e-mail address anonymized. */
function realisticResponse(text: string): Record<string, unknown> {
  const usage = { topicPolicyUnits: 2, contentPolicyUnits: 2, wordPolicyUnits: 2, sensitiveInformationPolicyUnits: 2, sensitiveInformationPolicyFreeUnits: 0, contextualGroundingPolicyUnits: 0 };
  const coverage = { textCharacters: { guarded: text.length, total: text.length } };
  return {
    usage,
    action: 'GUARDRAIL_INTERVENED',
    actionReason: 'Guardrail blocked.',
    outputs: [{ text: 'Sorry, this request was blocked by a safety guardrail.' }],
    assessments: [
      {
        topicPolicy: { topics: [] },
        contentPolicy: {
          filters: [
            { type: 'PROMPT_ATTACK', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED', detected: true },
            { type: 'INSULTS', confidence: 'LOW', filterStrength: 'MEDIUM', action: 'NONE', detected: true },
          ],
        },
        wordPolicy: { customWords: [], managedWordLists: [] },
        sensitiveInformationPolicy: { piiEntities: [{ match: 'jane@example.com', type: 'EMAIL', action: 'ANONYMIZED', detected: true }], regexes: [] },
        invocationMetrics: { guardrailProcessingLatency: 210, usage, guardrailCoverage: coverage },
      },
    ],
    guardrailCoverage: coverage,
  };
}

export async function run(): Promise<void> {
  const handlerFile = path.join(HANDLERS_DIR, HANDLER, 'index.mjs');
  if (!fs.existsSync(handlerFile)) throw new Error(`${handlerFile} is missing: run "node scripts/bundle-handlers.mjs" first`);
  const sdkOnly = await bundleSdkOnly();
  const handler = bundleFigures(HANDLER);
  const sdkCode = fs.readFileSync(sdkOnly);
  const env = { GUARDRAIL_IDENTIFIER: 'abc123def456', GUARDRAIL_VERSION: '1' };
  printTable('bundle and cold import (median of 7 fresh node processes, minus an empty process)', [
    { module: `${HANDLER} handler`, bytes: handler.bytes, gzipBytes: handler.gzipBytes, coldImportMs: round(coldImportMs(handlerFile, 7, env)) },
    { module: 'client-bedrock-runtime only', bytes: sdkCode.length, gzipBytes: zlib.gzipSync(sdkCode, { level: 9 }).length, coldImportMs: round(coldImportMs(sdkOnly, 7)) },
  ]);

  const config = configFromEnv(env);
  if (!config.ok) throw new Error(config.problems.join('; '));
  const prompt = `Please summarise the attached report and e-mail it to jane@example.com. ${'The quarterly figures show steady growth across regions. '.repeat(30)}`;
  const response = realisticResponse(prompt);
  const event = { source: 'INPUT', text: prompt };
  const text100k = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(1_800).slice(0, 100_000);
  const plan100k = planScreening([text100k], config.config);
  const cleanResponses = [...plan100k.parts.map((p) => p.text), ...plan100k.seams.map((s) => s.text)].map((t) => ({
    action: 'NONE',
    outputs: [],
    assessments: [{}],
    guardrailCoverage: { textCharacters: { guarded: t.length, total: t.length } },
  }));
  const deps = { config: config.config, apply: async (t: string) => ({ action: 'NONE', outputs: [], assessments: [{}], guardrailCoverage: { textCharacters: { guarded: t.length, total: t.length } } }) };

  const rows = [
    {
      step: `parse + smuggling + decide (${prompt.length}-char prompt, realistic response)`,
      ...(await latency(() => {
        const parsed = parseStandaloneRequest(event, config.config.sourceMode);
        if (!parsed.ok) throw new Error('parse');
        const clean = handleSmuggling([parsed.value.text], config.config.smugglingMode);
        if (!clean.ok) throw new Error('smuggling');
        const plan = planScreening(clean.value.segments, config.config);
        return combineAssessments(plan, [assessResponse(response, prompt, 'INPUT')], []);
      })),
    },
    {
      step: `partition 100 KB text (${plan100k.parts.length} parts + ${plan100k.seams.length} seams)`,
      ...(await latency(() => planScreening([text100k], config.config), 2_000, 200)),
    },
    {
      step: 'decide 100 KB text (assess every response + combine)',
      ...(await latency(() => {
        const plan = planScreening([text100k], config.config);
        const assessed = [...plan.parts.map((p) => p.text), ...plan.seams.map((s) => s.text)].map((t, i) => assessResponse(cleanResponses[i], t, 'INPUT'));
        return combineAssessments(plan, assessed.slice(0, plan.parts.length), assessed.slice(plan.parts.length));
      }, 2_000, 200)),
    },
    {
      step: `screenGuarded 100 KB text end to end (smuggling scan, plan, ${plan100k.calls} canned calls, combine)`,
      ...(await latency(() => screenGuarded([text100k], 'INPUT', deps), 1_000, 100)),
    },
  ];
  printTable('per-call overhead of the decision logic (µs, no network)', rows.map((r) => ({ step: r.step, runs: r.runs, p50us: r.p50us, p99us: r.p99us, meanUs: r.meanUs })));
}
