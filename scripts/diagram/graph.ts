/**
 * Builds the architecture picture of a synthesized stack: one node per top-level construct of the stack, grouped by
 * the library area its class comes from, and one edge wherever a resource of one construct references a resource
 * of another (Ref, Fn::GetAtt, or an ARN built from them). It reads the construct tree and the resolved template,
 * so the picture is of what is actually deployed, not of what a comment says.
 */
import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface DiagramNode {
  readonly id: string;
  readonly label: string;
  readonly group: string;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
}

export interface Diagram {
  readonly nodes: DiagramNode[];
  readonly edges: DiagramEdge[];
}

/** Library areas in the order of the architecture's phases, with the picture's cluster titles. */
export const AREA_TITLES: Array<[string, string]> = [
  ['edge', 'Edge'],
  ['network', 'Private network'],
  ['observability', 'Visibility'],
  ['guardrails', 'Guardrails'],
  ['knowledge', 'Knowledge'],
  ['memory', 'Memory'],
  ['tools', 'Tools'],
  ['agents', 'Agents'],
  ['analysis', 'Analysis'],
  ['other', 'Application'],
];

function descendants(c: IConstruct): IConstruct[] {
  return [c, ...c.node.children.flatMap(descendants)];
}

function referencedLogicalIds(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) referencedLogicalIds(v, out);
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') out.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt']) && typeof o['Fn::GetAtt'][0] === 'string') out.add(o['Fn::GetAtt'][0]);
    for (const v of Object.values(o)) referencedLogicalIds(v, out);
  }
}

/**
 * @param stack the stack to draw
 * @param areaOf the library area a construct's class belongs to (e.g. 'network'), or undefined for other constructs
 */
export function architectureDiagram(stack: Stack, areaOf: (c: IConstruct) => string | undefined): Diagram {
  // Stack-wide plumbing (custom-resource providers, the shared log key) would tie every node to every other.
  const plumbing = (id: string) => id.startsWith('Custom::') || /^AWS[0-9a-f]{32}$/.test(id) || id === 'CdkAiDefenseLogKey' || id === 'CdkLogGroupLogsDeliveryPolicy' || id.startsWith('CdkAiDefenseJwksPin');
  const template = stack.resolve((stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation()) as {
    Resources?: Record<string, { Properties?: unknown; DependsOn?: unknown }>;
  };
  const owner = new Map<string, string>(); // logical id → top-level construct id
  const nodes: DiagramNode[] = [];
  for (const top of stack.node.children) {
    if (plumbing(top.node.id)) continue;
    const resources = descendants(top).filter((c): c is CfnElement => CfnElement.isCfnElement(c));
    if (!resources.some((r) => CfnResource.isCfnResource(r))) continue;
    for (const r of resources) owner.set(stack.getLogicalId(r), top.node.id);
    const area = areaOf(top);
    const kind = area ? top.constructor.name : top.constructor.name.replace(/\d+$/, '');
    nodes.push({ id: top.node.id, label: kind === top.node.id ? kind : `${top.node.id}\\n(${kind})`, group: area ?? 'other' });
  }
  const edges = new Map<string, DiagramEdge>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const from = owner.get(logicalId);
    if (!from) continue;
    const refs = new Set<string>();
    referencedLogicalIds(resource.Properties, refs);
    for (const ref of refs) {
      const to = owner.get(ref);
      if (to && to !== from) edges.set(`${from}->${to}`, { from, to });
    }
  }
  return {
    nodes: nodes.sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...edges.values()].sort((a, b) => `${a.from}->${a.to}`.localeCompare(`${b.from}->${b.to}`)),
  };
}

/** Graphviz DOT text of a diagram, deterministic (sorted), one cluster per area. */
export function toDot(diagram: Diagram, title: string): string {
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  const lines = [
    `digraph ${q(title)} {`,
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t, label=' + q(title) + ', nodesep=0.3, ranksep=0.8];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica", fontsize=10];',
    '  edge [color="#7a869a", arrowsize=0.6];',
  ];
  for (const [area, areaTitle] of AREA_TITLES) {
    const inArea = diagram.nodes.filter((n) => n.group === area);
    if (inArea.length === 0) continue;
    lines.push(`  subgraph ${q(`cluster_${area}`)} {`, `    label=${q(areaTitle)}; style="rounded"; color="#c1c7d0";`);
    for (const n of inArea) lines.push(`    ${q(n.id)} [label=${q(n.label)}];`);
    lines.push('  }');
  }
  for (const e of diagram.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
