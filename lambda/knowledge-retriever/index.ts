/**
 * knowledge-retriever: an AgentCore Gateway Lambda target serving `search_knowledge`, where knowledge retrieval is
 * authorized before the model sees anything.
 *
 * parse (tool name, caller token re-verified here, strict arguments) → route (knowledge bases from the verified
 * identity only) → filter (identity conditions + static conditions + the caller's narrowing filter, always ANDed)
 * → prepare the user's Access Grants sessions → Retrieve (never RetrieveAndGenerate) → authorize every distinct
 * chunk source for the END USER → respond with authorized chunks only.
 *
 * Dropped chunks leave no trace in the answer (no text, title, URI or count), only in the decision log. Any fault
 * before authorization denies the call; a fault while authorizing a chunk drops that chunk and marks the answer
 * partial. Importing this module never throws; configuration is read on the first call, and a bad one makes every
 * call deny with MISCONFIGURED.
 */
import { createHash } from 'node:crypto';
import { callerTokenFromArguments, gatewayToolName, withoutReservedArguments } from '../shared/caller-context';
import { Decision, allow, deny, isAllow } from '../shared/decision';
import { DecisionLogFieldValue, DecisionLogger, createDecisionLogger } from '../shared/decision-log';
import { classifyFault, describeFault, withTimeout } from '../shared/errors';
import { IdentityConfig, TokenVerifier, VerifiedIdentity, createTokenVerifier, verifyIdentity } from '../shared/identity';
import { identityConfigFromEnv } from '../shared/identity-env';
import { ReasonCode } from '../shared/reason-codes';
import { RetrieverClients, defaultClients, grantsIo, retrieve } from './clients';
import { RetrieverConfig, knowledgeConfigFromEnv } from './config';
import { RetrievedChunk, SearchAnswer, SearchDenial, assembleAnswer, candidateSources, parseRetrieveResponse, parseSearchArguments } from './decide';
import { FilterFailure, buildRetrievalFilter } from './filter';
import { AccessGrantsChecker, GrantsCallCounts } from './grants';
import { resolveKnowledgeBases } from './routing';
import { KNOWLEDGE_TOOL_DEFINITIONS, SEARCH_KNOWLEDGE_TOOL } from './tools';
import { UriAuthorizer } from './uri-authorizer';

export { KNOWLEDGE_TOOL_DEFINITIONS, SEARCH_KNOWLEDGE_TOOL } from './tools';
export type { SearchAnswer, SearchDenial, AnswerChunk } from './decide';

const SERVICE_NAME = 'knowledge-retriever';
const CONTROL = 'retrieval';
const MAX_LOGGED_HASHES = 16;

/** The answer of the target. */
export type RetrieverResponse = SearchAnswer | SearchDenial;

/** The Lambda context fields the handler reads. */
export interface RetrieverContext {
  readonly awsRequestId?: string;
  readonly clientContext?: { readonly custom?: unknown } | null;
}

/** A Lambda-style handler. */
export type RetrieverHandler = (event: unknown, context?: RetrieverContext) => Promise<RetrieverResponse>;

/** Explicit configuration of {@link createHandler}. */
export interface RetrieverSettings extends RetrieverConfig {
  /** How caller tokens are verified. */
  readonly identity: IdentityConfig;
}

/** Optional overrides of {@link createHandler} (tests, embedding). */
export interface RetrieverOptions {
  /** A verifier to use instead of one built from `settings.identity`. */
  readonly verifier?: TokenVerifier;
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
}

interface Outcome {
  readonly response: RetrieverResponse;
  readonly decision: Decision;
  readonly subject?: string;
  readonly fields: Record<string, DecisionLogFieldValue>;
}

function denyWith(code: ReasonCode, detail: string | undefined, fields: Record<string, DecisionLogFieldValue>, subject?: string): Outcome {
  // The same fields object: counts added after the decision (in `finally`) still reach the log line.
  return { response: { ok: false, reasonCode: code }, decision: deny(code, detail), subject, fields };
}

function uriHash(uri: string): string {
  return createHash('sha256').update(uri, 'utf8').digest('hex').slice(0, 16);
}

const FILTER_REASONS: Record<FilterFailure, ReasonCode> = {
  NO_USABLE_CLAIMS: 'KNOWLEDGE_NO_USABLE_CLAIMS',
  TOO_MANY_VALUES: 'KNOWLEDGE_TOO_MANY_VALUES',
  FILTER_REJECTED: 'KNOWLEDGE_FILTER_REJECTED',
  POLICY_INVALID: 'MISCONFIGURED',
};

/** Builds the handler from explicit settings and clients. */
export function createHandler(settings: RetrieverSettings, clients: RetrieverClients, options: RetrieverOptions = {}): RetrieverHandler {
  // The post-retrieval check is on unless explicitly and loudly switched off, for embedders too (not only from env).
  if (!settings.grants && settings.unsafeMetadataFilterOnly !== true) {
    return misconfiguredHandler(['accessGrants is required unless unsafeMetadataFilterOnly is true']);
  }
  const verifier = options.verifier ?? createTokenVerifier(settings.identity);
  const now = options.now ?? Date.now;
  const checker = settings.grants ? new AccessGrantsChecker(settings.grants, grantsIo(clients), now) : undefined;
  const scopesByKnowledgeBase = new Map<string, UriAuthorizer>(settings.routing.knowledgeBases.map((kb) => [kb.id, UriAuthorizer.fromScopes(kb.sourceScopes).authorizer]));

  const search = async (event: unknown, context: RetrieverContext | undefined): Promise<Outcome> => {
    const fields: Record<string, DecisionLogFieldValue> = {};
    const tool = gatewayToolName(context?.clientContext?.custom);
    fields.tool = tool ?? 'unknown';
    if (tool !== SEARCH_KNOWLEDGE_TOOL) return denyWith('TOOL_UNKNOWN', 'tool name missing or not served', fields);

    // Identity: only from the caller token the interceptor set, verified again here.
    const token = callerTokenFromArguments(event);
    const verified = await verifyIdentity(verifier, token);
    if (!isAllow(verified)) return denyWith(verified.reasonCode, verified.outcome === 'DENY' ? verified.detail : undefined, fields);
    const identity: VerifiedIdentity = verified.identity;
    const subject = identity.subject;

    if (typeof event !== 'object' || event === null || Array.isArray(event)) return denyWith('MALFORMED_REQUEST', 'event is not an object', fields, subject);
    const args = parseSearchArguments(withoutReservedArguments(event as Record<string, unknown>), settings.defaultResults);
    if (!args.ok) return denyWith('MALFORMED_REQUEST', args.detail, fields, subject);
    const { query, maxResults } = args.value;
    fields.requested = maxResults;
    fields.callerFilter = args.value.filter !== undefined;

    const routed = resolveKnowledgeBases(settings.routing, identity);
    if (!routed.ok) return denyWith('KNOWLEDGE_ROUTE_DENIED', routed.detail, fields, subject);
    fields.knowledgeBases = routed.targets.map((t) => t.id);

    const built = buildRetrievalFilter(settings.filterPolicy, identity, args.value.filter);
    if (!built.ok) return denyWith(FILTER_REASONS[built.failure], built.detail, fields, subject);
    fields.identityConditions = built.identityNodes.length;

    const controller = new AbortController();
    let calls: GrantsCallCounts = { sts: 0, ssoOidc: 0, listPages: 0, getDataAccess: 0 };
    const work = async (): Promise<Outcome> => {
      let prepared;
      if (checker) {
        const p = await checker.prepare({ issuer: identity.issuer, subject, groups: identity.groups, token: token as string }, controller.signal);
        calls = p.ok ? p.caller.calls : p.calls;
        if (!p.ok) return denyWith(p.reasonCode, p.detail, fields, subject);
        prepared = p.caller;
      }

      const responses = await Promise.all(
        routed.targets.map((t) =>
          withTimeout(retrieve(clients, { knowledgeBaseId: t.id, query, numberOfResults: maxResults, filter: built.filter }, controller.signal), settings.callTimeoutMs, 'Retrieve').then((r) => ({ id: t.id, r })),
        ),
      );
      const chunks: RetrievedChunk[] = responses.flatMap(({ id, r }) => parseRetrieveResponse(r, id, maxResults));
      fields.retrieved = chunks.length;

      const sources = candidateSources(chunks, scopesByKnowledgeBase);
      fields.distinctSources = sources.length;
      let allowed: ReadonlySet<string>;
      let faulted: ReadonlySet<string> = new Set();
      let partial = false;
      if (checker && prepared) {
        const outcome = await checker.authorize(prepared, sources, controller.signal);
        allowed = outcome.allowed;
        faulted = outcome.faulted;
        partial = outcome.partial;
      } else {
        allowed = new Set(sources);
      }
      const { answer, dropped } = assembleAnswer(chunks, scopesByKnowledgeBase, { allowed, faulted }, settings.returnedMetadataKeys, maxResults);
      const isPartial = partial || dropped.faulted > 0;
      const response: SearchAnswer = isPartial ? { ok: true, results: answer.results, partial: true } : { ok: true, results: answer.results };
      const droppedSources = sources.filter((s) => !allowed.has(s));
      Object.assign(fields, {
        returned: response.results.length,
        droppedUnusable: dropped.unusable,
        droppedOutsideKnowledgeBase: dropped.outsideKnowledgeBase,
        droppedUnauthorized: dropped.unauthorized,
        droppedFaulted: dropped.faulted,
        partial: isPartial,
        ...(droppedSources.length > 0 ? { droppedSourceHashes: droppedSources.slice(0, MAX_LOGGED_HASHES).map(uriHash) } : {}),
      });
      return { response, decision: allow(isPartial ? 'KNOWLEDGE_PARTIAL' : 'ALLOWED'), subject, fields };
    };

    try {
      return await withTimeout(work(), settings.timeoutMs, 'search');
    } catch (err) {
      return denyWith(classifyFault(err), describeFault(err), fields, subject);
    } finally {
      // Whatever is still in flight (after a timeout or a fault) has nothing left to decide.
      controller.abort();
      Object.assign(fields, { stsCalls: calls.sts, ssoOidcCalls: calls.ssoOidc, listPages: calls.listPages, getDataAccessCalls: calls.getDataAccess });
    }
  };

  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    let outcome: Outcome;
    try {
      outcome = await search(event, context);
    } catch (err) {
      outcome = denyWith('INTERNAL_ERROR', describeFault(err), {});
    }
    record(outcome, requestId);
    return outcome.response;
  };
}

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger {
  decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
  return decisionLogger;
}

function record(outcome: Outcome, requestId: string | undefined): void {
  try {
    const log = logs();
    log.logDecision({ control: CONTROL, decision: outcome.decision, subject: outcome.subject, requestId, fields: outcome.fields });
    log.flush();
  } catch {
    // The caller still gets its (fail-closed) answer.
  }
}

/** A handler for a configuration that failed validation: every call denies with MISCONFIGURED. */
export function misconfiguredHandler(problems: readonly string[]): RetrieverHandler {
  const detail = problems.join('; ');
  return async (_event, context) => {
    record({ response: { ok: false, reasonCode: 'MISCONFIGURED' }, decision: deny('MISCONFIGURED', detail), fields: {} }, typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined);
    return { ok: false, reasonCode: 'MISCONFIGURED' };
  };
}

let configured: RetrieverHandler | undefined;

function fromEnvironment(): RetrieverHandler {
  try {
    const identity = identityConfigFromEnv(process.env);
    const config = knowledgeConfigFromEnv(process.env);
    return createHandler({ ...config, identity }, defaultClients());
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    return misconfiguredHandler(Array.isArray(problems) ? (problems as string[]) : [describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: RetrieverHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    return { ok: false, reasonCode: 'INTERNAL_ERROR' };
  }
};

/** The tool definitions, for the construct and the gateway. */
export const TOOL_DEFINITIONS = KNOWLEDGE_TOOL_DEFINITIONS;
