import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag, acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { AiWebAcl } from './ai-web-acl';
import { FrontDoorAuthentication } from './front-door-authentication';
import { applyLibraryFeatureFlags } from '../private/feature-flags';

/**
 * Properties of an `AiFrontDoor`.
 */
export interface AiFrontDoorProps {
  /** The VPC of the load balancer (an internet-facing one needs public subnets). */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the load balancer.
   * @default - the VPC's public subnets when internet-facing, otherwise the load balancer's default (private subnets)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Whether the load balancer is reachable from the internet.
   * @default true
   */
  readonly internetFacing?: boolean;
  /** The TLS certificate of the HTTPS listener; it must cover `domainName`. */
  readonly certificate: acm.ICertificate;
  /**
   * The lowercase host name users reach the front door at (covered by `certificate`; point its DNS record at
   * `loadBalancer.loadBalancerDnsName`). It forms the sign-in callback URL `https://<domainName>/oauth2/idpresponse`.
   */
  readonly domainName: string;
  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.TLS13_12_RES_PQ (TLS 1.3 and 1.2, forward-secret AEAD ciphers only, post-quantum hybrid
   *   key exchange where the client supports it)
   */
  readonly sslPolicy?: elbv2.SslPolicy;
  /**
   * How users authenticate before any request reaches the targets.
   * @default FrontDoorAuthentication.cognito() (a new user pool with MFA required)
   */
  readonly authentication?: FrontDoorAuthentication;
  /**
   * How long an authenticated session (the load balancer's session cookie) lasts before users sign in again:
   * 1 second to 7 days.
   * @default Duration.hours(8)
   */
  readonly sessionTimeout?: Duration;
  /**
   * What happens to a request without a valid session: `AUTHENTICATE` redirects browsers to sign in, `DENY` answers
   * HTTP 401 (for API clients). `ALLOW` is refused: it would forward unauthenticated requests.
   * @default elbv2.UnauthenticatedAction.AUTHENTICATE
   */
  readonly onUnauthenticatedRequest?: elbv2.UnauthenticatedAction;
  /**
   * Targets to create a target group for (instances, IP addresses, ECS services...). Give this or `targetGroup`.
   * @default - none: `targetGroup` must be given
   */
  readonly targets?: elbv2.IApplicationLoadBalancerTarget[];
  /**
   * An existing target group to forward authenticated requests to. Give this or `targets`.
   * @default - a target group is created for `targets`
   */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * The port targets listen on. The load balancer's security group allows egress inside the VPC to this port only
   * (besides HTTPS to the identity provider).
   * @default 443
   */
  readonly targetPort?: number;
  /**
   * The protocol from the load balancer to targets (for a created target group).
   * @default elbv2.ApplicationProtocol.HTTPS (traffic stays encrypted inside the VPC)
   */
  readonly targetProtocol?: elbv2.ApplicationProtocol;
  /**
   * Health check of a created target group.
   * @default - the load balancer's defaults (on the traffic port and protocol, path `/`)
   */
  readonly healthCheck?: elbv2.HealthCheck;
  /**
   * Who may connect to ports 443 (and 80, which only redirects to HTTPS).
   * @default [ec2.Peer.anyIpv4()]
   */
  readonly allowedPeers?: ec2.IPeer[];
  /**
   * The web ACL that protects the load balancer; it is associated with it.
   * @default - a new `AiWebAcl` with its secure defaults
   */
  readonly webAcl?: AiWebAcl;
  /**
   * Bucket for the load balancer's access logs. ALB access logs support only SSE-S3 encryption, so a bucket with a
   * KMS key is rejected.
   * @default - a new private, versioned, SSE-S3-encrypted bucket that accepts only TLS requests
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * Key prefix of the access logs.
   * @default - no prefix
   */
  readonly accessLogsPrefix?: string;
  /**
   * How long access logs are kept in a created bucket, in whole days.
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;
  /**
   * How long a connection may stay idle: 1 to 4000 seconds. Long enough for a model that thinks before its first
   * streamed token.
   * @default Duration.seconds(120)
   */
  readonly idleTimeout?: Duration;
  /**
   * WEAKER: lets the load balancer be deleted (by a stack update or deletion) without first turning protection off.
   * @default false (deletion protection on)
   */
  readonly disableDeletionProtection?: boolean;
}

/**
 * An HTTPS Application Load Balancer in front of an AI application that lets no request through unless the user has
 * signed in (Cognito by default, or any OIDC provider), behind an `AiWebAcl`.
 *
 * HTTPS only with a current TLS policy (port 80 only redirects), invalid header fields dropped, strictest HTTP desync
 * mitigation, WAF fail-closed, access logs to a private TLS-only bucket, deletion protection, and a security group
 * that admits only the configured peers and reaches only the target port and the identity provider.
 *
 * Targets receive the user's claims in the `x-amzn-oidc-data` header, a JWT signed by the load balancer: verify its
 * signature and its `signer` (this load balancer's ARN) before trusting it.
 *
 * @resource AWS::ElasticLoadBalancingV2::LoadBalancer
 */
export class AiFrontDoor extends Construct {
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** ARN of the load balancer (the `signer` of the `x-amzn-oidc-data` tokens targets receive). */
  public readonly loadBalancerArn: string;
  /** The HTTPS listener: authenticate, then forward. */
  public readonly httpsListener: elbv2.ApplicationListener;
  /** The HTTP listener, which only redirects to HTTPS. */
  public readonly httpListener: elbv2.ApplicationListener;
  /** The target group authenticated requests go to. */
  public readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The security group of the load balancer. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The web ACL protecting the load balancer. */
  public readonly webAcl: AiWebAcl;
  /** The bucket that receives the access logs. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The Cognito user pool, when authentication is Cognito. */
  public readonly userPool?: cognito.IUserPool;
  /** The Cognito app client, when authentication is Cognito. */
  public readonly userPoolClient?: cognito.IUserPoolClient;
  /** The Cognito hosted domain, when authentication is Cognito. */
  public readonly userPoolDomain?: cognito.IUserPoolDomain;
  /**
   * The issuer (`iss` claim) of the user-claims tokens in `x-amzn-oidc-data`: the user pool's provider URL, or the
   * OIDC issuer. Pass it to targets with `loadBalancerArn` and `clientId` (e.g. for `AlbJwtVerifier` of aws-jwt-verify).
   */
  public readonly issuer: string;
  /** The OAuth client id (`client` claim of the user-claims tokens). */
  public readonly clientId: string;
  /** `https://<domainName>`. */
  public readonly url: string;
  /** The sign-in callback URL to register with an OIDC provider: `https://<domainName>/oauth2/idpresponse`. */
  public readonly callbackUrl: string;

  constructor(scope: Construct, id: string, props: AiFrontDoorProps) {
    super(scope, id);
    applyLibraryFeatureFlags(this);
    const internetFacing = props.internetFacing ?? true;
    const targetPort = props.targetPort ?? 443;
    const sessionTimeout = props.sessionTimeout ?? Duration.hours(8);
    const idleTimeout = props.idleTimeout ?? Duration.seconds(120);
    const onUnauthenticatedRequest = props.onUnauthenticatedRequest ?? elbv2.UnauthenticatedAction.AUTHENTICATE;
    throwIfInvalid('AiFrontDoor', validateAiFrontDoorProps(this, props, { targetPort, sessionTimeout, idleTimeout, onUnauthenticatedRequest }));

    this.url = `https://${props.domainName}`;
    this.callbackUrl = `https://${props.domainName}/oauth2/idpresponse`;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'cdk-ai-defense AiFrontDoor: HTTPS (and HTTP redirect) in from allowed peers; out to targets and the IdP only',
      allowAllOutbound: false,
    });
    const peers = props.allowedPeers ?? [ec2.Peer.anyIpv4()];
    for (const peer of peers) {
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(443), 'HTTPS from clients');
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(80), 'HTTP from clients (redirected to HTTPS)');
    }
    this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(targetPort), 'To targets in the VPC');

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? (internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : undefined),
      internetFacing,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      deletionProtection: !props.disableDeletionProtection,
      idleTimeout,
      http2Enabled: true,
    });
    // If WAF cannot be reached the load balancer refuses requests instead of passing them uninspected (the service
    // default, written out so that it shows in the template and survives a change of default).
    this.loadBalancer.setAttribute('waf.fail_open.enabled', 'false');
    this.loadBalancerArn = this.loadBalancer.loadBalancerArn;

    this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket(props.accessLogsRetention ?? Duration.days(365));
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, props.accessLogsPrefix);

    this.targetGroup =
      props.targetGroup ??
      new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
        vpc: props.vpc,
        port: targetPort,
        protocol: props.targetProtocol ?? elbv2.ApplicationProtocol.HTTPS,
        targets: props.targets,
        healthCheck: props.healthCheck,
      });

    const authentication = (props.authentication ?? FrontDoorAuthentication.cognito())._bind(this, {
      callbackUrl: this.callbackUrl,
      sessionTimeout,
      onUnauthenticatedRequest,
    });
    this.userPool = authentication.userPool;
    this.userPoolClient = authentication.userPoolClient;
    this.userPoolDomain = authentication.userPoolDomain;
    this.issuer = authentication.issuer;
    this.clientId = authentication.clientId;

    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromCertificateManager(props.certificate)],
      sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.TLS13_12_RES_PQ,
      open: false,
      defaultAction: authentication.action(elbv2.ListenerAction.forward([this.targetGroup])),
    });
    this.httpListener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    acknowledgeNagAll(this.httpListener, ['NIST.800.53.R5-ELBv2ACMCertificateRequired', 'HIPAA.Security-ELBv2ACMCertificateRequired'], 'The port 80 listener has no content and no certificate by design: its only action is a permanent redirect to the HTTPS listener, which uses the ACM certificate.');

    this.webAcl = props.webAcl ?? new AiWebAcl(this, 'WebAcl');
    this.webAcl.associate(this.loadBalancerArn);

    if (peers.some((p) => p.uniqueId === ec2.Peer.anyIpv4().uniqueId || p.uniqueId === ec2.Peer.anyIpv6().uniqueId)) {
      acknowledgeNag(this.securityGroup, 'AwsSolutions-EC23', 'An internet-facing front door must accept HTTPS from anywhere; it admits only ports 443 and 80 (redirect), and every request is filtered by AWS WAF and must authenticate before reaching a target.');
    }
  }

  private createAccessLogsBucket(retention: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs can be delivered only to buckets encrypted with SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: retention, noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    acknowledgeNagAll(bucket, ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled'], 'This bucket is itself the access-log destination of the load balancer; logging its own access to another bucket would only move the same finding to that bucket.');
    acknowledgeNagAll(bucket, ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security-S3DefaultEncryptionKMS'], 'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (AES-256); a KMS-encrypted bucket would receive no logs. Access is restricted to TLS, public access is blocked.');
    acknowledgeNagAll(bucket, ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled'], 'Cross-region replication needs a destination bucket in another region, which this construct cannot create; the bucket is versioned, and replication can be added with the accessLogsBucket prop.');
    return bucket;
  }
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Every problem with AiFrontDoor props, each naming the bad value and what is allowed. */
function validateAiFrontDoorProps(
  scope: Construct,
  props: AiFrontDoorProps,
  resolved: { targetPort: number; sessionTimeout: Duration; idleTimeout: Duration; onUnauthenticatedRequest: elbv2.UnauthenticatedAction },
): string[] {
  const errors: string[] = [];
  if (Token.isUnresolved(Stack.of(scope).region)) {
    errors.push('the stack has no region; allowed: a stack with env.region set (ALB access-log delivery is authorized per region)');
  }
  errors.push(...validatePattern('domainName', props.domainName, HOST_NAME, 'a lowercase DNS host name such as "chat.example.com"'));
  if (props.targets !== undefined && props.targetGroup !== undefined) {
    errors.push('both targets and targetGroup are set; allowed: exactly one of them');
  } else if (props.targetGroup === undefined && (props.targets === undefined || props.targets.length === 0)) {
    errors.push(`targets is ${props.targets === undefined ? 'unset' : '[]'} and targetGroup is unset; allowed: at least one target, or a targetGroup`);
  }
  if (props.targetGroup !== undefined && (props.targetProtocol !== undefined || props.healthCheck !== undefined)) {
    errors.push('targetProtocol or healthCheck is set with targetGroup; allowed: configure them on your target group');
  }
  errors.push(...validateInteger('targetPort', resolved.targetPort, 1, 65535));
  errors.push(...validateInteger('sessionTimeout (seconds)', resolved.sessionTimeout.toSeconds(), 1, 604800));
  errors.push(...validateInteger('idleTimeout (seconds)', resolved.idleTimeout.toSeconds(), 1, 4000));
  if (props.accessLogsRetention !== undefined) {
    if (props.accessLogsBucket !== undefined) {
      errors.push('accessLogsRetention is set with accessLogsBucket; allowed: set the lifecycle on your bucket');
    } else {
      errors.push(...validateInteger('accessLogsRetention (days)', props.accessLogsRetention.toDays({ integral: false }), 1, 36500));
    }
  }
  if (props.accessLogsPrefix !== undefined) {
    errors.push(...validatePattern('accessLogsPrefix', props.accessLogsPrefix, /^(?!AWSLogs)[A-Za-z0-9!_.*'()-]+(?:\/[A-Za-z0-9!_.*'()-]+)*$/, 'key segments of letters, digits and !_.*\'()- separated by "/", not starting with AWSLogs and without a trailing "/"'));
  }
  if (resolved.onUnauthenticatedRequest === elbv2.UnauthenticatedAction.ALLOW) {
    errors.push('onUnauthenticatedRequest is ALLOW; allowed: AUTHENTICATE or DENY (ALLOW forwards unauthenticated requests)');
  }
  if (props.allowedPeers !== undefined && props.allowedPeers.length === 0) {
    errors.push('allowedPeers is []; allowed: at least one peer (nobody could connect)');
  }
  return errors;
}
