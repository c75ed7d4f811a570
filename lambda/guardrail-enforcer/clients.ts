/**
 * AWS SDK I/O of the guardrail enforcer: one ApplyGuardrail call. The response is returned as the SDK gives it and
 * read (and distrusted) by `decide.ts`.
 */
import { ApplyGuardrailCommand, BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { GuardrailSourceName } from './config';

/** The SDK clients the handler needs. */
export interface EnforcerClients {
  readonly bedrock: BedrockRuntimeClient;
}

/** Clients for the Lambda environment (region and credentials from the environment), created on first use. */
export function defaultClients(): EnforcerClients {
  // The SDK retries throttles and 5xx a few times itself (standard mode); a fault left after that is a deny.
  return { bedrock: new BedrockRuntimeClient({ maxAttempts: 3 }) };
}

/** One ApplyGuardrail request. */
export interface ApplyGuardrailInput {
  readonly guardrailIdentifier: string;
  readonly guardrailVersion: string;
  readonly source: GuardrailSourceName;
  readonly text: string;
}

/**
 * Screens one text with ApplyGuardrail. `outputScope` stays INTERVENTIONS (only what fired), so that a response
 * carries as little of the text as possible. Rejects with the SDK's error on any fault.
 */
export async function applyGuardrail(clients: EnforcerClients, input: ApplyGuardrailInput, abortSignal?: AbortSignal): Promise<unknown> {
  return clients.bedrock.send(
    new ApplyGuardrailCommand({
      guardrailIdentifier: input.guardrailIdentifier,
      guardrailVersion: input.guardrailVersion,
      source: input.source,
      content: [{ text: { text: input.text } }],
      outputScope: 'INTERVENTIONS',
    }),
    { abortSignal },
  );
}
