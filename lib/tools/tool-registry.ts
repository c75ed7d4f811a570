import { Token } from 'aws-cdk-lib';
import {
  RiskClass as RuntimeRiskClass,
  ToolCapability as RuntimeToolCapability,
  ToolRegistryDocument,
  gatewayToolNameOf,
  registeredToolProblems,
} from '../../lambda/tool-interceptor/registry';
import { throwIfInvalid } from '../private/validation';

/**
 * How much harm a tool can do, declared by the deployer (never by the MCP server). The default tool policy lets
 * allowed groups call LOW and MEDIUM tools, and requires an approval of the exact call for HIGH and CRITICAL ones.
 * A server's annotations can only raise a tool's class (`destructiveHint` → at least HIGH), never lower it.
 */
export enum RiskClass {
  /** Reads public or low-value data; no side effects. */
  LOW = 'LOW',
  /** Reads internal data or has reversible side effects. */
  MEDIUM = 'MEDIUM',
  /** Irreversible or externally visible side effects (writes, sends, deletes). Needs an approval by default. */
  HIGH = 'HIGH',
  /** Money, access, production: needs an approval, and is forbidden once the session took in untrusted content. */
  CRITICAL = 'CRITICAL',
}

/** Capability labels of a tool: the three legs of the lethal trifecta. */
export enum ToolCapability {
  /** The tool reads private or sensitive data (records, mail, files, secrets). */
  SENSITIVE_DATA = 'SENSITIVE_DATA',
  /** The tool returns content someone other than the user controls (web pages, inbound mail, tickets). */
  UNTRUSTED_CONTENT = 'UNTRUSTED_CONTENT',
  /** The tool can send data out or act on the outside world (HTTP, mail, messages, writes). */
  EXTERNAL_ACCESS = 'EXTERNAL_ACCESS',
}

/** An unlabeled tool counts as having every capability (fail closed). */
const ALL_CAPABILITIES: readonly ToolCapability[] = [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT, ToolCapability.EXTERNAL_ACCESS];

/** What the deployer declares about one tool. These are the only tool attributes authorization ever uses. */
export interface ToolRegistration {
  /** The tool's name as its server declares it (1 to 128 of `A-Z a-z 0-9 _ - .`). */
  readonly name: string;
  /** The gateway target that serves the tool (letters and digits with single dashes); also the pin's server id. */
  readonly target: string;
  /** The tool's risk class. */
  readonly risk: RiskClass;
  /**
   * Capability labels, for the lethal-trifecta analysis and the trifecta forbid of the default policy. Pass `[]`
   * for a tool that has none of the three; an unlabeled tool is treated as having all three, at synth and at run time.
   * @default - unlabeled: SENSITIVE_DATA, UNTRUSTED_CONTENT and EXTERNAL_ACCESS
   */
  readonly capabilities?: ToolCapability[];
  /** Who answers for the tool: a team or person id (1 to 256 visible characters). */
  readonly owner: string;
  /**
   * Groups (from the verified token's groups claim) that the default policy lets call the tool.
   * @default - no group: nobody may call the tool under the default policy
   */
  readonly allowedGroups?: string[];
  /**
   * The tool's input schema, in the strict subset the interceptor enforces (types, enums, lengths, required,
   * `additionalProperties: false` implied; unsupported keywords fail the synth).
   * @default - arguments are checked only for plain JSON data and forbidden keys; the target validates them
   */
  readonly inputSchema?: { [key: string]: any };
  /**
   * The pin (SHA-256 hex) of the tool's reviewed definition on its server, as `cdk-ai-defense scan-tools --server
   * <target>` prints it.
   * @default - the tool is pinned only if a `ToolPinning` pins it
   */
  readonly pin?: string;
}

/**
 * The deployed tool registry: the risk class, capability labels, owner, allowed groups, input schema and pin of
 * every tool a gateway exposes. Validated at synth; serialized for the tool interceptor with {@link toJson}.
 * Unknown tools are denied at run time, so a tool that is not registered cannot be called.
 */
export class ToolRegistry {
  private readonly registrations: ToolRegistration[] = [];
  private readonly names = new Set<string>();

  /** @param registrations tools to register at once (each is validated as by {@link register}) */
  public constructor(registrations: ToolRegistration[] = []) {
    for (const r of registrations) this.register(r);
  }

  /**
   * Registers one tool. Throws, naming the bad value and what is allowed, for an invalid name, target, owner, group,
   * capability, schema or pin, and for a tool registered twice on the same target.
   */
  public register(registration: ToolRegistration): ToolRegistry {
    const unresolved = (['name', 'target', 'owner', 'pin'] as const).filter((k) => typeof registration[k] === 'string' && Token.isUnresolved(registration[k]));
    const serialized = this.serialize(registration);
    const errors = unresolved.length > 0
      ? unresolved.map((k) => `${k} is a token; allowed: a literal string (tool attributes are fixed at synth)`)
      : registeredToolProblems(serialized, `tool ${JSON.stringify(registration.name)}`);
    if (errors.length === 0 && this.names.has(gatewayToolNameOf(registration))) {
      errors.push(`tool ${JSON.stringify(registration.name)} is already registered on target ${JSON.stringify(registration.target)}`);
    }
    throwIfInvalid('ToolRegistry', errors);
    this.names.add(gatewayToolNameOf(registration));
    this.registrations.push(registration);
    return this;
  }

  /** The registered tools, in registration order. */
  public get tools(): ToolRegistration[] {
    return [...this.registrations];
  }

  /** The names under which the gateway lists and calls the tools (`<target>___<name>`). */
  public get gatewayToolNames(): string[] {
    return this.registrations.map((r) => gatewayToolNameOf(r));
  }

  /** The serialized registry the tool interceptor reads (`lambda/tool-interceptor/registry.ts`). */
  public toDocument(): { [key: string]: any } {
    const doc: ToolRegistryDocument = { version: 1, tools: this.registrations.map((r) => this.serialize(r) as unknown as ToolRegistryDocument["tools"][number]) };
    return doc;
  }

  /** {@link toDocument} as JSON text. */
  public toJson(): string {
    return JSON.stringify(this.toDocument());
  }

  private serialize(r: ToolRegistration): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: r.name,
      target: r.target,
      risk: r.risk as string as RuntimeRiskClass,
      capabilities: [...(r.capabilities ?? ALL_CAPABILITIES)].map((c) => c as string as RuntimeToolCapability),
      owner: r.owner,
      allowedGroups: [...(r.allowedGroups ?? [])],
    };
    if (r.inputSchema !== undefined) out.inputSchema = r.inputSchema;
    if (r.pin !== undefined) out.pin = r.pin;
    return out;
  }
}
