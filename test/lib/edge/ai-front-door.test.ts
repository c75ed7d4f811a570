import { Duration, SecretValue, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AiFrontDoor, AiFrontDoorProps, AiWebAcl, FrontDoorAuthentication, OidcAuthenticationOptions } from '../../../lib/edge';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized, TEST_ENV, testStack } from '../../rig/synth';

const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const OIDC: OidcAuthenticationOptions = {
  issuer: 'https://login.example.com',
  authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
  tokenEndpoint: 'https://login.example.com/oauth2/token',
  userInfoEndpoint: 'https://login.example.com/oauth2/userinfo',
  clientId: 'front-door',
  clientSecret: SecretValue.secretsManager('front-door/oidc'),
};

/** Test scaffolding: a VPC with public and isolated subnets and flow logs. */
function scaffold(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('Flow');
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN);
  return { vpc, certificate };
}

/** cdk-nag findings outside the test's own VPC scaffolding. */
function ownFindings(stack: Stack) {
  return nagFindings(stack).filter((f) => !f.resources.every((r) => r.startsWith('TestStack/Vpc/')));
}

function listener(template: Template, port: number): any {
  const found = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Port: port } }));
  expect(found).toHaveLength(1);
  return (found[0] as any).Properties;
}

function lbAttributes(template: Template): Record<string, unknown> {
  const lbs = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer')) as any[];
  expect(lbs).toHaveLength(1);
  return Object.fromEntries(lbs[0].Properties.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
}

describe('AiFrontDoor with defaults (Cognito)', () => {
  let s: Synthesized<{ door: AiFrontDoor; vpc: ec2.Vpc }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const { vpc, certificate } = scaffold(stack);
      const door = new AiFrontDoor(stack, 'FrontDoor', {
        vpc,
        certificate,
        domainName: 'chat.example.com',
        targets: [new targets.IpTarget('10.0.1.10')],
      });
      return { door, vpc };
    }, { env: TEST_ENV });
  });

  test('is internet-facing in the public subnets', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      Subnets: s.stack.resolve(s.built.vpc.publicSubnets.map((sn) => sn.subnetId)),
    });
  });

  test('drops invalid header fields, uses strictest desync mitigation, fails closed without WAF, and is deletion-protected', () => {
    expect(lbAttributes(s.template)).toEqual(
      expect.objectContaining({
        'routing.http.drop_invalid_header_fields.enabled': 'true',
        'routing.http.desync_mitigation_mode': 'strictest',
        'waf.fail_open.enabled': 'false',
        'deletion_protection.enabled': 'true',
        'idle_timeout.timeout_seconds': '120',
      }),
    );
  });

  test('authenticates with Cognito in the HTTPS listener, then forwards to the target group', () => {
    const https = listener(s.template, 443);
    expect(https.Protocol).toBe('HTTPS');
    expect(https.Certificates).toEqual([{ CertificateArn: CERT_ARN }]);
    expect(https.DefaultActions).toEqual([
      {
        Type: 'authenticate-cognito',
        Order: 1,
        AuthenticateCognitoConfig: {
          UserPoolArn: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.door.userPool!.node.defaultChild as any), 'Arn'] },
          UserPoolClientId: { Ref: s.stack.getLogicalId(s.built.door.userPoolClient!.node.defaultChild as any) },
          UserPoolDomain: { Ref: s.stack.getLogicalId(s.built.door.userPoolDomain!.node.defaultChild as any) },
          OnUnauthenticatedRequest: 'authenticate',
          Scope: 'openid email',
          SessionTimeout: '28800',
        },
      },
      { Type: 'forward', Order: 2, TargetGroupArn: { Ref: s.stack.getLogicalId(s.built.door.targetGroup.node.defaultChild as any) } },
    ]);
  });

  test('uses a TLS 1.3/1.2 restricted policy with post-quantum key exchange', () => {
    expect(listener(s.template, 443).SslPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09');
  });

  test('only redirects HTTP to HTTPS', () => {
    const http = listener(s.template, 80);
    expect(http.Protocol).toBe('HTTP');
    expect(http.DefaultActions).toEqual([{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }]);
  });

  test('admits 443 and 80 from anywhere (IPv4) and reaches only the target port in the VPC and HTTPS to the IdP', () => {
    const sg = s.stack.resolve(s.built.door.securityGroup.securityGroupId);
    const props = s.template.toJSON().Resources[sg['Fn::GetAtt'][0]].Properties;
    expect(props.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([
      ['0.0.0.0/0', 443, 443],
      ['0.0.0.0/0', 80, 80],
    ]);
    expect(props.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: s.stack.resolve(s.built.vpc.vpcCidrBlock), FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, Description: 'Allow to IdP endpoint' }),
    ]);
    s.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    s.template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  test('creates a user pool with MFA required, a strong password policy, no self sign-up and threat protection', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }),
      },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
  });

  test('creates an app client with a secret, the code flow only and the front door callback, and a hosted domain', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://chat.example.com/oauth2/idpresponse'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    const domain = (Object.values(s.template.findResources('AWS::Cognito::UserPoolDomain'))[0] as any).Properties.Domain;
    expect(domain).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(domain).not.toMatch(/aws|amazon|cognito/);
    expect(s.built.door.callbackUrl).toBe('https://chat.example.com/oauth2/idpresponse');
    expect(s.built.door.url).toBe('https://chat.example.com');
    expect(s.stack.resolve(s.built.door.clientId)).toEqual({ Ref: s.stack.getLogicalId(s.built.door.userPoolClient!.node.defaultChild as any) });
    expect(s.stack.resolve(s.built.door.issuer)).toEqual({
      'Fn::Join': ['', ['https://cognito-idp.us-east-1.amazonaws.com/', { Ref: s.stack.getLogicalId(s.built.door.userPool!.node.defaultChild as any) }]],
    });
  });

  test('creates an AiWebAcl and associates it with the load balancer', () => {
    s.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: s.stack.getLogicalId(s.built.door.loadBalancer.node.defaultChild as any) },
      WebACLArn: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.door.webAcl.webAcl), 'Arn'] },
    });
  });

  test('writes access logs to an SSE-S3, versioned, private, TLS-only bucket', () => {
    const bucketRef = s.stack.resolve(s.built.door.accessLogsBucket.bucketName);
    expect(lbAttributes(s.template)).toEqual(expect.objectContaining({ 'access_logs.s3.enabled': 'true', 'access_logs.s3.bucket': bucketRef }));
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365, Status: 'Enabled' })] },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('forwards over HTTPS to a target group for the given targets', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 443,
      Protocol: 'HTTPS',
      TargetType: 'ip',
      Targets: [{ Id: '10.0.1.10' }],
    });
  });

  test('has no cdk-nag findings', () => {
    expect(ownFindings(s.stack)).toEqual([]);
  });
});

describe('AiFrontDoor with OIDC, a given web ACL and target group, and restricted peers', () => {
  let s: Synthesized<{ door: AiFrontDoor; acl: AiWebAcl; tg: elbv2.ApplicationTargetGroup; vpc: ec2.Vpc }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const { vpc, certificate } = scaffold(stack);
      const acl = new AiWebAcl(stack, 'SharedAcl');
      const tg = new elbv2.ApplicationTargetGroup(stack, 'AppTargets', {
        vpc,
        port: 8443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        targetType: elbv2.TargetType.IP,
      });
      const door = new AiFrontDoor(stack, 'FrontDoor', {
        vpc,
        certificate,
        domainName: 'agents.example.com',
        authentication: FrontDoorAuthentication.oidc(OIDC),
        sessionTimeout: Duration.hours(1),
        onUnauthenticatedRequest: elbv2.UnauthenticatedAction.DENY,
        targetGroup: tg,
        targetPort: 8443,
        allowedPeers: [ec2.Peer.ipv4('203.0.113.0/24')],
        webAcl: acl,
        sslPolicy: elbv2.SslPolicy.TLS13_13,
        accessLogsPrefix: 'alb',
        disableDeletionProtection: true,
      });
      return { door, acl, tg, vpc };
    }, { env: TEST_ENV });
  });

  test('authenticates with the OIDC provider, secret by reference, then forwards to the given target group', () => {
    expect(listener(s.template, 443).DefaultActions).toEqual([
      {
        Type: 'authenticate-oidc',
        Order: 1,
        AuthenticateOidcConfig: {
          Issuer: OIDC.issuer,
          AuthorizationEndpoint: OIDC.authorizationEndpoint,
          TokenEndpoint: OIDC.tokenEndpoint,
          UserInfoEndpoint: OIDC.userInfoEndpoint,
          ClientId: 'front-door',
          ClientSecret: '{{resolve:secretsmanager:front-door/oidc:SecretString:::}}',
          Scope: 'openid',
          SessionTimeout: '3600',
          OnUnauthenticatedRequest: 'deny',
        },
      },
      { Type: 'forward', Order: 2, TargetGroupArn: { Ref: s.stack.getLogicalId(s.built.tg.node.defaultChild as any) } },
    ]);
    expect(s.built.door.targetGroup).toBe(s.built.tg);
    expect([s.built.door.issuer, s.built.door.clientId]).toEqual([OIDC.issuer, 'front-door']);
  });

  test('creates no Cognito resources', () => {
    s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    s.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    expect(s.built.door.userPool).toBeUndefined();
  });

  test('associates the given web ACL instead of creating one', () => {
    s.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    expect(s.built.door.webAcl).toBe(s.built.acl);
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: s.stack.getLogicalId(s.built.door.loadBalancer.node.defaultChild as any) },
      WebACLArn: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.acl.webAcl), 'Arn'] },
    });
  });

  test('admits only the configured peers and reaches only the target port in the VPC (plus HTTPS to the IdP)', () => {
    const sg = s.stack.resolve(s.built.door.securityGroup.securityGroupId);
    const props = s.template.toJSON().Resources[sg['Fn::GetAtt'][0]].Properties;
    expect(props.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort])).toEqual([
      ['203.0.113.0/24', 443],
      ['203.0.113.0/24', 80],
    ]);
    expect(props.SecurityGroupEgress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([
      [s.stack.resolve(s.built.vpc.vpcCidrBlock), 8443, 8443],
      ['0.0.0.0/0', 443, 443],
    ]);
  });

  test('uses the chosen TLS policy, log prefix and deletion setting', () => {
    expect(listener(s.template, 443).SslPolicy).toBe('ELBSecurityPolicy-TLS13-1-3-2021-06');
    expect(lbAttributes(s.template)).toEqual(expect.objectContaining({ 'access_logs.s3.prefix': 'alb', 'deletion_protection.enabled': 'false' }));
  });

  test('leaves the deletion-protection finding of the opt-out visible, and nothing else', () => {
    const rules = ownFindings(s.stack).map((f) => f.rule);
    expect(rules.sort()).toEqual(['HIPAA.Security-ELBDeletionProtectionEnabled', 'NIST.800.53.R5-ELBDeletionProtectionEnabled']);
  });
});

describe('AiFrontDoor with an existing Cognito user pool', () => {
  test('authenticates against the given pool and creates none', () => {
    const s = synthOnce((stack) => {
      const { vpc, certificate } = scaffold(stack);
      const userPool = cognito.UserPool.fromUserPoolArn(stack, 'Pool', 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abcdEFGH1');
      const userPoolClient = cognito.UserPoolClient.fromUserPoolClientId(stack, 'Client', 'client123');
      const userPoolDomain = cognito.UserPoolDomain.fromDomainName(stack, 'Domain', 'login-example');
      return new AiFrontDoor(stack, 'FrontDoor', {
        vpc,
        certificate,
        domainName: 'chat.example.com',
        authentication: FrontDoorAuthentication.existingCognito({ userPool, userPoolClient, userPoolDomain }),
        targets: [new targets.IpTarget('10.0.1.10')],
      });
    }, { env: TEST_ENV });
    s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(listener(s.template, 443).DefaultActions[0].AuthenticateCognitoConfig).toEqual(
      expect.objectContaining({ UserPoolClientId: 'client123', UserPoolDomain: 'login-example', SessionTimeout: '28800' }),
    );
    expect(s.built.userPool).toBeDefined();
    expect(s.stack.resolve(s.built.issuer)).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abcdEFGH1');
    expect(s.built.clientId).toBe('client123');
  });
});

describe('AiFrontDoor fails on invalid props', () => {
  function build(overrides: Partial<AiFrontDoorProps>, stackProps = { env: TEST_ENV }) {
    return () => {
      const stack = testStack(stackProps);
      const { vpc, certificate } = scaffold(stack);
      return new AiFrontDoor(stack, 'FrontDoor', {
        vpc,
        certificate,
        domainName: 'chat.example.com',
        targets: [new targets.IpTarget('10.0.1.10')],
        ...overrides,
      } as AiFrontDoorProps);
    };
  }

  test.each<[string, Partial<AiFrontDoorProps>, RegExp]>([
    ['an uppercase domain name', { domainName: 'Chat.Example.com' }, /domainName is "Chat.Example.com"; allowed: a lowercase DNS host name/],
    ['a URL as domain name', { domainName: 'https://chat.example.com' }, /domainName is "https:\/\/chat.example.com"/],
    ['neither targets nor a target group', { targets: undefined }, /targets is unset and targetGroup is unset; allowed: at least one target, or a targetGroup/],
    ['an empty target list', { targets: [] }, /targets is \[\] and targetGroup is unset/],
    ['a target port out of range', { targetPort: 70000 }, /targetPort is 70000; allowed: a whole number from 1 to 65535/],
    ['a session longer than 7 days', { sessionTimeout: Duration.days(8) }, /sessionTimeout \(seconds\) is 691200; allowed: a whole number from 1 to 604800/],
    ['an idle timeout over 4000 seconds', { idleTimeout: Duration.seconds(5000) }, /idleTimeout \(seconds\) is 5000; allowed: a whole number from 1 to 4000/],
    ['forwarding unauthenticated requests', { onUnauthenticatedRequest: elbv2.UnauthenticatedAction.ALLOW }, /onUnauthenticatedRequest is ALLOW; allowed: AUTHENTICATE or DENY/],
    ['no allowed peers', { allowedPeers: [] }, /allowedPeers is \[\]; allowed: at least one peer/],
    ['a fractional log retention', { accessLogsRetention: Duration.hours(36) }, /accessLogsRetention \(days\) is 1.5; allowed: a whole number from 1 to 36500/],
    ['a log prefix with a trailing slash', { accessLogsPrefix: 'alb/' }, /accessLogsPrefix is "alb\/"/],
  ])('fails on %s', (_name, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });

  test('fails when both targets and a target group are given', () => {
    expect(() => {
      const stack = testStack({ env: TEST_ENV });
      const { vpc, certificate } = scaffold(stack);
      const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Tg', { vpc, port: 443, targetType: elbv2.TargetType.IP });
      new AiFrontDoor(stack, 'FrontDoor', { vpc, certificate, domainName: 'chat.example.com', targets: [new targets.IpTarget('10.0.1.10')], targetGroup });
    }).toThrow(/both targets and targetGroup are set; allowed: exactly one of them/);
  });

  test('fails in a stack without a region, naming what is needed', () => {
    expect(build({}, {} as any)).toThrow(/the stack has no region; allowed: a stack with env.region set/);
  });

  test('fails on a retention for a bucket it does not own', () => {
    expect(() => {
      const stack = testStack({ env: TEST_ENV });
      const { vpc, certificate } = scaffold(stack);
      const accessLogsBucket = new s3.Bucket(stack, 'Logs');
      new AiFrontDoor(stack, 'FrontDoor', {
        vpc, certificate, domainName: 'chat.example.com', targets: [new targets.IpTarget('10.0.1.10')], accessLogsBucket, accessLogsRetention: Duration.days(30),
      });
    }).toThrow(/accessLogsRetention is set with accessLogsBucket/);
  });

  test('fails on a KMS-encrypted access log bucket (ALB supports only SSE-S3)', () => {
    expect(() => {
      const stack = testStack({ env: TEST_ENV });
      const { vpc, certificate } = scaffold(stack);
      const accessLogsBucket = new s3.Bucket(stack, 'Logs', { encryptionKey: new kms.Key(stack, 'K') });
      new AiFrontDoor(stack, 'FrontDoor', { vpc, certificate, domainName: 'chat.example.com', targets: [new targets.IpTarget('10.0.1.10')], accessLogsBucket });
    }).toThrow(/Bucket encryption using KMS keys is unsupported/);
  });

  test.each<[string, Partial<OidcAuthenticationOptions>, RegExp]>([
    ['an http issuer', { issuer: 'http://login.example.com' }, /issuer is "http:\/\/login.example.com"; allowed: an https:\/\/ URL/],
    ['an http token endpoint', { tokenEndpoint: 'http://login.example.com/token' }, /tokenEndpoint is "http:\/\/login.example.com\/token"/],
    ['scopes without openid', { scope: 'email profile' }, /scope is "email profile"; allowed: space-separated scopes that include "openid"/],
    ['an empty client id', { clientId: '' }, /clientId is ""/],
  ])('fails on an OIDC configuration with %s', (_name, overrides, message) => {
    expect(() => FrontDoorAuthentication.oidc({ ...OIDC, ...overrides })).toThrow(message);
  });

  test.each(['My-Login', 'cognito-login', 'login-', 'a'.repeat(64)])('fails on the Cognito domain prefix "%s"', (domainPrefix) => {
    expect(() => FrontDoorAuthentication.cognito({ domainPrefix })).toThrow(`domainPrefix is "${domainPrefix}"; allowed: 1-63 lowercase letters`);
  });
});
