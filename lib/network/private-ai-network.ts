import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { EndpointAccess } from './endpoint-access';
import { sharedLogKey } from '../private/enforcement-function';
import { acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateCidr, validateInteger, validatePattern } from '../private/validation';
import { applyLibraryFeatureFlags } from '../private/feature-flags';

/** Which buckets principals inside the network may reach through the S3 gateway endpoint. */
export enum S3EndpointScope {
  /**
   * Only buckets owned by this account (`aws:ResourceAccount`), or by the organization when `organizationId` is
   * set (`aws:ResourceOrgID`). A principal of this account cannot copy data to someone else's bucket through the
   * network. AWS-owned buckets are out of reach too (ECR image layers, Amazon Linux package repositories).
   */
  TRUSTED_BUCKETS = 'TRUSTED_BUCKETS',
  /**
   * Any bucket in any account, as long as the caller is a principal of this account or organization. Needed
   * when workloads inside pull container images through ECR endpoints (layers are served from an AWS-owned
   * bucket); it also lets a compromised workload write to a bucket outside the organization.
   */
  ANY_BUCKET = 'ANY_BUCKET',
}

/**
 * Whether OAuth bearer-token callers may use the AgentCore endpoints (`bedrock-agentcore` and
 * `bedrock-agentcore.gateway`).
 *
 * AgentCore data-plane APIs and gateways accept SigV4 or an OAuth bearer token. An endpoint policy can only
 * admit a bearer-token request with `Principal: "*"` because such a request carries no AWS principal, so a
 * policy that admits only principals of this account rejects every JWT-authenticated gateway call.
 * @see https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/vpc-interface-endpoints.html
 */
export enum BearerTokenAccess {
  /**
   * Unsigned (bearer-token) requests are admitted, but only to AgentCore resources of this account (runtimes
   * and gateways whose ARN carries this account and region). The gateway or runtime still verifies the token;
   * SigV4 callers are still limited to principals of this account or organization.
   */
  OWN_ACCOUNT_RESOURCES = 'OWN_ACCOUNT_RESOURCES',
  /**
   * Only SigV4 callers of this account or organization: a gateway or runtime with a JWT authorizer cannot be
   * called from inside the network.
   */
  DENY = 'DENY',
}

/** Options for `PrivateAiNetwork.addInterfaceEndpoint`. */
export interface AddInterfaceEndpointOptions {
  /**
   * Leave the endpoint without the account-boundary endpoint policy, for a service that rejects endpoint
   * policies. The endpoint then admits any principal that can reach it on the network.
   * @default false - the endpoint admits only principals of this account (or organization)
   */
  readonly omitEndpointPolicy?: boolean;
}

/** Props of a {@link PrivateAiNetwork}. */
export interface PrivateAiNetworkProps {
  /**
   * An existing VPC to put the endpoints and flow log in, instead of creating one. It must not already have
   * interface endpoints with private DNS for the same services, nor an S3 gateway endpoint on the same route
   * tables. `cidr`, `maxAzs`, `unsafeAllowInternetEgress` and `publicLoadBalancerSubnets` cannot be combined
   * with it: the adopted VPC's layout is its owner's.
   * @default - a new VPC with private isolated subnets only
   */
  readonly vpc?: ec2.IVpc;

  /**
   * IPv4 CIDR block of the new VPC, a prefix length from /16 to /24.
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Number of Availability Zones of the new VPC (1 to 6; at least 2 with `publicLoadBalancerSubnets`, which an
   * Application Load Balancer needs). An environment-agnostic stack uses at most 2.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * Availability Zones of the new VPC, by name (for example `['us-east-1a', 'us-east-1b']`). Naming them spares a
   * stack with an explicit account and region the Availability Zone lookup at synth. Cannot be combined with
   * `maxAzs`; at least 2 with `publicLoadBalancerSubnets`.
   * @default - the first `maxAzs` zones of the stack's region
   */
  readonly availabilityZones?: string[];

  /**
   * Adds public subnets, private subnets with egress and one NAT gateway per Availability Zone, giving
   * workloads placed in the egress subnets a path to the internet. The isolated subnets and the endpoints stay.
   * A prompt-injected workload with an internet path can exfiltrate data anywhere: use only when a dependency
   * truly cannot be reached through an endpoint.
   * @default false - no internet gateway, no NAT gateway, no route out of the VPC
   */
  readonly unsafeAllowInternetEgress?: boolean;

  /**
   * Adds public subnets with an internet gateway, meant to hold only internet-facing load balancers (for
   * example `AiFrontDoor`'s ALB). No NAT gateway is created, so workloads in the isolated subnets still have
   * no route out; the load balancer reaches them inside the VPC. Instances launched in these subnets get no
   * public IP automatically.
   * @default false - no public subnets
   */
  readonly publicLoadBalancerSubnets?: boolean;

  /**
   * AWS Organizations id. When set, endpoint policies admit principals of the whole organization
   * (`aws:PrincipalOrgID`) instead of only this account (`aws:PrincipalAccount`), and `TRUSTED_BUCKETS` means
   * buckets of the organization. Format `o-` followed by 10 to 32 lower-case letters or digits.
   * @default - only principals of the stack's account
   */
  readonly organizationId?: string;

  /**
   * Which buckets the S3 gateway endpoint reaches.
   * @default S3EndpointScope.TRUSTED_BUCKETS
   */
  readonly s3EndpointScope?: S3EndpointScope;

  /**
   * Whether OAuth bearer-token callers may use the AgentCore endpoints (a `GuardedGateway` with a JWT
   * authorizer is called this way).
   * @default BearerTokenAccess.OWN_ACCOUNT_RESOURCES
   */
  readonly agentCoreBearerTokens?: BearerTokenAccess;

  /**
   * Who may connect to the interface endpoints (always TCP 443 only).
   * @default EndpointAccess.fromVpcCidr() - the VPC's (primary) CIDR block
   */
  readonly endpointAccess?: EndpointAccess;

  /**
   * Subnets that hold the interface endpoints' network interfaces (one per Availability Zone).
   * @default - the private isolated subnets of a new VPC; CDK's default (private subnets) for an adopted VPC
   */
  readonly endpointSubnets?: ec2.SubnetSelection;

  /**
   * Interface endpoints to create in addition to the defaults (bedrock-runtime, bedrock-agent-runtime,
   * bedrock-agentcore, bedrock-agentcore.gateway, sts, logs, kms, secretsmanager), with the same policy and
   * security-group rules. For example `InterfaceVpcEndpointAwsService.S3_VECTORS`, `IAM_IDENTITY_CENTER`,
   * `BEDROCK_AGENT` or `LAMBDA`. `addInterfaceEndpoint` does the same after construction.
   * @default - the defaults only
   */
  readonly additionalEndpoints?: ec2.IInterfaceVpcEndpointService[];

  /**
   * KMS key that encrypts the flow-log group. Its key policy must let CloudWatch Logs use it.
   * @default - the library's stack-wide log key (rotation on)
   */
  readonly flowLogKey?: kms.IKey;

  /**
   * How long flow-log records are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** A private network for AI workloads, as other constructs consume it. */
export interface IPrivateAiNetwork extends IConstruct {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * The interface endpoint of a service; throws, naming the service, if the network has none.
   * @param service for example `ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME`
   */
  endpoint(service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint;

  /**
   * Lets a peer (for example a Lambda function) reach exactly the named endpoints on their port, adding the
   * matching egress rule to the peer's security group when that group restricts egress.
   */
  allowFrom(peer: ec2.IConnectable, ...services: ec2.IInterfaceVpcEndpointService[]): void;
}

const DEFAULT_CIDR = '10.0.0.0/16';
/** Security-group rules that fail (rather than pass or report) when an ingress CIDR is a deploy-time value. */
const TOKEN_CIDR_RULES = [
  'AwsSolutions-EC23',
  'NIST.800.53.R5-EC2RestrictedCommonPorts',
  'NIST.800.53.R5-EC2RestrictedSSH',
  'HIPAA.Security-EC2RestrictedCommonPorts',
  'HIPAA.Security-EC2RestrictedSSH',
];
const ORG_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;
/** AgentCore endpoints that accept OAuth bearer tokens as well as SigV4. */
const BEARER_TOKEN_SERVICES = ['bedrock-agentcore', 'bedrock-agentcore.gateway'];

/**
 * A VPC for AI workloads with no path to the internet: private isolated subnets, interface endpoints with
 * private DNS for Bedrock, AgentCore and the AWS services every workload needs, an S3 gateway endpoint, endpoint
 * policies that admit only principals of this account (or organization), endpoint security groups that admit
 * only HTTPS, and flow logs of all traffic to an encrypted log group.
 *
 * Internet egress exists only when asked for by name (`unsafeAllowInternetEgress`); public subnets for an
 * internet-facing load balancer only with `publicLoadBalancerSubnets`.
 */
export class PrivateAiNetwork extends Construct implements IPrivateAiNetwork {
  /** The interface endpoint services every network gets. */
  public static readonly DEFAULT_ENDPOINT_SERVICES: ec2.InterfaceVpcEndpointAwsService[] = [
    ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    ec2.InterfaceVpcEndpointAwsService.BEDROCK_AGENT_RUNTIME,
    ec2.InterfaceVpcEndpointAwsService.BEDROCK_AGENTCORE,
    ec2.InterfaceVpcEndpointAwsService.BEDROCK_AGENTCORE_GATEWAY,
    ec2.InterfaceVpcEndpointAwsService.STS,
    ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    ec2.InterfaceVpcEndpointAwsService.KMS,
    ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ];

  /** The VPC (created or adopted). */
  public readonly vpc: ec2.IVpc;

  /** The S3 gateway endpoint. */
  public readonly s3Endpoint: ec2.GatewayVpcEndpoint;

  /** The log group that receives the VPC flow log (all traffic). */
  public readonly flowLogGroup: logs.LogGroup;

  /** The VPC flow log. */
  public readonly flowLog: ec2.FlowLog;

  private readonly endpointsByService = new Map<string, ec2.InterfaceVpcEndpoint>();
  private readonly access: EndpointAccess;
  private readonly endpointCidr: string;
  private readonly subnets?: ec2.SubnetSelection;
  private readonly organizationId?: string;
  private readonly bearerTokens: BearerTokenAccess;

  constructor(scope: Construct, id: string, props: PrivateAiNetworkProps = {}) {
    super(scope, id);
    applyLibraryFeatureFlags(this);
    throwIfInvalid('PrivateAiNetwork', validateProps(props));

    const stack = Stack.of(this);
    this.organizationId = props.organizationId;
    this.bearerTokens = props.agentCoreBearerTokens ?? BearerTokenAccess.OWN_ACCOUNT_RESOURCES;
    this.access = props.endpointAccess ?? EndpointAccess.fromVpcCidr();

    if (props.vpc) {
      this.vpc = props.vpc;
      this.endpointCidr = props.vpc.vpcCidrBlock;
      this.subnets = props.endpointSubnets;
    } else {
      const cidr = props.cidr ?? DEFAULT_CIDR;
      this.vpc = this.createVpc(cidr, props);
      // The literal block (not the VPC's CidrBlock attribute) so that rules and cdk-nag see the real range.
      this.endpointCidr = cidr;
      this.subnets = props.endpointSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      encryptionKey: props.flowLogKey ?? sharedLogKey(this),
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const flowLogDelivery = this.createFlowLogRole();
    this.flowLog = new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, flowLogDelivery.role),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // Deliver only once the role can write, so no early flow-log records are lost to an access error.
    this.flowLog.node.addDependency(flowLogDelivery.policy);

    this.s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
      vpc: this.vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
    });
    const s3Conditions: { [key: string]: string } = { ...this.principalCondition() };
    if ((props.s3EndpointScope ?? S3EndpointScope.TRUSTED_BUCKETS) === S3EndpointScope.TRUSTED_BUCKETS) {
      if (this.organizationId) s3Conditions['aws:ResourceOrgID'] = this.organizationId;
      else s3Conditions['aws:ResourceAccount'] = stack.account;
    }
    this.s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TrustedPrincipalsOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: ['*'],
        conditions: { StringEquals: s3Conditions },
      }),
    );

    for (const service of [...PrivateAiNetwork.DEFAULT_ENDPOINT_SERVICES, ...(props.additionalEndpoints ?? [])]) {
      this.addInterfaceEndpoint(service);
    }
  }

  /**
   * Adds an interface endpoint (private DNS on) with the account-boundary policy and an HTTPS-only security
   * group admitting the sources of `endpointAccess`.
   * @param service for example `ec2.InterfaceVpcEndpointAwsService.S3_VECTORS`
   */
  public addInterfaceEndpoint(
    service: ec2.IInterfaceVpcEndpointService,
    options: AddInterfaceEndpointOptions = {},
  ): ec2.InterfaceVpcEndpoint {
    const key = serviceKey(service);
    if (this.endpointsByService.has(key)) {
      throw new Error(`PrivateAiNetwork: the network already has an interface endpoint for "${key}"`);
    }
    const id = `${pascalCase(key)}Endpoint`;
    const port = ec2.Port.tcp(service.port);
    const securityGroup = new ec2.SecurityGroup(this, `${id}SecurityGroup`, {
      vpc: this.vpc,
      description: `cdk-ai-defense: HTTPS to the ${key} interface endpoint`,
      allowAllOutbound: false,
    });
    if (this.access.vpcCidr) securityGroup.addIngressRule(ec2.Peer.ipv4(this.endpointCidr), port, 'HTTPS from the VPC');
    for (const peer of this.access.peers) securityGroup.addIngressRule(peer, port, 'HTTPS from an allowed peer');
    if (this.access.vpcCidr && Token.isUnresolved(this.endpointCidr)) {
      acknowledgeNagAll(securityGroup, TOKEN_CIDR_RULES, 'The only ingress is TCP 443 from the adopted VPC\'s own CIDR block, a deploy-time value these rules cannot read (they fail on the intrinsic); it is never 0.0.0.0/0 and never SSH or another common port.');
    }

    const endpoint = new ec2.InterfaceVpcEndpoint(this, id, {
      vpc: this.vpc,
      service,
      privateDnsEnabled: true,
      subnets: this.subnets,
      securityGroups: [securityGroup],
      open: false,
    });
    if (!options.omitEndpointPolicy) {
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'TrustedPrincipalsOnly',
          principals: [new iam.AnyPrincipal()],
          actions: ['*'],
          resources: ['*'],
          conditions: { StringEquals: this.principalCondition() },
        }),
      );
      if (BEARER_TOKEN_SERVICES.includes(key) && this.bearerTokens === BearerTokenAccess.OWN_ACCOUNT_RESOURCES) {
        const stack = Stack.of(this);
        endpoint.addToPolicy(
          new iam.PolicyStatement({
            sid: 'BearerTokenCallsToOwnAccountResourcesOnly',
            principals: [new iam.AnyPrincipal()],
            actions: ['bedrock-agentcore:*'],
            resources: [`arn:${stack.partition}:bedrock-agentcore:${stack.region}:${stack.account}:*`],
            // Only requests without an AWS principal, i.e. OAuth bearer-token calls; SigV4 calls match the statement above.
            conditions: { Null: { 'aws:PrincipalAccount': 'true' } },
          }),
        );
      }
    }
    this.endpointsByService.set(key, endpoint);
    return endpoint;
  }

  public endpoint(service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint {
    const key = serviceKey(service);
    const found = this.endpointsByService.get(key);
    if (!found) {
      throw new Error(
        `PrivateAiNetwork: no interface endpoint for "${key}" in ${this.node.path}; ` +
          `add it with additionalEndpoints or addInterfaceEndpoint(). Endpoints: ${[...this.endpointsByService.keys()].join(', ')}`,
      );
    }
    return found;
  }

  /** Whether the network has an interface endpoint for the service. */
  public hasEndpoint(service: ec2.IInterfaceVpcEndpointService): boolean {
    return this.endpointsByService.has(serviceKey(service));
  }

  /** Every interface endpoint of the network, defaults first, in the order they were added. */
  public get interfaceEndpoints(): ec2.InterfaceVpcEndpoint[] {
    return [...this.endpointsByService.values()];
  }

  public allowFrom(peer: ec2.IConnectable, ...services: ec2.IInterfaceVpcEndpointService[]): void {
    if (services.length === 0) {
      throw new Error('PrivateAiNetwork.allowFrom: name the endpoint services the peer uses (none were given)');
    }
    // Resolve every service first so that a missing one fails before any rule is added.
    const endpoints = services.map((s) => this.endpoint(s));
    for (const endpoint of endpoints) endpoint.connections.allowDefaultPortFrom(peer, 'HTTPS from a workload that uses this endpoint');
  }

  private createVpc(cidr: string, props: PrivateAiNetworkProps): ec2.Vpc {
    const egress = props.unsafeAllowInternetEgress ?? false;
    const publicSubnets = egress || (props.publicLoadBalancerSubnets ?? false);
    const subnetConfiguration: ec2.SubnetConfiguration[] = [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }];
    if (publicSubnets) {
      subnetConfiguration.push({ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false, cidrMask: 26 });
    }
    if (egress) subnetConfiguration.push({ name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });

    const vpc = new ec2.Vpc(this, 'Resource', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: props.availabilityZones ? undefined : (props.maxAzs ?? 2),
      availabilityZones: props.availabilityZones,
      subnetConfiguration,
      natGateways: egress ? undefined : 0,
      createInternetGateway: publicSubnets,
      restrictDefaultSecurityGroup: true,
    });
    if (publicSubnets && !egress) {
      for (const subnet of vpc.publicSubnets) {
        acknowledgeNagAll(subnet, ['NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', 'HIPAA.Security-VPCNoUnrestrictedRouteToIGW'], 'publicLoadBalancerSubnets: an internet-facing load balancer needs the default route to the internet gateway; these subnets hold only load balancers and no NAT gateway exists, so workloads have no route out.');
      }
    }
    return vpc;
  }

  /**
   * The role VPC Flow Logs assumes to deliver to the log group: trusted only for flow logs of this account and
   * region (confused-deputy conditions), with its permissions in a customer-managed policy rather than inline.
   */
  private createFlowLogRole(): { role: iam.IRole; policy: iam.ManagedPolicy } {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'FlowLogRole', {
      description: 'cdk-ai-defense: delivers the VPC flow log to its log group',
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:vpc-flow-log/*` },
      }),
    });
    const policy = new iam.ManagedPolicy(this, 'FlowLogPolicy', {
      description: 'cdk-ai-defense: write the VPC flow log to its log group only',
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [this.flowLogGroup.logGroupArn],
        }),
      ],
    });
    // FlowLog would add the same statement as an inline policy; the managed policy above already grants it.
    return { role: role.withoutPolicyUpdates(), policy };
  }

  private principalCondition(): { [key: string]: string } {
    return this.organizationId
      ? { 'aws:PrincipalOrgID': this.organizationId }
      : { 'aws:PrincipalAccount': Stack.of(this).account };
  }
}

function validateProps(props: PrivateAiNetworkProps): string[] {
  const errors: string[] = [];
  if (props.vpc) {
    const layout = (['cidr', 'maxAzs', 'availabilityZones', 'unsafeAllowInternetEgress', 'publicLoadBalancerSubnets'] as const).filter(
      (k) => props[k] !== undefined,
    );
    if (layout.length > 0) {
      errors.push(`${layout.join(', ')} cannot be combined with vpc; allowed: omit them (an adopted VPC keeps its own layout)`);
    }
  }
  const cidrErrors = validateCidr('cidr', props.cidr);
  errors.push(...cidrErrors);
  if (props.cidr !== undefined && !Token.isUnresolved(props.cidr) && cidrErrors.length === 0) {
    const [address, prefix] = props.cidr.split('/');
    const bits = Number(prefix);
    const value = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    if (bits < 16 || bits > 24) {
      errors.push(`cidr is "${props.cidr}"; allowed: a prefix length from /16 to /24`);
    } else if (value % 2 ** (32 - bits) !== 0) {
      errors.push(`cidr is "${props.cidr}"; allowed: a network address (host bits zero), such as 10.0.0.0/16`);
    }
  }
  const minAzs = props.publicLoadBalancerSubnets ? 2 : 1;
  errors.push(...validateInteger('maxAzs', props.maxAzs, minAzs, 6));
  if (props.availabilityZones !== undefined) {
    const azs = props.availabilityZones;
    if (props.maxAzs !== undefined) errors.push('maxAzs and availabilityZones are both set; allowed: one of them');
    if (azs.length < minAzs || azs.length > 6 || new Set(azs).size !== azs.length) {
      errors.push(`availabilityZones is [${azs.join(', ')}]; allowed: ${minAzs} to 6 distinct zone names`);
    }
  }
  errors.push(
    ...validatePattern('organizationId', props.organizationId, ORG_ID_PATTERN, 'o- followed by 10 to 32 lower-case letters or digits, such as o-a1b2c3d4e5'),
  );
  return errors;
}

/** The key an endpoint is filed under: the short name of an AWS service (`bedrock-runtime`), else the full name. */
function serviceKey(service: ec2.IInterfaceVpcEndpointService): string {
  const shortName = (service as { shortName?: unknown }).shortName;
  return typeof shortName === 'string' ? shortName : service.name;
}

/** A stable construct id from a service key: `bedrock-agentcore.gateway` becomes `BedrockAgentcoreGateway`. */
function pascalCase(key: string): string {
  return key
    .replace(/\$\{Token\[[^\]]*\]\}/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
