import { Construct } from 'constructs';
import { ITrifectaSubject, ReachableTool } from '../../analysis/trifecta-reach';
import { ToolCapability } from '../../tools/tool-registry';

/** What one agent step of a workflow reaches, as the `LethalTrifecta` analysis sees it. */
export interface WorkflowAgentReachProps {
  /** The step's agent (its tools and its function's network paths). */
  readonly agent: ITrifectaSubject;
  /** The workflow data the step puts in the prompt, with its capabilities. */
  readonly inputs: Array<{ name: string; capabilities: ToolCapability[] }>;
}

/**
 * One agent step of a workflow as a lethal-trifecta subject: the agent's own reach (its tools, its network) plus the
 * data the step gives it. What one agent passes on to the next is an input of that next agent, so the analysis sees
 * each step with exactly what its model session can combine.
 */
export class WorkflowAgentReach extends Construct implements ITrifectaSubject {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: WorkflowAgentReachProps,
  ) {
    super(scope, id);
  }

  public trifectaReach(): ReachableTool[] {
    const path = this.props.agent.node.path;
    return [
      ...this.props.agent.trifectaReach(),
      ...this.props.inputs.map((i) => ({ name: `input ${i.name}`, capabilities: [...i.capabilities], requiresApproval: false, via: `workflow data in the prompt of ${path}` })),
    ];
  }
}
