/**
 * Pure decision logic of the guardrail enforcer: no SDK, no environment, no clock.
 *
 * - request parsing (standalone and AgentCore Gateway RESPONSE interceptor events) and protected settings;
 * - smuggling characters (deny or strip);
 * - the screening plan: a non-overlapping partition of every text (its outputs give the masked text) plus seam
 *   windows across every boundary (detection only), so that nothing hides across a boundary;
 * - reading one ApplyGuardrail response: shape, coverage proof, per-filter findings, block versus mask;
 * - combining the responses of a plan into one result, and the interceptor's output.
 *
 * Findings name the policy, the filter type and the action, never the matched text.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { MalformedResponseError } from '../shared/errors';
import { GuardrailLogAction } from '../shared/log-contract';
import { ReasonCode } from '../shared/reason-codes';
import { hasSmuggling, stripSmuggling } from '../shared/text-safety';
import { GuardrailSourceName, SmugglingMode, SourceMode } from './config';

// ---------------------------------------------------------------------------------------------------------------
// Results and findings
// ---------------------------------------------------------------------------------------------------------------

/** What the enforcer did with the text. */
export const EnforcerAction = {
  /** Screened, nothing to enforce: the (screened) text passes. */
  ALLOWED: 'ALLOWED',
  /** Screened, sensitive parts masked: the masked text passes. */
  MASKED: 'MASKED',
  /** Blocked by the guardrail or by a fault: no text passes. */
  BLOCKED: 'BLOCKED',
} as const;
export type EnforcerAction = (typeof EnforcerAction)[keyof typeof EnforcerAction];

/** The guardrail policy a finding comes from. */
export const FindingPolicy = {
  TOPIC: 'TOPIC',
  CONTENT: 'CONTENT',
  WORD: 'WORD',
  SENSITIVE_INFORMATION: 'SENSITIVE_INFORMATION',
  CONTEXTUAL_GROUNDING: 'CONTEXTUAL_GROUNDING',
  AUTOMATED_REASONING: 'AUTOMATED_REASONING',
} as const;
export type FindingPolicy = (typeof FindingPolicy)[keyof typeof FindingPolicy];

/** What a filter did: the guardrail's own action names. */
export type FindingAction = 'BLOCKED' | 'ANONYMIZED' | 'NONE';

/**
 * One filter that fired. `type` is the filter's type (content category, PII entity type, `REGEX:<name>`, topic
 * name, `CUSTOM_WORD`, `PROFANITY`, grounding type, Automated Reasoning finding kind): configuration names, never
 * the matched text.
 */
export interface Finding {
  readonly policy: FindingPolicy;
  readonly type: string;
  readonly action: FindingAction;
  /** Content filters: NONE, LOW, MEDIUM or HIGH. */
  readonly confidence?: string;
  /** Contextual grounding: the score; Automated Reasoning: the translation confidence. */
  readonly score?: number;
  /** Contextual grounding: the configured threshold. */
  readonly threshold?: number;
  readonly source: GuardrailSourceName;
}

/** The result of a standalone screening request. */
export interface EnforcerResult {
  readonly action: EnforcerAction;
  readonly reasonCode: ReasonCode;
  /** The screened text when ALLOWED, the masked text when MASKED, absent when BLOCKED. */
  readonly text?: string;
  readonly findings: Finding[];
}

/** The screened texts of a request (one per segment), or a block. Internal to the handler. */
export interface ScreenOutcome {
  readonly action: EnforcerAction;
  readonly reasonCode: ReasonCode;
  /** One text per input segment when not BLOCKED: original (screened) or masked. */
  readonly texts?: string[];
  readonly findings: Finding[];
  /** Smuggling characters were removed from at least one segment. */
  readonly stripped?: boolean;
}

/** The decision-log value of `guardrailAction` for an action. */
export function guardrailLogAction(action: EnforcerAction): GuardrailLogAction {
  if (action === EnforcerAction.BLOCKED) return GuardrailLogAction.BLOCKED;
  if (action === EnforcerAction.MASKED) return GuardrailLogAction.MASKED;
  return GuardrailLogAction.NONE;
}

/** A blocked outcome with no text. */
export function blockedOutcome(reasonCode: ReasonCode, findings: Finding[] = []): ScreenOutcome {
  return { action: EnforcerAction.BLOCKED, reasonCode, findings };
}

/** The standalone result for an outcome of a single-text request. */
export function toEnforcerResult(outcome: ScreenOutcome): EnforcerResult {
  if (outcome.action === EnforcerAction.BLOCKED || !outcome.texts || outcome.texts.length !== 1) {
    return { action: EnforcerAction.BLOCKED, reasonCode: outcome.action === EnforcerAction.BLOCKED ? outcome.reasonCode : 'INTERNAL_ERROR', findings: outcome.findings };
  }
  return { action: outcome.action, reasonCode: outcome.reasonCode, text: outcome.texts[0], findings: outcome.findings };
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and protected settings
// ---------------------------------------------------------------------------------------------------------------

/** Top-level keys a request may not carry: the guardrail and how it answers come only from configuration. */
const PROTECTED_KEY = /^(guardrail|outputscope$)/i;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first top-level key of a request that tries to choose a protected setting (guardrail id, version, ARN…). */
export function protectedSettingKey(event: unknown): string | undefined {
  if (!isPlainObject(event)) return undefined;
  return Object.keys(event).find((k) => PROTECTED_KEY.test(k));
}

/** True when an event has the shape of an AgentCore Gateway interceptor invocation. */
export function isGatewayEvent(event: unknown): boolean {
  return isPlainObject(event) && ('interceptorInputVersion' in event || 'mcp' in event);
}

/** A parsed standalone request. */
export interface StandaloneRequest {
  readonly text: string;
  readonly source: GuardrailSourceName;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reasonCode: ReasonCode; readonly detail: string };

const fail = (reasonCode: ReasonCode, detail: string): { ok: false; reasonCode: ReasonCode; detail: string } => ({ ok: false, reasonCode, detail });

/** Parses `{ "source": "INPUT"|"OUTPUT", "text": "…" }` under the configured source mode. */
export function parseStandaloneRequest(event: unknown, sourceMode: SourceMode): Parsed<StandaloneRequest> {
  if (!isPlainObject(event)) return fail('MALFORMED_REQUEST', 'event is not an object');
  const key = protectedSettingKey(event);
  if (key !== undefined) return fail('CALLER_CHOSE_PROTECTED_SETTING', `request sets "${key.slice(0, 40)}"`);
  const { text, source } = event;
  if (typeof text !== 'string') return fail('MALFORMED_REQUEST', 'text is not a string');
  if (source !== undefined && source !== 'INPUT' && source !== 'OUTPUT') return fail('MALFORMED_REQUEST', 'source is neither INPUT nor OUTPUT');
  if (sourceMode === SourceMode.REQUEST) {
    if (source === undefined) return fail('MALFORMED_REQUEST', 'source is missing');
    return { ok: true, value: { text, source } };
  }
  if (source !== undefined && source !== sourceMode) {
    return fail('CALLER_CHOSE_PROTECTED_SETTING', `request asks for source ${source}; configuration fixes ${sourceMode}`);
  }
  return { ok: true, value: { text, source: sourceMode } };
}

// ---------------------------------------------------------------------------------------------------------------
// Smuggling characters
// ---------------------------------------------------------------------------------------------------------------

/** Applies the smuggling mode to every segment: a block (DENY), or the cleaned segments (STRIP). */
export function handleSmuggling(segments: readonly string[], mode: SmugglingMode): Parsed<{ segments: string[]; stripped: boolean }> {
  if (mode === 'DENY') {
    return segments.some((s) => hasSmuggling(s)) ? fail('SMUGGLED_CHARACTERS', 'text carries invisible characters') : { ok: true, value: { segments: [...segments], stripped: false } };
  }
  const cleaned = segments.map((s) => stripSmuggling(s));
  return { ok: true, value: { segments: cleaned, stripped: cleaned.some((c, i) => c !== segments[i]) } };
}

// ---------------------------------------------------------------------------------------------------------------
// Screening plan: partition + seams
// ---------------------------------------------------------------------------------------------------------------

/** One non-overlapping part of a segment, screened for detection and masking. */
export interface PlanPart {
  readonly segment: number;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A window across one or more boundaries of the joined text, screened for detection only. */
export interface PlanSeam {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The ApplyGuardrail calls that screen a request. */
export interface ScreeningPlan {
  readonly segments: readonly string[];
  /** The non-empty parts, in order. */
  readonly parts: readonly PlanPart[];
  readonly seams: readonly PlanSeam[];
  /** parts + seams. */
  readonly calls: number;
}

/** Limits of a plan. */
export interface PlanLimits {
  readonly maxCharsPerCall: number;
  readonly seamChars: number;
}

/** How segments are joined for seams (and, as the model sees consecutive tool contents, for the leak check). */
export const SEGMENT_SEPARATOR = '\n';

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Moves a cut left so that it never separates the two halves of a surrogate pair. */
function safeCut(text: string, cut: number): number {
  return cut > 0 && cut < text.length && isHigh(text.charCodeAt(cut - 1)) && isLow(text.charCodeAt(cut)) ? cut - 1 : cut;
}

const WHITESPACE = /\s/;

/** Cut points of a text into parts of at most `max` UTF-16 units, preferring a cut after whitespace near the end. */
export function partitionCuts(text: string, max: number): number[] {
  const cuts: number[] = [];
  let pos = 0;
  while (text.length - pos > max) {
    let cut = pos + max;
    const floor = pos + Math.floor(max * 0.9);
    for (let i = cut; i > floor; i--) {
      if (WHITESPACE.test(text[i - 1])) {
        cut = i;
        break;
      }
    }
    cut = safeCut(text, cut);
    if (cut <= pos) cut = pos + max; // unreachable for max >= 2; never loop forever
    cuts.push(cut);
    pos = cut;
  }
  return cuts;
}

/**
 * Plans the screening of segments (one text, or the texts of a tool result): every segment is partitioned into
 * parts of at most `maxCharsPerCall`; every boundary (a cut inside a segment, or the separator between two segments)
 * gets a seam window of `seamChars` on each side, over the segments joined with {@link SEGMENT_SEPARATOR}.
 * Windows are merged while the merged window fits one call.
 */
export function planScreening(segments: readonly string[], limits: PlanLimits): ScreeningPlan {
  const parts: PlanPart[] = [];
  const boundaries: number[] = [];
  let offset = 0;
  segments.forEach((seg, index) => {
    const cuts = partitionCuts(seg, limits.maxCharsPerCall);
    let start = 0;
    for (const end of [...cuts, seg.length]) {
      if (end > start) parts.push({ segment: index, start, end, text: seg.slice(start, end) });
      start = end;
    }
    for (const cut of cuts) boundaries.push(offset + cut);
    offset += seg.length;
    if (index < segments.length - 1) {
      boundaries.push(offset); // the separator's index in the joined text
      offset += SEGMENT_SEPARATOR.length;
    }
  });

  const seams: PlanSeam[] = [];
  if (boundaries.length > 0) {
    const joined = segments.join(SEGMENT_SEPARATOR);
    const windows = boundaries
      .sort((a, b) => a - b)
      .map((b) => {
        let start = Math.max(0, b - limits.seamChars);
        let end = Math.min(joined.length, b + limits.seamChars);
        // Never split a surrogate pair at a window's edge: shrink by one (the window stays within one call).
        if (start > 0 && isLow(joined.charCodeAt(start)) && isHigh(joined.charCodeAt(start - 1))) start += 1;
        if (end < joined.length && isLow(joined.charCodeAt(end)) && isHigh(joined.charCodeAt(end - 1))) end -= 1;
        return { start, end };
      });
    let current = windows[0];
    for (const w of windows.slice(1)) {
      if (Math.max(current.end, w.end) - current.start <= limits.maxCharsPerCall) current = { start: current.start, end: Math.max(current.end, w.end) };
      else {
        seams.push({ ...current, text: joined.slice(current.start, current.end) });
        current = w;
      }
    }
    seams.push({ ...current, text: joined.slice(current.start, current.end) });
  }
  const nonEmpty = seams.filter((s) => s.text.length > 0);
  return { segments, parts, seams: nonEmpty, calls: parts.length + nonEmpty.length };
}

// ---------------------------------------------------------------------------------------------------------------
// One ApplyGuardrail response
// ---------------------------------------------------------------------------------------------------------------

/** What one ApplyGuardrail response says about the text sent. */
export interface CallAssessment {
  /** BLOCKED beats PARTIAL_COVERAGE beats MASKED beats NONE. */
  readonly verdict: 'NONE' | 'MASKED' | 'BLOCKED' | 'PARTIAL_COVERAGE';
  /** The masked text (`outputs[0].text`) when MASKED. */
  readonly maskedText?: string;
  readonly findings: Finding[];
  /**
   * Matched values of ANONYMIZED entities, used only to check that seams leaked nothing; never returned or logged.
   * `undefined` entries are anonymizations whose match the response did not give.
   */
  readonly anonymizedMatches: Array<string | undefined>;
  /** The top-level action was GUARDRAIL_INTERVENED but no filter said BLOCKED or ANONYMIZED. */
  readonly intervenedWithoutFilter: boolean;
}

/** Number of Unicode code points (a lone surrogate counts as one). */
export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) {
      n -= 1;
      i += 1;
    }
  }
  return n;
}

function malformed(message: string): never {
  throw new MalformedResponseError(`ApplyGuardrail response: ${message}`);
}

function arrayField(obj: Record<string, unknown>, key: string, where: string, required = false): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) malformed(`${where}.${key} is missing`);
    return [];
  }
  if (!Array.isArray(v)) malformed(`${where}.${key} is not an array`);
  return v;
}

function objectAt(v: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(v)) malformed(`${where} is not an object`);
  return v;
}

function actionOf(entry: Record<string, unknown>, where: string): FindingAction {
  const a = entry.action;
  if (typeof a !== 'string') malformed(`${where}.action is missing`);
  // An action this code does not know cannot be trusted to be harmless: treat it as a block.
  return a === 'NONE' || a === 'ANONYMIZED' || a === 'BLOCKED' ? a : 'BLOCKED';
}

const str = (v: unknown, fallback: string): string => (typeof v === 'string' && v.length > 0 ? v.slice(0, 100) : fallback);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Automated Reasoning finding kinds that mean the text contradicts the policy. */
const AR_BLOCKING = new Set(['invalid', 'impossible']);
const AR_KINDS = ['valid', 'invalid', 'satisfiable', 'impossible', 'translationAmbiguous', 'tooComplex', 'noTranslations'];

function arFinding(entry: Record<string, unknown>, source: GuardrailSourceName): Finding {
  const kind = AR_KINDS.find((k) => entry[k] !== undefined);
  // An unknown kind cannot be trusted to be harmless: block.
  const type = kind ? kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase() : 'UNKNOWN';
  const detail = kind && isPlainObject(entry[kind]) ? (entry[kind] as Record<string, unknown>) : {};
  const translation = isPlainObject(detail.translation) ? detail.translation : {};
  const score = num(translation.confidence);
  return {
    policy: FindingPolicy.AUTOMATED_REASONING,
    type,
    action: !kind || AR_BLOCKING.has(kind) ? 'BLOCKED' : 'NONE',
    ...(score !== undefined ? { score } : {}),
    source,
  };
}

/** Reads the findings of one assessment; collects the matches of anonymized entities separately. */
export function extractFindings(assessment: Record<string, unknown>, source: GuardrailSourceName, anonymizedMatches: Array<string | undefined> = []): Finding[] {
  const findings: Finding[] = [];
  const add = (entry: Record<string, unknown>, where: string, make: (action: FindingAction) => Omit<Finding, 'action' | 'source'>): void => {
    const action = actionOf(entry, where);
    // With outputScope FULL the service also lists filters that did not fire; they are not findings.
    if (action === 'NONE' && entry.detected === false) return;
    findings.push({ ...make(action), action, source });
  };

  if (assessment.topicPolicy !== undefined) {
    const p = objectAt(assessment.topicPolicy, 'topicPolicy');
    arrayField(p, 'topics', 'topicPolicy').forEach((t, i) => {
      const e = objectAt(t, `topicPolicy.topics[${i}]`);
      add(e, `topicPolicy.topics[${i}]`, () => ({ policy: FindingPolicy.TOPIC, type: str(e.name, 'UNKNOWN_TOPIC') }));
    });
  }
  if (assessment.contentPolicy !== undefined) {
    const p = objectAt(assessment.contentPolicy, 'contentPolicy');
    arrayField(p, 'filters', 'contentPolicy').forEach((f, i) => {
      const e = objectAt(f, `contentPolicy.filters[${i}]`);
      add(e, `contentPolicy.filters[${i}]`, () => ({
        policy: FindingPolicy.CONTENT,
        type: str(e.type, 'UNKNOWN'),
        ...(typeof e.confidence === 'string' ? { confidence: str(e.confidence, 'UNKNOWN') } : {}),
      }));
    });
  }
  if (assessment.wordPolicy !== undefined) {
    const p = objectAt(assessment.wordPolicy, 'wordPolicy');
    arrayField(p, 'customWords', 'wordPolicy').forEach((w, i) => {
      const e = objectAt(w, `wordPolicy.customWords[${i}]`);
      add(e, `wordPolicy.customWords[${i}]`, () => ({ policy: FindingPolicy.WORD, type: 'CUSTOM_WORD' }));
    });
    arrayField(p, 'managedWordLists', 'wordPolicy').forEach((w, i) => {
      const e = objectAt(w, `wordPolicy.managedWordLists[${i}]`);
      add(e, `wordPolicy.managedWordLists[${i}]`, () => ({ policy: FindingPolicy.WORD, type: str(e.type, 'MANAGED_WORD') }));
    });
  }
  if (assessment.sensitiveInformationPolicy !== undefined) {
    const p = objectAt(assessment.sensitiveInformationPolicy, 'sensitiveInformationPolicy');
    const sensitive = (e: Record<string, unknown>, where: string, type: string): void => {
      add(e, where, (action) => {
        if (action === 'ANONYMIZED') anonymizedMatches.push(typeof e.match === 'string' && e.match.length > 0 ? e.match : undefined);
        return { policy: FindingPolicy.SENSITIVE_INFORMATION, type };
      });
    };
    arrayField(p, 'piiEntities', 'sensitiveInformationPolicy').forEach((x, i) => {
      const e = objectAt(x, `sensitiveInformationPolicy.piiEntities[${i}]`);
      sensitive(e, `sensitiveInformationPolicy.piiEntities[${i}]`, str(e.type, 'UNKNOWN'));
    });
    arrayField(p, 'regexes', 'sensitiveInformationPolicy').forEach((x, i) => {
      const e = objectAt(x, `sensitiveInformationPolicy.regexes[${i}]`);
      sensitive(e, `sensitiveInformationPolicy.regexes[${i}]`, `REGEX:${str(e.name, 'UNNAMED')}`);
    });
  }
  if (assessment.contextualGroundingPolicy !== undefined) {
    const p = objectAt(assessment.contextualGroundingPolicy, 'contextualGroundingPolicy');
    arrayField(p, 'filters', 'contextualGroundingPolicy').forEach((f, i) => {
      const e = objectAt(f, `contextualGroundingPolicy.filters[${i}]`);
      const score = num(e.score);
      const threshold = num(e.threshold);
      add(e, `contextualGroundingPolicy.filters[${i}]`, () => ({
        policy: FindingPolicy.CONTEXTUAL_GROUNDING,
        type: str(e.type, 'UNKNOWN'),
        ...(score !== undefined ? { score } : {}),
        ...(threshold !== undefined ? { threshold } : {}),
      }));
    });
  }
  if (assessment.automatedReasoningPolicy !== undefined) {
    const p = objectAt(assessment.automatedReasoningPolicy, 'automatedReasoningPolicy');
    arrayField(p, 'findings', 'automatedReasoningPolicy').forEach((f, i) => {
      findings.push(arFinding(objectAt(f, `automatedReasoningPolicy.findings[${i}]`), source));
    });
  }
  return findings;
}

function coverageOf(response: Record<string, unknown>, assessments: unknown[]): { guarded?: number; total?: number } | undefined {
  const read = (c: unknown): { guarded?: number; total?: number } | undefined => {
    if (!isPlainObject(c) || !isPlainObject(c.textCharacters)) return undefined;
    return { guarded: num(c.textCharacters.guarded), total: num(c.textCharacters.total) };
  };
  const top = read(response.guardrailCoverage);
  if (top) return top;
  for (const a of assessments) {
    if (isPlainObject(a) && isPlainObject(a.invocationMetrics)) {
      const c = read(a.invocationMetrics.guardrailCoverage);
      if (c) return c;
    }
  }
  return undefined;
}

/**
 * True when the coverage proves that every character sent was screened: `guarded === total`, and `total` equals
 * the length of the text sent (counted in UTF-16 units or in code points: the API does not say which).
 */
export function provesFullCoverage(coverage: { guarded?: number; total?: number } | undefined, sent: string): boolean {
  if (!coverage || coverage.guarded === undefined || coverage.total === undefined) return false;
  return coverage.guarded === coverage.total && (coverage.total === sent.length || coverage.total === codePointLength(sent));
}

/**
 * Reads one ApplyGuardrail response for the text sent. Throws a `MalformedResponseError` when a required field is
 * missing or has the wrong type. Block versus mask comes from the per-filter actions, never from the top-level
 * `action` (which says GUARDRAIL_INTERVENED when only ANONYMIZED fired); an intervention with no recognisable
 * filter blocks.
 */
export function assessResponse(raw: unknown, sent: string, source: GuardrailSourceName): CallAssessment {
  const response = objectAt(raw, 'response');
  const action = response.action;
  if (action !== 'NONE' && action !== 'GUARDRAIL_INTERVENED') malformed('action is neither NONE nor GUARDRAIL_INTERVENED');
  const outputs = arrayField(response, 'outputs', 'response', true);
  const assessments = arrayField(response, 'assessments', 'response', true);

  const anonymizedMatches: Array<string | undefined> = [];
  const findings = assessments.flatMap((a, i) => extractFindings(objectAt(a, `assessments[${i}]`), source, anonymizedMatches));
  const blocked = findings.some((f) => f.action === 'BLOCKED');
  const anonymized = findings.some((f) => f.action === 'ANONYMIZED');
  const covered = provesFullCoverage(coverageOf(response, assessments), sent);

  if (blocked) return { verdict: 'BLOCKED', findings, anonymizedMatches, intervenedWithoutFilter: false };
  if (!covered) return { verdict: 'PARTIAL_COVERAGE', findings, anonymizedMatches, intervenedWithoutFilter: false };
  if (anonymized) {
    const first = outputs.length > 0 ? objectAt(outputs[0], 'outputs[0]') : malformed('outputs is empty although an entity was anonymized');
    if (typeof first.text !== 'string') malformed('outputs[0].text is not a string');
    return { verdict: 'MASKED', maskedText: first.text, findings, anonymizedMatches, intervenedWithoutFilter: false };
  }
  if (action === 'GUARDRAIL_INTERVENED') return { verdict: 'BLOCKED', findings, anonymizedMatches, intervenedWithoutFilter: true };
  return { verdict: 'NONE', findings, anonymizedMatches, intervenedWithoutFilter: false };
}

// ---------------------------------------------------------------------------------------------------------------
// Combining a plan's responses
// ---------------------------------------------------------------------------------------------------------------

/** Findings without duplicates (the same filter firing in a part and in a seam is one finding). */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = [f.policy, f.type, f.action, f.confidence ?? '', f.score ?? '', f.threshold ?? '', f.source].join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

/**
 * Combines the assessments of a plan's parts and seams (in plan order) into one outcome:
 * any block (part or seam) blocks; any part without proven coverage denies (GUARDRAIL_PARTIAL_COVERAGE);
 * a seam that anonymized an entity still present in the masked text (an entity split by a boundary, which no part
 * could mask) denies (GUARDRAIL_PARTIAL_COVERAGE); otherwise masked parts give the masked texts.
 */
export function combineAssessments(plan: ScreeningPlan, parts: readonly CallAssessment[], seams: readonly CallAssessment[], stripped = false): ScreenOutcome {
  if (parts.length !== plan.parts.length || seams.length !== plan.seams.length) {
    return blockedOutcome('INTERNAL_ERROR');
  }
  const all = [...parts, ...seams];
  const findings = dedupeFindings(all.flatMap((a) => a.findings));
  if (all.some((a) => a.verdict === 'BLOCKED')) return blockedOutcome('GUARDRAIL_BLOCKED', findings);
  if (all.some((a) => a.verdict === 'PARTIAL_COVERAGE')) return blockedOutcome('GUARDRAIL_PARTIAL_COVERAGE', findings);

  const texts = plan.segments.map(() => '');
  plan.parts.forEach((part, i) => {
    texts[part.segment] += parts[i].verdict === 'MASKED' ? parts[i].maskedText! : part.text;
  });
  const seamMatches = seams.flatMap((s) => s.anonymizedMatches);
  if (seamMatches.length > 0) {
    const joined = texts.join(SEGMENT_SEPARATOR);
    if (seamMatches.some((m) => m === undefined || joined.includes(m))) return blockedOutcome('GUARDRAIL_PARTIAL_COVERAGE', findings);
  }
  if (parts.some((a) => a.verdict === 'MASKED')) return { action: EnforcerAction.MASKED, reasonCode: 'GUARDRAIL_MASKED', texts, findings, stripped };
  return { action: EnforcerAction.ALLOWED, reasonCode: 'ALLOWED', texts, findings, stripped };
}

// ---------------------------------------------------------------------------------------------------------------
// AgentCore Gateway RESPONSE interceptor (interceptor format 1.0)
// ---------------------------------------------------------------------------------------------------------------

/** The interceptor output: the gateway returns `transformedGatewayResponse` to the caller. */
export interface GatewayInterceptorOutput {
  readonly interceptorOutputVersion: '1.0';
  readonly mcp: {
    readonly transformedGatewayResponse: {
      readonly statusCode: number;
      readonly body: unknown;
    };
  };
}

/** A parsed RESPONSE interceptor event. */
export interface GatewayResponseEvent {
  /** The JSON-RPC method of the request (`tools/call`, `tools/list`, …), if the event carries the request. */
  readonly method?: string;
  readonly statusCode: number;
  /** The JSON-RPC response body (parsed if it came as a string). */
  readonly body: Record<string, unknown>;
  /** The JSON-RPC id to answer with. */
  readonly id: unknown;
}

/** Parses a RESPONSE interceptor event (version 1.0). */
export function parseGatewayResponseEvent(event: unknown): Parsed<GatewayResponseEvent> {
  if (!isPlainObject(event)) return fail('MALFORMED_REQUEST', 'event is not an object');
  const key = protectedSettingKey(event);
  if (key !== undefined) return fail('CALLER_CHOSE_PROTECTED_SETTING', `event sets "${key.slice(0, 40)}"`);
  if (event.interceptorInputVersion !== '1.0') return fail('MALFORMED_REQUEST', 'interceptorInputVersion is not 1.0');
  if (!isPlainObject(event.mcp)) return fail('MALFORMED_REQUEST', 'mcp is missing');
  const response = event.mcp.gatewayResponse;
  if (!isPlainObject(response)) return fail('MALFORMED_REQUEST', 'mcp.gatewayResponse is missing');
  let body: unknown = response.body;
  if (typeof body === 'string') {
    try {
      body = parseStrictJson(body);
    } catch {
      return fail('MALFORMED_REQUEST', 'mcp.gatewayResponse.body is not JSON');
    }
  }
  if (!isPlainObject(body)) return fail('MALFORMED_REQUEST', 'mcp.gatewayResponse.body is not an object');
  const statusCode = typeof response.statusCode === 'number' && Number.isInteger(response.statusCode) ? response.statusCode : 200;
  const request = isPlainObject(event.mcp.gatewayRequest) ? event.mcp.gatewayRequest : undefined;
  let requestBody: unknown = request?.body;
  if (typeof requestBody === 'string') {
    try {
      requestBody = parseStrictJson(requestBody);
    } catch {
      requestBody = undefined;
    }
  }
  const method = isPlainObject(requestBody) && typeof requestBody.method === 'string' ? requestBody.method : undefined;
  const id = body.id !== undefined ? body.id : isPlainObject(requestBody) ? requestBody.id : undefined;
  return { ok: true, value: { method, statusCode, body, id: id ?? null } };
}

/**
 * Whether a JSON-RPC response body has both `error` and `result` (even `null`): malformed, since a reader may take
 * either one, and screening one would pass the other unscreened.
 */
export function hasErrorAndResult(body: Readonly<Record<string, unknown>>): boolean {
  return Object.prototype.hasOwnProperty.call(body, 'error') && Object.prototype.hasOwnProperty.call(body, 'result');
}

/** Where a screened text of a tool result goes back. */
export type ToolTextSlot =
  | { readonly kind: 'content-text'; readonly index: number }
  | { readonly kind: 'content-json'; readonly index: number }
  | { readonly kind: 'result-json' }
  | { readonly kind: 'error-json' };

/** The texts of a tool result the model would see, with where each goes back. */
export interface ToolTexts {
  readonly slots: ToolTextSlot[];
  readonly texts: string[];
}

const BINARY_CONTENT = new Set(['image', 'audio']);

/**
 * The texts to screen in a `tools/call` response: the text of every text content item that has only `type` and
 * `text`, every other non-binary content item (a text item with any other member, such as `annotations` or `_meta`,
 * included) and the rest of the result (`structuredContent`, `_meta`, …) serialized as JSON, or the whole JSON-RPC
 * error serialized as JSON. A body with both `error` and `result` is malformed (MALFORMED_REQUEST): screening one
 * would pass the other unscreened. Binary content (image, audio, blob resources) cannot be screened as text:
 * GUARDRAIL_PARTIAL_COVERAGE.
 */
export function extractToolTexts(body: Record<string, unknown>): Parsed<ToolTexts> {
  const slots: ToolTextSlot[] = [];
  const texts: string[] = [];
  if (hasErrorAndResult(body)) return fail('MALFORMED_REQUEST', 'response has both error and result');
  if (isPlainObject(body.error)) {
    slots.push({ kind: 'error-json' });
    texts.push(JSON.stringify(body.error));
    return { ok: true, value: { slots, texts } };
  }
  if (!isPlainObject(body.result)) return fail('MALFORMED_REQUEST', 'tools/call response has neither result nor error');
  // isError is the tool's own flag, not text the model reads as content: it is kept as is.
  const { content, isError: _isError, ...rest } = body.result;
  if (content !== undefined && !Array.isArray(content)) return fail('MALFORMED_REQUEST', 'result.content is not an array');
  for (const [index, item] of (content ?? []).entries()) {
    if (!isPlainObject(item)) return fail('MALFORMED_REQUEST', `result.content[${index}] is not an object`);
    if (item.type === 'text') {
      if (typeof item.text !== 'string') return fail('MALFORMED_REQUEST', `result.content[${index}].text is not a string`);
      if (Object.keys(item).some((k) => k !== 'type' && k !== 'text')) {
        // Other members (annotations, _meta, …) reach the model too: the whole item is screened.
        slots.push({ kind: 'content-json', index });
        texts.push(JSON.stringify(item));
        continue;
      }
      slots.push({ kind: 'content-text', index });
      texts.push(item.text);
    } else if (BINARY_CONTENT.has(String(item.type)) || (isPlainObject(item.resource) && item.resource.blob !== undefined)) {
      return fail('GUARDRAIL_PARTIAL_COVERAGE', `result.content[${index}] is binary (${String(item.type).slice(0, 20)}) and cannot be screened`);
    } else {
      slots.push({ kind: 'content-json', index });
      texts.push(JSON.stringify(item));
    }
  }
  if (Object.keys(rest).length > 0) {
    slots.push({ kind: 'result-json' });
    texts.push(JSON.stringify(rest));
  }
  return { ok: true, value: { slots, texts } };
}

/**
 * The response body with the screened texts put back, or `undefined` when a masked JSON text no longer parses
 * (the caller then withholds the result: masking must never produce something half-trusted).
 */
export function applyToolTexts(body: Record<string, unknown>, tool: ToolTexts, screened: readonly string[]): Record<string, unknown> | undefined {
  try {
    if (screened.length !== tool.texts.length) return undefined;
    if (hasErrorAndResult(body)) return undefined;
    if (isPlainObject(body.error)) {
      let error: Record<string, unknown> = body.error;
      tool.slots.forEach((slot, i) => {
        if (slot.kind !== 'error-json') throw new SyntaxError('slot does not fit an error');
        const masked = parseStrictJson(screened[i]);
        if (!isPlainObject(masked)) throw new SyntaxError('masked error is not an object');
        error = masked;
      });
      return { ...body, error };
    }
    const result = body.result as Record<string, unknown>;
    const content = Array.isArray(result.content) ? [...result.content] : undefined;
    let rebuilt: Record<string, unknown> = { ...result };
    tool.slots.forEach((slot, i) => {
      if (slot.kind === 'content-text') content![slot.index] = { ...(content![slot.index] as object), text: screened[i] };
      if (slot.kind === 'content-json') content![slot.index] = parseStrictJson(screened[i]);
      if (slot.kind === 'result-json') {
        const rest = parseStrictJson(screened[i]);
        if (!isPlainObject(rest)) throw new SyntaxError('masked result is not an object');
        rebuilt = { ...rest, ...(result.isError !== undefined ? { isError: result.isError } : {}) };
      }
    });
    if (content) rebuilt.content = content;
    return { ...body, result: rebuilt };
  } catch {
    return undefined;
  }
}

/** The text that replaces a withheld tool result. */
export function withheldMessage(reasonCode: ReasonCode): string {
  return `Tool result withheld by guardrail (${reasonCode})`;
}

/**
 * A JSON-RPC response that replaces a withheld tool result: an MCP tool error (`isError: true`) rather than a
 * JSON-RPC protocol error, so the agent sees why the tool gave nothing and can carry on.
 */
export function withheldBody(id: unknown, reasonCode: ReasonCode): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, result: { content: [{ type: 'text', text: withheldMessage(reasonCode) }], isError: true } };
}

/** The interceptor output for a body. */
export function gatewayOutput(statusCode: number, body: unknown): GatewayInterceptorOutput {
  return { interceptorOutputVersion: '1.0', mcp: { transformedGatewayResponse: { statusCode, body } } };
}
