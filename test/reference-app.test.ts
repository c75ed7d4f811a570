/**
 * The reference architecture as a whole: zero unsuppressed cdk-nag errors across the four packs, a snapshot with
 * asset hashes stripped, and the wiring between phases (which the construct tests cannot see).
 */
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ReferenceArchitectureStack, buildReferenceApp } from '../bin/reference-app';
import { LethalTrifecta } from '../lib/analysis';
import { nagFindings } from './rig/nag';
import { testApp } from './rig/synth';

describe('reference app', () => {
  let stack: Stack;
  let reference: ReferenceArchitectureStack;
  let template: Template;
  beforeAll(() => {
    stack = reference = buildReferenceApp(testApp());
    template = Template.fromStack(stack);
  });

  test('has zero unsuppressed cdk-nag errors (AwsSolutions, NIST 800-53 R5, HIPAA, Serverless)', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('is env-agnostic in account (synthesizes without credentials or lookups)', () => {
    expect(stack.account).toMatch(/^\$\{Token/);
    expect(stack.region).toBe('us-east-1');
  });

  test('puts workloads in isolated subnets: no NAT gateway, public subnets only for the load balancer', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
  });

  test('authenticates users at the front door before forwarding', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      DefaultActions: [Match.objectLike({ Type: 'authenticate-cognito', Order: 1 }), Match.objectLike({ Type: 'forward', Order: 2 })],
    });
  });

  test('records Bedrock knowledge base and AgentCore gateway data events, and management events', () => {
    const trail = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0].Properties;
    const types = trail.AdvancedEventSelectors.flatMap((s: any) =>
      s.FieldSelectors.filter((f: any) => f.Field === 'resources.type').flatMap((f: any) => f.Equals),
    );
    expect(types).toEqual(expect.arrayContaining(['AWS::Bedrock::KnowledgeBase', 'AWS::BedrockAgentCore::Gateway']));
    const categories = trail.AdvancedEventSelectors.flatMap((s: any) =>
      s.FieldSelectors.filter((f: any) => f.Field === 'eventCategory').flatMap((f: any) => f.Equals),
    );
    expect(categories).toContain('Management');
    expect(trail.IsMultiRegionTrail).toBe(true);
    expect(trail.EnableLogFileValidation).toBe(true);
  });

  test('synthesizes in an app that sets no feature flags (the library sets the ones it relies on)', () => {
    const bare = buildReferenceApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    expect(nagFindings(bare)).toEqual([]);
  });

  test('no agent or gateway holds the lethal trifecta (the aspect reports no error or warning)', () => {
    expect(Aspects.of(stack.node.scope!).all.some((a) => a instanceof LethalTrifecta)).toBe(true);
    expect(LethalTrifecta.analyze(reference.agent).lethal).toBe(false);
    expect(LethalTrifecta.analyze(reference.gateway).lethal).toBe(false);
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('[Tt]rifecta'))).toEqual([]);
  });

  test('the agent reaches knowledge and memory only through the guarded gateway', () => {
    const gateway = Object.values(template.findResources('AWS::BedrockAgentCore::Gateway'));
    expect(gateway).toHaveLength(1);
    expect(gateway[0].Properties.InterceptorConfigurations).toHaveLength(2);
    expect(gateway[0].Properties.AuthorizerType).toBe('CUSTOM_JWT');
    const targets = Object.values(template.findResources('AWS::BedrockAgentCore::GatewayTarget')).map((t: any) => t.Properties.Name);
    expect(targets.sort()).toEqual(['knowledge', 'memory']);
  });

  test('every handler that verifies tokens inside the isolated network carries pinned keys (no JWKS fetch needed)', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const verifying = functions.filter((f) => f.Properties.Environment?.Variables?.CAD_IDENTITY_CONFIG !== undefined);
    expect(verifying.length).toBeGreaterThanOrEqual(5);
    for (const f of verifying) {
      expect(f.Properties.VpcConfig).toBeDefined();
      expect(JSON.stringify(f.Properties.Environment.Variables.CAD_IDENTITY_CONFIG)).toContain('jwks');
    }
  });

  test('stays within CloudFormation limits for one stack (500 resources, 1 MB template)', () => {
    const json = template.toJSON();
    expect(Object.keys(json.Resources).length).toBeLessThan(500);
    expect(JSON.stringify(json).length).toBeLessThan(1_000_000);
  });

  test('matches the snapshot (asset hashes stripped)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
