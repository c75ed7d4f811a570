/**
 * jwks-pin: pins an issuer's public signing keys at deploy time and watches them for drift. It runs OUTSIDE the VPC
 * (it must reach the issuer); the enforcement handlers in the isolated subnets then verify tokens with the pinned
 * keys and never fetch.
 *
 * Two events:
 * - a CloudFormation custom resource request (Create/Update): fetch `jwksUri` (or the discovery document's
 *   `jwks_uri`) → validate strictly and canonicalize (decide.ts) → answer SUCCESS with the canonical key set and its
 *   SHA-256 as attributes, or FAILED with the reason, which fails the deployment (an empty or partial set is never
 *   pinned). Delete is a no-op.
 * - the scheduled `{ "action": "CHECK_JWKS_DRIFT", "pinnedSha256": "…" }`: fetch and canonicalize the current key
 *   set the same way and publish `JwksDrift` = 0 when its hash equals the pinned one, 1 when it differs or cannot
 *   be fetched or validated.
 *
 * Importing this module never throws; the configuration is read from the environment on the first call.
 * The request (its response URL is a capability to answer CloudFormation) is never logged.
 */
import { withTimeout } from '../shared/errors';
import { FetchFunction, PinClients, defaultClients, fetchDocumentWithRetry, sendCfnResponse } from './clients';
import { JWKS_LIMITS } from './contract';
import {
  CfnRequest,
  Checked,
  DriftStatus,
  PinConfig,
  PinOutcome,
  PinnedJwks,
  cfnResponseBody,
  discoveryUrlOf,
  driftOf,
  isCloudFormationEvent,
  jwksUriFromDiscovery,
  parseCfnRequest,
  parseDriftEvent,
  physicalIdOf,
  pinConfigFromEnv,
  pinJwksDocument,
  propertiesMatchConfig,
} from './decide';

export type { PinConfig, PinnedJwks } from './decide';

/** Timing of the handler (the defaults are {@link JWKS_LIMITS}; tests shorten them). */
export interface PinTiming {
  /** @default JWKS_LIMITS.requestTimeoutMs */
  readonly requestTimeoutMs?: number;
  /** @default JWKS_LIMITS.deadlineMs */
  readonly deadlineMs?: number;
  /** @default JWKS_LIMITS.attempts */
  readonly attempts?: number;
}

/** What one invocation did. */
export type PinHandlerResult =
  | { readonly kind: 'cloudformation'; readonly status: 'SUCCESS' | 'FAILED'; readonly reason?: string }
  | { readonly kind: 'drift'; readonly value: 0 | 1; readonly status: DriftStatus; readonly reason?: string }
  | { readonly kind: 'ignored'; readonly reason: string };

/** A Lambda-style handler. */
export type PinHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<PinHandlerResult>;

/**
 * Fetches the issuer's current key set and returns its pinned form, or why it cannot be pinned. Never throws:
 * a timeout, a refused or failed fetch and a validation failure are all `{ ok: false, problems }`.
 */
export async function fetchPinnedJwks(config: PinConfig, fetchFn: FetchFunction, timing: PinTiming = {}): Promise<Checked<PinnedJwks>> {
  const controller = new AbortController();
  const options = { timeoutMs: timing.requestTimeoutMs ?? JWKS_LIMITS.requestTimeoutMs, signal: controller.signal };
  const attempts = timing.attempts ?? JWKS_LIMITS.attempts;
  const work = async (): Promise<Checked<PinnedJwks>> => {
    let jwksUri = config.jwksUri;
    if (jwksUri === undefined) {
      const discovery = await fetchDocumentWithRetry(fetchFn, discoveryUrlOf(config.issuer), { ...options, maxBytes: JWKS_LIMITS.maxDiscoveryBytes, what: 'the discovery document' }, attempts);
      const found = jwksUriFromDiscovery(discovery, config.issuer);
      if (!found.ok) return found;
      jwksUri = found.value;
    }
    const text = await fetchDocumentWithRetry(fetchFn, jwksUri, { ...options, maxBytes: JWKS_LIMITS.maxDocumentBytes, what: 'the JWKS' }, attempts);
    return pinJwksDocument(text);
  };
  try {
    return await withTimeout(work(), timing.deadlineMs ?? JWKS_LIMITS.deadlineMs, 'the JWKS pin');
  } catch (err) {
    return { ok: false, problems: [err instanceof Error ? err.message : String(err)] };
  } finally {
    // Whatever is still in flight after the deadline is abandoned, with its timers.
    controller.abort();
  }
}

function sourceOf(config: PinConfig): string {
  return config.jwksUri ?? `the jwks_uri of ${discoveryUrlOf(config.issuer)}`;
}

async function pinOutcome(request: CfnRequest, config: Checked<PinConfig>, clients: PinClients, timing: PinTiming): Promise<{ outcome: PinOutcome; pinned?: PinnedJwks }> {
  // Deleting a pin removes nothing outside CloudFormation; it must never block a rollback or a stack deletion.
  if (request.requestType === 'Delete') return { outcome: { status: 'SUCCESS', physicalResourceId: request.physicalResourceId as string } };
  if (!config.ok) return { outcome: { status: 'FAILED', reason: `the JWKS pin function is misconfigured: ${config.problems.join('; ')}` } };
  const mismatch = propertiesMatchConfig(request, config.value);
  if (mismatch.length > 0) return { outcome: { status: 'FAILED', reason: `refused: ${mismatch.join('; ')}` } };
  const pinned = await fetchPinnedJwks(config.value, clients.fetch, timing);
  if (!pinned.ok) {
    return { outcome: { status: 'FAILED', reason: `could not pin the keys of ${config.value.issuer} from ${sourceOf(config.value)}: ${pinned.problems.join('; ')}` } };
  }
  return { outcome: { status: 'SUCCESS', physicalResourceId: physicalIdOf(config.value), pinned: pinned.value }, pinned: pinned.value };
}

async function handleCloudFormation(request: CfnRequest, config: Checked<PinConfig>, clients: PinClients, timing: PinTiming): Promise<PinHandlerResult> {
  const { outcome, pinned } = await pinOutcome(request, config, clients, timing);
  const fallbackId = config.ok ? physicalIdOf(config.value) : `jwks-pin-unconfigured-${request.logicalResourceId}`.slice(0, 200);
  const body = cfnResponseBody(request, outcome, fallbackId);
  const { Status: status, Reason: reason } = JSON.parse(body) as { Status: 'SUCCESS' | 'FAILED'; Reason?: string };
  clients.reporter.log(status === 'SUCCESS' ? 'info' : 'error', 'jwks pin', {
    requestType: request.requestType,
    logicalResourceId: request.logicalResourceId,
    status,
    ...(reason !== undefined ? { reason } : {}),
    ...(pinned && status === 'SUCCESS' ? { sha256: pinned.sha256, keyCount: pinned.jwks.keys.length, kids: pinned.jwks.keys.map((k) => k.kid), ignoredKeys: pinned.ignored } : {}),
  });
  // Rejects when CloudFormation's URL does not take the answer: Lambda then retries the whole invocation.
  await sendCfnResponse(clients.fetch, request.responseUrl, body);
  if (status === 'SUCCESS' && pinned && config.ok) clients.reporter.publishDrift(config.value.issuer, 0);
  return { kind: 'cloudformation', status, ...(reason !== undefined ? { reason } : {}) };
}

async function handleDrift(pinnedSha256: string, config: PinConfig, clients: PinClients, timing: PinTiming): Promise<PinHandlerResult> {
  const current = await fetchPinnedJwks(config, clients.fetch, timing);
  const drift = driftOf(pinnedSha256, current);
  const reason = current.ok ? undefined : current.problems.join('; ');
  clients.reporter.publishDrift(config.issuer, drift.value);
  clients.reporter.log(drift.value === 0 ? 'info' : 'error', 'jwks drift check', {
    issuer: config.issuer,
    drift: drift.value,
    driftStatus: drift.status,
    pinnedSha256,
    ...(current.ok ? { currentSha256: current.value.sha256, kids: current.value.jwks.keys.map((k) => k.kid) } : {}),
    ...(reason !== undefined ? { reason } : {}),
  });
  return { kind: 'drift', value: drift.value, status: drift.status, ...(reason !== undefined ? { reason } : {}) };
}

/**
 * The handler for a configuration (or its problems) and clients. Never rejects except when CloudFormation's
 * response URL does not accept the answer (so that Lambda retries the invocation).
 */
export function createHandler(config: Checked<PinConfig>, clients: PinClients, timing: PinTiming = {}): PinHandler {
  return async (event: unknown): Promise<PinHandlerResult> => {
    if (isCloudFormationEvent(event)) {
      const request = parseCfnRequest(event);
      if (!request.ok) {
        // Without a trustworthy response URL there is no one to answer; CloudFormation times the request out.
        const reason = `invalid CloudFormation request: ${request.problems.join('; ')}`;
        clients.reporter.log('error', 'jwks pin', { status: 'IGNORED', reason });
        return { kind: 'ignored', reason };
      }
      return handleCloudFormation(request.value, config, clients, timing);
    }
    const drift = parseDriftEvent(event);
    if (!drift.ok || !config.ok) {
      // No datapoint: the drift alarm treats missing data as drift, so a broken schedule or configuration is seen.
      const reason = !drift.ok ? `not a pin or drift-check event: ${drift.problems.join('; ')}` : `misconfigured: ${(config as { problems: readonly string[] }).problems.join('; ')}`;
      clients.reporter.log('error', 'jwks drift check', { status: 'IGNORED', reason });
      return { kind: 'ignored', reason };
    }
    return handleDrift(drift.value, config.value, clients, timing);
  };
}

let configured: PinHandler | undefined;

/** The Lambda entry point, configured from the environment on the first call. */
export const handler: PinHandler = async (event, context) => {
  configured ??= createHandler(pinConfigFromEnv(process.env), defaultClients());
  return configured(event, context);
};
