import { Token } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import { validateRange } from '../../private/validation';
import {
  ContentFilter,
  ContentFilterType,
  FilterStrength,
  PiiEntityType,
  PiiFilter,
  SensitiveInformationAction,
} from '../guardrail-filters';
import type { AiGuardrailProps } from '../ai-guardrail';

/** Harmful-content filters applied unless a prop overrides a category. */
export const DEFAULT_CONTENT_FILTERS: ContentFilter[] = [
  { type: ContentFilterType.HATE, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.HIGH },
  { type: ContentFilterType.SEXUAL, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.HIGH },
  { type: ContentFilterType.VIOLENCE, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.HIGH },
  { type: ContentFilterType.MISCONDUCT, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.HIGH },
  // Insults at HIGH also catches ordinary banter and blunt feedback; MEDIUM keeps the false-positive rate sane.
  { type: ContentFilterType.INSULTS, inputStrength: FilterStrength.MEDIUM, outputStrength: FilterStrength.MEDIUM },
];

/** Credentials and payment secrets: never let them through, in either direction. */
const BLOCKED_PII: PiiEntityType[] = [
  PiiEntityType.AWS_ACCESS_KEY,
  PiiEntityType.AWS_SECRET_KEY,
  PiiEntityType.PASSWORD,
  PiiEntityType.CREDIT_DEBIT_CARD_NUMBER,
  PiiEntityType.CREDIT_DEBIT_CARD_CVV,
  PiiEntityType.CREDIT_DEBIT_CARD_EXPIRY,
  PiiEntityType.PIN,
  PiiEntityType.US_BANK_ACCOUNT_NUMBER,
  PiiEntityType.US_BANK_ROUTING_NUMBER,
  PiiEntityType.INTERNATIONAL_BANK_ACCOUNT_NUMBER,
  PiiEntityType.US_SOCIAL_SECURITY_NUMBER,
];

/** Contact data and personal identifiers: mask them and let the rest of the text through. */
const ANONYMIZED_PII: PiiEntityType[] = [
  PiiEntityType.EMAIL,
  PiiEntityType.PHONE,
  PiiEntityType.NAME,
  PiiEntityType.ADDRESS,
  PiiEntityType.USERNAME,
  PiiEntityType.DRIVER_ID,
  PiiEntityType.US_PASSPORT_NUMBER,
  PiiEntityType.US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER,
  PiiEntityType.UK_NATIONAL_INSURANCE_NUMBER,
  PiiEntityType.UK_NATIONAL_HEALTH_SERVICE_NUMBER,
  PiiEntityType.UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER,
  PiiEntityType.CA_SOCIAL_INSURANCE_NUMBER,
  PiiEntityType.CA_HEALTH_NUMBER,
];

/** PII filters applied unless a prop overrides an entity type. */
export const DEFAULT_PII_FILTERS: PiiFilter[] = [
  ...BLOCKED_PII.map((type) => ({ type, action: SensitiveInformationAction.BLOCK })),
  ...ANONYMIZED_PII.map((type) => ({ type, action: SensitiveInformationAction.ANONYMIZE })),
];

export const DEFAULT_BLOCKED_INPUT_MESSAGE = 'Sorry, this request was blocked by a safety guardrail.';
export const DEFAULT_BLOCKED_OUTPUT_MESSAGE = 'Sorry, the response was blocked by a safety guardrail.';

/** The settings the guardrail is built from: the public props (defaults not yet applied), with the name resolved. */
export interface GuardrailSettings extends Omit<AiGuardrailProps, 'guardrailName' | 'encryptionKey'> {
  readonly name: string;
}

const enumValues = (e: object): string[] => Object.values(e).filter((v) => typeof v === 'string');

function validateLength(field: string, value: string | undefined, min: number, max: number): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  return value.length >= min && value.length <= max ? [] : [`${field} is "${value}" (${value.length} characters); allowed: ${min} to ${max} characters`];
}

function validateEnum(field: string, value: string, allowed: object): string[] {
  return enumValues(allowed).includes(value) ? [] : [`${field} is "${value}"; allowed: ${enumValues(allowed).join(', ')}`];
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/** Every problem with the settings, each naming the bad value and what is allowed. Pure: table-testable. */
export function validateGuardrailSettings(s: GuardrailSettings): string[] {
  const errors: string[] = [];
  if (!Token.isUnresolved(s.name) && !/^[0-9a-zA-Z_-]{1,50}$/.test(s.name)) {
    errors.push(`guardrailName is "${s.name}"; allowed: 1 to 50 letters, digits, "-" and "_"`);
  }
  errors.push(...validateLength('description', s.description, 1, 200));
  errors.push(...validateLength('blockedInputMessage', s.blockedInputMessage, 1, 500));
  errors.push(...validateLength('blockedOutputMessage', s.blockedOutputMessage, 1, 500));

  if (s.promptAttackStrength !== undefined) {
    errors.push(...validateEnum('promptAttackStrength', s.promptAttackStrength, FilterStrength));
    if (s.promptAttackStrength === FilterStrength.NONE) {
      errors.push('promptAttackStrength is "NONE"; allowed: LOW, MEDIUM or HIGH (the prompt-attack filter cannot be switched off)');
    }
  }
  for (const [i, f] of (s.contentFilters ?? []).entries()) {
    errors.push(...validateEnum(`contentFilters[${i}].type`, f.type, ContentFilterType));
    errors.push(...validateEnum(`contentFilters[${i}].inputStrength`, f.inputStrength, FilterStrength));
    errors.push(...validateEnum(`contentFilters[${i}].outputStrength`, f.outputStrength, FilterStrength));
  }
  for (const d of duplicates((s.contentFilters ?? []).map((f) => f.type))) errors.push(`contentFilters lists type "${d}" more than once; allowed: each type once`);

  for (const [i, f] of (s.piiFilters ?? []).entries()) {
    errors.push(...validateEnum(`piiFilters[${i}].type`, f.type, PiiEntityType));
    errors.push(...validateEnum(`piiFilters[${i}].action`, f.action, SensitiveInformationAction));
  }
  for (const d of duplicates((s.piiFilters ?? []).map((f) => f.type))) errors.push(`piiFilters lists type "${d}" more than once; allowed: each type once`);

  const regexes = s.regexFilters ?? [];
  if (regexes.length > 10) errors.push(`regexFilters has ${regexes.length} entries; allowed: at most 10`);
  for (const [i, r] of regexes.entries()) {
    errors.push(...validateLength(`regexFilters[${i}].name`, r.name, 1, 100));
    errors.push(...validateLength(`regexFilters[${i}].pattern`, r.pattern, 1, 500));
    errors.push(...validateLength(`regexFilters[${i}].description`, r.description, 1, 1000));
    errors.push(...validateEnum(`regexFilters[${i}].action`, r.action, SensitiveInformationAction));
    if (!Token.isUnresolved(r.pattern)) {
      try {
        new RegExp(r.pattern);
      } catch {
        errors.push(`regexFilters[${i}].pattern is "${r.pattern}"; allowed: a valid regular expression`);
      }
    }
  }
  for (const d of duplicates(regexes.map((r) => r.name))) errors.push(`regexFilters lists name "${d}" more than once; allowed: unique names`);

  const topics = s.deniedTopics ?? [];
  if (topics.length > 30) errors.push(`deniedTopics has ${topics.length} entries; allowed: at most 30`);
  for (const [i, t] of topics.entries()) {
    if (!Token.isUnresolved(t.name) && !/^[0-9a-zA-Z-_ !?.]{1,100}$/.test(t.name)) {
      errors.push(`deniedTopics[${i}].name is "${t.name}"; allowed: 1 to 100 letters, digits, spaces and -_!?.`);
    }
    errors.push(...validateLength(`deniedTopics[${i}].definition`, t.definition, 1, 200));
    if ((t.examples ?? []).length > 5) errors.push(`deniedTopics[${i}].examples has ${t.examples!.length} entries; allowed: at most 5`);
    for (const [j, e] of (t.examples ?? []).entries()) errors.push(...validateLength(`deniedTopics[${i}].examples[${j}]`, e, 1, 100));
  }
  for (const d of duplicates(topics.map((t) => t.name))) errors.push(`deniedTopics lists name "${d}" more than once; allowed: unique names`);

  const words = s.customWords ?? [];
  if (words.length > 10000) errors.push(`customWords has ${words.length} entries; allowed: at most 10000`);
  for (const [i, w] of words.entries()) errors.push(...validateLength(`customWords[${i}]`, w, 1, 100));
  for (const d of duplicates(words)) errors.push(`customWords lists "${d}" more than once; allowed: unique words`);

  if (s.contextualGrounding) {
    const g = s.contextualGrounding;
    errors.push(...validateRange('contextualGrounding.groundingThreshold', g.groundingThreshold, 0, 0.99));
    errors.push(...validateRange('contextualGrounding.relevanceThreshold', g.relevanceThreshold, 0, 0.99));
    if (g.groundingThreshold === undefined && g.relevanceThreshold === undefined) {
      errors.push('contextualGrounding sets no threshold; allowed: groundingThreshold and/or relevanceThreshold from 0 to 0.99');
    }
  }
  if (s.automatedReasoningPolicy) {
    const a = s.automatedReasoningPolicy;
    if (!Token.isUnresolved(a.policyArn) && !/^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:automated-reasoning-policy\/[a-z0-9]{12}(:[1-9][0-9]{0,11})?$/.test(a.policyArn)) {
      errors.push(`automatedReasoningPolicy.policyArn is "${a.policyArn}"; allowed: arn:<partition>:bedrock:<region>:<account>:automated-reasoning-policy/<12-character id>[:<version>]`);
    }
    errors.push(...validateRange('automatedReasoningPolicy.confidenceThreshold', a.confidenceThreshold, 0, 1));
  }
  return errors;
}

/** Overlays `overrides` on `defaults` by key, keeping the defaults' order and appending new keys. */
function mergeByKey<T>(defaults: T[], overrides: T[] | undefined, key: (t: T) => string): T[] {
  const byKey = new Map(defaults.map((d) => [key(d), d] as const));
  for (const o of overrides ?? []) byKey.set(key(o), o);
  return [...byKey.values()];
}

/** The `AWS::Bedrock::Guardrail` properties for the settings, secure defaults applied (no key, no description). */
export function guardrailPolicyProps(s: GuardrailSettings): Omit<bedrock.CfnGuardrailProps, 'kmsKeyArn' | 'description'> {
  const contentFilters = mergeByKey(DEFAULT_CONTENT_FILTERS, s.contentFilters, (f) => f.type);
  const piiFilters = mergeByKey(DEFAULT_PII_FILTERS, s.piiFilters, (f) => f.type);
  const words = s.customWords ?? [];
  const profanity = s.profanityFilter ?? true;
  const grounding = s.contextualGrounding;
  return {
    name: s.name,
    blockedInputMessaging: s.blockedInputMessage ?? DEFAULT_BLOCKED_INPUT_MESSAGE,
    blockedOutputsMessaging: s.blockedOutputMessage ?? DEFAULT_BLOCKED_OUTPUT_MESSAGE,
    contentPolicyConfig: {
      filtersConfig: [
        ...contentFilters.map((f) => ({ type: f.type, inputStrength: f.inputStrength, outputStrength: f.outputStrength })),
        // The API accepts the prompt-attack filter on input only; its output strength must be NONE.
        { type: 'PROMPT_ATTACK', inputStrength: s.promptAttackStrength ?? FilterStrength.HIGH, outputStrength: FilterStrength.NONE },
      ],
    },
    sensitiveInformationPolicyConfig: {
      piiEntitiesConfig: piiFilters.map((p) => ({ type: p.type, action: p.action })),
      regexesConfig: s.regexFilters?.length
        ? s.regexFilters.map((r) => ({ name: r.name, pattern: r.pattern, action: r.action, description: r.description }))
        : undefined,
    },
    wordPolicyConfig:
      profanity || words.length > 0
        ? {
            managedWordListsConfig: profanity ? [{ type: 'PROFANITY' }] : undefined,
            wordsConfig: words.length > 0 ? words.map((text) => ({ text })) : undefined,
          }
        : undefined,
    topicPolicyConfig: s.deniedTopics?.length
      ? { topicsConfig: s.deniedTopics.map((t) => ({ name: t.name, definition: t.definition, examples: t.examples, type: 'DENY' })) }
      : undefined,
    contextualGroundingPolicyConfig:
      grounding && (grounding.groundingThreshold !== undefined || grounding.relevanceThreshold !== undefined)
        ? {
            filtersConfig: [
              ...(grounding.groundingThreshold !== undefined ? [{ type: 'GROUNDING', threshold: grounding.groundingThreshold }] : []),
              ...(grounding.relevanceThreshold !== undefined ? [{ type: 'RELEVANCE', threshold: grounding.relevanceThreshold }] : []),
            ],
          }
        : undefined,
    automatedReasoningPolicyConfig: s.automatedReasoningPolicy
      ? { policies: [s.automatedReasoningPolicy.policyArn], confidenceThreshold: s.automatedReasoningPolicy.confidenceThreshold }
      : undefined,
  };
}
