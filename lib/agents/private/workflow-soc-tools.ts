import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { SocEnv } from '../../../lambda/soc-tools/config';
import { canonicalCidrs } from '../../../lambda/soc-tools/decide';
import { parseCidr } from '../../../lambda/soc-tools/ip';
import { SOC_TOOLS, SocToolName } from '../../../lambda/soc-tools/tools';
import { CapabilityLabels } from '../../analysis/capability';
import { EnforcementFunction, EnforcementFunctionOptions } from '../../private/enforcement-function';
import { acknowledgeNagAll } from '../../private/nag';
import { ToolCapability } from '../../tools/tool-registry';
import { LocalTool } from '../agent-loop';
import { ApprovalWorkflow } from '../approval-workflow';
import { WorkflowPerms } from './workflow-perms';

/** Problems with protected CIDR blocks (IPv4 or IPv6, no bits after the prefix, at most 50). */
export function protectedCidrProblems(list: string[] | undefined): string[] {
  if (list === undefined) return [];
  const errors = list.filter((c) => parseCidr(c) === undefined).map((c) => `protectedCidrs has "${c}"; allowed: IPv4 or IPv6 CIDR blocks such as 198.51.100.0/24 (no bits set after the prefix)`);
  if (list.length > 50) errors.push(`protectedCidrs has ${list.length} blocks; allowed: at most 50`);
  return errors;
}

/** Props of the toolset. */
export interface SocToolsetProps {
  readonly functionOptions: EnforcementFunctionOptions;
  readonly encryptionKey?: kms.IKey;
  readonly protectedCidrs?: string[];
}

/**
 * The security-operations tools and their data: the reputation, asset and ticket tables (customer-managed key,
 * point-in-time recovery, deletion protection, retained), the functions that serve the tools (one per capability
 * group, each with only its grants), and, for the remediation, the WAF IP sets it writes.
 */
export class SocToolset extends Construct {
  public readonly encryptionKey: kms.IKey;
  public readonly reputationTable: dynamodb.Table;
  public readonly assetTable: dynamodb.Table;
  public readonly ticketTable: dynamodb.Table;
  public readonly protectedCidrs: string[];
  private readonly props: SocToolsetProps;
  private enrichment?: EnforcementFunction;
  private tickets?: EnforcementFunction;
  private remediation?: { fn: EnforcementFunction; ipv4: wafv2.CfnIPSet; ipv6: wafv2.CfnIPSet };

  constructor(scope: Construct, id: string, props: SocToolsetProps) {
    super(scope, id);
    this.props = props;
    this.protectedCidrs = canonicalCidrs(props.protectedCidrs ?? []);
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'cdk-ai-defense security operations: encrypts the reputation, asset and ticket tables',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    const table = (tableId: string, key: string, what: string): dynamodb.Table => {
      const t = new dynamodb.Table(this, tableId, {
        partitionKey: { name: key, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledgeNagAll(
        t,
        ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'],
        `The ${what} table has point-in-time recovery (35 days of continuous backups), deletion protection and is retained; an AWS Backup plan is an account-wide choice this construct does not make.`,
      );
      return t;
    };
    this.reputationTable = table('ReputationTable', 'ip', 'IP reputation');
    this.assetTable = table('AssetTable', 'assetId', 'asset inventory');
    this.ticketTable = table('TicketTable', 'ticketId', 'ticket');
    // What the stores hold, for the lethal-trifecta analysis.
    CapabilityLabels.label(this.reputationTable, [ToolCapability.UNTRUSTED_CONTENT]);
    CapabilityLabels.label(this.assetTable, [ToolCapability.SENSITIVE_DATA]);
    CapabilityLabels.label(this.ticketTable, [ToolCapability.EXTERNAL_ACCESS]);
  }

  /** The function of `lookup_ip_reputation` and `lookup_asset_owner`: GetItem on the two tables, nothing else. */
  public enrichmentFunction(): lambda.IFunction {
    if (this.enrichment) return this.enrichment;
    const fn = this.toolFunction('EnrichmentFunction', ['lookup_ip_reputation', 'lookup_asset_owner'], 'reads IP reputation and asset owners', {
      [SocEnv.REPUTATION_TABLE]: this.reputationTable.tableName,
      [SocEnv.ASSET_TABLE]: this.assetTable.tableName,
    });
    this.grantTable(fn, [this.reputationTable, this.assetTable], WorkflowPerms.TABLE_READ, WorkflowPerms.TABLE_KEY_READ);
    CapabilityLabels.label(fn, [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT]);
    this.enrichment = fn;
    return fn;
  }

  /**
   * The function of `create_ticket` (PutItem on the ticket table) and of the model's `block_ip` calls, which it
   * always answers APPROVAL_REQUIRED (it has no WAF grant).
   */
  public ticketFunction(): lambda.IFunction {
    if (this.tickets) return this.tickets;
    const fn = this.toolFunction('TicketFunction', ['create_ticket', 'block_ip'], 'writes tickets; refuses block_ip calls', {
      [SocEnv.TICKET_TABLE]: this.ticketTable.tableName,
    });
    this.grantTable(fn, [this.ticketTable], WorkflowPerms.TABLE_WRITE, WorkflowPerms.TABLE_KEY_WRITE);
    CapabilityLabels.label(fn, [ToolCapability.EXTERNAL_ACCESS]);
    this.tickets = fn;
    return fn;
  }

  /**
   * The remediation task's function and the IP sets it writes: GetIPSet and UpdateIPSet on exactly the two sets, and
   * GetItem on the approval table (with its key through DynamoDB) to check each approval.
   */
  public remediationFunction(approvals: ApprovalWorkflow, workflowPrincipal: string): { fn: lambda.IFunction; ipv4: wafv2.CfnIPSet; ipv6: wafv2.CfnIPSet } {
    if (this.remediation) return this.remediation;
    const ipSet = (setId: string, version: 'IPV4' | 'IPV6') =>
      new wafv2.CfnIPSet(this, setId, {
        name: Names.uniqueResourceName(this, { maxLength: 100 }).replace(/[^\w-]/g, '') + setId,
        scope: 'REGIONAL',
        ipAddressVersion: version,
        // Filled at run time by the approved remediation; CloudFormation resets the list if it updates the set.
        addresses: [],
        description: `cdk-ai-defense security operations - ${version} addresses blocked after a human approval`,
      });
    const ipv4 = ipSet('BlockedIpv4', 'IPV4');
    const ipv6 = ipSet('BlockedIpv6', 'IPV6');
    const stack = Stack.of(this);
    const fn = this.toolFunction('RemediationFunction', ['block_ip'], 'blocks an approved address in the WAF IP set', {
      [SocEnv.IPSET_V4]: stack.toJsonString({ name: ipv4.name, id: ipv4.attrId }),
      [SocEnv.IPSET_V6]: stack.toJsonString({ name: ipv6.name, id: ipv6.attrId }),
      [SocEnv.IPSET_SCOPE]: 'REGIONAL',
      [SocEnv.APPROVAL_TABLE]: approvals.table.tableName,
      [SocEnv.WORKFLOW_PRINCIPAL]: workflowPrincipal,
      ...(this.protectedCidrs.length > 0 ? { [SocEnv.PROTECTED_CIDRS]: JSON.stringify(this.protectedCidrs) } : {}),
    });
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...WorkflowPerms.IP_SET], resourceArns: [ipv4.attrArn, ipv6.attrArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...WorkflowPerms.TABLE_READ], resourceArns: [approvals.table.tableArn] });
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [...WorkflowPerms.TABLE_KEY_READ],
      resourceArns: [approvals.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
    });
    CapabilityLabels.label(fn, [ToolCapability.EXTERNAL_ACCESS]);
    this.remediation = { fn, ipv4, ipv6 };
    return this.remediation;
  }

  /** The decision logs of the functions created so far. */
  public get decisionLogGroups(): logs.ILogGroup[] {
    return [this.enrichment, this.tickets, this.remediation?.fn].filter((f): f is EnforcementFunction => f !== undefined).map((f) => f.decisionLogGroup);
  }

  /** A local tool of the agent loop for one of the tools. */
  public localTool(name: SocToolName, fn: lambda.IFunction, requiresApproval = false): LocalTool {
    const t = SOC_TOOLS[name];
    return {
      name: t.name,
      description: t.description,
      inputSchema: JSON.parse(JSON.stringify(t.inputSchema)),
      function: fn,
      requiresApproval,
      capabilities: t.capabilities.map((c) => c as ToolCapability),
    };
  }

  private toolFunction(id: string, tools: SocToolName[], what: string, environment: Record<string, string>): EnforcementFunction {
    return new EnforcementFunction(this, id, {
      ...this.props.functionOptions,
      handlerName: 'soc-tools',
      description: `cdk-ai-defense security operations: ${what}; validates strictly, fails closed`,
      timeout: Duration.seconds(15),
      environment: { [SocEnv.TOOLS]: tools.join(','), [SocEnv.TIMEOUT_MS]: '5000', ...environment },
    });
  }

  private grantTable(fn: EnforcementFunction, tables: dynamodb.ITable[], actions: readonly string[], keyActions: readonly string[]): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions], resourceArns: tables.map((t) => t.tableArn) });
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [...keyActions],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
    });
  }
}
