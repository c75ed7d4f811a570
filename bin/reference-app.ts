/**
 * The reference architecture: every construct of the library wired together, with no logic of its own.
 *
 *   npm ci && npm run synth       synthesizes it into cdk.out/ offline (no AWS account or credentials)
 *
 * Settings come from CDK context (`-c key=value`); the defaults are placeholders for a synth without an account.
 *   region          AWS region of the stack                          default us-east-1
 *   domainName      the public name users reach the front door at    default ai.example.com
 *   certificateArn  ACM certificate for domainName in that region    default a placeholder ARN
 */
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  AccessGrantsAuthorizer,
  AgentLoop,
  AgentModel,
  AccessGrantsIdentity,
  AiAuditTrail,
  AiFrontDoor,
  AiGuardrail,
  ApprovalWorkflow,
  ArgumentValidation,
  CallerIdentity,
  GuardedGateway,
  GuardrailEnforcer,
  IdentityCondition,
  IsolatedMemory,
  LethalTrifecta,
  KnowledgeRetriever,
  MemoryBroker,
  MetadataContract,
  MetadataField,
  PinnedCallerIdentity,
  PrivateAiNetwork,
  RetrievalFilterPolicy,
  SecurityOperationsWorkflow,
  SecureKnowledgeBase,
  StaticCondition,
  WorkflowIdentity,
} from '../lib';

export interface ReferenceArchitectureProps extends StackProps {
  /** Public host name of the front door. */
  readonly domainName: string;
  /** ACM certificate ARN for `domainName`. */
  readonly certificateArn: string;
}

/** Phase 1 to 4 of the defense-in-depth architecture in one stack. */
export class ReferenceArchitectureStack extends Stack {
  public readonly network: PrivateAiNetwork;
  public readonly frontDoor: AiFrontDoor;
  public readonly audit: AiAuditTrail;
  public readonly guardrail: AiGuardrail;
  public readonly guardrailEnforcer: GuardrailEnforcer;
  public readonly callerIdentity: CallerIdentity;
  public readonly memory: IsolatedMemory;
  public readonly memoryBroker: MemoryBroker;
  public readonly knowledgeBase: SecureKnowledgeBase;
  public readonly knowledgeGrants: AccessGrantsAuthorizer;
  public readonly knowledgeRetriever: KnowledgeRetriever;
  public readonly approvals: ApprovalWorkflow;
  public readonly gateway: GuardedGateway;
  public readonly agent: AgentLoop;
  public readonly securityOperations: SecurityOperationsWorkflow;

  constructor(scope: Construct, id: string, props: ReferenceArchitectureProps) {
    super(scope, id, props);

    // Phase 1: foundation. Workloads live in isolated subnets and reach AWS only through interface endpoints;
    // the public subnets hold nothing but the load balancer.
    this.network = new PrivateAiNetwork(this, 'Network', {
      publicLoadBalancerSubnets: true,
      // Beyond the defaults: what the reference app's handlers call from the isolated subnets (S3 Vectors for the
      // knowledge base, DynamoDB for approvals and session taint, SNS for approval notices, Step Functions for
      // approval task tokens, Lambda for local tools, WAF for the approved remediation).
      additionalEndpoints: [
        ec2.InterfaceVpcEndpointAwsService.S3_VECTORS,
        ec2.InterfaceVpcEndpointAwsService.DYNAMODB,
        ec2.InterfaceVpcEndpointAwsService.SNS,
        ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
        ec2.InterfaceVpcEndpointAwsService.LAMBDA,
        ec2.InterfaceVpcEndpointAwsService.WAFV2,
      ],
    });

    // The application (or agent runtime) registers its tasks in this group; the front door authenticates every user first.
    const appTargets = new elbv2.ApplicationTargetGroup(this, 'AppTargets', {
      vpc: this.network.vpc,
      targetType: elbv2.TargetType.IP,
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      healthCheck: { path: '/health', protocol: elbv2.Protocol.HTTPS },
    });
    this.frontDoor = new AiFrontDoor(this, 'FrontDoor', {
      vpc: this.network.vpc,
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      targetGroup: appTargets,
    });

    // Visibility: CloudTrail with Bedrock and AgentCore data events, model invocation logging (one per account
    // and region: turn it off in other stacks of the same account), alarms on denials and guardrail interventions.
    // Its deploy-time custom resource runs outside the VPC: it must reach the Bedrock control plane and answer
    // CloudFormation through an AWS-owned S3 bucket, neither of which the isolated network allows.
    this.audit = new AiAuditTrail(this, 'Audit');

    // Phase 2: guardrails on input, output and tool results, applied by deterministic code that reports which
    // filter fired; the enforcer runs in the isolated subnets and reaches Bedrock through the endpoint.
    this.guardrail = new AiGuardrail(this, 'Guardrail');
    this.guardrailEnforcer = new GuardrailEnforcer(this, 'GuardrailEnforcer', {
      guardrail: this.guardrail,
      vpc: this.network.vpc,
    });
    this.audit.watchDecisionLogs(this.guardrailEnforcer.decisionLogGroup);

    // Who is calling: the users the front door signs in. The app forwards their access token; every handler
    // verifies it again, and identity never comes from a prompt, a tool argument or a header the caller sets.
    // Handlers verify tokens inside the isolated network, where the issuer's keys cannot be fetched: the keys are
    // pinned at deploy time, and an alarm says when the issuer's published keys drift from the pinned ones.
    const alarmActions = [new cloudwatchActions.SnsAction(this.audit.alarmTopic!)];
    this.callerIdentity = CallerIdentity.cognito({
      userPool: this.frontDoor.userPool!,
      clients: [this.frontDoor.userPoolClient!],
    }).withPinnedKeys(this, { alarmActions });

    // Memory: namespaces derived from the verified identity; one actor's namespace is never a prefix of another's.
    this.memory = new IsolatedMemory(this, 'Memory');
    this.memoryBroker = new MemoryBroker(this, 'MemoryBroker', {
      memory: this.memory,
      identity: this.callerIdentity,
      guardrail: this.guardrail,
      vpc: this.network.vpc,
    });
    this.audit.watchDecisionLogs(this.memoryBroker.decisionLogGroup);

    // Knowledge: every document carries the metadata the filters need (unlabeled ones are quarantined); retrieval
    // is filtered by the caller's verified claims before the search, and each chunk's source is authorized for the
    // end user against S3 Access Grants after it, before anything reaches a prompt.
    this.knowledgeBase = new SecureKnowledgeBase(this, 'Knowledge', {
      metadataContract: MetadataContract.of([
        MetadataField.string('tenant'),
        MetadataField.stringList('groups'),
        MetadataField.string('classification', { allowedValues: ['public', 'internal', 'confidential'] }),
        MetadataField.number('year', { integer: true }),
      ]),
      vpc: this.network.vpc,
    });
    this.knowledgeGrants = new AccessGrantsAuthorizer(this, 'KnowledgeGrants', { identity: AccessGrantsIdentity.groupRoles() });
    const documents = this.knowledgeGrants.addKnowledgeBaseLocation('Documents', this.knowledgeBase);
    this.knowledgeGrants.grantGroupRead('finance', documents, 'finance/');
    this.knowledgeGrants.grantGroupRead('engineering', documents, 'engineering/');
    this.knowledgeRetriever = new KnowledgeRetriever(this, 'KnowledgeRetriever', {
      identity: this.callerIdentity,
      knowledgeBase: this.knowledgeBase,
      filterPolicy: new RetrievalFilterPolicy({
        identityConditions: [
          IdentityCondition.claimEquals('tenant', 'custom:tenant'),
          IdentityCondition.groupsContain('groups'),
          IdentityCondition.numberAtMost('year', 'custom:clearance_year'),
        ],
        staticConditions: [StaticCondition.stringIn('classification', ['public', 'internal'])],
      }),
      accessGrants: this.knowledgeGrants,
      vpc: this.network.vpc,
    });
    this.audit.watchDecisionLogs(this.knowledgeRetriever.decisionLogGroup);
    this.audit.watchDecisionLogs(this.knowledgeBase.decisionLogGroup);

    // Phase 3 and 4: agents reach knowledge, memory and tools only through the guarded gateway, which verifies the
    // caller again, authorizes each call with Cedar, injects the verified identity, screens tool results with the
    // guardrail, scans and pins the tool list, and sends high-risk calls to a human.
    this.approvals = new ApprovalWorkflow(this, 'Approvals', { vpc: this.network.vpc, webAcl: this.frontDoor.webAcl });
    (this.approvals.approverIdentity as PinnedCallerIdentity).pin.driftAlarm.addAlarmAction(...alarmActions);
    this.gateway = new GuardedGateway(this, 'Gateway', {
      identity: this.callerIdentity,
      guardrail: this.guardrail,
      approvals: this.approvals,
      vpc: this.network.vpc,
    });
    this.gateway.addKnowledgeTarget(this.knowledgeRetriever, {
      owner: 'platform',
      allowedGroups: ['employees'],
      // The retriever validates its free-form narrowing filter itself, under the identity conditions.
      argumentValidation: ArgumentValidation.SHAPE_ONLY_TARGET_VALIDATES,
    });
    this.gateway.addMemoryTarget(this.memoryBroker, { owner: 'platform', allowedGroups: ['employees'] });
    this.memoryBroker.grantInvoke(this.gateway.role);
    this.knowledgeRetriever.grantInvoke(this.gateway.role);
    for (const logGroup of [this.gateway.requestDecisionLogGroup, this.gateway.responseDecisionLogGroup, this.approvals.apiDecisionLogGroup]) {
      this.audit.watchDecisionLogs(logGroup);
    }

    // The assistant: a deterministic loop around the model, with an allowlist of gateway tools.
    this.agent = new AgentLoop(this, 'Assistant', {
      identity: this.callerIdentity,
      model: AgentModel.foundationModel('amazon.nova-pro-v1:0'),
      guardrail: this.guardrail,
      systemPrompt: 'You are the company assistant. Answer from the knowledge and memory tools; say when you do not know.',
      gateway: this.gateway,
      gatewayTools: [
        { name: 'knowledge___search_knowledge' },
        { name: 'memory___recall' },
        { name: 'memory___remember' },
      ],
      vpc: this.network.vpc,
    });
    this.audit.watchDecisionLogs(this.agent.decisionLogGroup);

    // Phase 4, automated: a security alert runs a deterministic graph of three small agents under the workflow's own
    // identity (no user token in Step Functions); blocking an address needs a human approval of exactly that address.
    const socIdentity = new WorkflowIdentity(this, 'SocIdentity', {
      userPool: this.frontDoor.userPool!,
      userPoolDomain: this.frontDoor.userPoolDomain!,
      keyPin: { alarmActions },
    });
    this.securityOperations = new SecurityOperationsWorkflow(this, 'SecurityOperations', {
      identity: socIdentity,
      model: AgentModel.foundationModel('amazon.nova-pro-v1:0'),
      guardrail: this.guardrail,
      approvals: this.approvals,
      vpc: this.network.vpc,
    });
    for (const logGroup of this.securityOperations.decisionLogGroups) this.audit.watchDecisionLogs(logGroup);
  }
}

/** The four cdk-nag packs the reference app must pass at synth. */
export function addNagPacks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new NIST80053R5Checks(app),
    new HIPAASecurityChecks(app),
    new ServerlessChecks(app),
  );
}

/** Builds the reference app from context (see the file comment for the keys). */
export function buildReferenceApp(app: App): ReferenceArchitectureStack {
  const region = (app.node.tryGetContext('region') as string | undefined) ?? 'us-east-1';
  const domainName = (app.node.tryGetContext('domainName') as string | undefined) ?? 'ai.example.com';
  const certificateArn =
    (app.node.tryGetContext('certificateArn') as string | undefined) ??
    `arn:aws:acm:${region}:111111111111:certificate/00000000-0000-0000-0000-000000000000`;
  // Phase 5: no agent or gateway may reach sensitive data, untrusted content and external access at once.
  LethalTrifecta.check(app);
  return new ReferenceArchitectureStack(app, 'CdkAiDefenseReference', {
    env: { region },
    description: 'cdk-ai-defense reference architecture: defense in depth for AI workloads',
    domainName,
    certificateArn,
  });
}

if (require.main === module) {
  const app = new App();
  addNagPacks(app);
  buildReferenceApp(app);
  app.synth();
}
