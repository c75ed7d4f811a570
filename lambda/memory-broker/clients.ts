/**
 * AWS SDK I/O of the memory broker: four AgentCore Memory data-plane calls, and ApplyGuardrail through the
 * guardrail enforcer's own screening logic (partition, seams, coverage proof, block versus mask), in process and
 * with the broker's own `bedrock:ApplyGuardrail` grant, so that screening needs no second Lambda hop.
 * Responses are returned as the SDK gives them and read (and distrusted) by `decide.ts`.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchCreateMemoryRecordsCommand,
  BedrockAgentCoreClient,
  DeleteMemoryRecordCommand,
  GetMemoryRecordCommand,
  RetrieveMemoryRecordsCommand,
} from '@aws-sdk/client-bedrock-agentcore';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { ENFORCER_DEFAULTS, EnforcerConfig } from '../guardrail-enforcer/config';
import { screenDependencies, screenText } from '../guardrail-enforcer/index';
import { WriteGuardrail } from './config';
import { ScreenText } from './decide';

/** The SDK clients the handler needs. */
export interface BrokerClients {
  readonly agentcore: BedrockAgentCoreClient;
  /** Needed only when a guardrail screens writes. */
  readonly bedrock?: BedrockRuntimeClient;
}

/** Clients for the Lambda environment (region and credentials from the environment). */
export function defaultClients(): BrokerClients {
  // The SDK retries throttles and 5xx a few times itself (standard mode); a fault left after that is a deny.
  return { agentcore: new BedrockAgentCoreClient({ maxAttempts: 3 }), bedrock: new BedrockRuntimeClient({ maxAttempts: 3 }) };
}

/** The memory calls of one memory resource. Each rejects with the SDK's error on any fault. */
export interface MemoryCalls {
  /** RetrieveMemoryRecords under one namespace prefix. */
  retrieve(namespace: string, query: string, topK: number, signal: AbortSignal): Promise<unknown>;
  /** BatchCreateMemoryRecords with exactly one record. */
  createRecord(namespace: string, text: string, requestIdentifier: string, timestamp: Date, signal: AbortSignal): Promise<unknown>;
  /** GetMemoryRecord by id. */
  getRecord(recordId: string, signal: AbortSignal): Promise<unknown>;
  /** DeleteMemoryRecord by id; `namespace` is passed for IAM condition evaluation. */
  deleteRecord(recordId: string, namespace: string, signal: AbortSignal): Promise<unknown>;
}

/** The memory calls against `memoryId` with an AgentCore data-plane client. */
export function memoryCalls(client: BedrockAgentCoreClient, memoryId: string): MemoryCalls {
  return {
    retrieve: (namespace, query, topK, signal) =>
      client.send(
        new RetrieveMemoryRecordsCommand({ memoryId, namespace, searchCriteria: { searchQuery: query, topK }, maxResults: topK }),
        { abortSignal: signal },
      ),
    createRecord: (namespace, text, requestIdentifier, timestamp, signal) =>
      client.send(
        new BatchCreateMemoryRecordsCommand({
          memoryId,
          records: [{ requestIdentifier, namespaces: [namespace], content: { text }, timestamp }],
          clientToken: requestIdentifier,
        }),
        { abortSignal: signal },
      ),
    getRecord: (recordId, signal) => client.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: recordId }), { abortSignal: signal }),
    deleteRecord: (recordId, namespace, signal) =>
      client.send(new DeleteMemoryRecordCommand({ memoryId, memoryRecordId: recordId, namespace }), { abortSignal: signal }),
  };
}

/** A fresh request identifier for BatchCreateMemoryRecords (`[a-zA-Z0-9_-]`, at most 80). */
export function newRequestIdentifier(): string {
  return `rem-${randomUUID()}`;
}

/**
 * Screens text as guardrail INPUT (memory becomes model input later, and the prompt-attack filter runs on INPUT
 * only) with the guardrail enforcer's fail-closed logic. Invisible characters deny; a fault blocks.
 */
export function guardrailScreener(bedrock: BedrockRuntimeClient, guardrail: WriteGuardrail, maxTextLength: number, timeoutMs: number): ScreenText {
  const config: EnforcerConfig = {
    guardrailIdentifier: guardrail.identifier,
    guardrailVersion: guardrail.version,
    sourceMode: 'INPUT',
    toolResultSource: 'INPUT',
    smugglingMode: 'DENY',
    maxCharsPerCall: ENFORCER_DEFAULTS.maxCharsPerCall,
    maxTotalChars: Math.max(maxTextLength, 1_000),
    seamChars: ENFORCER_DEFAULTS.seamChars,
    maxCalls: ENFORCER_DEFAULTS.maxCalls,
    timeoutMs,
    concurrency: ENFORCER_DEFAULTS.concurrency,
  };
  const deps = screenDependencies(config, { bedrock });
  return (text) => screenText(text, 'INPUT', deps);
}
