/** What an AgentLoop can reach, for the lethal-trifecta analysis: gateway tools with the gateway's labels, local tools, egress. */
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AgentLoop, AgentModel } from '../../../lib/agents';
import { LethalTrifecta } from '../../../lib/analysis';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import { AiGuardrail } from '../../../lib/guardrails';
import { PrivateAiNetwork } from '../../../lib/network';
import { GuardedGateway, RiskClass, ToolCapability } from '../../../lib/tools';
import { testStack } from '../../rig/synth';

function fixture() {
  const stack = testStack();
  const network = new PrivateAiNetwork(stack, 'Network');
  const pool = new cognito.UserPool(stack, 'Pool');
  const identity = CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('Client')] });
  const guardrail = new AiGuardrail(stack, 'Guardrail');
  const gateway = new GuardedGateway(stack, 'Gateway', { identity, guardrail, vpc: network.vpc });
  const toolFn = (id: string) =>
    new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') });
  const tool = (targetName: string, name: string, capabilities: ToolCapability[] | undefined, risk = RiskClass.LOW) =>
    gateway.addLambdaToolTarget(
      { function: toolFn(`${targetName}Fn`), toolDefinitions: [{ name, description: `${name} tool`, inputSchema: { type: 'object', properties: {} } }] },
      { targetName, risk, capabilities, owner: 'team', allowedGroups: ['users'] },
    );
  const agent = (id: string, gatewayTools: string[], extra: Partial<ConstructorParameters<typeof AgentLoop>[2]> = {}) =>
    new AgentLoop(stack, id, {
      identity,
      guardrail,
      model: AgentModel.foundationModel('amazon.nova-pro-v1:0'),
      systemPrompt: 'test agent',
      gateway,
      gatewayTools: gatewayTools.map((name) => ({ name })),
      vpc: network.vpc,
      ...extra,
    });
  return { stack, gateway, tool, agent, toolFn, identity, guardrail, network };
}

describe('AgentLoop trifecta reach', () => {
  test('an agent whose gateway tools give all three legs without approval is lethal', () => {
    const f = fixture();
    f.tool('crm', 'read_customer', [ToolCapability.SENSITIVE_DATA]);
    f.tool('web', 'fetch_page', [ToolCapability.UNTRUSTED_CONTENT]);
    f.tool('mail', 'send_mail', [ToolCapability.EXTERNAL_ACCESS]);
    const a = f.agent('Agent', ['crm___read_customer', 'web___fetch_page', 'mail___send_mail']);
    expect(LethalTrifecta.analyze(a).lethal).toBe(true);
  });

  test('the same agent without the external tool is not', () => {
    const f = fixture();
    f.tool('crm', 'read_customer', [ToolCapability.SENSITIVE_DATA]);
    f.tool('web', 'fetch_page', [ToolCapability.UNTRUSTED_CONTENT]);
    f.tool('mail', 'send_mail', [ToolCapability.EXTERNAL_ACCESS]);
    const a = f.agent('Agent', ['crm___read_customer', 'web___fetch_page']);
    expect(LethalTrifecta.analyze(a).lethal).toBe(false);
  });

  test('an unlabeled gateway tool counts as all three', () => {
    const f = fixture();
    f.tool('misc', 'do_things', undefined);
    expect(LethalTrifecta.analyze(f.agent('Agent', ['misc___do_things'])).lethal).toBe(true);
  });

  test('with only a gateway URL the labels are unknown, so the gateway tools count as all three', () => {
    const f = fixture();
    const a = f.agent('Agent', ['crm___read_customer'], { gateway: undefined, gatewayUrl: 'https://gw.example.com/mcp' });
    expect(LethalTrifecta.analyze(a).lethal).toBe(true);
  });

  test('a local tool counts with its own labels', () => {
    const f = fixture();
    f.tool('crm', 'read_customer', [ToolCapability.SENSITIVE_DATA]);
    const local = (capabilities?: ToolCapability[]) => ({
      name: 'lookup',
      description: 'look something up',
      inputSchema: { type: 'object', properties: {} },
      function: f.toolFn(`Local${capabilities?.length ?? 'X'}`),
      capabilities,
    });
    expect(LethalTrifecta.analyze(f.agent('A1', ['crm___read_customer'], { localTools: [local([ToolCapability.UNTRUSTED_CONTENT])] })).lethal).toBe(false);
    expect(LethalTrifecta.analyze(f.agent('A2', ['crm___read_customer'], { localTools: [local(undefined)] })).lethal).toBe(true);
  });

  test('fails when both a gateway and a gateway URL are given', () => {
    const f = fixture();
    expect(() => f.agent('Agent', ['crm___read_customer'], { gatewayUrl: 'https://gw.example.com/mcp' })).toThrow(/both gateway and gatewayUrl are set/);
  });
});
