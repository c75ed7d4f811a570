import { IConstruct } from 'constructs';
import { ToolCapability } from '../tools/tool-registry';
import { throwIfInvalid } from '../private/validation';
import { ALL_CAPABILITIES, capabilityProblems, normalizeCapabilities } from './private/capabilities';

/**
 * A construct that holds or reaches data and knows what it is when nobody labelled it: a knowledge base, a memory, a
 * gateway target that reads from them. The `LethalTrifecta` analysis adds a source's capabilities to every tool that
 * reaches it. An explicit {@link CapabilityLabels.label} replaces this default.
 */
export interface ITrifectaSource extends IConstruct {
  /**
   * The capabilities this construct gives whoever reaches it, when it carries no explicit label. Return the
   * conservative answer (a knowledge base or a memory: sensitive data and untrusted content).
   */
  trifectaCapabilities(): ToolCapability[];
}

/** The node-metadata type under which labels are recorded (it also lands in the cloud assembly, for audits). */
const LABEL_METADATA_TYPE = 'cdk-ai-defense:capability-labels';

/**
 * Capability labels: the three legs of the lethal trifecta (sensitive data, untrusted content, external access),
 * declared on the constructs that tools, knowledge bases, memory and networks are made of. Labels are recorded as
 * node metadata, so they also appear in the synthesized cloud assembly.
 *
 * A label declares what the analysis cannot see for itself (what data a store holds, what a tool's backend does).
 * It never overrides what the analysis can see: routes to the internet are read from the app's subnets.
 */
export class CapabilityLabels {
  /** All three capabilities, in a fixed order: what an unlabeled tool counts as. */
  public static all(): ToolCapability[] {
    return [...ALL_CAPABILITIES];
  }

  /**
   * Declares the capabilities of a construct: a tool's backend (a Lambda function, a gateway target), a knowledge
   * base, a memory, or an imported subnet. Labels accumulate over calls; an empty list declares "none of the three".
   * Throws, naming the bad value, for a value that is not a {@link ToolCapability}.
   */
  public static label(scope: IConstruct, capabilities: ToolCapability[]): void {
    throwIfInvalid('CapabilityLabels.label', capabilityProblems(capabilities, `capabilities of ${scope.node.path}`));
    scope.node.addMetadata(LABEL_METADATA_TYPE, normalizeCapabilities(capabilities, 'capabilities'));
  }

  /** The explicit label of a construct (the union of every {@link label} call), or undefined when it has none. */
  public static of(scope: IConstruct): ToolCapability[] | undefined {
    const entries = scope.node.metadata.filter((m) => m.type === LABEL_METADATA_TYPE);
    if (entries.length === 0) return undefined;
    return normalizeCapabilities(entries.flatMap((m) => m.data as ToolCapability[]), `label of ${scope.node.path}`);
  }

  /**
   * What a construct contributes: its explicit label; else, for an {@link ITrifectaSource}, its own default; else
   * undefined (the construct says nothing about itself). Throws when a source returns something that is not a
   * list of capabilities.
   */
  public static effective(scope: IConstruct): ToolCapability[] | undefined {
    const label = CapabilityLabels.of(scope);
    if (label !== undefined) return label;
    if (CapabilityLabels.isSource(scope)) return normalizeCapabilities(scope.trifectaCapabilities(), `trifectaCapabilities() of ${scope.node.path}`);
    return undefined;
  }

  /**
   * The union of the {@link effective} capabilities of several constructs; a construct that says nothing about
   * itself contributes nothing. Meant for a gateway target that reads from knowledge bases or a memory, to
   * implement {@link ITrifectaSource.trifectaCapabilities}.
   */
  public static unionOf(scopes: IConstruct[]): ToolCapability[] {
    return normalizeCapabilities(scopes.flatMap((s) => CapabilityLabels.effective(s) ?? []), 'capabilities');
  }

  /** Whether a value implements {@link ITrifectaSource}. */
  public static isSource(x: any): x is ITrifectaSource {
    return typeof x === 'object' && x !== null && typeof x.trifectaCapabilities === 'function' && typeof x.node === 'object';
  }

  private constructor() {}
}
