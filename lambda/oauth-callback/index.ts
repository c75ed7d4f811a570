/**
 * oauth-callback: the return URL of three-legged OAuth (3LO) flows, put behind the application's API Gateway or
 * load balancer. It binds each flow to the user who started it before letting AgentCore Identity complete it.
 *
 * parse (state, session, the user's token) → verify the token → load the binding → decide (decide.ts: same user,
 * same session, unused, under ten minutes) → consume it with a conditional write (single use) →
 * CompleteResourceTokenAuth with `userIdentifier: { userToken }` (never a user id) → respond. Every mismatch, expiry,
 * replay or fault is a deny with a reason code and a page that shows nothing else. Importing this module never
 * throws; the configuration is read from the environment on the first call, and a bad one denies every call.
 */
import { withDeadline } from '../shared/deadline';
import { DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { classifyFault, describeFault } from '../shared/errors';
import { TokenVerifier, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { CallbackClients, defaultClients } from './clients';
import { CallbackConfig, TokenSource, callbackSettingsFromEnv } from './config';
import {
  CallbackDecision,
  CallbackRequest,
  HttpResponse,
  ResponseStyle,
  allowCallback,
  checkBinding,
  denyCallback,
  parseCallbackRequest,
  renderCallbackResponse,
  stateHashOf,
  userKeyOf,
} from './decide';

export type { HttpResponse } from './decide';

/** The `service` of the handler's log lines and metrics. */
export const SERVICE_NAME = 'oauth-callback';
/** The `control` of its decision lines. */
export const CONTROL = 'oauth-session-binding';

/** A Lambda-style handler. */
export type CallbackHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<HttpResponse>;

/** The decision of one callback, with the verified subject (for the log) when there was one. */
export interface CallbackResult {
  readonly decision: CallbackDecision;
  readonly request: CallbackRequest;
  readonly subject?: string;
}

/** What {@link decideCallback} needs. */
export interface CallbackDependencies {
  readonly config: CallbackConfig;
  readonly verifier: TokenVerifier;
  readonly clients: CallbackClients;
}

async function bindAndComplete(request: CallbackRequest, deps: CallbackDependencies, signal: AbortSignal, seen: { subject?: string }): Promise<CallbackDecision> {
  if (request.method !== 'GET') return denyCallback('MALFORMED_REQUEST', `method ${String(request.method)} is not GET`);
  const verified = await verifyIdentity(deps.verifier, request.token);
  if (verified.outcome !== 'ALLOW') return denyCallback(verified.reasonCode, verified.detail);
  const identity = 'identity' in verified ? verified.identity : undefined;
  if (!identity || request.token === undefined) return denyCallback('INTERNAL_ERROR', 'verified identity missing');
  seen.subject = identity.subject;
  if (!request.parameters.ok) return denyCallback(request.parameters.reasonCode, request.parameters.detail);

  const { state, sessionUri } = request.parameters.value;
  const stateHash = stateHashOf(state);
  const userKey = userKeyOf(identity);
  const now = (deps.clients.now ?? Date.now)();
  const record = await deps.clients.store.get(stateHash, signal);
  const check = checkBinding(record, { stateHash, sessionUri, userKey, now });
  if (check.outcome !== 'ALLOW') return check;
  // After a timeout the caller already has its deny: nothing may be consumed or completed any more.
  signal.throwIfAborted();
  // Single use: of two concurrent callbacks with the same state, exactly one passes this conditional write.
  const consumed = await deps.clients.store.consume(stateHash, { sessionUri, userKey, now }, signal);
  if (consumed !== 'CONSUMED') return denyCallback('OAUTH_BINDING_REPLAYED', 'the conditional write found the binding used, expired or changed');
  // The binding is spent before AgentCore is called: a fault from here on means the user starts again, never a retry.
  signal.throwIfAborted();
  await deps.clients.agentCore.completeResourceTokenAuth(sessionUri, request.token, signal);
  return allowCallback();
}

/**
 * Decides one callback event and, when allowed, completes the authorization. Never throws: a fault, a timeout
 * (`config.timeoutMs`) or anything unexpected is a deny with the fault's reason code.
 */
export async function decideCallback(event: unknown, deps: CallbackDependencies): Promise<CallbackResult> {
  const request = parseCallbackRequest(event, deps.config);
  const seen: { subject?: string } = {};
  let decision: CallbackDecision;
  try {
    decision = await withDeadline(deps.config.timeoutMs, 'oauth callback', (signal) => bindAndComplete(request, deps, signal, seen));
  } catch (err) {
    decision = denyCallback(classifyFault(err), describeFault(err));
  }
  return { decision, request, ...(seen.subject !== undefined ? { subject: seen.subject } : {}) };
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function record(decision: CallbackDecision, requestId: string | undefined, subject: string | undefined, style: ResponseStyle): void {
  try {
    logs().logDecision({
      control: CONTROL,
      decision,
      ...(subject !== undefined ? { subject } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      fields: { integration: style },
    });
  } catch {
    // The user still gets the (fail-closed) answer.
  }
}

function requestIdOf(context: { awsRequestId?: string } | undefined): string | undefined {
  return typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
}

/**
 * Builds the handler from explicit configuration and clients (tests, embedding). Throws a `ConfigurationError` for
 * an invalid identity configuration.
 */
export function createHandler(config: CallbackConfig, clients: CallbackClients): CallbackHandler {
  const deps: CallbackDependencies = { config, verifier: createTokenVerifier(config.identity), clients };
  return async (event, context) => {
    const result = await decideCallback(event, deps);
    record(result.decision, requestIdOf(context), result.subject, result.request.style);
    return renderCallbackResponse(result.decision, {
      style: result.request.style,
      wantsJson: result.request.wantsJson,
      completionRedirectUrl: config.completionRedirectUrl,
      methodNotAllowed: result.decision.outcome === 'DENY' && result.request.method !== 'GET' && result.decision.reasonCode === 'MALFORMED_REQUEST',
      bearerChallenge: config.tokenSource === TokenSource.AUTHORIZATION_HEADER,
    });
  };
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): CallbackHandler {
  const decision = denyCallback('MISCONFIGURED', problems.join('; '));
  return async (event, context) => {
    const request = parseCallbackRequest(event, { tokenSource: TokenSource.AUTHORIZATION_HEADER, stateParameter: 'state', sessionParameter: 'session_id' });
    record(decision, requestIdOf(context), undefined, request.style);
    return renderCallbackResponse(decision, { style: request.style, wantsJson: request.wantsJson });
  };
}

function fromEnvironment(): CallbackHandler {
  try {
    const settings = callbackSettingsFromEnv(process.env);
    if (!settings.ok) return misconfiguredHandler(settings.problems);
    const identity = identityConfigFromEnv(process.env);
    return createHandler({ ...settings.settings, identity }, defaultClients(settings.settings.tableName));
  } catch (err) {
    return misconfiguredHandler([describeFault(err)]);
  }
}

let configured: CallbackHandler | undefined;

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: CallbackHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    // Last resort: nothing above should throw, and nothing may complete an authorization from here.
    return renderCallbackResponse(denyCallback('INTERNAL_ERROR'), { style: ResponseStyle.API_GATEWAY, wantsJson: false });
  }
};
