import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Validations } from 'aws-cdk-lib';
import { EnforcementFunction, EnforcementInvocation } from '../../../lib/private/enforcement-function';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized } from '../../rig/synth';

describe('EnforcementFunction', () => {
  let s: Synthesized<{ inVpc: EnforcementFunction; outside: EnforcementFunction }>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0 });
      vpc.addFlowLog('Flow');
      return {
        inVpc: new EnforcementFunction(stack, 'InVpc', { handlerName: 'demo', description: 'demo', vpc }),
        outside: new EnforcementFunction(stack, 'Outside', { handlerName: 'demo', description: 'demo' }),
      };
    });
  });

  test('runs the prebundled ESM handler on ARM64 with JSON logs and tracing', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      KmsKeyArn: Match.anyValue(),
    });
  });

  test('uses one shared, rotated log key per stack and encrypted log groups with retention', () => {
    s.template.resourceCountIs('AWS::KMS::Key', 1);
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const fn of [s.built.inVpc, s.built.outside]) {
      const id = s.stack.getLogicalId(fn.decisionLogGroup.node.defaultChild as any);
      expect(s.template.toJSON().Resources[id].Properties).toEqual(
        expect.objectContaining({ KmsKeyId: expect.anything(), RetentionInDays: 365 }),
      );
    }
  });

  test('gets its own role with no AWS-managed policies and its grants in one customer-managed policy', () => {
    for (const fn of [s.built.inVpc, s.built.outside]) {
      const id = s.stack.getLogicalId(fn.role!.node.defaultChild as any);
      expect(s.template.toJSON().Resources[id].Properties.ManagedPolicyArns).toBeUndefined();
    }
    // Inline policies (AWS::IAM::Policy) exist only for the test VPC's flow-log role, never for a function role.
    expect(Object.keys(s.template.findResources('AWS::IAM::Policy'))).toEqual([expect.stringMatching(/^VpcFlow/)]);
    s.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt' })]) },
    });
  });

  test('in a VPC gets a security group with HTTPS egress to the VPC only', () => {
    s.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })],
    });
  });

  test('leaves the LambdaInsideVPC finding of a function outside a VPC for the user to see', () => {
    const findings = nagFindings(s.stack);
    const rules = findings.map((f) => `${f.rule} ${f.resources.join(',')}`);
    // The only findings are the test VPC's own flow-log group and the function the test put outside a VPC.
    const unexpected = rules.filter((r) => !r.includes('Vpc/Flow') && !/LambdaInsideVPC TestStack\/Outside\/Resource$/.test(r));
    expect(unexpected).toEqual([]);
    expect(rules).toContain('NIST.800.53.R5-LambdaInsideVPC TestStack/Outside/Resource');
  });

  test('acknowledges the dead-letter and concurrency rules once, with the reason true for how it is invoked', () => {
    const acknowledged = (fn: EnforcementFunction): Record<string, string> =>
      Object.assign({}, ...fn.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
    const built = synthOnce((stack) => ({
      sync: new EnforcementFunction(stack, 'Sync', { handlerName: 'demo', description: 'd' }),
      events: new EnforcementFunction(stack, 'Events', { handlerName: 'demo', description: 'd', invocation: EnforcementInvocation.ASYNCHRONOUS_WITH_FAILURE_DESTINATION }),
      deploy: new EnforcementFunction(stack, 'Deploy', { handlerName: 'demo', description: 'd', invocation: EnforcementInvocation.DEPLOYMENT_AND_SCHEDULE }),
    })).built;
    const sync = acknowledged(built.sync);
    const events = acknowledged(built.events);
    const deploy = acknowledged(built.deploy);
    const key = (rule: string) => Object.keys(sync).concat(Object.keys(events), Object.keys(deploy)).find((k) => k.endsWith(rule))!;
    expect(JSON.stringify(sync[key('NIST.800.53.R5-LambdaDLQ')])).toMatch(/synchronously/);
    expect(JSON.stringify(events[key('NIST.800.53.R5-LambdaDLQ')])).toMatch(/on-failure destination/);
    expect(JSON.stringify(deploy[key('NIST.800.53.R5-LambdaDLQ')])).toMatch(/CloudFormation/);
    // Only a function with a real on-failure destination leaves the destination rule to be checked.
    expect(Object.keys(events).some((k) => k.endsWith('Serverless-LambdaAsyncFailureDestination'))).toBe(false);
    expect(Object.keys(deploy).some((k) => k.endsWith('Serverless-LambdaAsyncFailureDestination'))).toBe(true);
  });

  test('fails with the bad name when a handler name is not a folder name', () => {
    expect(() => synthOnce((stack) => new EnforcementFunction(stack, 'Bad', { handlerName: '../x', description: 'd' }))).toThrow(/invalid handler name "..\/x"/);
  });
});
