/**
 * The security-operations example's tools: one source for the handler (which validates every call against these
 * schemas again) and the constructs (which give them to the agents as local tools). Pure data.
 *
 * Each tool's capabilities for the lethal-trifecta analysis are declared here too, as the names of
 * `ToolCapability` (`lib/tools/tool-registry.ts`).
 */

/** The tool names. */
export const SocToolName = {
  LOOKUP_IP_REPUTATION: 'lookup_ip_reputation',
  LOOKUP_ASSET_OWNER: 'lookup_asset_owner',
  CREATE_TICKET: 'create_ticket',
  BLOCK_IP: 'block_ip',
} as const;
export type SocToolName = (typeof SocToolName)[keyof typeof SocToolName];

/** Every tool name, in a fixed order. */
export const SOC_TOOL_NAMES: readonly SocToolName[] = Object.freeze(Object.values(SocToolName));

/** A tool as the agent loop offers it to the model (MCP-style definition). */
export interface SocToolDefinition {
  readonly name: SocToolName;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  /** `ToolCapability` names: what the tool gives whoever calls it. */
  readonly capabilities: readonly ('SENSITIVE_DATA' | 'UNTRUSTED_CONTENT' | 'EXTERNAL_ACCESS')[];
  /** Whether the tool changes anything outside the agent (it then never runs on the model's word alone). */
  readonly highRisk: boolean;
}

/** An IPv4 or IPv6 address as text: the characters only; the handler parses it strictly. */
export const IP_TEXT_PATTERN = '^[0-9A-Fa-f:.]{2,45}$';
/** Alert, asset and ticket ids. */
export const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
/** Severity of an alert or ticket. */
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
/** How a ticket closes the alert. */
export const DISPOSITIONS = ['REMEDIATED', 'NOT_REMEDIATED', 'FALSE_POSITIVE', 'NEEDS_REVIEW'] as const;

/** The four tools. */
export const SOC_TOOLS: Readonly<Record<SocToolName, SocToolDefinition>> = Object.freeze({
  lookup_ip_reputation: {
    name: SocToolName.LOOKUP_IP_REPUTATION,
    description:
      'Looks up the threat-intelligence reputation of one public IP address: whether it is known, a score from 0 (benign) to 100 (malicious), categories, when it was last seen and the feed it comes from. Private and reserved addresses are reported as not public without a lookup.',
    inputSchema: {
      type: 'object',
      properties: { ip: { type: 'string', pattern: IP_TEXT_PATTERN, description: 'An IPv4 address in dotted decimal or an IPv6 address.' } },
      required: ['ip'],
      additionalProperties: false,
    },
    // Threat feeds are written by third parties (and their text by attackers): untrusted content.
    capabilities: ['UNTRUSTED_CONTENT'],
    highRisk: false,
  },
  lookup_asset_owner: {
    name: SocToolName.LOOKUP_ASSET_OWNER,
    description: 'Looks up who owns an asset (by its id, such as an instance id or host name): owner, team, criticality and environment.',
    inputSchema: {
      type: 'object',
      properties: { assetId: { type: 'string', pattern: ID_PATTERN, description: 'The asset id from the alert.' } },
      required: ['assetId'],
      additionalProperties: false,
    },
    // The inventory names people and says which systems matter most: sensitive data.
    capabilities: ['SENSITIVE_DATA'],
    highRisk: false,
  },
  create_ticket: {
    name: SocToolName.CREATE_TICKET,
    description:
      'Documents the handling of one alert in a new ticket of the security operations queue. Call it once, with a short title, a factual summary of what was found and done, the severity and the disposition.',
    inputSchema: {
      type: 'object',
      properties: {
        alertId: { type: 'string', pattern: ID_PATTERN },
        title: { type: 'string', minLength: 1, maxLength: 200 },
        summary: { type: 'string', minLength: 1, maxLength: 4000 },
        severity: { type: 'string', enum: [...SEVERITIES] },
        disposition: { type: 'string', enum: [...DISPOSITIONS] },
      },
      required: ['alertId', 'title', 'summary', 'severity', 'disposition'],
      additionalProperties: false,
    },
    // A write that people outside the agent read: external access.
    capabilities: ['EXTERNAL_ACCESS'],
    highRisk: false,
  },
  block_ip: {
    name: SocToolName.BLOCK_IP,
    description: 'Blocks one public IP address at the edge (the web ACL IP set). Needs a human approval of this exact address first.',
    inputSchema: {
      type: 'object',
      properties: {
        ip: { type: 'string', pattern: IP_TEXT_PATTERN },
        alertId: { type: 'string', pattern: ID_PATTERN },
      },
      required: ['ip', 'alertId'],
      additionalProperties: false,
    },
    capabilities: ['EXTERNAL_ACCESS'],
    highRisk: true,
  },
});

/** MCP tool definitions `{ name, description, inputSchema }`, in a fixed order. */
export function socToolDefinitions(names: readonly SocToolName[] = SOC_TOOL_NAMES): Array<{ name: string; description: string; inputSchema: Record<string, unknown> }> {
  return names.map((n) => ({ name: SOC_TOOLS[n].name, description: SOC_TOOLS[n].description, inputSchema: JSON.parse(JSON.stringify(SOC_TOOLS[n].inputSchema)) }));
}

/** The approval "tool" name the workflow's remediation is approved under. */
export const BLOCK_IP_APPROVAL_TOOL = 'block_ip';
/** The action of a block request. */
export const BLOCK_IP_ACTION = 'BLOCK_IP';
