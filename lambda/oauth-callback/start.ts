/**
 * The first leg of a three-legged OAuth flow, for the application or agent code that acts for a signed-in user:
 * verify the user's token, get a workload access token FOR THAT TOKEN (GetWorkloadAccessTokenForJWT, never
 * ForUserId), ask AgentCore Identity for the resource token (USER_FEDERATION) with a fresh random state, and record
 * the pending binding {state hash, session, user hash, ten-minute expiry, unused} before the user is sent to the
 * authorization URL. The callback handler (index.ts) completes the flow only for the same user.
 */
import { randomBytes } from 'node:crypto';
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withDeadline } from '../shared/deadline';
import { classifyFault, describeFault } from '../shared/errors';
import { IdentityConfig, TokenVerifier, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { ReasonCode } from '../shared/reason-codes';
import { AgentCoreIdentity, BindingStore, DynamoBindingStore, agentCoreIdentity } from './clients';
import { isExactHttpsUrl } from './config';
import { PROVIDER_NAME_PATTERN, STATE_BYTES, createBinding } from './decide';

/** Scope tokens (RFC 6749 §3.3). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
/** Workload identity names, as AgentCore accepts them. */
export const WORKLOAD_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/** A new state: 32 random bytes, base64url (256 bits). */
export function newState(): string {
  return randomBytes(STATE_BYTES).toString('base64url');
}

/** One request to start (or resume) a user's authorization with a credential provider. */
export interface StartAuthorizationRequest {
  /** The signed-in user's JWT, exactly as received; it is verified here and is the only source of identity. */
  readonly userToken: string;
  /** The credential provider (an authorization-code provider of `AgentIdentity`). */
  readonly providerName: string;
  /** Scopes to request. */
  readonly scopes: readonly string[];
  /** The callback URL: one of the workload identity's allowed return URLs, exactly. */
  readonly returnUrl: string;
  /** Start a new authorization even if AgentCore holds a token for the user. @default false */
  readonly forceAuthentication?: boolean;
}

/** The outcome: a token (the user already consented), an authorization URL to send the user to, or a deny. */
export type StartAuthorizationResult =
  | { readonly status: 'TOKEN'; readonly accessToken: string }
  | { readonly status: 'AUTHORIZATION_REQUIRED'; readonly authorizationUrl: string }
  | { readonly status: 'DENIED'; readonly reasonCode: ReasonCode; readonly detail?: string };

/** What {@link startUserAuthorization} needs. */
export interface StartAuthorizationDependencies {
  readonly verifier: TokenVerifier;
  readonly agentCore: AgentCoreIdentity;
  readonly store: BindingStore;
  /** The workload identity name. */
  readonly workloadName: string;
  /** Deadline of the whole start, in milliseconds. @default 5000 */
  readonly timeoutMs?: number;
  /** The clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** The state generator. @default newState */
  readonly newState?: () => string;
}

const denied = (reasonCode: ReasonCode, detail?: string): StartAuthorizationResult => ({ status: 'DENIED', reasonCode, ...(detail !== undefined ? { detail } : {}) });

function requestProblem(request: StartAuthorizationRequest): string | undefined {
  if (typeof request !== 'object' || request === null) return 'request is not an object';
  if (typeof request.providerName !== 'string' || !PROVIDER_NAME_PATTERN.test(request.providerName)) return 'providerName is not a credential provider name';
  if (!Array.isArray(request.scopes) || request.scopes.length === 0 || request.scopes.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s))) return 'scopes must be a non-empty list of scope tokens';
  if (typeof request.returnUrl !== 'string' || !isExactHttpsUrl(request.returnUrl)) return 'returnUrl must be an https URL without query or fragment';
  if (request.forceAuthentication !== undefined && typeof request.forceAuthentication !== 'boolean') return 'forceAuthentication must be a boolean';
  return undefined;
}

async function start(deps: StartAuthorizationDependencies, request: StartAuthorizationRequest, signal: AbortSignal): Promise<StartAuthorizationResult> {
  const verified = await verifyIdentity(deps.verifier, request?.userToken);
  if (verified.outcome !== 'ALLOW' || !('identity' in verified)) return denied(verified.reasonCode, verified.outcome === 'DENY' ? verified.detail : undefined);
  const problem = requestProblem(request);
  if (problem) return denied('MALFORMED_REQUEST', problem);

  const workloadToken = await deps.agentCore.workloadAccessTokenForJwt(deps.workloadName, request.userToken, signal);
  const state = (deps.newState ?? newState)();
  const response = await deps.agentCore.resourceOauth2Token(
    {
      workloadIdentityToken: workloadToken,
      providerName: request.providerName,
      scopes: request.scopes,
      flow: 'USER_FEDERATION',
      returnUrl: request.returnUrl,
      customState: state,
      ...(request.forceAuthentication !== undefined ? { forceAuthentication: request.forceAuthentication } : {}),
    },
    signal,
  );
  if (response.kind === 'TOKEN') return { status: 'TOKEN', accessToken: response.accessToken };
  if (response.kind === 'FAILED') return denied('OAUTH_FLOW_FAILED', 'AgentCore reported the session as FAILED');

  const binding = createBinding({ state, sessionUri: response.sessionUri, user: verified.identity, providerName: request.providerName, now: (deps.now ?? Date.now)() });
  if (!binding.ok) return denied(binding.reasonCode, binding.detail);
  signal.throwIfAborted();
  // The URL goes to the user only once the binding exists: an authorization nobody can complete is never handed out.
  await deps.store.put(binding.value, signal);
  return { status: 'AUTHORIZATION_REQUIRED', authorizationUrl: response.authorizationUrl };
}

/**
 * Starts a user's authorization. Never throws: a bad token, a bad request, a fault or a timeout is
 * `{ status: 'DENIED', reasonCode }`. The access token of a `TOKEN` result is a secret: use it, never log it.
 */
export async function startUserAuthorization(deps: StartAuthorizationDependencies, request: StartAuthorizationRequest): Promise<StartAuthorizationResult> {
  try {
    if (typeof deps?.workloadName !== 'string' || !WORKLOAD_NAME_PATTERN.test(deps.workloadName)) return denied('MISCONFIGURED', 'workloadName is not a workload identity name');
    return await withDeadline(deps.timeoutMs ?? 5_000, 'start authorization', (signal) => start(deps, request, signal));
  } catch (err) {
    return denied(classifyFault(err), describeFault(err));
  }
}

/** Options of {@link createAuthorizationStarter}. */
export interface AuthorizationStarterOptions {
  /** How users' tokens are verified (the same issuer the callback trusts). */
  readonly identity: IdentityConfig;
  /** The binding table (`AgentIdentity.bindingTable`). */
  readonly tableName: string;
  /** The workload identity name (`AgentIdentity.workloadIdentityName`). */
  readonly workloadName: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** A ready-to-use starter for agent code; create it once per container. */
export function createAuthorizationStarter(
  options: AuthorizationStarterOptions,
  clients?: { readonly store: BindingStore; readonly agentCore: AgentCoreIdentity; readonly now?: () => number },
): (request: StartAuthorizationRequest) => Promise<StartAuthorizationResult> {
  const deps: StartAuthorizationDependencies = {
    verifier: createTokenVerifier(options.identity),
    store: clients?.store ?? new DynamoBindingStore(new DynamoDBClient({ maxAttempts: 3 }), options.tableName),
    agentCore: clients?.agentCore ?? agentCoreIdentity(new BedrockAgentCoreClient({ maxAttempts: 3 })),
    workloadName: options.workloadName,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(clients?.now ? { now: clients.now } : {}),
  };
  return (request) => startUserAuthorization(deps, request);
}
