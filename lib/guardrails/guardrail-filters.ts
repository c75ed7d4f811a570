/**
 * The building blocks of an `AiGuardrail`'s policies: filter types, strengths and actions as enums, and the
 * option structs that use them. They map one to one onto `AWS::Bedrock::Guardrail` properties.
 */

/** How strongly a content filter reacts: the higher, the more content it filters. */
export enum FilterStrength {
  /** The filter is off for this direction. */
  NONE = 'NONE',
  /** Filters only content classified as harmful with HIGH confidence. */
  LOW = 'LOW',
  /** Filters content classified as harmful with MEDIUM or HIGH confidence. */
  MEDIUM = 'MEDIUM',
  /** Filters content classified as harmful with LOW, MEDIUM or HIGH confidence. */
  HIGH = 'HIGH',
}

/** The harmful-content categories of a guardrail's content policy (the prompt-attack filter has its own prop). */
export enum ContentFilterType {
  /** Discrimination, criticism, insults or dehumanization based on identity. */
  HATE = 'HATE',
  /** Demeaning, humiliating, mocking or bullying language. */
  INSULTS = 'INSULTS',
  /** Sexual interest, activity or arousal. */
  SEXUAL = 'SEXUAL',
  /** Glorification of, or threats of, physical harm. */
  VIOLENCE = 'VIOLENCE',
  /** Seeking or providing information about criminal activity or harming or exploiting someone. */
  MISCONDUCT = 'MISCONDUCT',
}

/** One harmful-content filter with its strength on prompts (input) and on model responses (output). */
export interface ContentFilter {
  /** The category. */
  readonly type: ContentFilterType;
  /** Strength on prompts and other text screened as INPUT (tool results included). */
  readonly inputStrength: FilterStrength;
  /** Strength on model responses and other text screened as OUTPUT. */
  readonly outputStrength: FilterStrength;
}

/** What the guardrail does when it finds a sensitive-information entity or a regex match. */
export enum SensitiveInformationAction {
  /** Block the whole text and answer with the blocked message. */
  BLOCK = 'BLOCK',
  /** Replace the entity with a tag such as `{EMAIL}` and let the rest of the text through. */
  ANONYMIZE = 'ANONYMIZE',
  /** Only report the entity in the assessment; the text passes unchanged. Weaker: nothing is enforced. */
  DETECT_ONLY = 'NONE',
}

/** The PII entity types that a guardrail's sensitive-information policy recognizes. */
export enum PiiEntityType {
  ADDRESS = 'ADDRESS',
  AGE = 'AGE',
  AWS_ACCESS_KEY = 'AWS_ACCESS_KEY',
  AWS_SECRET_KEY = 'AWS_SECRET_KEY',
  CA_HEALTH_NUMBER = 'CA_HEALTH_NUMBER',
  CA_SOCIAL_INSURANCE_NUMBER = 'CA_SOCIAL_INSURANCE_NUMBER',
  CREDIT_DEBIT_CARD_CVV = 'CREDIT_DEBIT_CARD_CVV',
  CREDIT_DEBIT_CARD_EXPIRY = 'CREDIT_DEBIT_CARD_EXPIRY',
  CREDIT_DEBIT_CARD_NUMBER = 'CREDIT_DEBIT_CARD_NUMBER',
  DRIVER_ID = 'DRIVER_ID',
  EMAIL = 'EMAIL',
  INTERNATIONAL_BANK_ACCOUNT_NUMBER = 'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  IP_ADDRESS = 'IP_ADDRESS',
  LICENSE_PLATE = 'LICENSE_PLATE',
  MAC_ADDRESS = 'MAC_ADDRESS',
  NAME = 'NAME',
  PASSWORD = 'PASSWORD',
  PHONE = 'PHONE',
  PIN = 'PIN',
  SWIFT_CODE = 'SWIFT_CODE',
  UK_NATIONAL_HEALTH_SERVICE_NUMBER = 'UK_NATIONAL_HEALTH_SERVICE_NUMBER',
  UK_NATIONAL_INSURANCE_NUMBER = 'UK_NATIONAL_INSURANCE_NUMBER',
  UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER = 'UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER',
  URL = 'URL',
  USERNAME = 'USERNAME',
  US_BANK_ACCOUNT_NUMBER = 'US_BANK_ACCOUNT_NUMBER',
  US_BANK_ROUTING_NUMBER = 'US_BANK_ROUTING_NUMBER',
  US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER = 'US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER',
  US_PASSPORT_NUMBER = 'US_PASSPORT_NUMBER',
  US_SOCIAL_SECURITY_NUMBER = 'US_SOCIAL_SECURITY_NUMBER',
  VEHICLE_IDENTIFICATION_NUMBER = 'VEHICLE_IDENTIFICATION_NUMBER',
}

/** One PII entity type and what to do with it. */
export interface PiiFilter {
  /** The entity type. */
  readonly type: PiiEntityType;
  /** The action on both prompts and responses. */
  readonly action: SensitiveInformationAction;
}

/** A custom sensitive-information pattern. */
export interface RegexFilter {
  /** Name shown in assessments, findings and metrics (1 to 100 characters; never the matched text). */
  readonly name: string;
  /** The regular expression (1 to 500 characters). */
  readonly pattern: string;
  /** The action on both prompts and responses. */
  readonly action: SensitiveInformationAction;
  /**
   * What the pattern is for.
   * @default - no description
   */
  readonly description?: string;
}

/** A topic the application must not discuss, blocked in both prompts and responses. */
export interface DeniedTopic {
  /** Name shown in assessments, findings and metrics: letters, digits, spaces and `-_!?.` (1 to 100 characters). */
  readonly name: string;
  /** What the topic covers, in natural language (1 to 200 characters). */
  readonly definition: string;
  /**
   * Up to five example phrases (each 1 to 100 characters) that belong to the topic.
   * @default - no examples
   */
  readonly examples?: string[];
}

/** Thresholds of the contextual grounding policy (hallucination and relevance checks on OUTPUT). */
export interface ContextualGroundingOptions {
  /**
   * Minimum grounding score (0 to 0.99) a response needs against its grounding source; below it, it is blocked.
   * @default - the grounding filter is off
   */
  readonly groundingThreshold?: number;
  /**
   * Minimum relevance score (0 to 0.99) a response needs against the query; below it, it is blocked.
   * @default - the relevance filter is off
   */
  readonly relevanceThreshold?: number;
}

/** An Automated Reasoning policy evaluated by the guardrail. */
export interface AutomatedReasoningPolicyOptions {
  /** ARN of the (versioned) Automated Reasoning policy. */
  readonly policyArn: string;
  /**
   * Minimum confidence (0 to 1) of the translation for a finding to count.
   * @default - the service default
   */
  readonly confidenceThreshold?: number;
}
