import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { RiskClass as RuntimeRiskClass, riskLevel } from '../../lambda/tool-interceptor/registry';
import { RiskClass, ToolCapability, ToolRegistry } from '../tools/tool-registry';
import { internetPathsOf } from './private/network-egress';

/**
 * Something an agent or a gateway can reach: a tool (gateway tool, local tool), a direct grant on a data store, or a
 * network path. The `LethalTrifecta` analysis unions the capabilities of everything a subject reaches.
 */
export interface ReachableTool {
  /** The tool's name as the subject calls it (for a gateway tool `<Target>___<tool>`), or a name for the path. */
  readonly name: string;
  /**
   * The tool's own capability labels. An empty list declares "none of the three".
   * @default - unlabeled: the tool counts as all three capabilities
   */
  readonly capabilities?: ToolCapability[];
  /**
   * Constructs behind the tool (its gateway target, the knowledge bases or memory it reads). Their capability
   * labels, or for an `ITrifectaSource` its default capabilities, add to the tool's own. A construct that says
   * nothing about itself adds nothing.
   * @default - no sources
   */
  readonly sources?: IConstruct[];
  /**
   * Whether every call waits for a human approval of that exact call (or the tool never runs without one). A
   * network path never requires approval.
   */
  readonly requiresApproval: boolean;
  /**
   * How the subject reaches it, for messages (for example `gateway App/Gateway`).
   * @default - reached directly
   */
  readonly via?: string;
}

/**
 * An agent or a gateway: something that one session of a model drives, and that may therefore combine what it
 * reaches. The `LethalTrifecta` aspect analyzes every construct that implements this interface.
 */
export interface ITrifectaSubject extends IConstruct {
  /**
   * Everything the subject can reach. Called at synth time, once the app is complete, so tools added after the
   * construct was created are included.
   */
  trifectaReach(): ReachableTool[];
}

/** Options of {@link TrifectaReach.fromToolRegistry}. */
export interface ToolRegistryReachOptions {
  /**
   * How the tools are reached, for messages (for example `gateway App/Gateway`).
   * @default - none
   */
  readonly via?: string;
  /**
   * The lowest risk class whose calls need an approval of the exact call under the gateway's policy. For the
   * default `ToolPolicy` (with or without additional policies: its forbid wins over any permit) this is
   * `RiskClass.HIGH`. Say nothing for a policy of your own: the analysis then assumes no approval.
   * @default - no tool counts as requiring approval
   */
  readonly approvalFromRisk?: RiskClass;
  /**
   * Constructs behind each gateway target, by target name (for example the `KnowledgeRetriever` and its knowledge
   * bases); they become the `sources` of every tool of that target.
   * @default - no sources
   */
  readonly targetSources?: { [target: string]: IConstruct[] };
}

/** Builders of {@link ReachableTool} lists for the usual cases: a tool registry, a subset of a gateway, a network. */
export class TrifectaReach {
  /**
   * The tools of a {@link ToolRegistry} as a gateway exposes them (`<target>___<name>`). A registration without
   * `capabilities` is unlabeled (all three); `capabilities: []` declares none.
   */
  public static fromToolRegistry(registry: ToolRegistry, options: ToolRegistryReachOptions = {}): ReachableTool[] {
    const level = (risk: RiskClass) => riskLevel(risk as string as RuntimeRiskClass);
    const threshold = options.approvalFromRisk === undefined ? undefined : level(options.approvalFromRisk);
    return registry.tools.map((t, i) => ({
      name: registry.gatewayToolNames[i],
      capabilities: t.capabilities === undefined ? undefined : [...t.capabilities],
      sources: [...(options.targetSources?.[t.target] ?? [])],
      // The interceptor can only raise a tool's risk (annotations), never lower it: the registered class is a floor.
      requiresApproval: threshold !== undefined && threshold >= 0 && level(t.risk) >= threshold,
      via: options.via,
    }));
  }

  /**
   * The part of another subject's reach that an allowlist selects: an agent's gateway tools. A name the other
   * subject does not have counts as an unlabeled tool (all three), so a typo never hides a tool.
   * @param subject the gateway (or other subject) the names are looked up in
   * @param names the allowlisted tool names, as the subject lists them
   * @param via how the caller reaches the subject, for messages; default: the entries keep their own `via`
   */
  public static through(subject: ITrifectaSubject, names: string[], via?: string): ReachableTool[] {
    const reach = subject.trifectaReach();
    return names.flatMap((name) => {
      const found = reach.filter((r) => r.name === name);
      if (found.length === 0) return [{ name, requiresApproval: false, via: `${via ?? subject.node.path}, which has no tool of that name` }];
      return found.map((r) => ({ ...r, via: via === undefined ? (r.via ?? subject.node.path) : r.via ? `${via} → ${r.via}` : via }));
    });
  }

  /**
   * The network paths from a Lambda function to the internet, as one external-access entry that no approval can
   * cover (empty when there is none). Counted: a function outside any VPC (Lambda's default networking reaches the
   * internet); a function in a subnet with a default route or a route to a NAT, internet, egress-only or carrier
   * gateway (for example the egress subnets of `PrivateAiNetwork({ unsafeAllowInternetEgress: true })`). Fail closed:
   * a function, VPC configuration or subnet the app does not define counts, unless the imported subnet carries a
   * capability label without EXTERNAL_ACCESS.
   */
  public static networkEgressOf(fn: lambda.IFunction): ReachableTool[] {
    const paths = internetPathsOf(fn);
    if (paths.length === 0) return [];
    return [{ name: 'network egress', capabilities: [ToolCapability.EXTERNAL_ACCESS], requiresApproval: false, via: paths.join('; ') }];
  }

  private constructor() {}
}
