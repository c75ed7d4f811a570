import { Token } from 'aws-cdk-lib';
import { sha256Hex } from '../../lambda/shared/canonical-json';
import {
  DEFAULT_TOOL_POLICIES,
  IdentifiedPolicies,
  TOOL_POLICY_NAMESPACE,
  TOOL_POLICY_SCHEMA,
  ToolPolicyDocument,
  identifyPolicies,
  toolPolicyProblems,
} from '../../lambda/tool-interceptor/cedar';
import { readTextFile } from './private/json-file';

/** Options of {@link ToolPolicy.defaultPolicy}. */
export interface DefaultToolPolicyOptions {
  /**
   * More Cedar policies, appended to the default set and validated with it (for example a `forbid` for one tool,
   * or a `permit` that lets a group call a HIGH tool without approval). A `forbid` always wins over any `permit`.
   * @default - the default set only
   */
  readonly additionalPolicies?: string;
}

/**
 * The Cedar policies that authorize every `tools/call` through a guarded gateway, validated in strict mode against
 * the library's schema at synth time (an invalid policy set fails `cdk synth` with Cedar's diagnostics).
 *
 * The schema ({@link ToolPolicy.SCHEMA}): principal `CdkAiDefense::User` (id = the token's `sub`; attributes `sub`,
 * `iss`, `groups`, `scopes`, optional `clientId`; the token's string claims as tags; member of `CdkAiDefense::Group`
 * entities named after its groups), resource `CdkAiDefense::Tool` (id `<target>___<tool>`; `name`, `target`, `risk`,
 * `riskLevel` 0–3, `owner`, `capabilities`, `allowedGroups`, all from the {@link ToolRegistry}), action
 * `CdkAiDefense::Action::"invoke"`, context `{ approved, argumentsHash, sessionCapabilities }`.
 *
 * At run time the interceptor parses the policies once per container; default deny, forbid wins, and any
 * evaluation error, warning or malformed answer is a deny.
 */
export class ToolPolicy {
  /** The Cedar schema every tool policy is validated against. */
  public static readonly SCHEMA: string = TOOL_POLICY_SCHEMA;

  /** The Cedar namespace of the schema's entity types and action. */
  public static readonly NAMESPACE: string = TOOL_POLICY_NAMESPACE;

  /** The policies of {@link ToolPolicy.defaultPolicy} (without additions). */
  public static readonly DEFAULT_POLICIES: string = DEFAULT_TOOL_POLICIES;

  /**
   * The default policy set: LOW and MEDIUM tools for users in one of the tool's allowed groups; HIGH and CRITICAL
   * tools only with an approval of the exact call; CRITICAL tools never after the session took in untrusted
   * content; no call that completes the lethal trifecta without an approval; everything else denied.
   */
  public static defaultPolicy(options: DefaultToolPolicyOptions = {}): ToolPolicy {
    const extra = options.additionalPolicies;
    if (extra !== undefined && (typeof extra !== 'string' || Token.isUnresolved(extra))) {
      throw new Error('ToolPolicy: additionalPolicies must be literal Cedar text (tokens are not allowed)');
    }
    return new ToolPolicy(extra && extra.trim() !== '' ? `${DEFAULT_TOOL_POLICIES}\n${extra}` : DEFAULT_TOOL_POLICIES, 'defaultPolicy');
  }

  /** Your own policy set, as Cedar text. Name policies with `@id("…")` so logs can say which one decided. */
  public static fromCedar(policies: string): ToolPolicy {
    if (typeof policies !== 'string' || Token.isUnresolved(policies)) {
      throw new Error('ToolPolicy.fromCedar: policies must be literal Cedar text (tokens are not allowed)');
    }
    return new ToolPolicy(policies, 'fromCedar');
  }

  /** Your own policy set, read from a `.cedar` file at synth time. */
  public static fromFile(file: string): ToolPolicy {
    return new ToolPolicy(readTextFile('ToolPolicy.fromFile', file), `fromFile(${file})`);
  }

  /** The Cedar policy text. */
  public readonly policyText: string;
  /** The Cedar schema text (always {@link ToolPolicy.SCHEMA}). */
  public readonly schemaText: string = TOOL_POLICY_SCHEMA;
  /** The policy ids (`@id` annotations, else `policy<N>`), in order. */
  public readonly policyIds: string[];
  /** SHA-256 hex of the policy text (changes whenever a policy changes). */
  public readonly sha256: string;

  private constructor(policyText: string, origin: string) {
    const problems = toolPolicyProblems(policyText);
    if (problems.length > 0) {
      throw new Error(
        `ToolPolicy.${origin}: the Cedar policies fail strict validation against the ${TOOL_POLICY_NAMESPACE} schema:\n  - ${problems.join('\n  - ')}`,
      );
    }
    this.policyText = policyText;
    this.policyIds = [...(identifyPolicies(policyText) as IdentifiedPolicies).ids];
    this.sha256 = sha256Hex(policyText);
  }

  /** The serialized policy the tool interceptor reads (`parseToolPolicyDocument`). */
  public toDocument(): { [key: string]: any } {
    const doc: ToolPolicyDocument = { version: 1, policies: this.policyText };
    return doc;
  }

  /** {@link toDocument} as JSON text. */
  public toJson(): string {
    return JSON.stringify(this.toDocument());
  }
}
