/**
 * Configuration of the security-operations tools function: the environment the constructs write, read and checked
 * once. One function serves a subset of the tools (`SOC_TOOLS`) and holds only the grants those need; a tool it does
 * not serve is refused. No SDK, no side effects on import.
 */
import { PRINCIPAL_PATTERN } from '../approval/hash';
import { formatCidr, parseCidr } from './ip';
import { SOC_TOOL_NAMES, SocToolName } from './tools';

/** Names of the environment variables. */
export const SocEnv = {
  /** Comma-separated tool names this function serves. */
  TOOLS: 'SOC_TOOLS',
  /** DynamoDB table of IP reputations (partition key `ip`). */
  REPUTATION_TABLE: 'SOC_REPUTATION_TABLE',
  /** DynamoDB table of assets (partition key `assetId`). */
  ASSET_TABLE: 'SOC_ASSET_TABLE',
  /** DynamoDB table of tickets (partition key `ticketId`). */
  TICKET_TABLE: 'SOC_TICKET_TABLE',
  /** JSON `{ "name", "id" }` of the IPv4 WAF IP set. */
  IPSET_V4: 'SOC_IPSET_V4',
  /** JSON `{ "name", "id" }` of the IPv6 WAF IP set. */
  IPSET_V6: 'SOC_IPSET_V6',
  /** `REGIONAL` or `CLOUDFRONT`. */
  IPSET_SCOPE: 'SOC_IPSET_SCOPE',
  /** JSON array of CIDR blocks that are never blocked. */
  PROTECTED_CIDRS: 'SOC_PROTECTED_CIDRS',
  /** The approval table of the ApprovalWorkflow whose approvals the remediation checks. */
  APPROVAL_TABLE: 'SOC_APPROVAL_TABLE',
  /** `<issuer>|<subject>` of the workflow identity that requests approvals. */
  WORKFLOW_PRINCIPAL: 'SOC_WORKFLOW_PRINCIPAL',
  /** Deadline of one AWS call in milliseconds. */
  TIMEOUT_MS: 'SOC_TIMEOUT_MS',
} as const;

/** One WAF IP set. */
export interface IpSetRef {
  readonly name: string;
  readonly id: string;
}

/** WAF IP sets hold at most this many addresses. */
export const MAX_IPSET_ADDRESSES = 10_000;
/** Most protected CIDR blocks. */
export const MAX_PROTECTED_CIDRS = 50;

/** The validated configuration. */
export interface SocToolsSettings {
  readonly tools: readonly SocToolName[];
  readonly reputationTable?: string;
  readonly assetTable?: string;
  readonly ticketTable?: string;
  readonly ipSetV4?: IpSetRef;
  readonly ipSetV6?: IpSetRef;
  readonly ipSetScope: 'REGIONAL' | 'CLOUDFRONT';
  /** Canonical CIDR blocks. */
  readonly protectedCidrs: readonly string[];
  readonly approvalTable?: string;
  readonly workflowPrincipal?: string;
  readonly timeoutMs: number;
}

/** The result of reading configuration. */
export type SocSettingsResult = { readonly ok: true; readonly settings: SocToolsSettings } | { readonly ok: false; readonly problems: string[] };

const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
const IPSET_NAME = /^[\w-]{1,128}$/;
const IPSET_ID = /^[0-9a-f-]{1,36}$/;

function parseIpSet(name: string, raw: string | undefined, problems: string[]): IpSetRef | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).sort().join(',') === 'id,name' && typeof o.name === 'string' && IPSET_NAME.test(o.name) && typeof o.id === 'string' && IPSET_ID.test(o.id)) {
        return { name: o.name, id: o.id };
      }
    }
  } catch {
    // reported below
  }
  problems.push(`${name} must be JSON {"name","id"} of a WAF IP set`);
  return undefined;
}

/** Reads and checks the configuration; every problem is reported. */
export function socSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): SocSettingsResult {
  const problems: string[] = [];
  const names = (env[SocEnv.TOOLS] ?? '').split(',').filter((s) => s.length > 0);
  const tools = names.filter((n): n is SocToolName => (SOC_TOOL_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || tools.length !== names.length || new Set(tools).size !== tools.length) {
    problems.push(`${SocEnv.TOOLS} must list distinct tools of ${SOC_TOOL_NAMES.join(', ')}`);
  }
  const table = (key: string, needed: boolean): string | undefined => {
    const v = env[key];
    if (v === undefined) {
      if (needed) problems.push(`${key} is required for the tools served`);
      return undefined;
    }
    if (!TABLE.test(v)) problems.push(`${key} is not a DynamoDB table name`);
    return v;
  };
  const serves = (t: SocToolName) => tools.includes(t);
  const reputationTable = table(SocEnv.REPUTATION_TABLE, serves('lookup_ip_reputation'));
  const assetTable = table(SocEnv.ASSET_TABLE, serves('lookup_asset_owner'));
  const ticketTable = table(SocEnv.TICKET_TABLE, serves('create_ticket'));
  // The remediation task needs the IP sets, the approval table and the workflow principal; a function that only
  // answers the model's block_ip calls (always APPROVAL_REQUIRED) needs none of them. The task checks they are set.
  const ipSetV4 = parseIpSet(SocEnv.IPSET_V4, env[SocEnv.IPSET_V4], problems);
  const ipSetV6 = parseIpSet(SocEnv.IPSET_V6, env[SocEnv.IPSET_V6], problems);
  const approvalTable = table(SocEnv.APPROVAL_TABLE, false);
  const scope = env[SocEnv.IPSET_SCOPE] ?? 'REGIONAL';
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT') problems.push(`${SocEnv.IPSET_SCOPE} must be REGIONAL or CLOUDFRONT`);
  const workflowPrincipal = env[SocEnv.WORKFLOW_PRINCIPAL];
  if (workflowPrincipal !== undefined && !PRINCIPAL_PATTERN.test(workflowPrincipal)) problems.push(`${SocEnv.WORKFLOW_PRINCIPAL} must be <issuer>|<subject>`);
  let protectedCidrs: string[] = [];
  if (env[SocEnv.PROTECTED_CIDRS] !== undefined) {
    try {
      const list = JSON.parse(env[SocEnv.PROTECTED_CIDRS]!) as unknown;
      const parsed = Array.isArray(list) && list.length <= MAX_PROTECTED_CIDRS ? list.map((c) => parseCidr(c)) : [undefined];
      if (parsed.some((c) => c === undefined)) throw new Error('bad');
      protectedCidrs = parsed.map((c) => formatCidr(c!));
    } catch {
      problems.push(`${SocEnv.PROTECTED_CIDRS} must be a JSON array of at most ${MAX_PROTECTED_CIDRS} CIDR blocks`);
    }
  }
  const timeoutText = env[SocEnv.TIMEOUT_MS] ?? '5000';
  const timeoutMs = /^[1-9][0-9]{2,5}$/.test(timeoutText) ? Number(timeoutText) : NaN;
  if (!(timeoutMs >= 500 && timeoutMs <= 60_000)) problems.push(`${SocEnv.TIMEOUT_MS} must be 500 to 60000`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      tools,
      reputationTable,
      assetTable,
      ticketTable,
      ipSetV4,
      ipSetV6,
      ipSetScope: scope as 'REGIONAL' | 'CLOUDFRONT',
      protectedCidrs,
      approvalTable,
      workflowPrincipal,
      timeoutMs,
    },
  };
}
