/** AWS-shaped ApplyGuardrail responses and gateway interceptor events for the guardrail-enforcer tests. */
import { EnforcerConfig } from '../../../lambda/guardrail-enforcer/config';

export const CONFIG: EnforcerConfig = {
  guardrailIdentifier: 'gr0abc123def',
  guardrailVersion: '3',
  sourceMode: 'REQUEST',
  toolResultSource: 'INPUT',
  smugglingMode: 'DENY',
  maxCharsPerCall: 20_000,
  maxTotalChars: 200_000,
  seamChars: 500,
  maxCalls: 50,
  timeoutMs: 5_000,
  concurrency: 4,
};

/** Full coverage of `text` as the service reports it. */
export function coverage(text: string): { textCharacters: { guarded: number; total: number } } {
  return { textCharacters: { guarded: text.length, total: text.length } };
}

const USAGE = {
  topicPolicyUnits: 1,
  contentPolicyUnits: 1,
  wordPolicyUnits: 1,
  sensitiveInformationPolicyUnits: 1,
  sensitiveInformationPolicyFreeUnits: 0,
  contextualGroundingPolicyUnits: 0,
};

/** A response where nothing fired. */
export function clean(text: string): Record<string, unknown> {
  return { usage: USAGE, action: 'NONE', outputs: [], assessments: [{}], guardrailCoverage: coverage(text) };
}

/** A response with one assessment; `masked` becomes `outputs[0].text`. */
export function intervened(text: string, assessment: Record<string, unknown>, masked = 'Sorry, this request was blocked by a safety guardrail.'): Record<string, unknown> {
  return {
    usage: USAGE,
    action: 'GUARDRAIL_INTERVENED',
    actionReason: 'Guardrail blocked.',
    outputs: [{ text: masked }],
    assessments: [
      {
        ...assessment,
        invocationMetrics: { guardrailProcessingLatency: 120, usage: USAGE, guardrailCoverage: coverage(text) },
      },
    ],
    guardrailCoverage: coverage(text),
  };
}

/** One assessment per filter family, each blocking. The `match` values must never leave the enforcer. */
export const SECRET_MATCH = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const BLOCKING_ASSESSMENTS: Record<string, { assessment: Record<string, unknown>; finding: Record<string, unknown> }> = {
  topic: {
    assessment: { topicPolicy: { topics: [{ name: 'Investment advice', type: 'DENY', action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'TOPIC', type: 'Investment advice', action: 'BLOCKED' },
  },
  content: {
    assessment: { contentPolicy: { filters: [{ type: 'VIOLENCE', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'CONTENT', type: 'VIOLENCE', action: 'BLOCKED', confidence: 'HIGH' },
  },
  promptAttack: {
    assessment: { contentPolicy: { filters: [{ type: 'PROMPT_ATTACK', confidence: 'MEDIUM', filterStrength: 'HIGH', action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'CONTENT', type: 'PROMPT_ATTACK', action: 'BLOCKED', confidence: 'MEDIUM' },
  },
  customWord: {
    assessment: { wordPolicy: { customWords: [{ match: 'CompetitorCo', action: 'BLOCKED', detected: true }], managedWordLists: [] } },
    finding: { policy: 'WORD', type: 'CUSTOM_WORD', action: 'BLOCKED' },
  },
  managedWord: {
    assessment: { wordPolicy: { customWords: [], managedWordLists: [{ match: 'darn', type: 'PROFANITY', action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'WORD', type: 'PROFANITY', action: 'BLOCKED' },
  },
  pii: {
    assessment: { sensitiveInformationPolicy: { piiEntities: [{ match: SECRET_MATCH, type: 'AWS_SECRET_KEY', action: 'BLOCKED', detected: true }], regexes: [] } },
    finding: { policy: 'SENSITIVE_INFORMATION', type: 'AWS_SECRET_KEY', action: 'BLOCKED' },
  },
  regex: {
    assessment: { sensitiveInformationPolicy: { piiEntities: [], regexes: [{ name: 'EmployeeId', match: 'EMP-99812', regex: 'EMP-[0-9]{5}', action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'SENSITIVE_INFORMATION', type: 'REGEX:EmployeeId', action: 'BLOCKED' },
  },
  grounding: {
    assessment: { contextualGroundingPolicy: { filters: [{ type: 'GROUNDING', threshold: 0.75, score: 0.12, action: 'BLOCKED', detected: true }] } },
    finding: { policy: 'CONTEXTUAL_GROUNDING', type: 'GROUNDING', action: 'BLOCKED', score: 0.12, threshold: 0.75 },
  },
  automatedReasoning: {
    assessment: {
      automatedReasoningPolicy: {
        findings: [{ invalid: { translation: { premises: [], claims: [{ logic: 'x', naturalLanguage: 'The refund is 90 days' }], confidence: 0.93 }, contradictingRules: [] } }],
      },
    },
    finding: { policy: 'AUTOMATED_REASONING', type: 'INVALID', action: 'BLOCKED', score: 0.93 },
  },
};

/** An assessment that only anonymizes an e-mail address. */
export function emailAssessment(email: string): Record<string, unknown> {
  return { sensitiveInformationPolicy: { piiEntities: [{ match: email, type: 'EMAIL', action: 'ANONYMIZED', detected: true }], regexes: [] } };
}

/** A gateway RESPONSE interceptor event (format 1.0) for a JSON-RPC method and response body. */
export function gatewayEvent(method: string, responseBody: unknown, statusCode = 200): Record<string, unknown> {
  return {
    interceptorInputVersion: '1.0',
    mcp: {
      rawGatewayRequest: { body: JSON.stringify({ jsonrpc: '2.0', id: 7, method }) },
      gatewayRequest: {
        path: '/mcp',
        httpMethod: 'POST',
        body: { jsonrpc: '2.0', id: 7, method, params: method === 'tools/call' ? { name: 'Docs___search', arguments: { q: 'x' } } : {} },
      },
      gatewayResponse: { statusCode, body: responseBody },
    },
  };
}

/** A `tools/call` JSON-RPC result with text contents. */
export function toolResult(...texts: string[]): Record<string, unknown> {
  return { jsonrpc: '2.0', id: 7, result: { content: texts.map((text) => ({ type: 'text', text })), isError: false } };
}
