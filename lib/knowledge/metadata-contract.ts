import {
  MAX_CONTRACT_FIELDS,
  MetadataContractSpec,
  MetadataFieldSpec,
  fieldProblems,
  parseMetadataContract,
  validateMetadataSidecar,
} from '../../lambda/metadata-check/contract';
import { throwIfInvalid } from '../private/validation';

/** Type of a document metadata attribute, as Bedrock Knowledge Bases stores and filters it. */
export enum MetadataType {
  /** A string. */
  STRING = 'STRING',
  /** A number. */
  NUMBER = 'NUMBER',
  /** A boolean. */
  BOOLEAN = 'BOOLEAN',
  /** A list of strings (for example the groups that may read a document). */
  STRING_LIST = 'STRING_LIST',
}

/** Options of a declared metadata field. */
export interface MetadataFieldOptions {
  /**
   * Whether every document must carry the key. A document without a required key is quarantined at ingestion.
   * @default true
   */
  readonly required?: boolean;
  /**
   * STRING and STRING_LIST: the only values allowed (for a list, for each item).
   * @default - any value
   */
  readonly allowedValues?: string[];
  /**
   * STRING and STRING_LIST: a regular expression the whole value (each item) must match.
   * @default - no pattern
   */
  readonly pattern?: string;
  /**
   * STRING and STRING_LIST: the longest value (item), 1 to 2048 characters.
   * @default 1024
   */
  readonly maxLength?: number;
  /**
   * NUMBER: the smallest value allowed.
   * @default - no minimum
   */
  readonly minimum?: number;
  /**
   * NUMBER: the largest value allowed.
   * @default - no maximum
   */
  readonly maximum?: number;
  /**
   * NUMBER: only whole numbers.
   * @default false
   */
  readonly integer?: boolean;
  /**
   * STRING_LIST: the most items (a list always needs at least one).
   * @default 100
   */
  readonly maxItems?: number;
}

/** One metadata key every document of a knowledge base carries (or may carry), with its type and rules. */
export class MetadataField {
  /** A string attribute (for example `tenant`, `classification`). */
  public static string(key: string, options: MetadataFieldOptions = {}): MetadataField {
    return new MetadataField(key, MetadataType.STRING, options);
  }

  /** A number attribute (for example `year`). */
  public static number(key: string, options: MetadataFieldOptions = {}): MetadataField {
    return new MetadataField(key, MetadataType.NUMBER, options);
  }

  /** A boolean attribute. */
  public static boolean(key: string, options: MetadataFieldOptions = {}): MetadataField {
    return new MetadataField(key, MetadataType.BOOLEAN, options);
  }

  /** A string-list attribute (for example `groups`). */
  public static stringList(key: string, options: MetadataFieldOptions = {}): MetadataField {
    return new MetadataField(key, MetadataType.STRING_LIST, options);
  }

  /** Whether every document must carry the key. */
  public readonly required: boolean;

  private constructor(
    /** The metadata key. */
    public readonly key: string,
    /** The value type. */
    public readonly type: MetadataType,
    private readonly options: MetadataFieldOptions,
  ) {
    this.required = options.required ?? true;
    throwIfInvalid(`MetadataField "${key}"`, fieldProblems(this._spec(), 'field'));
  }

  /** @internal */
  public _spec(): MetadataFieldSpec {
    const o = this.options;
    return {
      key: this.key,
      type: this.type,
      required: this.required,
      ...(o.allowedValues !== undefined ? { allowedValues: [...o.allowedValues] } : {}),
      ...(o.pattern !== undefined ? { pattern: o.pattern } : {}),
      ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
      ...(o.minimum !== undefined ? { minimum: o.minimum } : {}),
      ...(o.maximum !== undefined ? { maximum: o.maximum } : {}),
      ...(o.integer !== undefined ? { integer: o.integer } : {}),
      ...(o.maxItems !== undefined ? { maxItems: o.maxItems } : {}),
    };
  }
}

/** Options of {@link MetadataContract.of}. */
export interface MetadataContractOptions {
  /**
   * Accept sidecars with keys the contract does not declare (their values must still be simple values).
   * @default false - an undeclared key quarantines the document
   */
  readonly allowUndeclaredKeys?: boolean;
}

/**
 * The metadata contract of a knowledge base: which keys every document's `<document>.metadata.json` sidecar must
 * carry, and their types. Metadata is document-level (every chunk inherits it), at most 10 KB per sidecar, and
 * reaches the index only after a data-source sync.
 *
 * The ingestion check of `SecureKnowledgeBase` enforces it; `RetrievalFilterPolicy` is validated against it at
 * synth; and `validateSidecar` runs the very same validator in CI.
 */
export class MetadataContract {
  /** A contract of 1 to 20 fields with distinct keys. */
  public static of(fields: MetadataField[], options: MetadataContractOptions = {}): MetadataContract {
    return new MetadataContract(fields, options.allowUndeclaredKeys ?? false);
  }

  /** The declared fields. */
  public readonly fields: MetadataField[];

  private constructor(
    fields: MetadataField[],
    /** Whether undeclared keys are accepted. */
    public readonly allowUndeclaredKeys: boolean,
  ) {
    const errors: string[] = [];
    if (fields.length === 0 || fields.length > MAX_CONTRACT_FIELDS) errors.push(`fields has ${fields.length} entries; allowed: 1 to ${MAX_CONTRACT_FIELDS}`);
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f.key)) errors.push(`key "${f.key}" is declared twice; allowed: each key once`);
      seen.add(f.key);
    }
    throwIfInvalid('MetadataContract', errors);
    this.fields = [...fields];
  }

  /** The declared keys, in declaration order. */
  public get keys(): string[] {
    return this.fields.map((f) => f.key);
  }

  /** The type of a declared key, or undefined. */
  public typeOf(key: string): MetadataType | undefined {
    return this.fields.find((f) => f.key === key)?.type;
  }

  /**
   * Validates a metadata sidecar's text against this contract, exactly as the ingestion check does (use it in CI
   * before uploading). Returns the problems found (key names and rules, never values); empty when valid.
   */
  public validateSidecar(sidecarJson: string): string[] {
    const r = validateMetadataSidecar(this._spec(), sidecarJson);
    return r.valid ? [] : [...r.problems];
  }

  /** @internal */
  public _spec(): MetadataContractSpec {
    return parseMetadataContract({ version: 1, fields: this.fields.map((f) => f._spec()), allowUndeclaredKeys: this.allowUndeclaredKeys });
  }
}
