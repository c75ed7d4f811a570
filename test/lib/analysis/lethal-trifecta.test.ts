import { App, AspectPriority, Aspects, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import {
  CapabilityLabels,
  ITrifectaSource,
  ITrifectaSubject,
  LethalTrifecta,
  ReachableTool,
  TrifectaMode,
  TrifectaReach,
} from '../../../lib/analysis';
import { PrivateAiNetwork } from '../../../lib/network/private-ai-network';
import { RiskClass, ToolCapability, ToolRegistry } from '../../../lib/tools/tool-registry';
import { nagFindings } from '../../rig/nag';
import { testApp, testStack } from '../../rig/synth';

const { SENSITIVE_DATA, UNTRUSTED_CONTENT, EXTERNAL_ACCESS } = ToolCapability;
const ANY = Match.anyValue();

// ---------------------------------------------------------------------------------------------------------------
// Test doubles: the smallest constructs that implement the analysis interfaces (the real ones are wired by the lead).
// ---------------------------------------------------------------------------------------------------------------

/** A knowledge base: a source that is sensitive and untrusted unless labelled otherwise. */
class FakeKnowledgeBase extends Construct implements ITrifectaSource {
  public trifectaCapabilities(): ToolCapability[] {
    return [SENSITIVE_DATA, UNTRUSTED_CONTENT];
  }
}

/** A gateway serving the tools of a registry, with the default policy (approval from HIGH). */
class FakeGateway extends Construct implements ITrifectaSubject {
  public readonly registry = new ToolRegistry();
  public readonly targetSources: { [target: string]: IConstruct[] } = {};
  public trifectaReach(): ReachableTool[] {
    return TrifectaReach.fromToolRegistry(this.registry, { via: `gateway ${this.node.path}`, approvalFromRisk: RiskClass.HIGH, targetSources: this.targetSources });
  }
  public register(target: string, name: string, risk: RiskClass, capabilities?: ToolCapability[]): this {
    this.registry.register({ name, target, risk, capabilities, owner: 'team-a', allowedGroups: ['staff'] });
    return this;
  }
}

/** An agent: local tools, an allowlist of gateway tools, and optionally its own function's network. */
class FakeAgent extends Construct implements ITrifectaSubject {
  private readonly tools: ReachableTool[] = [];
  public gateway?: ITrifectaSubject;
  public gatewayTools: string[] = [];
  public fn?: lambda.IFunction;
  public addTool(tool: ReachableTool): this {
    this.tools.push(tool);
    return this;
  }
  public trifectaReach(): ReachableTool[] {
    return [
      ...this.tools,
      ...(this.gateway ? TrifectaReach.through(this.gateway, this.gatewayTools) : []),
      ...(this.fn ? TrifectaReach.networkEgressOf(this.fn) : []),
    ];
  }
}

/** A subject whose reach cannot be read. */
class BrokenAgent extends Construct implements ITrifectaSubject {
  public trifectaReach(): ReachableTool[] {
    throw new Error('gateway not configured');
  }
}

const webFetch: ReachableTool = { name: 'web_fetch', capabilities: [UNTRUSTED_CONTENT], requiresApproval: false };
const sendEmail: ReachableTool = { name: 'send_email', capabilities: [EXTERNAL_ACCESS], requiresApproval: false };
const approvedEmail: ReachableTool = { ...sendEmail, requiresApproval: true };

/** A local tool that searches a knowledge base: no capability of its own, the knowledge base's through `sources`. */
function kbSearch(scope: Construct, kbLabel?: ToolCapability[]): ReachableTool {
  const kb = new FakeKnowledgeBase(scope, 'Kb');
  if (kbLabel) CapabilityLabels.label(kb, kbLabel);
  return { name: 'search_kb', capabilities: [], sources: [kb], requiresApproval: false };
}

function fn(scope: Construct, id: string, vpc?: ec2.IVpc, vpcSubnets?: ec2.SubnetSelection): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    vpc,
    vpcSubnets,
  });
}

/** A stack checked by the aspect (added before anything else, as an app would do), synthesized by the assertions. */
function checkedStack(build: (stack: Stack) => void, mode?: TrifectaMode): { stack: Stack; annotations: Annotations } {
  const app = testApp();
  LethalTrifecta.check(app, mode ? { mode } : {});
  const stack = new Stack(app, 'TestStack');
  build(stack);
  return { stack, annotations: Annotations.fromStack(stack) };
}

function errors(a: Annotations, path = '*'): string[] {
  return a.findError(path, ANY).map((m) => String(m.entry.data));
}
function warnings(a: Annotations, path = '*'): string[] {
  return a.findWarning(path, ANY).map((m) => String(m.entry.data)).filter((w) => w.includes(LethalTrifecta.RULE_ID));
}
function infos(a: Annotations, path = '*'): string[] {
  return a.findInfo(path, ANY).map((m) => String(m.entry.data)).filter((w) => w.includes(LethalTrifecta.RULE_ID));
}

// ---------------------------------------------------------------------------------------------------------------

describe('LethalTrifecta: an agent with a sensitive knowledge base, web fetch and email', () => {
  let a: Annotations;
  beforeAll(() => {
    ({ annotations: a } = checkedStack((stack) => {
      const agent = new FakeAgent(stack, 'Agent');
      // Tools added after the agent was created (and after the aspect was added) are still seen.
      agent.addTool(kbSearch(stack)).addTool(webFetch).addTool(sendEmail);
    }));
  });

  test('fails the synth with one error on the agent', () => {
    expect(errors(a)).toHaveLength(1);
    expect(errors(a, '/TestStack/Agent')).toHaveLength(1);
  });

  test('the error names each leg and what contributes it', () => {
    const [message] = errors(a, '/TestStack/Agent');
    expect(message).toContain('LethalTrifecta: TestStack/Agent can reach all three legs');
    expect(message).toContain('Sensitive data: search_kb (reached directly; source TestStack/Kb).');
    expect(message).toMatch(/Untrusted content: search_kb \(reached directly; source TestStack\/Kb\); web_fetch \(reached directly; label\)\./);
    expect(message).toContain('External access without approval: send_email (reached directly).');
    expect(message).toContain('(Annotation::CdkAiDefense-LethalTrifecta)');
  });

  test('the error says how to fix it', () => {
    const [message] = errors(a, '/TestStack/Agent');
    expect(message).toContain('split the agent or gateway');
    expect(message).toContain('require an approval on every external-access tool');
    expect(message).toContain('remove a leg');
    expect(message).toContain('LethalTrifecta.acceptRisk(subject, reason)');
  });
});

describe('LethalTrifecta: passing stacks', () => {
  test('passes when the email tool requires approval', () => {
    const { annotations } = checkedStack((stack) => {
      new FakeAgent(stack, 'Agent').addTool(kbSearch(stack)).addTool(webFetch).addTool(approvedEmail);
    });
    expect(errors(annotations)).toEqual([]);
    expect(warnings(annotations)).toEqual([]);
  });

  test('passes with split agents that each reach two legs', () => {
    const { annotations } = checkedStack((stack) => {
      const kb = kbSearch(stack, [SENSITIVE_DATA]);
      new FakeAgent(stack, 'Researcher').addTool(kb).addTool(webFetch); // sensitive + untrusted, no way out
      new FakeAgent(stack, 'Mailer').addTool({ ...kb, name: 'search_kb2' }).addTool(sendEmail); // sensitive + external, no untrusted input
      new FakeAgent(stack, 'Browser').addTool(webFetch).addTool(sendEmail); // untrusted + external, no sensitive data
    });
    expect(errors(annotations)).toEqual([]);
    expect(warnings(annotations)).toEqual([]);
  });

  test('passes when a label removes a leg that a source would otherwise give', () => {
    // The knowledge base holds published handbooks written by staff: labelled sensitive only, not untrusted.
    const { annotations } = checkedStack((stack) => {
      new FakeAgent(stack, 'Agent').addTool(kbSearch(stack, [SENSITIVE_DATA])).addTool(sendEmail);
    });
    expect(errors(annotations)).toEqual([]);
  });

  test('the check changes nothing in the template and the stack stays cdk-nag clean', () => {
    const build = (s: Stack) => {
      new FakeAgent(s, 'Agent').addTool(kbSearch(s)).addTool(webFetch).addTool(approvedEmail);
      fn(s, 'Fn');
    };
    const { stack } = checkedStack(build);
    const unchecked = new Stack(testApp(), 'TestStack');
    build(unchecked);
    expect(Template.fromStack(stack).toJSON()).toEqual(Template.fromStack(unchecked).toJSON());
    // The only resources are test scaffolding (a plain Lambda function): nothing of the check's own.
    expect(nagFindings(stack).filter((f) => f.resources.some((r) => !r.startsWith('TestStack/Fn')))).toEqual([]);
  });

  test('with aspect stabilization, a subject that another aspect adds during synth is still checked', () => {
    const app = new App({ context: { '@aws-cdk/core:aspectStabilization': true } });
    LethalTrifecta.check(app);
    const stack = new Stack(app, 'TestStack');
    Aspects.of(app).add(
      {
        visit: (node: IConstruct) => {
          if (node === stack && !stack.node.tryFindChild('LateAgent')) new FakeAgent(stack, 'LateAgent').addTool({ name: 'legacy_tool', requiresApproval: false });
        },
      },
      { priority: AspectPriority.MUTATING },
    );
    expect(errors(Annotations.fromStack(stack), '/TestStack/LateAgent')[0]).toContain('legacy_tool (reached directly; unlabeled: counts as all three)');
  });
});

describe('LethalTrifecta: unlabeled tools', () => {
  test('fails when a tool without labels is reachable without approval: it alone counts as all three', () => {
    const { annotations } = checkedStack((stack) => {
      new FakeAgent(stack, 'Agent').addTool({ name: 'legacy_tool', requiresApproval: false });
    });
    const [message] = errors(annotations, '/TestStack/Agent');
    expect(message).toContain('Sensitive data: legacy_tool (reached directly; unlabeled: counts as all three).');
    expect(message).toContain('Untrusted content: legacy_tool (reached directly; unlabeled: counts as all three).');
    expect(message).toContain('External access without approval: legacy_tool (reached directly).');
  });

  test('an empty label is a label: "none of the three"', () => {
    const { annotations } = checkedStack((stack) => {
      new FakeAgent(stack, 'Agent').addTool({ name: 'calculator', capabilities: [], requiresApproval: false }).addTool(webFetch).addTool(sendEmail);
    });
    expect(errors(annotations)).toEqual([]);
  });

  test('an unlabeled tool that requires approval gives all three legs but is covered', () => {
    const finding = LethalTrifecta.analyze(new FakeAgent(testStack(), 'Agent').addTool({ name: 'legacy_tool', requiresApproval: true }));
    expect(finding.sensitiveData).toHaveLength(1);
    expect(finding.externalAccess).toEqual(['legacy_tool (reached directly; unlabeled: counts as all three)']);
    expect(finding.externalAccessWithoutApproval).toEqual([]);
    expect(finding.lethal).toBe(false);
  });
});

describe('LethalTrifecta: gateways and agents behind them', () => {
  let a: Annotations;
  beforeAll(() => {
    ({ annotations: a } = checkedStack((stack) => {
      const kb = new FakeKnowledgeBase(stack, 'Kb');
      // A safe gateway: the external tool is HIGH, so the default policy requires an approval of each call.
      const safe = new FakeGateway(stack, 'SafeGateway')
        .register('kb', 'search', RiskClass.LOW, [])
        .register('web', 'fetch', RiskClass.LOW, [UNTRUSTED_CONTENT])
        .register('mail', 'send', RiskClass.HIGH, [EXTERNAL_ACCESS]);
      safe.targetSources.kb = [kb];
      // An unsafe gateway: the same tools, but sending mail is MEDIUM (no approval).
      const unsafe = new FakeGateway(stack, 'UnsafeGateway')
        .register('kb', 'search', RiskClass.LOW, [SENSITIVE_DATA])
        .register('web', 'fetch', RiskClass.LOW, [UNTRUSTED_CONTENT])
        .register('mail', 'send', RiskClass.MEDIUM, [EXTERNAL_ACCESS]);
      void unsafe;
      // A gateway with one unlabeled LOW tool.
      new FakeGateway(stack, 'UnlabeledGateway').register('misc', 'thing', RiskClass.LOW);
      // An agent allowlisting two tools of the safe gateway and adding a local external tool without approval.
      const agent = new FakeAgent(stack, 'Agent').addTool({ name: 'post_webhook', capabilities: [EXTERNAL_ACCESS], requiresApproval: false });
      agent.gateway = safe;
      agent.gatewayTools = ['kb___search', 'web___fetch'];
      // An agent allowlisting a name the gateway does not have.
      const typo = new FakeAgent(stack, 'TypoAgent');
      typo.gateway = safe;
      typo.gatewayTools = ['mail___sned'];
      // An agent allowlisting the safe gateway's tools only: the approval of mail___send carries through.
      const careful = new FakeAgent(stack, 'CarefulAgent');
      careful.gateway = safe;
      careful.gatewayTools = ['kb___search', 'web___fetch', 'mail___send'];
    }));
  });

  test('a gateway whose external tool is HIGH risk passes (approval required by the default policy)', () => {
    expect(errors(a, '/TestStack/SafeGateway')).toEqual([]);
    expect(errors(a, '/TestStack/CarefulAgent')).toEqual([]);
  });

  test('fails a gateway that exposes all three legs with a MEDIUM external tool', () => {
    const [message] = errors(a, '/TestStack/UnsafeGateway');
    expect(message).toContain('Sensitive data: kb___search (via gateway TestStack/UnsafeGateway; label).');
    expect(message).toContain('External access without approval: mail___send (via gateway TestStack/UnsafeGateway).');
  });

  test('fails a gateway with an unlabeled registered tool', () => {
    expect(errors(a, '/TestStack/UnlabeledGateway')[0]).toContain('misc___thing (via gateway TestStack/UnlabeledGateway; unlabeled: counts as all three)');
  });

  test('fails an agent that combines gateway tools with a local external tool, naming the route', () => {
    const [message] = errors(a, '/TestStack/Agent');
    expect(message).toContain('Sensitive data: kb___search (via gateway TestStack/SafeGateway; source TestStack/Kb).');
    expect(message).toContain('External access without approval: post_webhook (reached directly).');
  });

  test('fails closed on an allowlisted name the gateway does not have', () => {
    expect(errors(a, '/TestStack/TypoAgent')[0]).toContain('mail___sned (via TestStack/SafeGateway, which has no tool of that name; unlabeled: counts as all three)');
  });
});

describe('LethalTrifecta: network egress', () => {
  let a: Annotations;
  beforeAll(() => {
    ({ annotations: a } = checkedStack((s) => {
      const net = new PrivateAiNetwork(s, 'Network', { unsafeAllowInternetEgress: true });
      const egress = new FakeAgent(s, 'EgressAgent').addTool(kbSearch(s)).addTool(webFetch).addTool(approvedEmail);
      egress.fn = fn(s, 'EgressFn', net.vpc, { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      const isolated = new FakeAgent(s, 'IsolatedAgent').addTool(webFetch).addTool(approvedEmail).addTool({ name: 'read_hr', capabilities: [SENSITIVE_DATA], requiresApproval: false });
      isolated.fn = fn(s, 'IsolatedFn', net.vpc, { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      const outside = new FakeAgent(s, 'OutsideAgent').addTool(webFetch).addTool({ name: 'read_hr', capabilities: [SENSITIVE_DATA], requiresApproval: false });
      outside.fn = fn(s, 'OutsideFn');
      const twoLegs = new FakeAgent(s, 'TwoLegAgent').addTool(webFetch);
      twoLegs.fn = fn(s, 'TwoLegFn', net.vpc, { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    }));
  });

  test('fails an agent in egress subnets even though every external-access tool requires approval', () => {
    const [message] = errors(a, '/TestStack/EgressAgent');
    expect(message).toMatch(/External access without approval: network egress \(via subnet TestStack\/Network\/Resource\/EgressSubnet1 \(of TestStack\/EgressFn\) has a route to 0\.0\.0\.0\/0 through a NAT gateway; /);
    expect(message).toContain('(1 more external-access path(s) require approval.)');
  });

  test('passes the same agent in isolated subnets', () => {
    expect(errors(a, '/TestStack/IsolatedAgent')).toEqual([]);
  });

  test("fails an agent whose function runs outside any VPC (Lambda's default networking reaches the internet)", () => {
    expect(errors(a, '/TestStack/OutsideAgent')[0]).toContain(
      "network egress (via TestStack/OutsideFn runs outside any VPC, where Lambda's default networking reaches the internet)",
    );
  });

  test('network egress alone is one leg: an agent with untrusted content and egress passes', () => {
    expect(errors(a, '/TestStack/TwoLegAgent')).toEqual([]);
    expect(errors(a)).toHaveLength(2);
  });

});

describe('LethalTrifecta: routes and imported subnets', () => {
  let a: Annotations;
  beforeAll(() => {
    ({ annotations: a } = checkedStack((s) => {
      const net = new PrivateAiNetwork(s, 'Network');
      const [first, second] = net.vpc.isolatedSubnets as ec2.Subnet[];
      // A default route to a transit gateway (a central egress VPC) on the first subnet only; a specific route on the second.
      new ec2.CfnRoute(s, 'DefaultToTgw', { routeTableId: first.routeTable.routeTableId, destinationCidrBlock: '0.0.0.0/0', transitGatewayId: 'tgw-0123456789abcdef0' });
      new ec2.CfnRoute(s, 'PeerToTgw', { routeTableId: second.routeTable.routeTableId, destinationCidrBlock: '10.9.0.0/16', transitGatewayId: 'tgw-0123456789abcdef0' });
      const sensitiveUntrusted = (id: string) =>
        new FakeAgent(s, id).addTool(webFetch).addTool({ name: 'read_hr', capabilities: [SENSITIVE_DATA], requiresApproval: false });
      sensitiveUntrusted('TgwAgent').fn = fn(s, 'TgwFn', net.vpc, { subnets: [first] });
      sensitiveUntrusted('PeerAgent').fn = fn(s, 'PeerFn', net.vpc, { subnets: [second] });

      const imported = ec2.Vpc.fromVpcAttributes(s, 'Imported', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['us-east-1a', 'us-east-1b'],
        isolatedSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
      });
      sensitiveUntrusted('ImportedAgent').fn = fn(s, 'ImportedFn', imported, { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      const declared = ec2.Vpc.fromVpcAttributes(s, 'Declared', {
        vpcId: 'vpc-0123456789abcdef1',
        availabilityZones: ['us-east-1a'],
        isolatedSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'],
      });
      CapabilityLabels.label(declared.isolatedSubnets[0], []);
      sensitiveUntrusted('DeclaredAgent').fn = fn(s, 'DeclaredFn', declared, { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      sensitiveUntrusted('ImportedFnAgent').fn = lambda.Function.fromFunctionName(s, 'ForeignFn', 'someone-elses-function');
    }));
  });

  test('a default route to a transit gateway counts as a path out', () => {
    expect(errors(a, '/TestStack/TgwAgent')[0]).toContain('has a route to 0.0.0.0/0 through a transit gateway');
  });

  test('a route to a specific network through a transit gateway does not', () => {
    expect(errors(a, '/TestStack/PeerAgent')).toEqual([]);
  });

  test('an imported subnet fails closed: its routes are not in the app', () => {
    const [message] = errors(a, '/TestStack/ImportedAgent');
    expect(message).toContain('subnet TestStack/Imported/IsolatedSubnet1 (subnet-0aaaaaaaaaaaaaaa1) of TestStack/ImportedFn is not defined in this app');
    expect(message).toContain('CapabilityLabels.label(subnet, [])');
  });

  test('an imported subnet labelled without EXTERNAL_ACCESS passes', () => {
    expect(errors(a, '/TestStack/DeclaredAgent')).toEqual([]);
  });

  test('a function the app does not define fails closed', () => {
    expect(errors(a, '/TestStack/ImportedFnAgent')[0]).toContain('TestStack/ForeignFn is not defined in this app, so its network placement is unknown');
  });
});

describe('LethalTrifecta: weaker modes and accepted risks', () => {
  test('WARN_ONLY reports a warning and no error', () => {
    const { annotations } = checkedStack((stack) => {
      new FakeAgent(stack, 'Agent').addTool(kbSearch(stack)).addTool(webFetch).addTool(sendEmail);
    }, TrifectaMode.WARN_ONLY);
    expect(errors(annotations)).toEqual([]);
    const [w] = warnings(annotations, '/TestStack/Agent');
    expect(w).toMatch(/^\[WARN_ONLY\] LethalTrifecta: TestStack\/Agent can reach all three legs/);
    expect(w).toContain('External access without approval: send_email (reached directly).');
  });

  test('acceptRisk turns the error into a warning that carries the reason', () => {
    const reason = 'Mail goes only to the requesting user; ticket SEC-1234, reviewed by the security team.';
    const { annotations, stack } = checkedStack((s) => {
      const agent = new FakeAgent(s, 'Agent').addTool(kbSearch(s)).addTool(webFetch).addTool(sendEmail);
      LethalTrifecta.acceptRisk(agent, reason);
    });
    expect(errors(annotations)).toEqual([]);
    const [w] = warnings(annotations, '/TestStack/Agent');
    expect(w).toContain('LethalTrifecta: TestStack/Agent can reach all three legs');
    expect(w).toContain(`RISK ACCEPTED: ${reason}`);
    // The acceptance is recorded in the cloud assembly for audits.
    const artifact = (stack.node.root as App).synth().getStackByName('TestStack');
    expect(artifact.findMetadataByType('cdk-ai-defense:lethal-trifecta:accepted-risk')).toEqual([
      { path: '/TestStack/Agent', type: 'cdk-ai-defense:lethal-trifecta:accepted-risk', data: reason },
    ]);
  });

  test('an acceptance on a subject that no longer needs it is reported as info', () => {
    const { annotations } = checkedStack((s) => {
      LethalTrifecta.acceptRisk(new FakeAgent(s, 'Agent').addTool(webFetch), 'Was needed for the old mail tool; see SEC-1234.');
    });
    expect(errors(annotations)).toEqual([]);
    expect(warnings(annotations)).toEqual([]);
    expect(infos(annotations, '/TestStack/Agent')[0]).toContain('no longer reaches all three legs without approval; remove the acceptance');
  });

  test.each([
    ['too short', 'ok because', /20 to 1000 characters/],
    ['blank', '                         ', /20 to 1000 characters/],
    ['more than one line', 'Reviewed by security\nticket SEC-1234 approved', /control or invisible characters/],
    ['a token', Lazy.string({ produce: () => 'Reviewed by security, ticket SEC-1234' }), /not a literal string/],
  ])('fails when the reason is %s', (_label, reason, expected) => {
    const agent = new FakeAgent(testStack(), 'Agent');
    expect(() => LethalTrifecta.acceptRisk(agent, reason)).toThrow(expected);
    expect(() => LethalTrifecta.acceptRisk(agent, reason)).toThrow(/^LethalTrifecta\.acceptRisk: invalid props/);
  });

  test('fails when acceptRisk is given something that is not an agent or gateway', () => {
    expect(() => LethalTrifecta.acceptRisk(new Construct(testStack(), 'X') as any, 'A long enough reason for the test.')).toThrow(
      /does not implement ITrifectaSubject/,
    );
  });

  test('fails when the mode is not a TrifectaMode', () => {
    expect(() => new LethalTrifecta({ mode: 'OFF' as TrifectaMode })).toThrow(/mode is "OFF"; allowed: ENFORCE, WARN_ONLY/);
  });
});

describe('LethalTrifecta: fails closed on malformed reach', () => {
  let a: Annotations;
  beforeAll(() => {
    ({ annotations: a } = checkedStack((s) => {
      new BrokenAgent(s, 'Broken');
      new FakeAgent(s, 'BadLabel').addTool({ name: 'x', capabilities: ['EXFILTRATE' as ToolCapability], requiresApproval: true });
      new FakeAgent(s, 'NoName').addTool({ name: '', capabilities: [], requiresApproval: true });
    }));
  });

  test('a subject whose reach throws is an error', () => {
    expect(errors(a, '/TestStack/Broken')[0]).toContain('LethalTrifecta: TestStack/Broken could not be analyzed (gateway not configured); the check fails closed.');
  });

  test('a capability that is not a ToolCapability is an error', () => {
    expect(errors(a, '/TestStack/BadLabel')[0]).toContain('capabilities of x contains "EXFILTRATE"');
  });

  test('a tool without a name is an error', () => {
    expect(errors(a, '/TestStack/NoName')[0]).toContain('a reachable tool has no name');
  });

  test('in WARN_ONLY mode an unreadable subject is a warning', () => {
    const { annotations } = checkedStack((s) => void new BrokenAgent(s, 'Broken'), TrifectaMode.WARN_ONLY);
    expect(errors(annotations)).toEqual([]);
    expect(warnings(annotations, '/TestStack/Broken')[0]).toContain('could not be analyzed');
  });
});

describe('CapabilityLabels', () => {
  test('labels accumulate, in a fixed order, and an empty label means none', () => {
    const stack = testStack();
    const tool = new Construct(stack, 'Tool');
    expect(CapabilityLabels.of(tool)).toBeUndefined();
    CapabilityLabels.label(tool, []);
    expect(CapabilityLabels.of(tool)).toEqual([]);
    CapabilityLabels.label(tool, [EXTERNAL_ACCESS, SENSITIVE_DATA, EXTERNAL_ACCESS]);
    expect(CapabilityLabels.of(tool)).toEqual([SENSITIVE_DATA, EXTERNAL_ACCESS]);
  });

  test('effective: a label replaces a source default; a plain construct says nothing', () => {
    const stack = testStack();
    const kb = new FakeKnowledgeBase(stack, 'Kb');
    expect(CapabilityLabels.effective(kb)).toEqual([SENSITIVE_DATA, UNTRUSTED_CONTENT]);
    CapabilityLabels.label(kb, [SENSITIVE_DATA]);
    expect(CapabilityLabels.effective(kb)).toEqual([SENSITIVE_DATA]);
    expect(CapabilityLabels.effective(new Construct(stack, 'Plain'))).toBeUndefined();
    expect(CapabilityLabels.unionOf([kb, new FakeKnowledgeBase(stack, 'Kb2'), new Construct(stack, 'Plain2')])).toEqual([SENSITIVE_DATA, UNTRUSTED_CONTENT]);
    expect(CapabilityLabels.all()).toEqual([SENSITIVE_DATA, UNTRUSTED_CONTENT, EXTERNAL_ACCESS]);
  });

  test('labels are recorded in the cloud assembly', () => {
    const app = testApp();
    const stack = new Stack(app, 'TestStack');
    CapabilityLabels.label(new Construct(stack, 'Tool'), [UNTRUSTED_CONTENT]);
    expect(app.synth().getStackByName('TestStack').findMetadataByType('cdk-ai-defense:capability-labels')).toEqual([
      { path: '/TestStack/Tool', type: 'cdk-ai-defense:capability-labels', data: [UNTRUSTED_CONTENT] },
    ]);
  });

  test('fails when a label is not a ToolCapability, naming the value and the construct', () => {
    const tool = new Construct(testStack(), 'Tool');
    expect(() => CapabilityLabels.label(tool, ['INTERNET' as ToolCapability])).toThrow(
      'CapabilityLabels.label: invalid props:\n  - capabilities of TestStack/Tool contains "INTERNET"; allowed: SENSITIVE_DATA, UNTRUSTED_CONTENT, EXTERNAL_ACCESS',
    );
    expect(() => CapabilityLabels.label(tool, 'SENSITIVE_DATA' as any)).toThrow(/allowed: a list of/);
    expect(CapabilityLabels.of(tool)).toBeUndefined();
  });

  test('fails closed when a source returns something that is not a capability', () => {
    const stack = testStack();
    const bad = new (class extends Construct implements ITrifectaSource {
      public trifectaCapabilities(): ToolCapability[] {
        return ['PUBLIC' as ToolCapability];
      }
    })(stack, 'Bad');
    expect(() => CapabilityLabels.effective(bad)).toThrow(/trifectaCapabilities\(\) of TestStack\/Bad contains "PUBLIC"/);
  });
});

describe('TrifectaReach.fromToolRegistry', () => {
  test('maps registrations to gateway tool names, labels, sources and approval', () => {
    const stack = testStack();
    const kb = new FakeKnowledgeBase(stack, 'Kb');
    const registry = new ToolRegistry([
      { name: 'search', target: 'kb', risk: RiskClass.LOW, capabilities: [SENSITIVE_DATA], owner: 'team-a' },
      { name: 'send', target: 'mail', risk: RiskClass.HIGH, capabilities: [EXTERNAL_ACCESS], owner: 'team-a' },
      { name: 'pay', target: 'bank', risk: RiskClass.CRITICAL, owner: 'team-a' },
    ]);
    expect(TrifectaReach.fromToolRegistry(registry, { via: 'gw', approvalFromRisk: RiskClass.HIGH, targetSources: { kb: [kb] } })).toEqual([
      { name: 'kb___search', capabilities: [SENSITIVE_DATA], sources: [kb], requiresApproval: false, via: 'gw' },
      { name: 'mail___send', capabilities: [EXTERNAL_ACCESS], sources: [], requiresApproval: true, via: 'gw' },
      { name: 'bank___pay', capabilities: undefined, sources: [], requiresApproval: true, via: 'gw' },
    ]);
    // Without a known approval threshold (a policy of one's own), nothing counts as approved.
    expect(TrifectaReach.fromToolRegistry(registry).map((t) => t.requiresApproval)).toEqual([false, false, false]);
  });
});
