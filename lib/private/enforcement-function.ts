import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_EXPORT, handlerCode } from './handler-code';
import { ManagedPolicyRole } from './managed-policy-role';
import { acknowledgeNag, acknowledgeNagAll } from './nag';
import { cloudWatchLogsKeyStatement, lambdaVpcAccessStatement } from './policy-statements';

/** Props shared by every public construct that deploys one of the library's enforcement handlers. */
export interface EnforcementFunctionOptions {
  /**
   * VPC to run the function in, normally the `PrivateAiNetwork` VPC so that AWS calls go through its endpoints.
   * @default - the function runs outside any VPC (cdk-nag's LambdaInsideVPC rules then report it, by design)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets for the function when `vpc` is set.
   * @default - the VPC's private isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups for the function when `vpc` is set.
   * @default - a new security group that allows only HTTPS egress inside the VPC
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * KMS key that encrypts the function's log group and environment.
   * @default - one customer-managed key per stack, shared by the library's log groups, with rotation on
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long the function's decision log is kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** @internal */
export interface EnforcementFunctionProps extends EnforcementFunctionOptions {
  /** Folder name under `lambda/` (and `dist/handlers/`). */
  readonly handlerName: string;
  readonly description: string;
  readonly environment?: { [key: string]: string };
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * How the function is invoked, which decides why it needs no dead-letter queue and no reserved concurrency.
   * @default EnforcementInvocation.SYNCHRONOUS
   */
  readonly invocation?: EnforcementInvocation;
}

/**
 * How an enforcement function is invoked. cdk-nag's dead-letter-queue and reserved-concurrency rules are acknowledged
 * once, here, with the reason that is true for that mode.
 * @internal
 */
export enum EnforcementInvocation {
  /** Interceptors, tool targets, APIs: a failure is returned to the caller as a deny. */
  SYNCHRONOUS = 'SYNCHRONOUS',
  /** Events with an on-failure destination set through `configureAsyncInvoke`. */
  ASYNCHRONOUS_WITH_FAILURE_DESTINATION = 'ASYNCHRONOUS_WITH_FAILURE_DESTINATION',
  /** A deployment-time custom resource that also runs on a schedule; a failure fails the deployment or raises an alarm. */
  DEPLOYMENT_AND_SCHEDULE = 'DEPLOYMENT_AND_SCHEDULE',
}

const DLQ_RULES = ['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'HIPAA.Security-LambdaDLQ'];
const ASYNC_DESTINATION_RULE = 'Serverless-LambdaAsyncFailureDestination';
const CONCURRENCY_RULES = ['NIST.800.53.R5-LambdaConcurrency', 'HIPAA.Security-LambdaConcurrency'];

/** Why each mode needs no dead-letter queue (and, except with a destination, no on-failure destination). */
const NO_DLQ_REASON: Record<EnforcementInvocation, string> = {
  SYNCHRONOUS:
    'Enforcement handlers are invoked synchronously (interceptors, tool targets, API calls); a failed call is returned to the caller as a deny, so there is no asynchronous event to park in a dead-letter queue.',
  ASYNCHRONOUS_WITH_FAILURE_DESTINATION:
    'Failed asynchronous invocations go to the on-failure destination configured with configureAsyncInvoke, which keeps the event and the error; a classic dead-letter queue would receive the same events without the error.',
  DEPLOYMENT_AND_SCHEDULE:
    'Invoked by CloudFormation (which fails the deployment when no answer arrives) and by a schedule (a failed run publishes no datapoint, which the alarm treats as a failure); a queued event would hold a presigned CloudFormation response URL and nothing worth replaying.',
};

/** Why each mode needs no reserved concurrency. */
const NO_CONCURRENCY_REASON: Record<EnforcementInvocation, string> = {
  SYNCHRONOUS:
    'Reserved concurrency on a synchronous security control only adds throttling, and a throttled control denies every request; set reservedConcurrentExecutions through the escape hatch if a ceiling is wanted.',
  ASYNCHRONOUS_WITH_FAILURE_DESTINATION:
    'Reserved concurrency would only delay event processing (throttled events are retried and then sent to the on-failure destination); set reservedConcurrentExecutions through the escape hatch if a ceiling is wanted.',
  DEPLOYMENT_AND_SCHEDULE:
    'Runs a few times per deployment and once per scheduled check; reserved concurrency could only throttle a deployment or a check.',
};

/** Id of the stack-wide key that encrypts the library's log groups. */
const SHARED_LOG_KEY_ID = 'CdkAiDefenseLogKey';

/** The stack-wide KMS key for the library's log groups, created on first use (one per stack). */
export function sharedLogKey(scope: Construct): kms.IKey {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(SHARED_LOG_KEY_ID) as kms.Key | undefined;
  if (existing) return existing;
  const key = new kms.Key(stack, SHARED_LOG_KEY_ID, {
    description: 'cdk-ai-defense: encrypts decision logs and audit log groups',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // CloudWatch Logs encrypts with the key only for log groups of this account and region.
  key.addToResourcePolicy(cloudWatchLogsKeyStatement(stack));
  return key;
}

/**
 * A Lambda function running one of the library's prebundled enforcement handlers, with the settings every
 * security control needs: its own least-privilege role (no managed policies), an encrypted log group with
 * retention, JSON logs, X-Ray tracing, ARM64 on the current Node.js runtime, and optionally a VPC.
 *
 * @internal
 */
export class EnforcementFunction extends lambda.Function {
  /** The function's log group, which holds its decision log. */
  public readonly decisionLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: EnforcementFunctionProps) {
    const key = props.logEncryptionKey ?? sharedLogKey(scope);
    const role = new ManagedPolicyRole(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `cdk-ai-defense ${props.handlerName}: execution role`,
    });
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      encryptionKey: key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const securityGroups =
      props.vpc && !props.securityGroups
        ? [
            new ec2.SecurityGroup(scope, `${id}SecurityGroup`, {
              vpc: props.vpc,
              description: `cdk-ai-defense ${props.handlerName}: HTTPS egress inside the VPC only`,
              allowAllOutbound: false,
            }),
          ]
        : props.securityGroups;
    if (props.vpc && !props.securityGroups) {
      securityGroups![0].addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'HTTPS to VPC endpoints');
    }

    super(scope, id, {
      description: props.description,
      code: handlerCode(props.handlerName),
      handler: HANDLER_EXPORT,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: { ...props.environment },
      environmentEncryption: key,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }) : undefined,
      securityGroups,
    });
    this.decisionLogGroup = logGroup;
    logGroup.grantWrite(role);
    // Lambda decrypts the environment with the execution role; CloudWatch Logs uses the key through its key policy.
    key.grantDecrypt(role);

    if (props.vpc) {
      // The minimum Lambda needs to attach the function to the VPC; EC2 scopes none of it by resource.
      role.addToPrincipalPolicy(lambdaVpcAccessStatement());
    }
    acknowledgeNag(role, 'AwsSolutions-IAM5[Resource::*]', 'Only actions without resource-level scoping use "*": X-Ray PutTraceSegments/PutTelemetryRecords for tracing, and, in a VPC, the EC2 network-interface actions Lambda needs (the documented minimum).');
    const invocation = props.invocation ?? EnforcementInvocation.SYNCHRONOUS;
    const hasDestination = invocation === EnforcementInvocation.ASYNCHRONOUS_WITH_FAILURE_DESTINATION;
    acknowledgeNagAll(this, hasDestination ? DLQ_RULES : [...DLQ_RULES, ASYNC_DESTINATION_RULE], NO_DLQ_REASON[invocation]);
    acknowledgeNagAll(this, CONCURRENCY_RULES, NO_CONCURRENCY_REASON[invocation]);
  }
}
