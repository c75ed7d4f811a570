/**
 * AgentWorkflow, WorkflowIdentity and the security-operations example (the multi-agent workflow and the single-agent
 * variant): the state machine's graph, catch paths and logging; exact IAM of every role; the agents' identity and
 * tools; the lethal-trifecta split; cdk-nag and cfn-lint; and invalid props.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { IConstruct } from 'constructs';
import { WorkflowEnv } from '../../../lambda/agent-workflow/config';
import { SocEnv } from '../../../lambda/soc-tools/config';
import { AgentLoop, AgentModel } from '../../../lib/agents/agent-loop';
import { AgentStepOutput, AgentWorkflow } from '../../../lib/agents/agent-workflow';
import { ApprovalWorkflow } from '../../../lib/agents/approval-workflow';
import { SecurityOperationsWorkflow } from '../../../lib/agents/soc-example';
import { SecurityOperationsAgent } from '../../../lib/agents/soc-single-agent';
import { WorkflowIdentity } from '../../../lib/agents/workflow-identity';
import { ITrifectaSubject } from '../../../lib/analysis/trifecta-reach';
import { LethalTrifecta } from '../../../lib/analysis/lethal-trifecta';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import { AiGuardrail } from '../../../lib/guardrails/ai-guardrail';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings, withoutUnroutedPinAlarms } from '../../rig/nag';
import { Synthesized, TEST_ENV, synthOnce, testStack } from '../../rig/synth';

/** Test scaffolding and other owners' constructs the example is wired to (their own tests cover them). */
const SCAFFOLDING = /^TestStack\/(Vpc|Pool|Approvals|Guardrail)\//;
const PROFILE = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

type Resource = { Type: string; Properties: Record<string, any> };
type Built = { soc: SecurityOperationsWorkflow; single: SecurityOperationsAgent; identity: WorkflowIdentity; approvals: ApprovalWorkflow; pool: cognito.UserPool };

function resources(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.findResources(type)) as Array<[string, Resource]>;
}

/** Every statement of the policies attached to a role (inline or managed). */
function statementsOf(s: Synthesized<unknown>, role: iam.IRole): Array<Record<string, any>> {
  const id = s.stack.getLogicalId((role as iam.Role).node.defaultChild as iam.CfnRole);
  return [...resources(s.template, 'AWS::IAM::Policy'), ...resources(s.template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === id))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}
const actions = (st: Record<string, any>): string[] => [st.Action].flat();
/** A statement with its action and resource lists sorted (the policy minimizer orders them its own way). */
const norm = (st: Record<string, any>): Record<string, any> => ({
  ...st,
  ...(Array.isArray(st.Action) ? { Action: [...st.Action].sort() } : {}),
  ...(Array.isArray(st.Resource) ? { Resource: [...st.Resource].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) } : {}),
});
const via = (service: string) => ({ StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', [`${service}.us-east-1.`, { Ref: 'AWS::URLSuffix' }]] } } });
/** The statements whose actions start with one of the prefixes (leaves out logs, X-Ray and the VPC's EC2 actions). */
const granted = (s: Synthesized<unknown>, role: iam.IRole, prefixes: string[]) =>
  statementsOf(s, role)
    .filter((st) => actions(st).some((a) => prefixes.some((p) => a.startsWith(p))))
    .map(norm);
const getAtt = (s: Synthesized<unknown>, c: IConstruct, attr = 'Arn') => ({ 'Fn::GetAtt': [s.stack.getLogicalId((c instanceof CfnResource ? c : c.node.defaultChild) as CfnResource), attr] });
const roleOf = (fn: lambda.IFunction) => (fn as lambda.Function).role!;
const fnProps = (s: Synthesized<unknown>, fn: lambda.IFunction) => s.template.toJSON().Resources[s.stack.getLogicalId((fn as lambda.Function).node.defaultChild as lambda.CfnFunction)].Properties;

/** The state machine definition with every CloudFormation token replaced by a placeholder. */
function definitionOf(s: Synthesized<unknown>, machine: sfn.StateMachine): { StartAt: string; TimeoutSeconds?: number; States: Record<string, any> } {
  const props = s.template.toJSON().Resources[s.stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine)].Properties;
  const parts = props.DefinitionString['Fn::Join'][1] as unknown[];
  const text = parts.map((p) => (typeof p === 'string' ? p : `TOKEN(${JSON.stringify(p).replace(/"/g, "'")})`)).join('');
  return JSON.parse(text);
}

describe('SecurityOperationsWorkflow and SecurityOperationsAgent in a VPC', () => {
  let s: Synthesized<Built>;
  let def: { StartAt: string; States: Record<string, any> };

  beforeAll(() => {
    s = synthOnce((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
      vpc.addFlowLog('Flow');
      const pool = new cognito.UserPool(stack, 'Pool');
      const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'soc-test' } });
      const analysts = pool.addClient('Analysts');
      const identity = new WorkflowIdentity(stack, 'SocIdentity', { userPool: pool, userPoolDomain: domain });
      const approvals = new ApprovalWorkflow(stack, 'Approvals', { vpc });
      const guardrail = new AiGuardrail(stack, 'Guardrail');
      const model = AgentModel.crossRegionInferenceProfile(PROFILE);
      const soc = new SecurityOperationsWorkflow(stack, 'Soc', { identity, model, guardrail, approvals, vpc, protectedCidrs: ['45.33.0.0/16', '2a01:4f8::/32'] });
      const single = new SecurityOperationsAgent(stack, 'SingleAgent', { identity: CallerIdentity.cognito({ userPool: pool, clients: [analysts] }), model, guardrail, vpc });
      return { soc, single, identity, approvals, pool };
    }, { env: TEST_ENV });
    def = definitionOf(s, s.built.soc.stateMachine);
  });

  describe('the state machine', () => {
    test('validates the input first, then enrichment → triage → a choice on the parsed verdict', () => {
      expect(def.StartAt).toBe('ValidateInput');
      expect(def.States.ValidateInput).toEqual(expect.objectContaining({ Next: 'Enrich', ResultPath: '$', Parameters: { action: 'VALIDATE_INPUT', 'input.$': '$' } }));
      expect(def.States.Enrich.Next).toBe('Triage');
      expect(def.States.Triage.Next).toBe('RemediateOrDocument');
      const choice = def.States.RemediateOrDocument;
      expect(choice.Type).toBe('Choice');
      expect(choice.Choices).toEqual([
        { And: [{ Variable: '$.triage.verdict', IsPresent: true }, { Variable: '$.triage.verdict', StringEquals: 'REMEDIATE' }], Next: 'PrepareBlock' },
      ]);
      // The safe default: anything but REMEDIATE only documents.
      expect(choice.Default).toBe('NotProposed');
      expect(def.States.NotProposed).toEqual(expect.objectContaining({ Type: 'Pass', Result: { remediation: 'NOT_PROPOSED' }, ResultPath: '$.outcome', Next: 'Document' }));
    });

    test('the agent steps pass data (never a token) to the runner, with the echo taken from the validated input', () => {
      expect(def.States.Triage.Parameters).toEqual({
        action: 'RUN_AGENT',
        step: 'Triage',
        'executionId.$': '$$.Execution.Id',
        inputs: { 'alert.$': '$.input', 'enrichment.$': '$.enrichment.text' },
        expect: { 'ip.$': '$.input.sourceIp' },
      });
      expect(def.States.Document.Parameters.inputs).toEqual({ 'alert.$': '$.input', 'verdict.$': '$.triage.verdict', 'outcome.$': '$.outcome' });
      expect(JSON.stringify(def)).not.toMatch(/callerToken|Authorization|client_secret/i);
      const runner = JSON.stringify(getAtt(s, s.built.soc.workflow.runner)).replace(/"/g, "'");
      for (const step of ['ValidateInput', 'Enrich', 'Triage', 'Document']) expect(def.States[step].Resource).toBe(`TOKEN(${runner})`);
    });

    test('a human approves exactly the prepared request before the deterministic block, which only follows APPROVED', () => {
      expect(def.States.PrepareBlock).toEqual(expect.objectContaining({ Next: 'Blockable', ResultPath: '$.remediation', Parameters: { task: 'prepare_block_ip', 'ip.$': '$.input.sourceIp', 'alertId.$': '$.input.alertId' } }));
      expect(def.States.Blockable.Choices[0].Next).toBe('ApproveBlock');
      expect(def.States.Blockable.Default).toBe('NotBlockable');
      const approve = def.States.ApproveBlock;
      expect(approve.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
      expect(approve.Parameters.Payload).toEqual(
        expect.objectContaining({ tool: 'block_ip', 'arguments.$': '$.remediation.request', 'principal.$': '$.workflow.principal', 'session.$': '$$.Execution.Id', 'taskToken.$': '$$.Task.Token' }),
      );
      expect(approve.Next).toBe('Approved');
      expect(approve.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.approvalError', Next: 'NotApproved' }]);
      expect(def.States.Approved.Choices).toEqual([
        { And: [{ Variable: '$.approval.decision', IsPresent: true }, { Variable: '$.approval.decision', StringEquals: 'APPROVED' }], Next: 'BlockIp' },
      ]);
      expect(def.States.Approved.Default).toBe('NotApproved');
      expect(def.States.BlockIp.Parameters).toEqual({ task: 'block_ip', 'request.$': '$.remediation.request', 'approval.$': '$.approval' });
      expect(def.States.BlockIp.Next).toBe('Document');
      // The only way into BlockIp is through the approval.
      const into = Object.entries(def.States).filter(([, st]) => JSON.stringify(st).includes('"BlockIp"')).map(([name]) => name);
      expect(into).toEqual(['Approved']);
      expect(def.States.NotApproved.Next).toBe('Document');
      expect(def.States.NotBlockable.Next).toBe('Document');
      expect(def.States.Document.Next).toBe('Done');
    });

    test('every other task retries throttles with backoff and catches into the Fail state with its reason', () => {
      const tasks = Object.entries(def.States).filter(([name, st]) => st.Type === 'Task' && name !== 'ApproveBlock');
      expect(tasks.map(([n]) => n).sort()).toEqual(['BlockIp', 'Document', 'Enrich', 'PrepareBlock', 'Triage', 'ValidateInput']);
      for (const [name, st] of tasks) {
        expect([name, st.Catch]).toEqual([name, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }]]);
        expect(st.Retry).toHaveLength(1);
        expect(st.Retry[0]).toEqual(expect.objectContaining({ IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3, MaxDelaySeconds: 30, JitterStrategy: 'FULL' }));
        expect(st.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['Lambda.TooManyRequestsException', 'Lambda.ServiceException']));
        expect(st.TimeoutSeconds).toBeGreaterThan(0);
      }
      for (const step of ['Enrich', 'Triage', 'Document']) expect(def.States[step].Retry[0].ErrorEquals).toContain('WorkflowRetryable');
      expect(def.States.BlockIp.Retry[0].ErrorEquals).toContain('RemediationRetryable');
      // Not retried: a failed step (WorkflowStepFailed, RemediationDenied) goes straight to Failed.
      expect(JSON.stringify(tasks.map(([, st]) => st.Retry))).not.toMatch(/StepFailed|RemediationDenied|States\.ALL/);
      expect(def.States.Failed).toEqual({ Type: 'Fail', Comment: expect.any(String), ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' });
      expect(def.States.Enrich.TimeoutSeconds).toBe(390);
    });

    test('standard, traced, ALL events logged to an encrypted group WITHOUT execution data, with a deadline', () => {
      const machine = s.template.toJSON().Resources[s.stack.getLogicalId(s.built.soc.stateMachine.node.defaultChild as sfn.CfnStateMachine)].Properties;
      expect(machine.StateMachineType).toBe('STANDARD');
      expect(machine.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.LoggingConfiguration).toEqual({
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(s, s.built.soc.workflow.logGroup) } }],
        IncludeExecutionData: false,
        Level: 'ALL',
      });
      expect(def).toEqual(expect.objectContaining({ TimeoutSeconds: 7200 }));
      const group = s.template.toJSON().Resources[s.stack.getLogicalId(s.built.soc.workflow.logGroup.node.defaultChild as any)];
      expect(group.Properties).toEqual(expect.objectContaining({ KmsKeyId: expect.anything(), RetentionInDays: 365, LogGroupName: expect.stringMatching(/^\/aws\/vendedlogs\/states\//) }));
      expect(group.DeletionPolicy).toBe('Retain');
    });
  });

  describe('IAM is exact', () => {
    test('the state machine invokes the runner, the remediation and the approval request, never an agent', () => {
      const invoke = granted(s, s.built.soc.stateMachine.role, ['lambda:']);
      expect(invoke).toHaveLength(1);
      expect(actions(invoke[0])).toEqual(['lambda:InvokeFunction']);
      const request = s.built.approvals.requestFunction!;
      expect(invoke[0].Resource).toEqual(
        expect.arrayContaining([getAtt(s, s.built.soc.workflow.runner), getAtt(s, s.built.soc.remediationFunction), getAtt(s, request)]),
      );
      // Our own tasks without versions; the approval workflow's task also grants its function's versions.
      expect(invoke[0].Resource).toHaveLength(4);
      const resources = JSON.stringify(invoke[0].Resource);
      for (const agent of [s.built.soc.enrichmentAgent, s.built.soc.triageAgent, s.built.soc.documentationAgent]) expect(resources).not.toContain(s.stack.getLogicalId((agent.function as lambda.Function).node.defaultChild as lambda.CfnFunction));
      expect(statementsOf(s, s.built.soc.stateMachine.role).every((st) => st.Resource !== '*' || actions(st).every((a) => a.startsWith('logs:') || a.startsWith('xray:')))).toBe(true);
    });

    test('the state machine role trusts only Step Functions of this account', () => {
      const role = s.template.toJSON().Resources[s.stack.getLogicalId(s.built.soc.stateMachine.role.node.defaultChild as iam.CfnRole)];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
      ]);
    });

    test('the runner invokes exactly the three agents and reads exactly the client secret', () => {
      const runner = roleOf(s.built.soc.workflow.runner);
      const agents = [s.built.soc.enrichmentAgent, s.built.soc.triageAgent, s.built.soc.documentationAgent];
      expect(granted(s, runner, ['lambda:', 'secretsmanager:', 'kms:', 'dynamodb:', 'wafv2:', 'states:'])).toEqual(
        expect.arrayContaining([
          norm({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: agents.map((a) => getAtt(s, a.function)) }),
          { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { Ref: s.stack.getLogicalId(s.built.identity.clientSecret.node.defaultChild as any) } },
          {
            Action: 'kms:Decrypt',
            Effect: 'Allow',
            Resource: getAtt(s, s.built.identity.encryptionKey),
            Condition: via('secretsmanager'),
          },
        ]),
      );
      // Besides those: only the log key (shared) for its own environment and logs.
      const other = granted(s, runner, ['lambda:', 'secretsmanager:', 'kms:', 'dynamodb:', 'wafv2:', 'states:']).filter(
        (st) => !['lambda:InvokeFunction', 'secretsmanager:GetSecretValue'].includes(actions(st)[0]) && st.Condition === undefined,
      );
      expect(other.every((st) => actions(st).every((a) => a === 'kms:Decrypt'))).toBe(true);
    });

    test('each tool function holds only its own tables, key and actions', () => {
      const viaDynamo = via('dynamodb');
      const tables = s.built.soc;
      const tableKey = getAtt(s, tables.encryptionKey);
      expect(granted(s, roleOf(tables.enrichmentFunction), ['dynamodb:', 'wafv2:', 'kms:Encrypt', 'kms:GenerateDataKey'])).toEqual([
        norm({ Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: [getAtt(s, tables.reputationTable), getAtt(s, tables.assetTable)] }),
      ]);
      expect(granted(s, roleOf(tables.enrichmentFunction), ['kms:'])).toEqual(expect.arrayContaining([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: tableKey, Condition: viaDynamo }]));
      expect(granted(s, roleOf(tables.ticketFunction), ['dynamodb:', 'wafv2:'])).toEqual([{ Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: getAtt(s, tables.ticketTable) }]);
      expect(granted(s, roleOf(tables.ticketFunction), ['kms:'])).toEqual(
        expect.arrayContaining([{ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: tableKey, Condition: viaDynamo }]),
      );
      expect(granted(s, roleOf(tables.remediationFunction), ['dynamodb:', 'wafv2:'])).toEqual(
        expect.arrayContaining([
          norm({ Action: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], Effect: 'Allow', Resource: [getAtt(s, tables.blockedIpv4), getAtt(s, tables.blockedIpv6)] }),
          { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: getAtt(s, s.built.approvals.table) },
        ]),
      );
      expect(granted(s, roleOf(tables.remediationFunction), ['dynamodb:', 'wafv2:'])).toHaveLength(2);
      expect(granted(s, roleOf(tables.remediationFunction), ['kms:'])).toEqual(
        expect.arrayContaining([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: getAtt(s, s.built.approvals.encryptionKey), Condition: viaDynamo }]),
      );
    });

    test('WAF: only the remediation function, only GetIPSet and UpdateIPSet, only on the two IP sets', () => {
      const policies = [...resources(s.template, 'AWS::IAM::Policy'), ...resources(s.template, 'AWS::IAM::ManagedPolicy')];
      const touchingWaf = policies.flatMap(([, p]) =>
        (p.Properties.PolicyDocument.Statement as Array<Record<string, any>>)
          .filter((st) => st.NotAction !== undefined || actions(st).some((a) => a === '*' || a.toLowerCase().startsWith('wafv2:')))
          .map((st) => ({ roles: p.Properties.Roles, st })),
      );
      const remediationRole = s.stack.getLogicalId(roleOf(s.built.soc.remediationFunction).node.defaultChild as iam.CfnRole);
      expect(touchingWaf).toHaveLength(1);
      expect(touchingWaf[0].roles).toEqual([{ Ref: remediationRole }]);
      expect(norm(touchingWaf[0].st)).toEqual(
        norm({ Action: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], Effect: 'Allow', Resource: [getAtt(s, s.built.soc.blockedIpv4), getAtt(s, s.built.soc.blockedIpv6)] }),
      );
      // The sets the function is told to write are exactly the sets it may write.
      const env = fnProps(s, s.built.soc.remediationFunction).Environment.Variables;
      expect(JSON.stringify(env[SocEnv.IPSET_V4])).toContain(s.stack.getLogicalId(s.built.soc.blockedIpv4));
      expect(JSON.stringify(env[SocEnv.IPSET_V6])).toContain(s.stack.getLogicalId(s.built.soc.blockedIpv6));
      expect(env[SocEnv.IPSET_SCOPE]).toBe('REGIONAL');
    });

    test('the approver API may answer this state machine’s tasks', () => {
      expect(granted(s, roleOf(s.built.approvals.apiFunction), ['states:'])).toEqual([
        { Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'], Effect: 'Allow', Resource: { Ref: s.stack.getLogicalId(s.built.soc.stateMachine.node.defaultChild as sfn.CfnStateMachine) } },
      ]);
    });
  });

  describe('identity', () => {
    test('the workflow client: client credentials only, a secret, short tokens, one scope', () => {
      const client = s.template.toJSON().Resources[s.stack.getLogicalId(s.built.identity.client.node.defaultChild as cognito.CfnUserPoolClient)].Properties;
      expect(client).toEqual(
        expect.objectContaining({
          GenerateSecret: true,
          AllowedOAuthFlows: ['client_credentials'],
          AllowedOAuthFlowsUserPoolClient: true,
          AccessTokenValidity: 15,
          EnableTokenRevocation: true,
          TokenValidityUnits: expect.objectContaining({ AccessToken: 'minutes' }),
        }),
      );
      expect(client.AllowedOAuthScopes).toHaveLength(1);
      expect(JSON.stringify(client.AllowedOAuthScopes)).toContain('/invoke');
      expect(client.ExplicitAuthFlows ?? []).not.toEqual(expect.arrayContaining(['ALLOW_USER_SRP_AUTH']));
      expect(client.ExplicitAuthFlows ?? []).not.toEqual(expect.arrayContaining(['ALLOW_USER_PASSWORD_AUTH']));
      s.template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { Scopes: [{ ScopeName: 'invoke', ScopeDescription: 'Run the agents of one deterministic workflow' }] });
    });

    test('the client secret lives only in Secrets Manager (CloudFormation copies it from the client), under its own key', () => {
      const secret = s.template.toJSON().Resources[s.stack.getLogicalId(s.built.identity.clientSecret.node.defaultChild as any)].Properties;
      expect(secret.SecretString).toEqual(getAtt(s, s.built.identity.client, 'ClientSecret'));
      expect(secret.KmsKeyId).toEqual(getAtt(s, s.built.identity.encryptionKey));
    });

    test('every agent accepts only the workflow client with its scope; the runner mints the token itself', () => {
      for (const agent of [s.built.soc.enrichmentAgent, s.built.soc.triageAgent, s.built.soc.documentationAgent]) {
        const env = fnProps(s, agent.function).Environment.Variables;
        const config = JSON.stringify(env.CAD_IDENTITY_CONFIG);
        expect(config).toContain(s.stack.getLogicalId(s.built.identity.client.node.defaultChild as cognito.CfnUserPoolClient));
        expect(config).toContain('requiredScopes');
        expect(config).not.toContain('Analysts');
      }
      const runner = fnProps(s, s.built.soc.workflow.runner);
      expect(runner.Timeout).toBe(360);
      // It must reach the token endpoint (no PrivateLink): outside the VPC, unlike the agents and tools.
      expect(runner.VpcConfig).toBeUndefined();
      for (const fn of [s.built.soc.enrichmentAgent.function, s.built.soc.remediationFunction, s.built.soc.ticketFunction]) expect(fnProps(s, fn).VpcConfig).toEqual(expect.objectContaining({ SubnetIds: expect.any(Array) }));
      expect(runner.Layers).toEqual([expect.stringMatching(/^arn:aws:lambda:us-east-1:\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/)]);
      const env = runner.Environment.Variables;
      expect(env).toEqual(
        expect.objectContaining({
          [WorkflowEnv.CLIENT_ID]: { Ref: s.stack.getLogicalId(s.built.identity.client.node.defaultChild as cognito.CfnUserPoolClient) },
          [WorkflowEnv.CLIENT_SECRET_ARN]: { Ref: s.stack.getLogicalId(s.built.identity.clientSecret.node.defaultChild as any) },
          [WorkflowEnv.AGENT_TIMEOUT_MS]: '345000',
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
        }),
      );
      expect(JSON.stringify(env[WorkflowEnv.TOKEN_URL])).toContain('/oauth2/token');
      const steps = JSON.stringify(env[WorkflowEnv.STEPS]);
      expect(steps).toContain('\\"Triage\\":{\\"functionArn\\":');
      expect(steps).toContain('\\"verdicts\\":[\\"REMEDIATE\\",\\"DOCUMENT\\"],\\"defaultVerdict\\":\\"DOCUMENT\\",\\"echo\\":[\\"ip\\"]');
      expect(JSON.parse(env[WorkflowEnv.INPUT_SCHEMA]).additionalProperties).toBe(false);
    });
  });

  describe('agents, tools and data', () => {
    test('each agent has only its own tools; triage has none', () => {
      expect(s.built.soc.enrichmentAgent.allowedTools).toEqual(['lookup_ip_reputation', 'lookup_asset_owner']);
      expect(s.built.soc.triageAgent.allowedTools).toEqual([]);
      expect(s.built.soc.documentationAgent.allowedTools).toEqual(['create_ticket']);
      expect(s.built.single.agent.allowedTools).toEqual(['lookup_ip_reputation', 'lookup_asset_owner', 'create_ticket', 'block_ip']);
      expect(fnProps(s, s.built.soc.triageAgent.function).Environment.Variables.AGENT_MAX_TURNS).toBe('1');
    });

    test('the remediation function knows the IP sets, the approval table, the workflow principal and the protected ranges', () => {
      const env = fnProps(s, s.built.soc.remediationFunction).Environment.Variables;
      expect(env).toEqual(
        expect.objectContaining({
          [SocEnv.TOOLS]: 'block_ip',
          [SocEnv.IPSET_SCOPE]: 'REGIONAL',
          [SocEnv.APPROVAL_TABLE]: { Ref: s.stack.getLogicalId(s.built.approvals.table.node.defaultChild as any) },
          [SocEnv.PROTECTED_CIDRS]: '["45.33.0.0/16","2a01:4f8::/32"]',
        }),
      );
      expect(JSON.stringify(env[SocEnv.WORKFLOW_PRINCIPAL])).toContain('|');
      expect(fnProps(s, s.built.soc.enrichmentFunction).Environment.Variables[SocEnv.TOOLS]).toBe('lookup_ip_reputation,lookup_asset_owner');
      expect(fnProps(s, s.built.soc.ticketFunction).Environment.Variables[SocEnv.TOOLS]).toBe('create_ticket,block_ip');
    });

    test('two regional IP sets, empty at deploy', () => {
      for (const [set, version] of [[s.built.soc.blockedIpv4, 'IPV4'], [s.built.soc.blockedIpv6, 'IPV6']] as const) {
        expect(s.template.toJSON().Resources[s.stack.getLogicalId(set)].Properties).toEqual(expect.objectContaining({ Scope: 'REGIONAL', IPAddressVersion: version, Addresses: [] }));
      }
    });

    test('tables: customer-managed key, point-in-time recovery, deletion protection, retained', () => {
      for (const table of [s.built.soc.reputationTable, s.built.soc.assetTable, s.built.soc.ticketTable]) {
        const r = s.template.toJSON().Resources[s.stack.getLogicalId(table.node.defaultChild as any)];
        expect(r.Properties).toEqual(
          expect.objectContaining({
            BillingMode: 'PAY_PER_REQUEST',
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: expect.objectContaining({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: expect.anything() }),
          }),
        );
        expect(r.DeletionPolicy).toBe('Retain');
      }
    });
  });

  describe('the lethal trifecta: the split works, the single agent is flagged', () => {
    const reach = (name: string) => s.built.soc.workflow.node.findChild(`${name}Reach`) as unknown as ITrifectaSubject;

    test('no workflow agent holds all three legs', () => {
      const enrich = LethalTrifecta.analyze(reach('Enrich'));
      expect(enrich.sensitiveData.length > 0 && enrich.untrustedContent.length > 0).toBe(true);
      expect(enrich.externalAccess).toEqual([]);
      const triage = LethalTrifecta.analyze(reach('Triage'));
      expect(triage.externalAccess).toEqual([]);
      const document = LethalTrifecta.analyze(reach('Document'));
      expect(document.sensitiveData).toEqual([]);
      expect(document.externalAccess.length).toBeGreaterThan(0);
      for (const f of [enrich, triage, document]) expect(f.lethal).toBe(false);
    });

    test('the single agent reaches all three, with create_ticket needing no approval', () => {
      const f = LethalTrifecta.analyze(s.built.single.agent);
      expect(f.lethal).toBe(true);
      expect(f.externalAccessWithoutApproval.join(' ')).toContain('create_ticket');
      expect(f.externalAccessWithoutApproval.join(' ')).not.toContain('block_ip');
    });
  });

  test('cdk-nag: no unsuppressed finding in the workflow, the agents and the tools', () => {
    expect(withoutUnroutedPinAlarms(nagFindings(s.stack)).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(r)))).toEqual([]);
  });

  test('cfn-lint: the template is clean', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'soc-')), 'template.json');
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    // W3010: the test VPC's dummy availability zones (scaffolding).
    expect(cfnLint([file]).findings.filter((f) => f.rule !== 'W3010')).toEqual([]);
  });
});

describe('invalid props fail at synth', () => {
  function base(stack: Stack) {
    const pool = new cognito.UserPool(stack, 'Pool');
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'wf-test' } });
    const identity = new WorkflowIdentity(stack, 'Identity', { userPool: pool, userPoolDomain: domain });
    const guardrail = new AiGuardrail(stack, 'Guardrail');
    const agent = (id: string, timeout?: Duration) =>
      new AgentLoop(stack, id, { identity: identity.callerIdentity, model: AgentModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'), guardrail, systemPrompt: 'x', timeout });
    return { pool, domain, identity, guardrail, agent };
  }
  const SCHEMA = { type: 'object', properties: { id: { type: 'string', maxLength: 10 } }, required: ['id'], additionalProperties: false };

  test.each<[string, (b: ReturnType<typeof base>, stack: Stack) => void, RegExp]>([
    ['the input schema is not an object schema', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: { type: 'string' } }), /inputSchema must describe an object/],
    ['the input schema is outside the subset', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: { type: 'object', anyOf: [] } }), /not in the supported subset/],
    ['stepTimeout is above 14 minutes', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA, stepTimeout: Duration.minutes(15) }), /stepTimeout \(seconds\) is 900/],
    [
      'tokens would expire during a step',
      (b, st) => new AgentWorkflow(st, 'W', { identity: new WorkflowIdentity(st, 'Short', { userPool: b.pool, userPoolDomain: b.domain, accessTokenValidity: Duration.minutes(5) }), inputSchema: SCHEMA }),
      /accessTokenValidity \(5 minutes\) must exceed stepTimeout/,
    ],
    [
      'a default verdict outside the verdicts',
      (b, st) =>
        new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('Triage', {
          agent: b.agent('A'),
          inputs: { alert: '$.input' },
          output: AgentStepOutput.verdict({ verdicts: ['GO', 'STOP'], defaultVerdict: 'MAYBE' }),
        }),
      /defaultVerdict must be one of the verdicts/,
    ],
    [
      'a lower-case verdict',
      (b, st) =>
        new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('Triage', {
          agent: b.agent('A'),
          inputs: {},
          output: AgentStepOutput.verdict({ verdicts: ['go', 'STOP'], defaultVerdict: 'STOP' }),
        }),
      /verdicts must be 2 to 8 distinct upper-case codes/,
    ],
    ['an input path that is not a JSON path', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('Enrich', { agent: b.agent('A'), inputs: { alert: 'input' } }), /path of alert is "input"/],
    ['a result path replacing the state', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('Enrich', { agent: b.agent('A'), inputs: {}, resultPath: '$' }), /must not replace the whole state/],
    [
      'capabilities for an input that does not exist',
      (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('Enrich', { agent: b.agent('A'), inputs: { alert: '$.input' }, inputCapabilities: { other: [] } }),
      /inputCapabilities names other/,
    ],
    [
      'an agent whose timeout exceeds the step',
      (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA, stepTimeout: Duration.minutes(2) }).agentStep('Enrich', { agent: b.agent('A', Duration.minutes(5)), inputs: {} }),
      /the agent's timeout \(300 s\) exceeds what the step leaves it \(105 s\)/,
    ],
    [
      'a step name with a dash',
      (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).agentStep('En-rich', { agent: b.agent('A'), inputs: {} }),
      /step name "En-rich" must be 1 to 64 letters and digits/,
    ],
    [
      'two steps with one name',
      (b, st) => {
        const w = new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA });
        w.agentStep('Enrich', { agent: b.agent('A'), inputs: {} });
        w.agentStep('Enrich', { agent: b.agent('B'), inputs: {} });
      },
      /a step named Enrich exists already/,
    ],
    ['an approval step without approvals', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).approvalStep('Approve', { tool: 'x', argumentsPath: '$.x' }), /set the approvals prop/],
    ['a build without agent steps', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).build(new sfn.Pass(st, 'P')), /has no agent step/],
    ['the state machine before build', (b, st) => new AgentWorkflow(st, 'W', { identity: b.identity, inputSchema: SCHEMA }).stateMachine, /call build\(definition\) before/],
    ['an imported domain without a token endpoint', (b, st) => new WorkflowIdentity(st, 'I2', { userPool: b.pool, userPoolDomain: cognito.UserPoolDomain.fromDomainName(st, 'D', 'x') }), /set tokenEndpoint/],
    ['a token endpoint over http', (b, st) => new WorkflowIdentity(st, 'I2', { userPool: b.pool, userPoolDomain: b.domain, tokenEndpoint: 'http://x.example/oauth2/token' }), /tokenEndpoint is "http:/],
    ['a token validity of two hours', (b, st) => new WorkflowIdentity(st, 'I2', { userPool: b.pool, userPoolDomain: b.domain, accessTokenValidity: Duration.hours(2) }), /accessTokenValidity \(minutes\) is 120/],
    [
      'a protected block with host bits',
      (b, st) =>
        new SecurityOperationsWorkflow(st, 'Soc', {
          identity: b.identity,
          model: AgentModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
          guardrail: b.guardrail,
          approvals: new ApprovalWorkflow(st, 'Approvals'),
          protectedCidrs: ['45.33.32.156/16'],
        }),
      /protectedCidrs has "45.33.32.156\/16"/,
    ],
    [
      'runner subnets without a VPC',
      (b, st) =>
        new SecurityOperationsWorkflow(st, 'Soc', {
          identity: b.identity,
          model: AgentModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
          guardrail: b.guardrail,
          approvals: new ApprovalWorkflow(st, 'Approvals'),
          runnerSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        }),
      /runnerSubnets is set without vpc/,
    ],
  ])('fails when %s', (_n, build, message) => {
    const stack = testStack({ env: TEST_ENV });
    const b = base(stack);
    expect(() => build(b, stack)).toThrow(message);
  });

  test('fails when build() is never called, or called twice', () => {
    const stack = testStack({ env: TEST_ENV });
    const b = base(stack);
    const w = new AgentWorkflow(stack, 'W', { identity: b.identity, inputSchema: SCHEMA });
    const step = w.agentStep('Enrich', { agent: b.agent('A'), inputs: { item: '$.input' } });
    expect(w.node.validate()).toEqual(['AgentWorkflow: build(definition) was never called, so no state machine exists']);
    w.build(step);
    expect(w.node.validate()).toEqual([]);
    expect(() => w.build(step)).toThrow(/already called/);
    expect(() => w.agentStep('Later', { agent: b.agent('B'), inputs: {} })).toThrow(/before build/);
  });

  test('a step without tool labels counts every allowlisted tool as all three legs', () => {
    const stack = testStack({ env: TEST_ENV });
    const b = base(stack);
    const tool = new lambda.Function(stack, 'Tool', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({ok:true,result:1})') });
    const agent = new AgentLoop(stack, 'Agent', {
      identity: b.identity.callerIdentity,
      model: AgentModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
      guardrail: b.guardrail,
      systemPrompt: 'x',
      localTools: [{ name: 'fetch_page', description: 'Fetches a page.', inputSchema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] }, function: tool }],
    });
    const w = new AgentWorkflow(stack, 'W', { identity: b.identity, inputSchema: SCHEMA });
    w.build(w.agentStep('Read', { agent, inputs: { item: '$.input' }, inputCapabilities: { item: [] } }));
    const finding = LethalTrifecta.analyze(w.node.findChild('ReadReach') as unknown as ITrifectaSubject);
    expect(finding.lethal).toBe(true);
    expect(finding.externalAccessWithoutApproval.join(' ')).toContain('fetch_page');
  });
});
