/**
 * Pure decisions of the knowledge retriever: strict tool-argument validation, distrustful reading of Retrieve
 * responses, chunk source extraction, and the assembly of the answer from authorized chunks only.
 * No SDK, no environment, no clock.
 */
import { MalformedResponseError } from '../shared/errors';
import { SEARCH_LIMITS } from './tools';
import { S3ObjectLocation, UriAuthorizer, formatS3Uri, parseS3Uri } from './uri-authorizer';

/** Validated arguments of `search_knowledge`. */
export interface SearchArguments {
  readonly query: string;
  /** The caller's narrowing filter, still unvalidated (the filter builder validates it). */
  readonly filter?: unknown;
  readonly maxResults: number;
}

/** Result of parsing. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail: string };

const ALLOWED_ARGUMENTS = new Set(['query', 'filter', 'maxResults']);
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Validates the tool arguments (reserved arguments already removed): a plain object with only `query` (1 to
 * `maxQueryChars` characters, not blank), optional `filter` (an object) and optional `maxResults` (a whole number
 * from 1 to 100). Any other key, identity-like keys such as `userId`, `groups` or `tenant` included, is rejected.
 */
export function parseSearchArguments(args: unknown, defaultResults: number = SEARCH_LIMITS.defaultResults, maxQueryChars: number = SEARCH_LIMITS.maxQueryChars): Parsed<SearchArguments> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { ok: false, detail: 'arguments must be an object' };
  const keys = Object.keys(args);
  const extra = keys.filter((k) => !ALLOWED_ARGUMENTS.has(k));
  if (extra.length > 0) return { ok: false, detail: `unexpected argument(s): ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}` };
  const a = args as Record<string, unknown>;
  const query = a.query;
  if (typeof query !== 'string' || query.trim().length === 0) return { ok: false, detail: 'query must be a non-blank string' };
  if (query.length > maxQueryChars) return { ok: false, detail: `query is longer than ${maxQueryChars} characters` };
  if (LONE_SURROGATE.test(query)) return { ok: false, detail: 'query is not well-formed text' };
  let maxResults = defaultResults;
  if (a.maxResults !== undefined) {
    if (typeof a.maxResults !== 'number' || !Number.isInteger(a.maxResults) || a.maxResults < SEARCH_LIMITS.minResults || a.maxResults > SEARCH_LIMITS.maxResults) {
      return { ok: false, detail: `maxResults must be a whole number from ${SEARCH_LIMITS.minResults} to ${SEARCH_LIMITS.maxResults}` };
    }
    maxResults = a.maxResults;
  }
  if (a.filter !== undefined && (typeof a.filter !== 'object' || a.filter === null || Array.isArray(a.filter))) {
    return { ok: false, detail: 'filter must be an object' };
  }
  return { ok: true, value: { query, maxResults, ...(a.filter !== undefined ? { filter: a.filter } : {}) } };
}

/** A chunk as retrieved, before authorization. */
export interface RetrievedChunk {
  /** Which knowledge base returned it. */
  readonly knowledgeBaseId: string;
  /** Position in that knowledge base's result list. */
  readonly rank: number;
  /** The text, when the content is text. */
  readonly text?: string;
  /** The source, when it is a usable S3 location. */
  readonly source?: S3ObjectLocation;
  readonly score?: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Why the chunk cannot be returned whatever the grants say, if so. */
  readonly unusable?: 'NO_SOURCE' | 'NO_TEXT' | 'SOURCE_MISMATCH';
}

/** The metadata key Bedrock puts the source URI in. */
export const SOURCE_URI_METADATA_KEY = 'x-amz-bedrock-kb-source-uri';

/** Most results accepted from one Retrieve response (the API's maximum). */
export const MAX_RESULTS_PER_RESPONSE = 100;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a Retrieve response. Throws a {@link MalformedResponseError} when the response as a whole cannot be
 * trusted (no `retrievalResults` array, more results than asked for, a result that is not an object, a score or
 * metadata of the wrong type). A single result without usable text or S3 source is kept but marked `unusable`,
 * so it is dropped (and logged) rather than failing the request.
 */
export function parseRetrieveResponse(response: unknown, knowledgeBaseId: string, requested: number): RetrievedChunk[] {
  if (!isObject(response)) throw new MalformedResponseError('Retrieve response is not an object');
  const results = response.retrievalResults;
  if (!Array.isArray(results)) throw new MalformedResponseError('Retrieve response has no retrievalResults array');
  if (results.length > Math.min(requested, MAX_RESULTS_PER_RESPONSE)) throw new MalformedResponseError(`Retrieve returned ${results.length} results for ${requested} requested`);
  return results.map((r: unknown, rank: number): RetrievedChunk => {
    if (!isObject(r)) throw new MalformedResponseError(`retrievalResults[${rank}] is not an object`);
    if (r.score !== undefined && (typeof r.score !== 'number' || !Number.isFinite(r.score))) throw new MalformedResponseError(`retrievalResults[${rank}].score is not a number`);
    if (r.metadata !== undefined && !isObject(r.metadata)) throw new MalformedResponseError(`retrievalResults[${rank}].metadata is not an object`);
    const metadata = (r.metadata ?? {}) as Record<string, unknown>;
    const content = isObject(r.content) ? r.content : undefined;
    const text = content && (content.type === undefined || content.type === 'TEXT') && typeof content.text === 'string' ? content.text : undefined;
    const location = isObject(r.location) ? r.location : undefined;
    const locationUri = location && location.type === 'S3' && isObject(location.s3Location) ? location.s3Location.uri : undefined;
    const source = parseS3Uri(locationUri);
    const base = { knowledgeBaseId, rank, metadata, ...(typeof r.score === 'number' ? { score: r.score } : {}), ...(text !== undefined ? { text } : {}) };
    if (!source) return { ...base, unusable: 'NO_SOURCE' };
    // The location and the metadata must agree on the source when both name it.
    const metadataUri = metadata[SOURCE_URI_METADATA_KEY];
    if (metadataUri !== undefined && metadataUri !== locationUri) return { ...base, unusable: 'SOURCE_MISMATCH' };
    if (text === undefined) return { ...base, source, unusable: 'NO_TEXT' };
    return { ...base, source };
  });
}

/** One chunk of the answer. */
export interface AnswerChunk {
  readonly text: string;
  /** The source URI (the caller is authorized to read it). */
  readonly source: string;
  readonly score?: number;
  /** The chunk's metadata, limited to the metadata contract's keys. */
  readonly metadata: Record<string, string | number | boolean | string[]>;
}

/** The successful answer. `partial` is present (true) only when a fault dropped chunks. */
export interface SearchAnswer {
  readonly ok: true;
  readonly results: AnswerChunk[];
  readonly partial?: true;
}

/** A denial: only a code, safe to show. */
export interface SearchDenial {
  readonly ok: false;
  readonly reasonCode: string;
}

function returnedMetadata(metadata: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) continue;
    const v = metadata[key];
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[key] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = [...(v as string[])];
  }
  return out;
}

/** How each distinct source URI was decided. */
export interface SourceDecisions {
  readonly allowed: ReadonlySet<string>;
  /** URIs whose check faulted (dropped; the answer becomes partial). */
  readonly faulted: ReadonlySet<string>;
}

/** Counts of what was dropped, for the decision log (never for the caller). */
export interface DropCounts {
  readonly unusable: number;
  readonly outsideKnowledgeBase: number;
  readonly unauthorized: number;
  readonly faulted: number;
}

/** The distinct source URIs worth authorizing: usable chunks whose source lies in their knowledge base's scopes. */
export function candidateSources(chunks: readonly RetrievedChunk[], scopesByKnowledgeBase: ReadonlyMap<string, UriAuthorizer>): string[] {
  const out = new Set<string>();
  for (const c of chunks) {
    if (c.unusable || !c.source) continue;
    const inside = scopesByKnowledgeBase.get(c.knowledgeBaseId)?.admits(c.source) ?? false;
    if (inside) out.add(formatS3Uri(c.source));
  }
  return [...out];
}

/**
 * The answer: authorized chunks only (sorted by score, highest first, ties by knowledge base order then rank),
 * at most `maxResults`, each with text, source, score and contract metadata. Dropped chunks leave no trace in it.
 */
export function assembleAnswer(
  chunks: readonly RetrievedChunk[],
  scopesByKnowledgeBase: ReadonlyMap<string, UriAuthorizer>,
  decisions: SourceDecisions,
  returnedMetadataKeys: readonly string[],
  maxResults: number,
): { answer: SearchAnswer; dropped: DropCounts } {
  let unusable = 0;
  let outside = 0;
  let unauthorized = 0;
  let faulted = 0;
  const kept: Array<{ chunk: RetrievedChunk; uri: string; order: number }> = [];
  chunks.forEach((chunk, order) => {
    if (chunk.unusable || !chunk.source || chunk.text === undefined) return void unusable++;
    if (!(scopesByKnowledgeBase.get(chunk.knowledgeBaseId)?.admits(chunk.source) ?? false)) return void outside++;
    const uri = formatS3Uri(chunk.source);
    if (decisions.faulted.has(uri)) return void faulted++;
    if (!decisions.allowed.has(uri)) return void unauthorized++;
    kept.push({ chunk, uri, order });
  });
  kept.sort((a, b) => (b.chunk.score ?? -Infinity) - (a.chunk.score ?? -Infinity) || a.order - b.order);
  const results = kept.slice(0, maxResults).map(({ chunk, uri }) => ({
    text: chunk.text as string,
    source: uri,
    ...(chunk.score !== undefined ? { score: chunk.score } : {}),
    metadata: returnedMetadata(chunk.metadata, returnedMetadataKeys),
  }));
  const answer: SearchAnswer = faulted > 0 ? { ok: true, results, partial: true } : { ok: true, results };
  return { answer, dropped: { unusable, outsideKnowledgeBase: outside, unauthorized, faulted } };
}
