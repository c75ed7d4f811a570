import {
  DEFAULT_MAX_VALUES_PER_CONDITION,
  FilterPolicySpec,
  IdentityConditionKind,
  IdentityConditionSpec,
  MAX_VALUES_PER_CONDITION,
  StaticConditionSpec,
  StaticOperator,
} from '../../lambda/knowledge-retriever/filter';
import { throwIfInvalid, validateInteger } from '../private/validation';
import { MetadataContract, MetadataType } from './metadata-contract';

const CLAIM_NAME = /^[\x21-\x7e]{1,128}$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function claimProblems(method: string, claim: string): string[] {
  return CLAIM_NAME.test(claim) && !FORBIDDEN.has(claim) ? [] : [`${method}: claim "${claim}" is not a claim name; allowed: 1 to 128 visible ASCII characters`];
}

/**
 * One condition bound to the caller's verified identity: a document matches only when its metadata agrees with a
 * value read from the caller's verified token. Identity values only ever appear in positive operators (`equals`,
 * `in`, `listContains`, numeric bounds), never in `notEquals` or `startsWith`, and a caller without a usable value
 * gets no results at all.
 */
export class IdentityCondition {
  /** Document `metadataKey` equals the caller's claim (STRING, NUMBER or BOOLEAN key). Example: `claimEquals('tenant', 'custom:tenant')`. */
  public static claimEquals(metadataKey: string, claim: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.CLAIM_EQUALS, metadataKey, claim);
  }

  /** Document `metadataKey` (a STRING or NUMBER) is one of the values of the caller's list claim. */
  public static claimIn(metadataKey: string, claim: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.CLAIM_IN, metadataKey, claim);
  }

  /** Document `metadataKey` (a STRING_LIST) contains any value of the caller's list claim. */
  public static listContainsAnyClaimValue(metadataKey: string, claim: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.LIST_CONTAINS_ANY, metadataKey, claim);
  }

  /**
   * Document `metadataKey` (a STRING_LIST) contains any of the caller's verified groups (the identity's groups
   * claim). One group is one `listContains`; several are an `orAll` of them; no group means no results.
   */
  public static groupsContain(metadataKey: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.GROUPS_CONTAIN, metadataKey);
  }

  /** Document `metadataKey` (a NUMBER) is at most the caller's numeric claim ("year ≤ the caller's clearance year"). */
  public static numberAtMost(metadataKey: string, claim: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.NUMBER_AT_MOST, metadataKey, claim);
  }

  /** Document `metadataKey` (a NUMBER) is at least the caller's numeric claim. */
  public static numberAtLeast(metadataKey: string, claim: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.NUMBER_AT_LEAST, metadataKey, claim);
  }

  /** Document `metadataKey` (a STRING) equals the caller's verified subject (`sub`): per-user documents. */
  public static subjectEquals(metadataKey: string): IdentityCondition {
    return new IdentityCondition(IdentityConditionKind.SUBJECT_EQUALS, metadataKey);
  }

  private constructor(
    /** The kind of condition (`CLAIM_EQUALS`, `GROUPS_CONTAIN`, ...). */
    public readonly kind: string,
    /** The document metadata key. */
    public readonly metadataKey: string,
    /** The token claim read, if any. */
    public readonly claim?: string,
  ) {
    throwIfInvalid('IdentityCondition', claim === undefined ? [] : claimProblems(kind, claim));
  }

  /** The metadata types this condition can be applied to. */
  public get acceptedTypes(): MetadataType[] {
    switch (this.kind) {
      case IdentityConditionKind.CLAIM_EQUALS:
        return [MetadataType.STRING, MetadataType.NUMBER, MetadataType.BOOLEAN];
      case IdentityConditionKind.CLAIM_IN:
        return [MetadataType.STRING, MetadataType.NUMBER];
      case IdentityConditionKind.LIST_CONTAINS_ANY:
      case IdentityConditionKind.GROUPS_CONTAIN:
        return [MetadataType.STRING_LIST];
      case IdentityConditionKind.SUBJECT_EQUALS:
        return [MetadataType.STRING];
      default:
        return [MetadataType.NUMBER];
    }
  }

  /** @internal */
  public _spec(contract: MetadataContract): IdentityConditionSpec {
    const type = contract.typeOf(this.metadataKey);
    const valueType = this.kind === IdentityConditionKind.CLAIM_EQUALS || this.kind === IdentityConditionKind.CLAIM_IN ? type : undefined;
    return {
      kind: this.kind as IdentityConditionKind,
      key: this.metadataKey,
      ...(this.claim !== undefined ? { claim: this.claim } : {}),
      ...(valueType !== undefined ? { valueType } : {}),
    };
  }
}

/** A condition every caller gets, whoever they are (for example "classification is public or internal"). Positive matches only. */
export class StaticCondition {
  /** A STRING key equals a value. */
  public static stringEquals(metadataKey: string, value: string): StaticCondition {
    return new StaticCondition('equals', metadataKey, value, MetadataType.STRING);
  }

  /** A NUMBER key equals a value. */
  public static numberEquals(metadataKey: string, value: number): StaticCondition {
    return new StaticCondition('equals', metadataKey, value, MetadataType.NUMBER);
  }

  /** A BOOLEAN key equals a value. */
  public static booleanEquals(metadataKey: string, value: boolean): StaticCondition {
    return new StaticCondition('equals', metadataKey, value, MetadataType.BOOLEAN);
  }

  /** A STRING key is one of the values (1 to 100). */
  public static stringIn(metadataKey: string, values: string[]): StaticCondition {
    return new StaticCondition('in', metadataKey, [...values], MetadataType.STRING);
  }

  /** A STRING_LIST key contains the value. */
  public static listContains(metadataKey: string, value: string): StaticCondition {
    return new StaticCondition('listContains', metadataKey, value, MetadataType.STRING_LIST);
  }

  /** A NUMBER key is at most the value. */
  public static numberAtMost(metadataKey: string, value: number): StaticCondition {
    return new StaticCondition('lessThanOrEquals', metadataKey, value, MetadataType.NUMBER);
  }

  /** A NUMBER key is at least the value. */
  public static numberAtLeast(metadataKey: string, value: number): StaticCondition {
    return new StaticCondition('greaterThanOrEquals', metadataKey, value, MetadataType.NUMBER);
  }

  private constructor(
    private readonly operator: StaticOperator,
    /** The document metadata key. */
    public readonly metadataKey: string,
    private readonly value: string | number | boolean | string[],
    /** The metadata type the condition applies to. */
    public readonly metadataType: MetadataType,
  ) {
    const errors: string[] = [];
    if (typeof value === 'number' && !Number.isFinite(value)) errors.push(`value of "${metadataKey}" is ${value}; allowed: a finite number`);
    if (typeof value === 'string' && value.length === 0) errors.push(`value of "${metadataKey}" is empty; allowed: a non-empty string`);
    if (Array.isArray(value) && (value.length === 0 || value.length > MAX_VALUES_PER_CONDITION || value.some((v) => v.length === 0))) {
      errors.push(`values of "${metadataKey}" has ${value.length} entries; allowed: 1 to ${MAX_VALUES_PER_CONDITION} non-empty strings`);
    }
    throwIfInvalid('StaticCondition', errors);
  }

  /** @internal */
  public _spec(): StaticConditionSpec {
    return { operator: this.operator, key: this.metadataKey, value: Array.isArray(this.value) ? [...this.value] : this.value };
  }
}

/** Props of {@link RetrievalFilterPolicy}. */
export interface RetrievalFilterPolicyProps {
  /** Conditions bound to the caller's verified identity (at least one: an identity filter is never optional). */
  readonly identityConditions: IdentityCondition[];
  /**
   * Conditions every caller gets.
   * @default - none
   */
  readonly staticConditions?: StaticCondition[];
  /**
   * Most values one identity condition may carry (groups, list claim values), 1 to 100. A caller with more is
   * denied, never truncated.
   * @default 50
   */
  readonly maxValuesPerCondition?: number;
}

/**
 * A typed mapping from verified claims to a Bedrock retrieval filter. Every Retrieve call of the knowledge retriever
 * carries all identity conditions as top-level `andAll` members, then the static conditions, then the caller's
 * optional narrowing filter: a caller filter can only narrow, never widen, and never replaces the identity part.
 */
export class RetrievalFilterPolicy {
  /** The identity conditions, in order. */
  public readonly identityConditions: IdentityCondition[];
  /** The static conditions, in order. */
  public readonly staticConditions: StaticCondition[];
  /** Most values per identity condition. */
  public readonly maxValuesPerCondition: number;

  public constructor(props: RetrievalFilterPolicyProps) {
    this.identityConditions = [...props.identityConditions];
    this.staticConditions = [...(props.staticConditions ?? [])];
    this.maxValuesPerCondition = props.maxValuesPerCondition ?? DEFAULT_MAX_VALUES_PER_CONDITION;
    throwIfInvalid('RetrievalFilterPolicy', [
      ...(this.identityConditions.length === 0 ? ['identityConditions is empty; allowed: at least one identity condition (an identity filter is never optional)'] : []),
      ...validateInteger('maxValuesPerCondition', this.maxValuesPerCondition, 1, MAX_VALUES_PER_CONDITION),
    ]);
  }

  /**
   * Every problem with applying this policy to documents of a metadata contract: each key must be declared, with a
   * type the condition can be applied to. Empty when the policy fits.
   */
  public validateAgainst(contract: MetadataContract): string[] {
    const errors: string[] = [];
    for (const c of this.identityConditions) {
      const type = contract.typeOf(c.metadataKey);
      if (type === undefined) errors.push(`identity condition ${c.kind} uses metadata key "${c.metadataKey}", which the metadata contract does not declare (declared: ${contract.keys.join(', ')})`);
      else if (!c.acceptedTypes.includes(type)) errors.push(`identity condition ${c.kind} on "${c.metadataKey}" needs a ${c.acceptedTypes.join(' or ')} key; the contract declares ${type}`);
    }
    for (const s of this.staticConditions) {
      const type = contract.typeOf(s.metadataKey);
      if (type === undefined) errors.push(`static condition uses metadata key "${s.metadataKey}", which the metadata contract does not declare`);
      else if (type !== s.metadataType) errors.push(`static condition on "${s.metadataKey}" needs a ${s.metadataType} key; the contract declares ${type}`);
    }
    return errors;
  }

  /** @internal */
  public _spec(contract: MetadataContract, callerFilterKeys: string[]): FilterPolicySpec {
    return {
      version: 1,
      identityConditions: this.identityConditions.map((c) => c._spec(contract)),
      staticConditions: this.staticConditions.map((s) => s._spec()),
      callerFilterKeys: [...callerFilterKeys],
      maxValuesPerCondition: this.maxValuesPerCondition,
    };
  }
}
