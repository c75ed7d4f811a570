/**
 * The tool-definition scanner: deterministic rules over a whole MCP tool definition (name, title, description,
 * every input and output schema field recursively, property names, enums, defaults, examples, annotations, `_meta`),
 * run by the gateway RESPONSE interceptor on `tools/list` and by the `scan-tools` CLI in CI. Pure: no SDK, no
 * environment, no clock; the same definition always gives the same findings.
 *
 * A finding names a rule, a severity, a JSON pointer into the definition and a fixed message with the label of the
 * pattern that matched. It never echoes the definition's text, which is attacker-controlled.
 *
 * Rules: hidden instructions, references to other tools or servers, sensitive paths, secrets, metadata endpoints,
 * invisible characters (tags, variation selectors, zero-width, bidi), control characters, look-alike names,
 * mixed-script words, encoded blobs, size caps, malformed definitions, and (warning only) annotations that
 * contradict the tool's name. Annotations are never trusted to lower risk: see `effectiveRisk` in registry.ts.
 */
import { canonicalize } from '../shared/canonical-json';
import { SmugglingKind, findSmuggling } from '../shared/text-safety';
import { countMixedScriptWords, foldConfusables, skeleton } from './confusables';
import { TOOL_NAME_PATTERN } from './registry';
import { escapePointer } from './schema-validate';

/** Rule ids (stable: logs, metrics and suppressions refer to them). */
export const ScanRule = {
  MALFORMED_DEFINITION: 'MALFORMED_DEFINITION',
  HIDDEN_INSTRUCTIONS: 'HIDDEN_INSTRUCTIONS',
  CROSS_TOOL_REFERENCE: 'CROSS_TOOL_REFERENCE',
  SENSITIVE_PATH: 'SENSITIVE_PATH',
  SECRETS: 'SECRETS',
  METADATA_ENDPOINT: 'METADATA_ENDPOINT',
  INVISIBLE_CHARACTERS: 'INVISIBLE_CHARACTERS',
  CONTROL_CHARACTERS: 'CONTROL_CHARACTERS',
  LOOKALIKE_NAME: 'LOOKALIKE_NAME',
  MIXED_SCRIPT: 'MIXED_SCRIPT',
  ENCODED_BLOB: 'ENCODED_BLOB',
  SIZE_CAP: 'SIZE_CAP',
  ANNOTATION_MISMATCH: 'ANNOTATION_MISMATCH',
} as const;
export type ScanRule = (typeof ScanRule)[keyof typeof ScanRule];

/** `error` removes the tool (and fails the CLI); `warning` is logged and reported only. */
export const ScanSeverity = { ERROR: 'error', WARNING: 'warning' } as const;
export type ScanSeverity = (typeof ScanSeverity)[keyof typeof ScanSeverity];

/** One finding. */
export interface ScanFinding {
  readonly ruleId: ScanRule;
  readonly severity: ScanSeverity;
  /** RFC 6901 JSON pointer into the definition (`""` is the whole definition). */
  readonly path: string;
  /** A fixed description of the rule and the label of what matched; never the definition's own text. */
  readonly message: string;
}

/** Limits and context of a scan. Every field is optional; the defaults are the strictest sensible values. */
export interface ScanPolicy {
  /**
   * Longest canonical JSON of a whole definition, in characters.
   * @default 16384
   */
  readonly maxDefinitionChars?: number;
  /**
   * Longest `description` (tool or schema field), in characters.
   * @default 4096
   */
  readonly maxDescriptionChars?: number;
  /**
   * Longest other string (title, enum value, default, example, annotation, property name), in characters.
   * @default 1024
   */
  readonly maxStringChars?: number;
  /**
   * Deepest nesting of the definition's JSON.
   * @default 16
   */
  readonly maxDepth?: number;
  /**
   * Most values in one `enum`.
   * @default 512
   */
  readonly maxEnumValues?: number;
  /**
   * Most schema properties in the whole definition.
   * @default 256
   */
  readonly maxProperties?: number;
  /**
   * Trusted tool names (for example the registered ones). A definition whose name is a look-alike of one of them
   * (same skeleton, different name) is a LOOKALIKE_NAME finding.
   * @default - none
   */
  readonly knownToolNames?: readonly string[];
  /**
   * Names of tools served by OTHER servers. A definition that mentions one of them (names with a separator or an
   * inner capital only, so that plain words never match) is a CROSS_TOOL_REFERENCE finding.
   * @default - none
   */
  readonly foreignToolNames?: readonly string[];
}

/** The limits {@link scanToolDefinition} applies when the policy leaves them out. */
export const DEFAULT_SCAN_LIMITS = Object.freeze({
  maxDefinitionChars: 16_384,
  maxDescriptionChars: 4_096,
  maxStringChars: 1_024,
  maxDepth: 16,
  maxEnumValues: 512,
  maxProperties: 256,
});

/** Most findings reported for one definition. */
export const MAX_FINDINGS = 64;

type Pattern = readonly [label: string, re: RegExp];

// Phrase rules run on normalized text: NFKC, invisible characters removed, confusable letters folded to Latin,
// lower case, whitespace collapsed (a run with a line break becomes one line break). `[^.!?]{0,N}?` keeps each
// match inside one sentence and bounds the work.
const S = '[^.!?]';
const p = (label: string, source: string): Pattern => [label, new RegExp(source, 'u')];
/** A tool named in text (optionally quoted), but not `this`/`that`/`it`, which refer to the tool itself. */
const TOOL_REF = "(?!(?:this|that|these|it|same)\\b)[`'\"]?[a-z0-9_.-]+[`'\"]?";

const HIDDEN_INSTRUCTION_PATTERNS: readonly Pattern[] = [
  p(
    'ignore-instructions',
    `\\b(?:ignore|disregard|forget|overrule|override|bypass|skip)\\b${S}{0,40}?\\b(?:previous|prior|above|earlier|preceding|all|any|other|existing|system|safety|security|original|your)\\b${S}{0,30}?\\b(?:instructions?|prompts?|rules|directions|directives?|guidelines|guardrails?|policies|constraints|restrictions)\\b`,
  ),
  p(
    'conceal-from-user',
    `\\b(?:do not|don't|dont|never|must not|should not|shouldn't|without)\\b${S}{0,25}?\\b(?:tell|telling|inform|informing|notify|notifying|mention|mentioning|reveal|revealing|show|showing|alert|alerting|disclose|disclosing|ask|asking|warn|warning|let)\\b${S}{0,20}?\\b(?:user|users|human|operator|person|anyone)\\b`,
  ),
  p('instruction-tag', '<\\s*/?\\s*(?:important|system|instructions?|secret|hidden|admin|assistant|prompt|critical|sudo|override)\\b[^>]{0,40}>'),
  p('chat-template-marker', '(?:<\\|im_start\\|>|<\\|im_end\\|>|<\\|system\\|>|<<sys>>|\\[inst\\]|\\[/inst\\]|\\[system\\]|(?:^|\\n)\\s*(?:system|assistant)\\s*:)'),
  p(
    'tool-precondition',
    `\\bbefore (?:using|calling|invoking|running|you (?:use|call|invoke|run))\\b${S}{0,15}?\\b(?:this|the|any)\\b${S}{0,30}?\\b(?:tool|function)\\b${S}{0,80}?\\b(?:read|open|cat|send|pass|include|call|invoke|fetch|upload|post|provide|attach|load|retrieve|access)\\b`,
  ),
  p('otherwise-fails', `\\botherwise\\b${S}{0,20}?\\b(?:the|this)\\b${S}{0,10}?\\b(?:tool|function|call)\\b${S}{0,20}?\\b(?:will|would)\\b${S}{0,10}?\\b(?:not work|fail|break|crash|error)`),
  p(
    'role-override',
    '\\b(?:you are now|from now on,? you|act as (?:an?|the) |pretend (?:to be|you are)|new instructions|updated instructions|real instructions|actual instructions|system override|developer mode|jailbreak)',
  ),
  p(
    'covert-action',
    `\\b(?:secretly|covertly|silently|quietly|discreetly|stealthily)\\b${S}{0,20}?\\b(?:send|forward|copy|upload|include|add|append|call|execute|run|post|transmit|exfiltrate|email|bcc|cc|save|store|share)\\b`,
  ),
  p('without-consent', "\\bwithout (?:the )?(?:user'?s? )?(?:knowledge|knowing|noticing|consent|permission|awareness|confirmation)\\b"),
  p(
    'exfiltrate-context',
    `\\b(?:include|send|pass|append|attach|copy|forward|upload|post|add|put|provide|insert|leak|dump|output|return|repeat|summari[sz]e)\\b${S}{0,40}?\\b(?:system prompt|system message|developer message|hidden prompt|initial instructions|conversation history|chat history|full conversation|entire conversation|whole conversation|previous messages|all messages|message history|chain of thought|context window|your instructions|environment variables|env vars)\\b`,
  ),
  p(
    'mandatory-side-effect',
    `\\b(?:you must|you have to|you need to|always|it is (?:mandatory|required|essential|crucial))\\b${S}{0,30}?\\b(?:read|send|forward|include|pass|upload|copy|attach|email|call)\\b${S}{0,60}?\\b(?:contents of|credentials?|private keys?|api keys?|tokens?|secrets?|passwords?|conversation|chat history|messages|system prompt|environment|config files?)\\b`,
  ),
  p('address-the-model', '\\b(?:note|attention|important|warning|reminder|message)\\s*(?:to|for)\\s*(?:the\\s*)?(?:ai|assistant|model|llm|agent|claude|chatgpt|gpt)\\b'),
  p('sidenote-channel', '\\b(?:side ?note|sidenote)\\b'),
];

const CROSS_TOOL_PATTERNS: readonly Pattern[] = [
  p('other-tools', '\\b(?:all|any|every|each)\\s+(?:of the\\s+)?(?:other|remaining)\\s+(?:mcp\\s+)?(?:tools?|servers?|functions?|plugins?|integrations?)\\b'),
  p('other-servers', '\\b(?:other|another|different|external|third[- ]party|trusted|official)\\s+(?:mcp\\s+)?(?:servers?\\b|mcp\\b)'),
  p(
    'tool-shadowing',
    `\\b(?:when|whenever|if|after|before|each time|every time)\\b${S}{0,40}?\\b(?:the|a|any)\\s+${TOOL_REF}\\s+(?:tool|function)\\s+(?:is\\s+|gets\\s+)?(?:called|used|invoked|run|executed)\\b`,
  ),
  p('tool-shadowing', `\\b(?:when|whenever)\\b${S}{0,20}?\\b(?:calling|using|invoking)\\s+(?:the|any)\\s+${TOOL_REF}\\s+tool\\b`),
  p(
    'redirect-recipient',
    `\\b(?:change|replace|redirect|modify|override|set|swap)\\b${S}{0,20}?\\b(?:recipients?|destination address|to address|bcc|wallet address|iban|account number|routing number)\\b${S}{0,30}?\\bto\\b`,
  ),
  p('avoid-other-tool', `\\b(?:do not|don't|never|must not)\\s+(?:use|call|invoke|trust)\\s+(?:the\\s+|any\\s+)?(?:other\\s+)?${TOOL_REF}\\s+(?:tools?|servers?|functions?)\\b`),
  p('instead-of-other-tool', `\\b(?:instead of|rather than|in place of)\\s+(?:using\\s+|calling\\s+)?(?:the|any)\\s+${TOOL_REF}\\s+(?:tool|server)\\b`),
  p('server-uri', '\\b(?:mcp|stdio|sse|wss?)://'),
];

const SENSITIVE_PATH_PATTERNS: readonly Pattern[] = [
  p('ssh-directory', '(?:^|[\\s\'"`(/~:=])\\.ssh\\b'),
  p('ssh-key-file', '\\b(?:id_(?:rsa|dsa|ecdsa|ed25519)|authorized_keys|known_hosts)\\b'),
  p('aws-credentials-file', '\\.aws/(?:credentials|config)\\b'),
  p('system-account-file', '/etc/(?:passwd|shadow|gshadow|sudoers|master\\.passwd)\\b'),
  p('dotenv-file', '(?:^|[\\s\'"`(/~:=])\\.env(?:\\.[a-z]+)?\\b'),
  p('credential-dotfile', '\\.(?:git-credentials|npmrc|pypirc|netrc|pgpass|vault-token|my\\.cnf)\\b'),
  p('kube-config', '\\.kube/config\\b'),
  p('docker-config', '\\.docker/config\\.json\\b'),
  p('proc-self', '/proc/(?:self|\\d+)/(?:environ|mem|maps|cmdline)\\b'),
  p('service-account-secrets', '/var/run/secrets\\b'),
  p('gnupg', '\\.gnupg\\b'),
  p('shell-history', '\\.(?:bash|zsh|sh|python|node_repl|psql|mysql)_history\\b'),
  p('mcp-client-config', '\\b(?:claude_desktop_config\\.json|mcp\\.json|\\.cursor/mcp|\\.vscode/mcp)'),
  p('cloud-cli-config', '\\.config/(?:gcloud|gh|op)\\b|\\.azure/(?:credentials|accesstokens)'),
  p('wallet-or-keychain', '\\b(?:wallet\\.dat|login\\.keychain|keychain-db|\\.password-store)\\b'),
  p('secrets-file', '\\b(?:secrets?|credentials)\\.(?:ya?ml|json|toml|txt)\\b'),
];

const METADATA_PATTERNS: readonly Pattern[] = [
  p('aws-imds', '\\b169\\.254\\.169\\.254\\b|\\bfd00:ec2::254\\b|\\[::ffff:a9fe:a9fe\\]'),
  p('aws-imds-encoded', '\\b(?:2852039166|0xa9fea9fe|0251\\.0376\\.0251\\.0376|0xa9\\.0xfe\\.0xa9\\.0xfe)\\b'),
  p('ecs-credentials', '\\b169\\.254\\.170\\.2\\b|\\baws_container_(?:credentials|authorization)'),
  p('imds-path', '/latest/(?:meta-data|user-data|api/token|dynamic)\\b'),
  p('gcp-metadata', '\\bmetadata\\.google\\.internal\\b|/computemetadata/v1\\b'),
  p('azure-metadata', '/metadata/(?:instance|identity/oauth2/token)\\b'),
  p('alibaba-metadata', '\\b100\\.100\\.100\\.200\\b'),
  p('metadata-service', '\\b(?:instance metadata(?: service| endpoint)?|imdsv?2?)\\b'),
];

/** Literal secret material; matched on the raw text (case matters). */
const SECRET_LITERAL_PATTERNS: readonly Pattern[] = [
  p('aws-access-key-id', '\\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\\b'),
  p('private-key-block', '-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----'),
  p('github-token', '\\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})'),
  p('slack-token', '\\bxox[abposr]-[A-Za-z0-9-]{10,}'),
  p('api-secret-key', '\\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{20,}'),
  p('google-api-key', '\\bAIza[0-9A-Za-z_-]{35}'),
  p('jwt', '\\beyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}'),
  p('hard-coded-secret', '\\b(?:password|passwd|secret|api[_-]?key|token)\\s*[:=]\\s*[\'"]?[^\\s\'"]{8,}'),
];

/** Requests for secrets; matched on normalized text. */
const SECRET_REQUEST_PATTERNS: readonly Pattern[] = [
  p(
    'asks-for-credentials',
    `\\b(?:send|pass|include|provide|share|read|give|attach|forward|upload|enter|paste|supply|collect|extract|retrieve|print|output|return|dump)\\b${S}{0,40}?\\b(?:api[ _-]?keys?|passwords?|passphrases?|private[ _-]?keys?|secret[ _-]?keys?|access[ _-]?keys?|credentials|session[ _-]?tokens?|auth(?:entication)?[ _-]?tokens?|bearer[ _-]?tokens?|access[ _-]?tokens?|refresh[ _-]?tokens?|ssh[ _-]?keys?|seed[ _-]?phrases?|mnemonics?|recovery[ _-]?phrases?|2fa codes?|otp codes?|one[- ]time (?:codes?|passwords?)|credit card numbers?|cvv|social security numbers?)\\b`,
  ),
];

/** Schema property names that ask the model for a credential (compared lower-case, without `_`, `-`, `.`). */
const SECRET_PARAMETER_NAMES = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secretkey',
  'clientsecret',
  'apikey',
  'accesskey',
  'accesskeyid',
  'secretaccesskey',
  'privatekey',
  'token',
  'accesstoken',
  'authtoken',
  'bearertoken',
  'sessiontoken',
  'refreshtoken',
  'idtoken',
  'credential',
  'credentials',
  'sshkey',
  'seedphrase',
  'mnemonic',
  'otp',
  'cvv',
  'ssn',
  'creditcard',
  'cardnumber',
]);

/** Words in a tool name that mean it changes or sends something (for ANNOTATION_MISMATCH). */
const MUTATING_NAME_WORDS = new Set([
  'delete', 'remove', 'drop', 'destroy', 'purge', 'erase', 'truncate', 'wipe', 'write', 'update', 'create', 'insert',
  'send', 'post', 'put', 'patch', 'exec', 'execute', 'run', 'kill', 'terminate', 'move', 'rename', 'transfer', 'pay',
  'purchase', 'merge', 'push', 'deploy', 'publish', 'revoke', 'grant', 'set', 'edit', 'modify', 'upload', 'reset',
]);

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/u;
const INVISIBLE_FOR_MATCHING = /[\p{Default_Ignorable_Code_Point}\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFE00-\uFE0F\u{E0000}-\u{E0FFF}]/gu;

/**
 * Text for phrase matching: NFKC, invisible characters removed, confusables folded, lower case, whitespace
 * collapsed (a run that holds a line break becomes one line break, any other run one space).
 */
export function normalizeForMatching(text: string): string {
  return foldConfusables(text.normalize('NFKC').replace(INVISIBLE_FOR_MATCHING, ''))
    .replace(/\s+/gu, (ws) => (/[\n\r\u2028\u2029]/u.test(ws) ? '\n' : ' '))
    .trim();
}

/** The same, with digits and symbols folded to the letters they imitate (`1gn0re` → `ignore`). */
function leetFold(normalized: string): string {
  return normalized.replace(/[0134579@$]/g, (c) => ({ '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '9': 'g', '@': 'a', $: 's' })[c] as string);
}

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const q = n / s.length;
    h -= q * Math.log2(q);
  }
  return h;
}

const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}|[A-Za-z0-9_-]{40,}/g;
const HEX_RUN = /(?:0x)?[0-9a-fA-F]{40,}/g;

/** The label of the first encoded blob in `raw`, or undefined. */
function encodedBlob(raw: string): string | undefined {
  if (/(?:%[0-9A-Fa-f]{2}){8,}/.test(raw)) return 'percent-encoded-run';
  if (/(?:\\x[0-9A-Fa-f]{2}){8,}/.test(raw)) return 'escaped-hex-run';
  if (/(?:\\u[0-9A-Fa-f]{4}){6,}/.test(raw)) return 'escaped-unicode-run';
  if (/(?:&#x?[0-9A-Fa-f]+;){6,}/.test(raw)) return 'html-entity-run';
  if (/\bdata:[a-z]+\/[a-z0-9.+-]+;base64,/i.test(raw)) return 'data-uri';
  for (const m of raw.matchAll(HEX_RUN)) {
    const run = m[0].replace(/^0x/, '');
    if (/[0-9]/.test(run) && /[a-fA-F]/.test(run)) return 'hex-run';
  }
  for (const m of raw.matchAll(BASE64_RUN)) {
    const run = m[0];
    if (/[0-9]/.test(run) && /[A-Z]/.test(run) && /[a-z]/.test(run) && entropy(run) >= 4) return 'base64-run';
  }
  return undefined;
}

/** Tool names with a separator or an inner capital: distinctive enough to count as a reference when mentioned. */
function isDistinctiveName(name: string): boolean {
  return name.length >= 4 && (/[_.-]/.test(name) || /[a-z][A-Z]/.test(name));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where a string sits in the definition: decides which caps and rules apply. */
interface StringSite {
  readonly path: string;
  /** The string is an object key (a property name), not a value. */
  readonly isKey: boolean;
  /** The key is a property name inside a schema's `properties`. */
  readonly isPropertyName: boolean;
  /** The value is a `description`. */
  readonly isDescription: boolean;
  /** The value is an icon's `src` (image data URIs are allowed there). */
  readonly isIconSource: boolean;
}

class Scanner {
  public readonly findings: ScanFinding[] = [];
  private readonly seen = new Set<string>();
  private readonly limits: { readonly [K in keyof typeof DEFAULT_SCAN_LIMITS]: number };
  private readonly foreign: ReadonlyArray<readonly [string, RegExp]>;
  private propertyCount = 0;

  public constructor(policy: ScanPolicy) {
    this.limits = {
      maxDefinitionChars: policy.maxDefinitionChars ?? DEFAULT_SCAN_LIMITS.maxDefinitionChars,
      maxDescriptionChars: policy.maxDescriptionChars ?? DEFAULT_SCAN_LIMITS.maxDescriptionChars,
      maxStringChars: policy.maxStringChars ?? DEFAULT_SCAN_LIMITS.maxStringChars,
      maxDepth: policy.maxDepth ?? DEFAULT_SCAN_LIMITS.maxDepth,
      maxEnumValues: policy.maxEnumValues ?? DEFAULT_SCAN_LIMITS.maxEnumValues,
      maxProperties: policy.maxProperties ?? DEFAULT_SCAN_LIMITS.maxProperties,
    };
    this.foreign = (policy.foreignToolNames ?? [])
      .filter((n) => typeof n === 'string' && isDistinctiveName(n))
      .map((n) => [n, new RegExp(`(?<![A-Za-z0-9_.-])${escapeRegExp(normalizeForMatching(n))}(?![A-Za-z0-9_-])`, 'u')] as const);
  }

  public add(ruleId: ScanRule, path: string, message: string, severity: ScanSeverity = ScanSeverity.ERROR): void {
    const key = `${ruleId}\u0000${path}`;
    if (this.seen.has(key) || this.findings.length >= MAX_FINDINGS) return;
    this.seen.add(key);
    this.findings.push(Object.freeze({ ruleId, severity, path, message }));
  }

  private firstMatch(patterns: readonly Pattern[], text: string): string | undefined {
    for (const [label, re] of patterns) if (re.test(text)) return label;
    return undefined;
  }

  public scanString(raw: string, site: StringSite, ownName: string | undefined): void {
    const where = site.isKey ? 'property name' : site.isDescription ? 'description' : 'text';
    const cap = site.isDescription ? this.limits.maxDescriptionChars : this.limits.maxStringChars;
    if (raw.length > cap && !site.isIconSource) {
      this.add(ScanRule.SIZE_CAP, site.path, `${where} is longer than ${cap} characters`);
    }
    // Bound the work on oversized strings: the cap finding above already removes the tool.
    const text = raw.length > 4 * this.limits.maxDescriptionChars ? raw.slice(0, 4 * this.limits.maxDescriptionChars) : raw;

    const smuggled = findSmuggling(text);
    if (smuggled.length > 0) {
      const kinds = [...new Set(smuggled.map((f) => f.kind))].sort();
      const labels = kinds.map((k) => ({ [SmugglingKind.TAG]: 'tag-characters', [SmugglingKind.VARIATION_SELECTOR]: 'variation-selectors', [SmugglingKind.ZERO_WIDTH]: 'zero-width', [SmugglingKind.BIDI_CONTROL]: 'bidi-controls' })[k]);
      this.add(ScanRule.INVISIBLE_CHARACTERS, site.path, `${where} carries ${smuggled.length} invisible character(s) (${labels.join(', ')})`);
    }
    if (CONTROL.test(text)) this.add(ScanRule.CONTROL_CHARACTERS, site.path, `${where} carries control characters (terminal escapes, NUL, line separators)`);
    if (countMixedScriptWords(text) > 0) this.add(ScanRule.MIXED_SCRIPT, site.path, `${where} has words that mix Latin with look-alike letters of another script`);

    const normalized = normalizeForMatching(text);
    const hidden = this.firstMatch(HIDDEN_INSTRUCTION_PATTERNS, normalized) ?? this.firstMatch(HIDDEN_INSTRUCTION_PATTERNS, leetFold(normalized));
    if (hidden) this.add(ScanRule.HIDDEN_INSTRUCTIONS, site.path, `${where} carries instructions aimed at the model (${hidden})`);

    let cross = this.firstMatch(CROSS_TOOL_PATTERNS, normalized);
    if (!cross) {
      for (const [name, re] of this.foreign) {
        if (name !== ownName && re.test(normalized)) {
          cross = 'names-a-tool-of-another-server';
          break;
        }
      }
    }
    if (cross) this.add(ScanRule.CROSS_TOOL_REFERENCE, site.path, `${where} refers to other tools or servers (${cross})`);

    const path = this.firstMatch(SENSITIVE_PATH_PATTERNS, normalized);
    if (path) this.add(ScanRule.SENSITIVE_PATH, site.path, `${where} names a sensitive file or directory (${path})`);

    const metadata = this.firstMatch(METADATA_PATTERNS, normalized);
    if (metadata) this.add(ScanRule.METADATA_ENDPOINT, site.path, `${where} names a cloud metadata or credential endpoint (${metadata})`);

    const secret = this.firstMatch(SECRET_LITERAL_PATTERNS, text) ?? this.firstMatch(SECRET_REQUEST_PATTERNS, normalized);
    if (secret) this.add(ScanRule.SECRETS, site.path, `${where} carries or asks for secret material (${secret})`);
    if (site.isPropertyName && SECRET_PARAMETER_NAMES.has(normalized.replace(/[_.\- ]/g, ''))) {
      this.add(ScanRule.SECRETS, site.path, 'the schema asks the model for a credential (credential-parameter)');
    }

    const blob = encodedBlob(text);
    if (blob && !(site.isIconSource && /^data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(text))) {
      this.add(ScanRule.ENCODED_BLOB, site.path, `${where} carries an encoded blob (${blob})`);
    }
  }

  /** Walks every value and key. `inProperties`: `value` is a schema's `properties` object. */
  public walk(value: unknown, path: string, depth: number, ownName: string | undefined, inProperties: boolean, key: string | undefined): void {
    if (depth > this.limits.maxDepth) {
      this.add(ScanRule.SIZE_CAP, path, `the definition nests deeper than ${this.limits.maxDepth} levels`);
      return;
    }
    if (typeof value === 'string') {
      this.scanString(value, { path, isKey: false, isPropertyName: false, isDescription: key === 'description', isIconSource: key === 'src' && /^\/icons\/\d+\/src$/.test(path) }, ownName);
      return;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.add(ScanRule.MALFORMED_DEFINITION, path, 'a number is not finite');
      return;
    }
    if (typeof value === 'boolean' || value === null) return;
    if (Array.isArray(value)) {
      if (key === 'enum' && value.length > this.limits.maxEnumValues) {
        this.add(ScanRule.SIZE_CAP, path, `an enum has more than ${this.limits.maxEnumValues} values`);
      }
      value.forEach((item, i) => this.walk(item, `${path}/${i}`, depth + 1, ownName, false, undefined));
      return;
    }
    if (typeof value !== 'object') {
      this.add(ScanRule.MALFORMED_DEFINITION, path, 'a value is not JSON data');
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      this.add(ScanRule.MALFORMED_DEFINITION, path, 'a value is not a plain JSON object');
      return;
    }
    const obj = value as Record<string, unknown>;
    if (inProperties) this.propertyCount += Object.keys(obj).length;
    for (const k of Object.getOwnPropertyNames(obj)) {
      const childPath = `${path}/${escapePointer(k)}`;
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
        this.add(ScanRule.MALFORMED_DEFINITION, childPath, 'a key would reach an object prototype');
        continue;
      }
      this.scanString(k, { path: childPath, isKey: true, isPropertyName: inProperties, isDescription: false, isIconSource: false }, ownName);
      // `properties` holds property names as keys; a property literally named "properties" is a schema, not a map.
      const childIsProperties = k === 'properties' && !inProperties;
      this.walk(obj[k], childPath, depth + 1, ownName, childIsProperties, inProperties ? undefined : k);
    }
  }

  public checkPropertyCount(): void {
    if (this.propertyCount > this.limits.maxProperties) {
      this.add(ScanRule.SIZE_CAP, '', `the schemas declare more than ${this.limits.maxProperties} properties`);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkStructure(def: Record<string, unknown>, scanner: Scanner): void {
  const name = def.name;
  if (typeof name !== 'string') {
    scanner.add(ScanRule.MALFORMED_DEFINITION, '/name', 'the tool has no string name');
  } else if (!TOOL_NAME_PATTERN.test(name)) {
    if (/[^\x00-\x7F]/.test(name)) scanner.add(ScanRule.LOOKALIKE_NAME, '/name', 'the tool name has non-ASCII characters (look-alike letters)');
    else scanner.add(ScanRule.MALFORMED_DEFINITION, '/name', 'the tool name is not 1 to 128 of A-Z a-z 0-9 _ - .');
  }
  for (const k of ['title', 'description'] as const) {
    if (def[k] !== undefined && typeof def[k] !== 'string') scanner.add(ScanRule.MALFORMED_DEFINITION, `/${k}`, `${k} is not a string`);
  }
  const input = def.inputSchema;
  if (!isPlainObject(input)) scanner.add(ScanRule.MALFORMED_DEFINITION, '/inputSchema', 'the tool has no inputSchema object');
  else if (input.type !== 'object') scanner.add(ScanRule.MALFORMED_DEFINITION, '/inputSchema/type', 'inputSchema is not type "object"');
  if (def.outputSchema !== undefined) {
    if (!isPlainObject(def.outputSchema)) scanner.add(ScanRule.MALFORMED_DEFINITION, '/outputSchema', 'outputSchema is not an object');
    else if (def.outputSchema.type !== 'object') scanner.add(ScanRule.MALFORMED_DEFINITION, '/outputSchema/type', 'outputSchema is not type "object"');
  }
  if (def.annotations !== undefined && !isPlainObject(def.annotations)) {
    scanner.add(ScanRule.MALFORMED_DEFINITION, '/annotations', 'annotations is not an object');
  }
}

function checkAnnotations(def: Record<string, unknown>, scanner: Scanner): void {
  const a = def.annotations;
  if (!isPlainObject(a) || typeof def.name !== 'string') return;
  const words = def.name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.-]+/);
  const mutating = words.some((w) => MUTATING_NAME_WORDS.has(w));
  if (mutating && a.readOnlyHint === true) {
    scanner.add(ScanRule.ANNOTATION_MISMATCH, '/annotations/readOnlyHint', 'readOnlyHint claims a mutating tool is read-only; the hint is ignored', ScanSeverity.WARNING);
  }
  if (mutating && a.destructiveHint === false && /delete|remove|drop|destroy|purge|erase|truncate|wipe|kill|terminate|revoke/.test(words.join(' '))) {
    scanner.add(ScanRule.ANNOTATION_MISMATCH, '/annotations/destructiveHint', 'destructiveHint claims a deleting tool is not destructive; the hint is ignored', ScanSeverity.WARNING);
  }
}

function checkLookalike(def: Record<string, unknown>, policy: ScanPolicy, scanner: Scanner): void {
  const name = def.name;
  if (typeof name !== 'string' || name.length > 256) return;
  const sk = skeleton(name);
  for (const known of policy.knownToolNames ?? []) {
    if (typeof known === 'string' && known !== name && skeleton(known) === sk) {
      scanner.add(ScanRule.LOOKALIKE_NAME, '/name', 'the tool name is a look-alike of a registered tool name (same skeleton, different name)');
      return;
    }
  }
  const title = def.title;
  if (typeof title === 'string' && typeof def.name === 'string' && countMixedScriptWords(title) > 0) {
    scanner.add(ScanRule.LOOKALIKE_NAME, '/title', 'the tool title uses look-alike letters of another script');
  }
}

/**
 * Scans one tool definition and returns its findings (empty: nothing found), errors first, at most
 * {@link MAX_FINDINGS}. Never throws: a value that cannot be scanned is a MALFORMED_DEFINITION finding.
 */
export function scanToolDefinition(definition: unknown, policy: ScanPolicy = {}): ScanFinding[] {
  const scanner = new Scanner(policy);
  try {
    if (!isPlainObject(definition)) {
      scanner.add(ScanRule.MALFORMED_DEFINITION, '', 'the definition is not a JSON object');
      return scanner.findings;
    }
    let size: number;
    try {
      size = canonicalize(definition).length;
    } catch {
      scanner.add(ScanRule.MALFORMED_DEFINITION, '', 'the definition is not JSON data (no canonical form)');
      return scanner.findings;
    }
    const max = policy.maxDefinitionChars ?? DEFAULT_SCAN_LIMITS.maxDefinitionChars;
    if (size > max) {
      scanner.add(ScanRule.SIZE_CAP, '', `the definition is longer than ${max} characters of canonical JSON`);
      // Far above the cap, stop here: a flood of text is rejected without spending work on it.
      if (size > 8 * max) return scanner.findings;
    }
    checkStructure(definition, scanner);
    checkLookalike(definition, policy, scanner);
    const ownName = typeof definition.name === 'string' ? definition.name : undefined;
    scanner.walk(definition, '', 0, ownName, false, undefined);
    scanner.checkPropertyCount();
    checkAnnotations(definition, scanner);
  } catch {
    scanner.add(ScanRule.MALFORMED_DEFINITION, '', 'the definition could not be scanned');
  }
  const rank = (f: ScanFinding): number => (f.severity === ScanSeverity.ERROR ? 0 : 1);
  return [...scanner.findings].sort((a, b) => rank(a) - rank(b));
}

/** True when any finding is an error (the tool must be removed / the CLI fails). */
export function hasErrors(findings: readonly ScanFinding[]): boolean {
  return findings.some((f) => f.severity === ScanSeverity.ERROR);
}
