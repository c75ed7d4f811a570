import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AgentLoopEnv, DEFINITION_LAYER_PATH, parseDefinition } from '../../../lambda/agent-loop/config';
import { AgentHookPoint, AgentLoop, AgentLoopProps, AgentModel, LocalTool } from '../../../lib/agents/agent-loop';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import { AiGuardrail } from '../../../lib/guardrails/ai-guardrail';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

/** Test scaffolding around the construct: a VPC with flow logs, a user pool, tool and hook functions, an app role. */
const SCAFFOLDING = /^TestStack\/(Vpc|Pool|CalcTool|HookFn|AppRole)\//;

const PROFILE = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const BASE_MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const CALC_SCHEMA = { type: 'object', properties: { expression: { type: 'string', maxLength: 100 } }, required: ['expression'], additionalProperties: false };

function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

function cognitoIdentity(stack: Stack): CallerIdentity {
  const pool = new cognito.UserPool(stack, 'Pool');
  return CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('Client')] });
}

function toolFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true, result: 1 });') });
}

type Resource = { Properties: Record<string, any> };
function resourcesOf(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.findResources(type)) as Array<[string, Resource]>;
}

/** Every statement of every policy attached to a role. */
function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, any>> {
  return [...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

const actionsOf = (s: Record<string, any>): string[] => [s.Action].flat();

function agentStatements(s: Synthesized<{ agent: AgentLoop }>, prefixes: string[]): Array<Record<string, any>> {
  const role = (s.built.agent.function as lambda.Function).role as iam.Role;
  return statementsOfRole(s.template, s.stack.getLogicalId(role.node.defaultChild as iam.CfnRole)).filter((st) => actionsOf(st).some((a) => prefixes.some((p) => a.startsWith(p))));
}

function functionProps(s: Synthesized<{ agent: AgentLoop }>): Record<string, any> {
  return s.template.toJSON().Resources[s.stack.getLogicalId((s.built.agent.function as lambda.Function).node.defaultChild as lambda.CfnFunction)].Properties;
}

const arn = (s: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, s]] });
const profileArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:inference-profile/${PROFILE}`]] };

describe('AgentLoop: a full agent in a VPC (cross-Region profile, gateway and local tools, a hook function)', () => {
  let s: Synthesized<{ agent: AgentLoop; guardrail: AiGuardrail; calc: lambda.Function; hook: lambda.Function; appRole: iam.Role }>;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const guardrail = new AiGuardrail(stack, 'Guardrail');
      const calc = toolFunction(stack, 'CalcTool');
      const hook = toolFunction(stack, 'HookFn');
      const agent = new AgentLoop(stack, 'Agent', {
        identity: cognitoIdentity(stack),
        model: AgentModel.crossRegionInferenceProfile(PROFILE),
        guardrail,
        systemPrompt: 'You are a careful analyst assistant. '.repeat(200),
        gatewayUrl: 'https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp',
        gatewayTools: [{ name: 'Crm___lookup' }, { name: 'Firewall___block_ip', requiresApproval: true }],
        localTools: [{ name: 'calc', description: 'Evaluates an arithmetic expression.', inputSchema: CALC_SCHEMA, function: calc, allowedGroups: ['analysts'] }],
        hookFunctions: [{ point: AgentHookPoint.BEFORE_TOOL, function: hook }],
        maxTurns: 6,
        vpc: isolatedVpc(stack),
      });
      const appRole = new iam.Role(stack, 'AppRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      agent.grantInvoke(appRole);
      return { agent, guardrail, calc, hook, appRole };
    });
  });

  test('runs the agent-loop handler in the VPC with the definition layer and its pinned hash', () => {
    const props = functionProps(s);
    expect(props.Layers).toEqual([{ Ref: s.stack.getLogicalId(s.built.agent.definitionLayer.node.defaultChild as lambda.CfnLayerVersion) }]);
    expect(props.VpcConfig).toEqual(expect.objectContaining({ SubnetIds: expect.any(Array) }));
    expect(props.Timeout).toBe(300);
    s.template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleRuntimes: ['nodejs24.x'], CompatibleArchitectures: ['arm64'] });
    const env = props.Environment.Variables;
    expect(env).toEqual(
      expect.objectContaining({
        [AgentLoopEnv.MODEL_ID]: PROFILE,
        [AgentLoopEnv.GUARDRAIL_IDENTIFIER]: { 'Fn::GetAtt': [expect.stringMatching(/^Guardrail/), 'GuardrailId'] },
        [AgentLoopEnv.GUARDRAIL_VERSION]: { 'Fn::GetAtt': [expect.stringMatching(/^Guardrail/), 'Version'] },
        [AgentLoopEnv.GATEWAY_URL]: 'https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp',
        [AgentLoopEnv.DEFINITION_SHA256]: s.built.agent.definitionSha256,
        [AgentLoopEnv.MAX_TURNS]: '6',
        [AgentLoopEnv.MAX_TOOL_CALLS]: '16',
        [AgentLoopEnv.TIMEOUT_MS]: '295000',
        [AgentLoopEnv.TOOL_TIMEOUT_MS]: '30000',
        CAD_IDENTITY_CONFIG: expect.anything(),
      }),
    );
    // Function ARNs are resolved into the JSON at deploy time.
    expect(JSON.stringify(env[AgentLoopEnv.LOCAL_TOOL_FUNCTIONS])).toContain(s.stack.getLogicalId(s.built.calc.node.defaultChild as lambda.CfnFunction));
    expect(JSON.stringify(env[AgentLoopEnv.HOOK_FUNCTIONS])).toContain('BEFORE_TOOL');
    // The (large) system prompt is not in the environment.
    expect(JSON.stringify(env)).not.toContain('careful analyst');
  });

  test('the layer holds exactly the definition the handler will accept', () => {
    const layer = resourcesOf(s.template, 'AWS::Lambda::LayerVersion')[0][1];
    const hash = (layer.Properties.Content.S3Key as string).replace(/\.zip$/, '');
    const file = path.join((s.stack.node.root as App).outdir, `asset.${hash}`, DEFINITION_LAYER_PATH);
    const text = fs.readFileSync(file, 'utf8');
    expect(createHash('sha256').update(text).digest('hex')).toBe(s.built.agent.definitionSha256);
    const parsed = parseDefinition(text, s.built.agent.definitionSha256);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.definition.gatewayTools).toEqual([
        { name: 'Crm___lookup', requiresApproval: false },
        { name: 'Firewall___block_ip', requiresApproval: true },
      ]);
      expect(parsed.definition.localTools).toEqual([{ name: 'calc', description: 'Evaluates an arithmetic expression.', inputSchema: CALC_SCHEMA, requiresApproval: false, allowedGroups: ['analysts'] }]);
      expect(parsed.definition.systemPrompt.startsWith('You are a careful analyst assistant.')).toBe(true);
    }
    expect(s.built.agent.allowedTools).toEqual(['Crm___lookup', 'Firewall___block_ip', 'calc']);
    expect(s.built.agent.modelId).toBe(PROFILE);
  });

  test('IAM: InvokeModel on exactly the profile, and on its model only through that profile', () => {
    expect(agentStatements(s, ['bedrock:InvokeModel'])).toEqual([
      { Action: 'bedrock:InvokeModel', Effect: 'Allow', Resource: profileArn },
      {
        Action: 'bedrock:InvokeModel',
        Effect: 'Allow',
        Resource: arn(`:bedrock:*::foundation-model/${BASE_MODEL}`),
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
      },
    ]);
  });

  test('IAM: ApplyGuardrail on exactly the guardrail; InvokeFunction on exactly the tool and hook functions', () => {
    expect(agentStatements(s, ['bedrock:ApplyGuardrail'])).toEqual([
      { Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Guardrail/), 'GuardrailArn'] } },
    ]);
    const invoke = agentStatements(s, ['lambda:']);
    expect(invoke).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [
          { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.calc.node.defaultChild as lambda.CfnFunction), 'Arn'] },
          { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.hook.node.defaultChild as lambda.CfnFunction), 'Arn'] },
        ],
      },
    ]);
    // No other Bedrock or AgentCore action, and no action wildcard.
    const all = agentStatements(s, ['']);
    expect(all.flatMap(actionsOf).filter((a) => a.startsWith('bedrock') && !['bedrock:InvokeModel', 'bedrock:ApplyGuardrail'].includes(a))).toEqual([]);
    expect(all.flatMap(actionsOf).filter((a) => a.endsWith('*'))).toEqual([]);
  });

  test('grantInvoke gives the application exactly lambda:InvokeFunction on the agent function', () => {
    const stmts = statementsOfRole(s.template, s.stack.getLogicalId(s.built.appRole.node.defaultChild as iam.CfnRole));
    expect(stmts).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [s.stack.getLogicalId((s.built.agent.function as lambda.Function).node.defaultChild as lambda.CfnFunction), 'Arn'] } },
    ]);
  });

  test('cdk-nag: no findings on the agent (the Region wildcard of the profile grant is acknowledged with its reason)', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => SCAFFOLDING.test(r)))).toEqual([]);
  });

  test('cfn-lint: the template is clean', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agent-loop-')), 'agent-loop.template.json');
    fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
    expect(cfnLint([file]).findings).toEqual([]);
  });
});

describe('AgentLoop: a minimal agent (foundation model, imported guardrail, no tools, outside a VPC)', () => {
  let s: Synthesized<{ agent: AgentLoop }>;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const guardrail = AiGuardrail.fromGuardrailAttributes(stack, 'Imported', { guardrailArn: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123', guardrailVersion: '4' });
      const agent = new AgentLoop(stack, 'Agent', {
        identity: CallerIdentity.oidc({ issuer: 'https://idp.example.test', audiences: ['agent-api'] }),
        model: AgentModel.foundationModel(BASE_MODEL),
        guardrail,
        systemPrompt: 'Answer briefly.',
        maxContextCharacters: 100_000,
        maxOutputTokens: 1_024,
        timeout: Duration.minutes(1),
        toolTimeout: Duration.seconds(10),
      });
      return { agent };
    });
  });

  test('IAM: InvokeModel on exactly the foundation model in the stack Region; nothing to invoke', () => {
    expect(agentStatements(s, ['bedrock:', 'lambda:'])).toEqual([
      { Action: 'bedrock:InvokeModel', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, `::foundation-model/${BASE_MODEL}`]] } },
      { Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123' },
    ]);
  });

  test('the environment carries the limits and no tool settings', () => {
    const env = functionProps(s).Environment.Variables;
    expect(env).toEqual(expect.objectContaining({ [AgentLoopEnv.MAX_CONTEXT_CHARS]: '100000', [AgentLoopEnv.MAX_OUTPUT_TOKENS]: '1024', [AgentLoopEnv.TIMEOUT_MS]: '55000', [AgentLoopEnv.TOOL_TIMEOUT_MS]: '10000', [AgentLoopEnv.GUARDRAIL_VERSION]: '4' }));
    expect(env[AgentLoopEnv.GATEWAY_URL]).toBeUndefined();
    expect(env[AgentLoopEnv.LOCAL_TOOL_FUNCTIONS]).toBeUndefined();
    expect(env[AgentLoopEnv.HOOK_FUNCTIONS]).toBeUndefined();
    expect(s.built.agent.allowedTools).toEqual([]);
  });

  test('outside a VPC only the LambdaInsideVPC findings remain, for the user to see', () => {
    const rules = [...new Set(nagFindings(s.stack).map((f) => f.rule))].sort();
    expect(rules).toEqual(['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC']);
  });
});

describe('AgentLoop: a global profile with listed destination Regions', () => {
  test('grants the model in those Regions and the Region-less global ARN, with no wildcard', () => {
    const s = synthOnce((stack) => {
      const agent = new AgentLoop(stack, 'Agent', {
        identity: CallerIdentity.oidc({ issuer: 'https://idp.example.test', audiences: ['agent-api'] }),
        model: AgentModel.crossRegionInferenceProfile(`global.${BASE_MODEL}`, { destinationRegions: ['us-east-1', 'eu-west-1'] }),
        guardrail: new AiGuardrail(stack, 'Guardrail'),
        systemPrompt: 'Answer briefly.',
      });
      return { agent };
    });
    const models = agentStatements(s, ['bedrock:InvokeModel'])[1];
    expect(models.Resource).toHaveLength(3);
    expect(models.Resource).toEqual(
      expect.arrayContaining([
        arn(`:bedrock:us-east-1::foundation-model/${BASE_MODEL}`),
        arn(`:bedrock:eu-west-1::foundation-model/${BASE_MODEL}`),
        arn(`:bedrock:::foundation-model/${BASE_MODEL}`),
      ]),
    );
    expect(models.Condition).toEqual({ StringEquals: { 'bedrock:InferenceProfileArn': expect.anything() } });
    expect(nagFindings(s.stack).filter((f) => f.rule.includes('IAM5'))).toEqual([]);
  });
});

describe('AgentLoop: invalid props fail at synth naming the bad value', () => {
  function props(stack: Stack, over: Partial<AgentLoopProps> = {}): AgentLoopProps {
    return {
      identity: CallerIdentity.oidc({ issuer: 'https://idp.example.test', audiences: ['agent-api'] }),
      model: AgentModel.foundationModel(BASE_MODEL),
      guardrail: AiGuardrail.fromGuardrailAttributes(stack, 'G', { guardrailArn: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123', guardrailVersion: '1' }),
      systemPrompt: 'Answer briefly.',
      ...over,
    };
  }
  const local = (stack: Stack, over: Partial<LocalTool> = {}): LocalTool => ({ name: 'calc', description: 'Calculates.', inputSchema: CALC_SCHEMA, function: toolFunction(stack, `Fn${Math.random().toString(36).slice(2, 8)}`), ...over });

  test.each<[string, (stack: Stack) => Partial<AgentLoopProps>, RegExp]>([
    ['an empty system prompt', () => ({ systemPrompt: '' }), /systemPrompt must be a string of 1 to 100000 characters/],
    ['a system prompt that is too long', () => ({ systemPrompt: 'x'.repeat(100_001) }), /systemPrompt must be a string of 1 to 100000/],
    ['a system prompt with a lone surrogate', () => ({ systemPrompt: 'abc\ud800' }), /systemPrompt has a lone surrogate/],
    ['gateway tools without a gateway URL', () => ({ gatewayTools: [{ name: 'Crm___lookup' }] }), /gatewayTools is set but neither gateway nor gatewayUrl is/],
    ['a gateway URL without tools', () => ({ gatewayUrl: 'https://gw.example.test/mcp' }), /a gateway is set but gatewayTools is empty/],
    ['an http gateway URL', () => ({ gatewayUrl: 'http://gw.example.test/mcp', gatewayTools: [{ name: 'Crm___lookup' }] }), /gatewayUrl is "http:\/\/gw.example.test\/mcp"; allowed: an https URL/],
    ['a gateway tool name with a space', () => ({ gatewayUrl: 'https://gw.example.test/mcp', gatewayTools: [{ name: 'Crm lookup' }] }), /gateway tool "Crm lookup"/],
    ['a tool name used twice', (st) => ({ gatewayUrl: 'https://gw.example.test/mcp', gatewayTools: [{ name: 'calc' }], localTools: [local(st)] }), /repeated: calc/],
    ['a local tool schema outside the supported subset', (st) => ({ localTools: [local(st, { inputSchema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true } })] }), /inputSchema of local tool calc/],
    ['an empty group list on a local tool', (st) => ({ localTools: [local(st, { allowedGroups: [] })] }), /allowedGroups of local tool calc must list 1 to 32 group names/],
    ['eleven local tools', (st) => ({ localTools: Array.from({ length: 11 }, (_v, i) => local(st, { name: `t${i}` })) }), /localTools has more than 10 tools/],
    ['five hook functions', (st) => ({ hookFunctions: Array.from({ length: 5 }, () => ({ point: AgentHookPoint.AFTER_TOOL, function: toolFunction(st, `H${Math.random().toString(36).slice(2, 8)}`) })) }), /hookFunctions has 5 functions; allowed: at most 4/],
    ['zero turns', () => ({ maxTurns: 0 }), /maxTurns is 0; allowed: a whole number from 1 to 50/],
    ['more calls per turn than in total', () => ({ maxToolCallsPerTurn: 5, maxToolCalls: 4 }), /maxToolCallsPerTurn is 5; allowed: at most maxToolCalls \(4\)/],
    ['a context budget that is too small', () => ({ maxContextCharacters: 500 }), /maxContextCharacters is 500/],
    ['a 5 second timeout', () => ({ timeout: Duration.seconds(5) }), /timeout \(seconds\) is 5; allowed: a whole number from 10 to 900/],
    ['a tool timeout longer than the loop deadline', () => ({ timeout: Duration.seconds(20), toolTimeout: Duration.seconds(30) }), /toolTimeout \(ms\) is 30000; allowed: at most timeout minus 5 s \(ms\) \(15000\)/],
  ])('fails with %s', (_n, over, message) => {
    const stack = testStack();
    expect(() => new AgentLoop(stack, 'Agent', props(stack, over(stack)))).toThrow(message);
  });

  test.each<[string, () => AgentModel, RegExp]>([
    ['a model id with a space', () => AgentModel.foundationModel('anthropic claude'), /modelId is "anthropic claude"/],
    ['a profile id given as a foundation model', () => AgentModel.foundationModel(PROFILE), /use crossRegionInferenceProfile/],
    ['a profile id without a geography prefix', () => AgentModel.crossRegionInferenceProfile(BASE_MODEL), /profileId is "anthropic/],
    ['a destination Region that is not one', () => AgentModel.crossRegionInferenceProfile(PROFILE, { destinationRegions: ['us-east-1', 'mars-1'] }), /destinationRegions has \["mars-1"\]/],
    ['an empty destination Region list', () => AgentModel.crossRegionInferenceProfile(PROFILE, { destinationRegions: [] }), /destinationRegions is empty/],
  ])('fails with %s', (_n, make, message) => {
    expect(make).toThrow(message);
  });
});
