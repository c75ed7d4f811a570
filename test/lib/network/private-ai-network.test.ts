import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  BearerTokenAccess,
  EndpointAccess,
  PrivateAiNetwork,
  PrivateAiNetworkProps,
  S3EndpointScope,
} from '../../../lib/network';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized, TEST_ENV, testStack } from '../../rig/synth';

const svc = ec2.InterfaceVpcEndpointAwsService;
const ORG = 'o-a1b2c3d4e5';

/** The ServiceName CloudFormation gets for an AWS service in an environment-agnostic stack. */
function serviceName(shortName: string): unknown {
  return { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${shortName}`]] };
}

/** Properties of the resource behind a construct (its default child). */
function props(s: Synthesized<unknown>, construct: { node: { defaultChild?: unknown } }): any {
  const id = s.stack.getLogicalId(construct.node.defaultChild as any);
  return s.template.toJSON().Resources[id].Properties;
}

const accountStatement = {
  Sid: 'TrustedPrincipalsOnly',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } },
};
const bearerStatement = {
  Sid: 'BearerTokenCallsToOwnAccountResourcesOnly',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: 'bedrock-agentcore:*',
  Resource: {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock-agentcore:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']],
  },
  Condition: { Null: { 'aws:PrincipalAccount': 'true' } },
};
const https = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443 };

describe('PrivateAiNetwork with defaults', () => {
  let s: Synthesized<{ net: PrivateAiNetwork; workload: ec2.SecurityGroup }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const net = new PrivateAiNetwork(stack, 'Network');
      const workload = new ec2.SecurityGroup(stack, 'Workload', { vpc: net.vpc, allowAllOutbound: false, description: 'test workload' });
      net.allowFrom(workload, svc.BEDROCK_RUNTIME, svc.KMS);
      return { net, workload };
    });
  });

  test('creates private isolated subnets only: no internet gateway, no NAT, no route at all', () => {
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16', EnableDnsHostnames: true, EnableDnsSupport: true });
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::EIP', 0);
    s.template.resourceCountIs('AWS::EC2::Route', 0);
    s.template.resourceCountIs('AWS::EC2::Subnet', 2);
    for (const subnet of Object.values(s.template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Properties.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
    }
    expect(s.built.net.vpc.publicSubnets).toHaveLength(0);
    expect(s.built.net.vpc.privateSubnets).toHaveLength(0);
    expect(s.built.net.vpc.isolatedSubnets).toHaveLength(2);
  });

  test('closes the default security group', () => {
    s.template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });

  test.each(PrivateAiNetwork.DEFAULT_ENDPOINT_SERVICES.map((e) => [e.shortName]))(
    'creates a %s interface endpoint with private DNS in the isolated subnets',
    (shortName) => {
      s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: serviceName(shortName),
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: s.built.net.vpc.isolatedSubnets.map((sn) => ({ Ref: s.stack.getLogicalId(sn.node.defaultChild as any) })),
      });
    },
  );

  test('covers exactly the eight default services and the S3 gateway', () => {
    expect(PrivateAiNetwork.DEFAULT_ENDPOINT_SERVICES.map((e) => e.shortName)).toEqual([
      'bedrock-runtime',
      'bedrock-agent-runtime',
      'bedrock-agentcore',
      'bedrock-agentcore.gateway',
      'sts',
      'logs',
      'kms',
      'secretsmanager',
    ]);
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 9);
    expect(s.built.net.interfaceEndpoints).toHaveLength(8);
  });

  test.each(['bedrock-runtime', 'bedrock-agent-runtime', 'sts', 'logs', 'kms', 'secretsmanager'])(
    'the %s endpoint policy admits only principals of this account',
    (shortName) => {
      s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: serviceName(shortName),
        PolicyDocument: { Statement: [accountStatement], Version: '2012-10-17' },
      });
    },
  );

  test.each(['bedrock-agentcore', 'bedrock-agentcore.gateway'])(
    'the %s endpoint policy admits principals of this account, and bearer-token calls only to this account\'s AgentCore resources',
    (shortName) => {
      s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: serviceName(shortName),
        PolicyDocument: { Statement: [accountStatement, bearerStatement], Version: '2012-10-17' },
      });
    },
  );

  test('the S3 gateway endpoint admits principals of this account to buckets of this account only, on every route table', () => {
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: serviceName('s3'),
      VpcEndpointType: 'Gateway',
      RouteTableIds: s.built.net.vpc.isolatedSubnets.map((sn) => ({ Ref: s.stack.getLogicalId((sn as ec2.Subnet).node.findChild('RouteTable') as any) })),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'TrustedPrincipalsOnly',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' }, 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } },
            },
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  test('each endpoint has its own security group: HTTPS from the VPC CIDR only, no egress', () => {
    s.template.resourceCountIs('AWS::EC2::SecurityGroup', 9); // eight endpoints + the test workload
    for (const endpoint of s.built.net.interfaceEndpoints) {
      const groups = endpoint.connections.securityGroups;
      expect(groups).toHaveLength(1);
      const sg = props(s, groups[0]);
      expect(sg.SecurityGroupIngress).toEqual([{ ...https, CidrIp: '10.0.0.0/16', Description: 'HTTPS from the VPC' }]);
      // CDK's placeholder for "no egress at all" when allowAllOutbound is false.
      expect(sg.SecurityGroupEgress).toEqual([
        { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
      ]);
    }
  });

  test('allowFrom opens exactly the named endpoints to the peer, with the matching egress on the peer', () => {
    const workloadId = s.stack.getLogicalId(s.built.workload.node.defaultChild as any);
    const sgId = (service: ec2.InterfaceVpcEndpointAwsService) =>
      s.stack.getLogicalId(s.built.net.endpoint(service).connections.securityGroups[0].node.defaultChild as any);
    s.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    s.template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 2);
    for (const service of [svc.BEDROCK_RUNTIME, svc.KMS]) {
      s.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        ...https,
        GroupId: { 'Fn::GetAtt': [sgId(service), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [workloadId, 'GroupId'] },
      });
      s.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
        ...https,
        GroupId: { 'Fn::GetAtt': [workloadId, 'GroupId'] },
        DestinationSecurityGroupId: { 'Fn::GetAtt': [sgId(service), 'GroupId'] },
      });
    }
  });

  test('logs all traffic to a KMS-encrypted log group kept for a year', () => {
    s.template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      ResourceId: { Ref: s.stack.getLogicalId(s.built.net.vpc.node.defaultChild as any) },
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: s.stack.getLogicalId(s.built.net.flowLogGroup.node.defaultChild as any) },
    });
    const group = props(s, s.built.net.flowLogGroup);
    expect(group.RetentionInDays).toBe(365);
    expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CdkAiDefenseLogKey/), 'Arn'] });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the flow-log role trusts only this account\'s flow logs and writes only to its log group, without inline policies', () => {
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ],
      },
    });
    s.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.net.flowLogGroup.node.defaultChild as any), 'Arn'] },
          },
        ],
      },
    });
    s.template.resourceCountIs('AWS::IAM::Policy', 0);
    const flowLogId = s.stack.getLogicalId(s.built.net.flowLog.node.defaultChild as any);
    expect(s.template.toJSON().Resources[flowLogId].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/FlowLogPolicy/)]));
  });

  test('endpoint() returns the endpoint of a service', () => {
    expect(s.built.net.endpoint(svc.BEDROCK_AGENTCORE_GATEWAY)).toBe(s.built.net.interfaceEndpoints[3]);
    expect(s.built.net.hasEndpoint(svc.BEDROCK_AGENT)).toBe(false);
  });

  test('fails with the service name when endpoint() asks for a service the network lacks', () => {
    expect(() => s.built.net.endpoint(svc.BEDROCK_AGENT)).toThrow(/no interface endpoint for "bedrock-agent"/);
    expect(() => s.built.net.endpoint(svc.S3_VECTORS)).toThrow(/"s3vectors".*additionalEndpoints or addInterfaceEndpoint/);
  });

  test('fails when allowFrom names a missing service or none, before adding any rule', () => {
    const peer = s.built.workload;
    const before = s.built.net.endpoint(svc.STS).connections.securityGroups[0].node.children.length;
    expect(() => s.built.net.allowFrom(peer, svc.STS, svc.LAMBDA)).toThrow(/no interface endpoint for "lambda"/);
    expect(s.built.net.endpoint(svc.STS).connections.securityGroups[0].node.children.length).toBe(before);
    expect(() => s.built.net.allowFrom(peer)).toThrow(/name the endpoint services the peer uses/);
  });

  test('fails when an endpoint is added twice', () => {
    expect(() => s.built.net.addInterfaceEndpoint(svc.KMS)).toThrow(/already has an interface endpoint for "kms"/);
  });

  test('has no cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('PrivateAiNetwork for an organization, with load-balancer subnets and chosen peers', () => {
  let s: Synthesized<{ net: PrivateAiNetwork; peer: ec2.SecurityGroup; key: kms.Key }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const key = new kms.Key(stack, 'FlowKey', { enableKeyRotation: true });
      const peerVpc = ec2.Vpc.fromVpcAttributes(stack, 'PeerVpc', { vpcId: 'vpc-0peer', availabilityZones: ['us-east-1a'] });
      const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc: peerVpc, allowAllOutbound: false, description: 'test peer' });
      const net = new PrivateAiNetwork(stack, 'Network', {
        cidr: '10.20.0.0/20',
        organizationId: ORG,
        publicLoadBalancerSubnets: true,
        endpointAccess: EndpointAccess.fromPeers(peer, ec2.Peer.ipv4('10.99.0.0/24')),
        agentCoreBearerTokens: BearerTokenAccess.DENY,
        additionalEndpoints: [svc.S3_VECTORS],
        flowLogKey: key,
        flowLogRetention: logs.RetentionDays.TWO_YEARS,
      });
      net.addInterfaceEndpoint(svc.IAM_IDENTITY_CENTER, { omitEndpointPolicy: true });
      return { net, peer, key };
    });
  });

  const orgStatement = { ...accountStatement, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } };

  test.each(['bedrock-runtime', 'bedrock-agentcore', 'bedrock-agentcore.gateway', 's3vectors'])(
    'the %s endpoint policy admits only principals of the organization (no bearer-token statement)',
    (shortName) => {
      s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: serviceName(shortName),
        PolicyDocument: { Statement: [orgStatement], Version: '2012-10-17' },
      });
    },
  );

  test('the S3 gateway endpoint admits principals of the organization to buckets of the organization', () => {
    expect(props(s, s.built.net.s3Endpoint).PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceOrgID': ORG } } }),
    ]);
  });

  test('adds endpoints on request, with or without the policy', () => {
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 11);
    expect(s.built.net.hasEndpoint(svc.S3_VECTORS)).toBe(true);
    expect(props(s, s.built.net.endpoint(svc.IAM_IDENTITY_CENTER)).PolicyDocument).toBeUndefined();
    expect(props(s, s.built.net.endpoint(svc.IAM_IDENTITY_CENTER)).ServiceName).toEqual(serviceName('identitystore'));
  });

  test('endpoint security groups admit HTTPS only from the given peers, not from the VPC', () => {
    const peerId = s.stack.getLogicalId(s.built.peer.node.defaultChild as any);
    for (const endpoint of s.built.net.interfaceEndpoints) {
      const sg = endpoint.connections.securityGroups[0];
      const sgId = s.stack.getLogicalId(sg.node.defaultChild as any);
      expect(props(s, sg).SecurityGroupIngress).toEqual([{ ...https, CidrIp: '10.99.0.0/24', Description: 'HTTPS from an allowed peer' }]);
      s.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        ...https,
        GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [peerId, 'GroupId'] },
      });
    }
    s.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 10);
    expect(JSON.stringify(s.template.findResources('AWS::EC2::SecurityGroup'))).not.toContain('10.20.0.0/20');
  });

  test('adds public subnets with an internet gateway for load balancers, but no NAT and no route out of the isolated subnets', () => {
    s.template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.20.0.0/20' });
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::EIP', 0);
    expect(s.built.net.vpc.publicSubnets).toHaveLength(2);
    expect(s.built.net.vpc.privateSubnets).toHaveLength(0);
    expect(s.built.net.vpc.isolatedSubnets).toHaveLength(2);
    for (const subnet of s.built.net.vpc.publicSubnets) expect(props(s, subnet).MapPublicIpOnLaunch).toBe(false);
    // The only routes are the public subnets' default routes to the internet gateway.
    const routes = Object.values(s.template.findResources('AWS::EC2::Route'));
    expect(routes).toHaveLength(2);
    for (const route of routes) expect(route.Properties.GatewayId).toEqual({ Ref: expect.stringMatching(/IGW/) });
    const publicTables = s.built.net.vpc.publicSubnets.map((sn) => ({ Ref: s.stack.getLogicalId((sn as ec2.Subnet).node.findChild('RouteTable') as any) }));
    expect(routes.map((r) => r.Properties.RouteTableId)).toEqual(expect.arrayContaining(publicTables));
  });

  test('encrypts the flow log with the given key and keeps it as long as asked', () => {
    const group = props(s, s.built.net.flowLogGroup);
    expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [s.stack.getLogicalId(s.built.key.node.defaultChild as any), 'Arn'] });
    expect(group.RetentionInDays).toBe(731);
    s.template.resourceCountIs('AWS::KMS::Key', 1);
  });

  test('has no cdk-nag findings (the load-balancer subnets\' route to the internet gateway is acknowledged)', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('PrivateAiNetwork with unsafeAllowInternetEgress', () => {
  let s: Synthesized<PrivateAiNetwork>;
  beforeAll(() => {
    s = synthOnce((stack) => new PrivateAiNetwork(stack, 'Network', { unsafeAllowInternetEgress: true, s3EndpointScope: S3EndpointScope.ANY_BUCKET }));
  });

  test('adds public and egress subnets with one NAT gateway per AZ, and keeps the isolated subnets and endpoints', () => {
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 2);
    s.template.resourceCountIs('AWS::EC2::Subnet', 6);
    expect(s.built.vpc.privateSubnets).toHaveLength(2);
    expect(s.built.vpc.isolatedSubnets).toHaveLength(2);
    s.template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() });
    expect(props(s, s.built.endpoint(svc.BEDROCK_RUNTIME)).SubnetIds).toEqual(
      s.built.vpc.isolatedSubnets.map((sn) => ({ Ref: s.stack.getLogicalId(sn.node.defaultChild as any) })),
    );
  });

  test('with ANY_BUCKET the S3 endpoint still admits only principals of this account, to any bucket', () => {
    expect(props(s, s.built.s3Endpoint).PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Condition: { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } } }),
    ]);
  });

  test('leaves the internet routes visible to cdk-nag, since they follow from the user\'s choice', () => {
    const findings = nagFindings(s.stack);
    expect(findings.map((f) => f.rule).sort()).toEqual([
      'HIPAA.Security-VPCNoUnrestrictedRouteToIGW',
      'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
    ]);
    for (const f of findings) expect(f.resources.every((r) => /PublicSubnet\d\/DefaultRoute/.test(r))).toBe(true);
  });
});

describe('PrivateAiNetwork in an adopted VPC', () => {
  let s: Synthesized<PrivateAiNetwork>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Existing', {
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidrBlock: '172.16.0.0/16',
        availabilityZones: ['us-east-1a', 'us-east-1b'],
        isolatedSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
        isolatedSubnetRouteTableIds: ['rtb-0aaa', 'rtb-0bbb'],
      });
      return new PrivateAiNetwork(stack, 'Network', { vpc, endpointAccess: EndpointAccess.explicitOnly() });
    });
  });

  test('creates no VPC and puts endpoints, S3 routes and the flow log on the adopted one', () => {
    s.template.resourceCountIs('AWS::EC2::VPC', 0);
    s.template.resourceCountIs('AWS::EC2::Subnet', 0);
    s.template.resourceCountIs('Custom::VpcRestrictDefaultSG', 0);
    s.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: 'vpc-0123456789abcdef0', TrafficType: 'ALL' });
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: serviceName('bedrock-runtime'),
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
    });
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: serviceName('s3'), RouteTableIds: ['rtb-0aaa', 'rtb-0bbb'] });
  });

  test('with explicitOnly access no endpoint admits anyone until allowFrom is called', () => {
    for (const endpoint of s.built.interfaceEndpoints) {
      expect(props(s, endpoint.connections.securityGroups[0]).SecurityGroupIngress).toBeUndefined();
    }
    s.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('has no cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });

  test('has no cdk-nag findings when the adopted VPC\'s CIDR is a deploy-time value', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Scaffold', { natGateways: 0, subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const net = new PrivateAiNetwork(stack, 'Network', { vpc });
    const sg = props({ stack, template: Template.fromStack(stack), built: net }, net.endpoint(svc.STS).connections.securityGroups[0]);
    expect(sg.SecurityGroupIngress).toEqual([expect.objectContaining({ ...https, CidrIp: { 'Fn::GetAtt': [expect.stringMatching(/^Scaffold/), 'CidrBlock'] } })]);
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('PrivateAiNetwork props', () => {
  const build = (p: PrivateAiNetworkProps) => () => new PrivateAiNetwork(testStack(), 'Network', p);

  test.each([
    ['10.0.0.0/33', /cidr is "10\.0\.0\.0\/33"; allowed: an IPv4 CIDR block/],
    ['10.0.0/16', /cidr is "10\.0\.0\/16"; allowed: an IPv4 CIDR block/],
    ['300.0.0.0/16', /cidr is "300\.0\.0\.0\/16"; allowed: an IPv4 CIDR block/],
    ['10.0.0.0/8', /cidr is "10\.0\.0\.0\/8"; allowed: a prefix length from \/16 to \/24/],
    ['10.0.0.0/28', /cidr is "10\.0\.0\.0\/28"; allowed: a prefix length from \/16 to \/24/],
    ['10.0.1.0/16', /cidr is "10\.0\.1\.0\/16"; allowed: a network address/],
  ])('fails when cidr is %s', (cidr, message) => {
    expect(build({ cidr })).toThrow(message);
  });

  test.each(['o-short', 'O-ABCDEFGHIJ', 'o-abcdefghij-', '123456789012', 'o-' + 'a'.repeat(33)])('fails when organizationId is %s', (organizationId) => {
    expect(build({ organizationId })).toThrow(`organizationId is "${organizationId}"; allowed: o- followed by 10 to 32 lower-case letters or digits`);
  });

  test.each([0, 7, 1.5, -1])('fails when maxAzs is %s', (maxAzs) => {
    expect(build({ maxAzs })).toThrow(`maxAzs is ${maxAzs}; allowed: a whole number from 1 to 6`);
  });

  test('fails when publicLoadBalancerSubnets has a single AZ (an ALB needs two)', () => {
    expect(build({ maxAzs: 1, publicLoadBalancerSubnets: true })).toThrow('maxAzs is 1; allowed: a whole number from 2 to 6');
  });

  test('fails when availabilityZones is combined with maxAzs, repeats a zone or is too short for load balancers', () => {
    expect(build({ availabilityZones: ['us-east-1a', 'us-east-1b'], maxAzs: 2 })).toThrow('maxAzs and availabilityZones are both set; allowed: one of them');
    expect(build({ availabilityZones: ['us-east-1a', 'us-east-1a'] })).toThrow('availabilityZones is [us-east-1a, us-east-1a]; allowed: 1 to 6 distinct zone names');
    expect(build({ availabilityZones: ['us-east-1a'], publicLoadBalancerSubnets: true })).toThrow('availabilityZones is [us-east-1a]; allowed: 2 to 6 distinct zone names');
  });

  test('uses named Availability Zones without a lookup in a stack with an explicit environment', () => {
    const stack = testStack({ env: TEST_ENV });
    new PrivateAiNetwork(stack, 'Network', { availabilityZones: ['us-east-1b', 'us-east-1c'] });
    const azs = Object.values(Template.fromStack(stack).findResources('AWS::EC2::Subnet')).map((r) => r.Properties.AvailabilityZone);
    expect(azs.sort()).toEqual(['us-east-1b', 'us-east-1c']);
  });

  test('fails when layout props are combined with an adopted VPC', () => {
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Existing', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], vpcCidrBlock: '10.0.0.0/16' });
    expect(() => new PrivateAiNetwork(stack, 'Network', { vpc, cidr: '10.1.0.0/16', unsafeAllowInternetEgress: true })).toThrow(
      'cidr, unsafeAllowInternetEgress cannot be combined with vpc',
    );
  });

  test('lists every problem at once', () => {
    expect(build({ cidr: 'x', organizationId: 'o-x', maxAzs: 9 })).toThrow(/cidr is "x".*\n.*maxAzs is 9.*\n.*organizationId is "o-x"/);
  });

  test('accepts a valid organization id, CIDR and maxAzs', () => {
    const stack = testStack();
    const net = new PrivateAiNetwork(stack, 'Network', { organizationId: 'o-abcdefghij', cidr: '192.168.0.0/20', maxAzs: 1 });
    expect(net.vpc.isolatedSubnets).toHaveLength(1);
    expect(Stack.of(net)).toBe(stack);
  });
});
