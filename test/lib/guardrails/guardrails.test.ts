import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  AiGuardrail,
  AiGuardrailProps,
  ContentFilterType,
  EnforcerSourceMode,
  FilterStrength,
  GuardrailEnforcer,
  GuardrailEnforcerProps,
  GuardrailSource,
  PiiEntityType,
  SensitiveInformationAction,
  SmugglingCharacterMode,
} from '../../../lib/guardrails';
import { nagFindings } from '../../rig/nag';
import { Synthesized, synthOnce, testStack } from '../../rig/synth';

/** A VPC with flow logs (test scaffolding) so that the enforcer runs where cdk-nag wants it. */
function isolatedVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], natGateways: 0, maxAzs: 2 });
  vpc.addFlowLog('Flow');
  return vpc;
}

function resourcesOf(template: Template, type: string): Array<[string, { Properties: Record<string, any> }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties: Record<string, any> }]>;
}

/** Every statement of every IAM policy (inline or customer-managed) attached to a role (by the role's logical id). */
function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, any>> {
  return [...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

const actionsOf = (s: Record<string, any>): string[] => [s.Action].flat();

describe('AiGuardrail and GuardrailEnforcer: defaults', () => {
  let s: Synthesized<{ guardrail: AiGuardrail; enforcer: GuardrailEnforcer; app: iam.Role; gateway: agentcore.Gateway }>;
  let guardrailId: string;
  let keyId: string;
  let versionId: string;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const guardrail = new AiGuardrail(stack, 'Guardrail');
      const enforcer = new GuardrailEnforcer(stack, 'Enforcer', { guardrail, vpc: isolatedVpc(stack) });
      const app = new iam.Role(stack, 'AppRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      guardrail.grantApply(app);
      enforcer.grantInvoke(app);
      const gateway = new agentcore.Gateway(stack, 'Gateway', {
        gatewayName: 'tools',
        authorizerConfiguration: agentcore.GatewayAuthorizer.usingAwsIam(),
        interceptorConfigurations: [enforcer.asResponseInterceptor()],
      });
      return { guardrail, enforcer, app, gateway };
    });
    guardrailId = s.stack.getLogicalId(s.built.guardrail.resource);
    versionId = s.stack.getLogicalId(s.built.guardrail.version);
    keyId = s.stack.getLogicalId(s.built.guardrail.key.node.defaultChild as kms.CfnKey);
  });

  test('the prompt-attack filter is HIGH on input and NONE on output', () => {
    s.template.hasResourceProperties('AWS::Bedrock::Guardrail', {
      ContentPolicyConfig: { FiltersConfig: Match.arrayWith([{ Type: 'PROMPT_ATTACK', InputStrength: 'HIGH', OutputStrength: 'NONE' }]) },
    });
  });

  test('harmful-content filters are on in both directions', () => {
    const filters = resourcesOf(s.template, 'AWS::Bedrock::Guardrail')[0][1].Properties.ContentPolicyConfig.FiltersConfig;
    expect(filters).toEqual([
      { Type: 'HATE', InputStrength: 'HIGH', OutputStrength: 'HIGH' },
      { Type: 'SEXUAL', InputStrength: 'HIGH', OutputStrength: 'HIGH' },
      { Type: 'VIOLENCE', InputStrength: 'HIGH', OutputStrength: 'HIGH' },
      { Type: 'MISCONDUCT', InputStrength: 'HIGH', OutputStrength: 'HIGH' },
      { Type: 'INSULTS', InputStrength: 'MEDIUM', OutputStrength: 'MEDIUM' },
      { Type: 'PROMPT_ATTACK', InputStrength: 'HIGH', OutputStrength: 'NONE' },
    ]);
  });

  test('credentials and payment data are BLOCKED, contact data ANONYMIZED', () => {
    const pii: Array<{ Type: string; Action: string }> = resourcesOf(s.template, 'AWS::Bedrock::Guardrail')[0][1].Properties.SensitiveInformationPolicyConfig.PiiEntitiesConfig;
    const action = (type: string): string | undefined => pii.find((p) => p.Type === type)?.Action;
    for (const t of ['AWS_ACCESS_KEY', 'AWS_SECRET_KEY', 'PASSWORD', 'CREDIT_DEBIT_CARD_NUMBER', 'CREDIT_DEBIT_CARD_CVV', 'PIN', 'US_SOCIAL_SECURITY_NUMBER']) {
      expect([t, action(t)]).toEqual([t, 'BLOCK']);
    }
    for (const t of ['EMAIL', 'PHONE', 'NAME', 'ADDRESS']) expect([t, action(t)]).toEqual([t, 'ANONYMIZE']);
    expect(new Set(pii.map((p) => p.Type)).size).toBe(pii.length);
  });

  test('the managed profanity list is on; no custom words, topics, grounding or automated reasoning by default', () => {
    const props = resourcesOf(s.template, 'AWS::Bedrock::Guardrail')[0][1].Properties;
    expect(props.WordPolicyConfig).toEqual({ ManagedWordListsConfig: [{ Type: 'PROFANITY' }] });
    expect(props.TopicPolicyConfig).toBeUndefined();
    expect(props.ContextualGroundingPolicyConfig).toBeUndefined();
    expect(props.AutomatedReasoningPolicyConfig).toBeUndefined();
    expect(props.BlockedInputMessaging).toBe('Sorry, this request was blocked by a safety guardrail.');
    expect(props.BlockedOutputsMessaging).toBe('Sorry, the response was blocked by a safety guardrail.');
  });

  test('is encrypted with its own customer-managed key with rotation', () => {
    s.template.hasResourceProperties('AWS::Bedrock::Guardrail', { KmsKeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(s.template.toJSON().Resources[keyId].Properties.EnableKeyRotation).toBe(true);
    expect(s.template.toJSON().Resources[keyId].DeletionPolicy).toBe('Retain');
  });

  test('publishes a version whose description carries the configuration hash', () => {
    s.template.resourceCountIs('AWS::Bedrock::GuardrailVersion', 1);
    s.template.hasResourceProperties('AWS::Bedrock::GuardrailVersion', {
      GuardrailIdentifier: { 'Fn::GetAtt': [guardrailId, 'GuardrailId'] },
      Description: Match.stringLikeRegexp('^Published by cdk-ai-defense for configuration sha256:[0-9a-f]{64}$'),
    });
  });

  test('grantApply grants exactly ApplyGuardrail on the guardrail and Decrypt on its key', () => {
    const statements = statementsOfRole(s.template, s.stack.getLogicalId(s.built.app.node.defaultChild as iam.CfnRole));
    const guardrailStatements = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:') || a.startsWith('kms:')));
    expect(guardrailStatements).toEqual([
      { Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: { 'Fn::GetAtt': [guardrailId, 'GuardrailArn'] } },
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    ]);
  });

  test('the enforcer is configured with the guardrail id and published version, and secure defaults', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('guardrail-enforcer'),
      Timeout: 30,
      Environment: {
        Variables: {
          GUARDRAIL_IDENTIFIER: { 'Fn::GetAtt': [guardrailId, 'GuardrailId'] },
          GUARDRAIL_VERSION: { 'Fn::GetAtt': [versionId, 'Version'] },
          SOURCE_MODE: 'REQUEST',
          TOOL_RESULT_SOURCE: 'INPUT',
          SMUGGLING_MODE: 'DENY',
          MAX_CHARS_PER_CALL: '20000',
          MAX_TOTAL_CHARS: '200000',
          SEAM_CHARS: '500',
          MAX_CALLS: '50',
          TIMEOUT_MS: '27000',
        },
      },
      VpcConfig: Match.anyValue(),
    });
  });

  test('the enforcer role may apply this guardrail only', () => {
    const fnRole = s.built.enforcer.enforcementFunction.role!;
    const statements = statementsOfRole(s.template, s.stack.getLogicalId(fnRole.node.defaultChild as iam.CfnRole));
    const bedrock = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:')));
    expect(bedrock).toEqual([{ Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: { 'Fn::GetAtt': [guardrailId, 'GuardrailArn'] } }]);
    expect(statements.filter((st) => actionsOf(st).includes('kms:Decrypt')).flatMap((st) => [st.Resource].flat())).toContainEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('grantInvoke lets the application call the enforcer function itself, not its versions', () => {
    const statements = statementsOfRole(s.template, s.stack.getLogicalId(s.built.app.node.defaultChild as iam.CfnRole));
    const fnId = s.stack.getLogicalId(s.built.enforcer.enforcementFunction.node.defaultChild as any);
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('lambda:')))).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } },
    ]);
  });

  test('binds as the gateway RESPONSE interceptor, without request headers, and the gateway may invoke it', () => {
    const fnId = s.stack.getLogicalId(s.built.enforcer.enforcementFunction.node.defaultChild as any);
    s.template.hasResourceProperties('AWS::BedrockAgentCore::Gateway', {
      InterceptorConfigurations: [
        { InterceptionPoints: ['RESPONSE'], Interceptor: { Lambda: { Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } } }, InputConfiguration: { PassRequestHeaders: false } },
      ],
    });
    const gwRole = s.stack.getLogicalId(s.built.gateway.role.node.defaultChild as iam.CfnRole);
    expect(statementsOfRole(s.template, gwRole)).toContainEqual(
      expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: expect.arrayContaining([{ 'Fn::GetAtt': [fnId, 'Arn'] }]) }),
    );
  });

  test('metrics use the AWS/Bedrock/Guardrails namespace with the guardrail ARN and version', () => {
    const m = s.built.guardrail.metricInvocationsIntervened();
    expect(m.namespace).toBe('AWS/Bedrock/Guardrails');
    expect(m.metricName).toBe('InvocationsIntervened');
    expect(m.statistic).toBe('Sum');
    expect(Object.keys(m.dimensions ?? {})).toEqual(['GuardrailArn', 'GuardrailVersion']);
    expect(s.built.guardrail.metricInvocations().metricName).toBe('Invocations');
    expect(s.built.guardrail.metricInvocationLatency().metricName).toBe('InvocationLatency');
    expect(s.built.guardrail.metricInvocationLatency().statistic).toBe('Average');
    expect(s.built.guardrail.metricInvocationThrottles().metricName).toBe('InvocationThrottles');
    expect(s.built.guardrail.metric('TextUnitCount', { period: Duration.minutes(1) }).period.toMinutes()).toBe(1);
  });

  test('has zero cdk-nag findings (the interceptor grant on the gateway role included)', () => {
    const findings = nagFindings(s.stack);
    expect(findings.filter((f) => f.rule.startsWith('AwsSolutions-IAM5'))).toEqual([]);
    // Test scaffolding (VPC flow log, the gateway L2's own inline policy, the app role) is not under test.
    expect(findings.filter((f) => !f.resources.every((r) => /\/(Vpc|Gateway|AppRole)\//.test(`/${r}`)))).toEqual([]);
  });

});

describe('AiGuardrail and GuardrailEnforcer: options', () => {
  let s: Synthesized<{ guardrail: AiGuardrail; imported: GuardrailEnforcer; key: kms.Key }>;

  beforeAll(() => {
    s = synthOnce((stack) => {
      const key = new kms.Key(stack, 'GivenKey', { enableKeyRotation: true });
      const guardrail = new AiGuardrail(stack, 'Guardrail', {
        guardrailName: 'support-bot',
        description: 'Support assistant guardrail',
        promptAttackStrength: FilterStrength.MEDIUM,
        contentFilters: [{ type: ContentFilterType.INSULTS, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.LOW }],
        piiFilters: [
          { type: PiiEntityType.NAME, action: SensitiveInformationAction.DETECT_ONLY },
          { type: PiiEntityType.IP_ADDRESS, action: SensitiveInformationAction.ANONYMIZE },
        ],
        regexFilters: [{ name: 'EmployeeId', pattern: 'EMP-[0-9]{5}', action: SensitiveInformationAction.BLOCK, description: 'Internal ids' }],
        deniedTopics: [{ name: 'Investment advice', definition: 'Recommendations about buying or selling securities.', examples: ['Should I buy this stock?'] }],
        customWords: ['CompetitorCo'],
        profanityFilter: false,
        contextualGrounding: { groundingThreshold: 0.8, relevanceThreshold: 0.5 },
        automatedReasoningPolicy: { policyArn: 'arn:aws:bedrock:us-east-1:123456789012:automated-reasoning-policy/abc123def456:1', confidenceThreshold: 0.9 },
        blockedInputMessage: 'Blocked.',
        blockedOutputMessage: 'Withheld.',
        encryptionKey: key,
      });
      const importedGuardrail = AiGuardrail.fromGuardrailAttributes(stack, 'Imported', {
        guardrailArn: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/shared9guard',
        guardrailVersion: '7',
      });
      const imported = new GuardrailEnforcer(stack, 'SharedEnforcer', {
        guardrail: importedGuardrail,
        vpc: isolatedVpc(stack),
        sourceMode: EnforcerSourceMode.INPUT_ONLY,
        toolResultSource: GuardrailSource.OUTPUT,
        smugglingMode: SmugglingCharacterMode.STRIP,
        maxCharactersPerCall: 10_000,
        maxTotalCharacters: 50_000,
        seamCharacters: 250,
        maxCallsPerRequest: 20,
        timeout: Duration.seconds(60),
      });
      return { guardrail, imported, key };
    });
  });

  test('renders every optional policy', () => {
    const props = resourcesOf(s.template, 'AWS::Bedrock::Guardrail')[0][1].Properties;
    expect(props.Name).toBe('support-bot');
    expect(props.Description).toBe('Support assistant guardrail');
    expect(props.ContentPolicyConfig.FiltersConfig).toContainEqual({ Type: 'INSULTS', InputStrength: 'HIGH', OutputStrength: 'LOW' });
    expect(props.ContentPolicyConfig.FiltersConfig).toContainEqual({ Type: 'PROMPT_ATTACK', InputStrength: 'MEDIUM', OutputStrength: 'NONE' });
    expect(props.SensitiveInformationPolicyConfig.PiiEntitiesConfig).toContainEqual({ Type: 'NAME', Action: 'NONE' });
    expect(props.SensitiveInformationPolicyConfig.PiiEntitiesConfig).toContainEqual({ Type: 'IP_ADDRESS', Action: 'ANONYMIZE' });
    expect(props.SensitiveInformationPolicyConfig.PiiEntitiesConfig).toContainEqual({ Type: 'AWS_SECRET_KEY', Action: 'BLOCK' });
    expect(props.SensitiveInformationPolicyConfig.RegexesConfig).toEqual([{ Name: 'EmployeeId', Pattern: 'EMP-[0-9]{5}', Action: 'BLOCK', Description: 'Internal ids' }]);
    expect(props.TopicPolicyConfig).toEqual({
      TopicsConfig: [{ Name: 'Investment advice', Definition: 'Recommendations about buying or selling securities.', Examples: ['Should I buy this stock?'], Type: 'DENY' }],
    });
    expect(props.WordPolicyConfig).toEqual({ WordsConfig: [{ Text: 'CompetitorCo' }] });
    expect(props.ContextualGroundingPolicyConfig).toEqual({
      FiltersConfig: [
        { Type: 'GROUNDING', Threshold: 0.8 },
        { Type: 'RELEVANCE', Threshold: 0.5 },
      ],
    });
    expect(props.AutomatedReasoningPolicyConfig).toEqual({
      Policies: ['arn:aws:bedrock:us-east-1:123456789012:automated-reasoning-policy/abc123def456:1'],
      ConfidenceThreshold: 0.9,
    });
    expect(props.BlockedInputMessaging).toBe('Blocked.');
    expect(props.BlockedOutputsMessaging).toBe('Withheld.');
  });

  test('uses the given key and creates none of its own', () => {
    s.template.hasResourceProperties('AWS::Bedrock::Guardrail', { KmsKeyArn: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.key.node.defaultChild as kms.CfnKey), 'Arn'] } });
    expect(s.built.guardrail.node.tryFindChild('Key')).toBeUndefined();
  });

  test('an enforcer of an imported guardrail pins its version and takes its options', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          GUARDRAIL_IDENTIFIER: 'shared9guard',
          GUARDRAIL_VERSION: '7',
          SOURCE_MODE: 'INPUT',
          TOOL_RESULT_SOURCE: 'OUTPUT',
          SMUGGLING_MODE: 'STRIP',
          MAX_CHARS_PER_CALL: '10000',
          MAX_TOTAL_CHARS: '50000',
          SEAM_CHARS: '250',
          MAX_CALLS: '20',
          TIMEOUT_MS: '57000',
        }),
      },
    });
    const role = s.built.imported.enforcementFunction.role!;
    const statements = statementsOfRole(s.template, s.stack.getLogicalId(role.node.defaultChild as iam.CfnRole));
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:')))).toEqual([
      { Action: 'bedrock:ApplyGuardrail', Effect: 'Allow', Resource: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/shared9guard' },
    ]);
  });

  test('has zero cdk-nag findings', () => {
    expect(nagFindings(s.stack).filter((f) => !f.resources.every((r) => /\/Vpc\//.test(`/${r}`)))).toEqual([]);
  });
});

describe('version follows the configuration', () => {
  const description = (props: AiGuardrailProps): string => {
    const stack = testStack();
    new AiGuardrail(stack, 'Guardrail', { guardrailName: 'g', ...props });
    return resourcesOf(Template.fromStack(stack), 'AWS::Bedrock::GuardrailVersion')[0][1].Properties.Description;
  };

  test('the same configuration publishes the same version description', () => {
    expect(description({})).toBe(description({}));
  });

  test.each<[string, AiGuardrailProps]>([
    ['a filter strength', { promptAttackStrength: FilterStrength.MEDIUM }],
    ['a PII action', { piiFilters: [{ type: PiiEntityType.EMAIL, action: SensitiveInformationAction.BLOCK }] }],
    ['a denied topic', { deniedTopics: [{ name: 'Crypto', definition: 'Cryptocurrency trading.' }] }],
    ['a blocked message', { blockedInputMessage: 'No.' }],
    ['the profanity list', { profanityFilter: false }],
  ])('changing %s publishes a new version', (_n, props) => {
    expect(description(props)).not.toBe(description({}));
  });
});

describe('invalid props', () => {
  const guardrail = (props: AiGuardrailProps) => () => new AiGuardrail(testStack(), 'G', props);

  test.each<[string, AiGuardrailProps, string]>([
    ['a bad name', { guardrailName: 'bad name!' }, 'guardrailName is "bad name!"'],
    ['a long name', { guardrailName: 'x'.repeat(51) }, 'allowed: 1 to 50 letters'],
    ['prompt attack off', { promptAttackStrength: FilterStrength.NONE }, 'promptAttackStrength is "NONE"'],
    ['a duplicate content filter', { contentFilters: [
      { type: ContentFilterType.HATE, inputStrength: FilterStrength.LOW, outputStrength: FilterStrength.LOW },
      { type: ContentFilterType.HATE, inputStrength: FilterStrength.HIGH, outputStrength: FilterStrength.HIGH },
    ] }, 'contentFilters lists type "HATE" more than once'],
    ['an unknown PII type', { piiFilters: [{ type: 'SHOE_SIZE' as PiiEntityType, action: SensitiveInformationAction.BLOCK }] }, 'piiFilters[0].type is "SHOE_SIZE"'],
    ['an invalid regex', { regexFilters: [{ name: 'r', pattern: '([a-z', action: SensitiveInformationAction.BLOCK }] }, 'regexFilters[0].pattern is "([a-z"'],
    ['too many regexes', { regexFilters: Array.from({ length: 11 }, (_, i) => ({ name: `r${i}`, pattern: 'x', action: SensitiveInformationAction.BLOCK })) }, 'regexFilters has 11 entries'],
    ['a bad topic name', { deniedTopics: [{ name: 'bad/name', definition: 'd' }] }, 'deniedTopics[0].name is "bad/name"'],
    ['a long topic definition', { deniedTopics: [{ name: 't', definition: 'd'.repeat(201) }] }, 'deniedTopics[0].definition'],
    ['too many topic examples', { deniedTopics: [{ name: 't', definition: 'd', examples: ['1', '2', '3', '4', '5', '6'] }] }, 'examples has 6 entries'],
    ['an empty custom word', { customWords: [''] }, 'customWords[0] is ""'],
    ['a grounding threshold of 1', { contextualGrounding: { groundingThreshold: 1 } }, 'contextualGrounding.groundingThreshold is 1'],
    ['grounding without threshold', { contextualGrounding: {} }, 'contextualGrounding sets no threshold'],
    ['a bad AR policy ARN', { automatedReasoningPolicy: { policyArn: 'arn:aws:s3:::bucket' } }, 'automatedReasoningPolicy.policyArn is "arn:aws:s3:::bucket"'],
    ['an AR confidence above 1', { automatedReasoningPolicy: { policyArn: 'arn:aws:bedrock:us-east-1:123456789012:automated-reasoning-policy/abc123def456', confidenceThreshold: 1.5 } }, 'confidenceThreshold is 1.5'],
    ['an empty blocked message', { blockedInputMessage: '' }, 'blockedInputMessage is ""'],
  ])('AiGuardrail fails for %s', (_n, props, message) => {
    expect(guardrail(props)).toThrow(message);
  });

  test.each<[string, Partial<GuardrailEnforcerProps>, string]>([
    ['a per-call size below 1000', { maxCharactersPerCall: 999 }, 'maxCharactersPerCall is 999'],
    ['a fractional total', { maxTotalCharacters: 1500.5 }, 'maxTotalCharacters is 1500.5'],
    ['a seam wider than half a call', { maxCharactersPerCall: 2_000, seamCharacters: 1_500 }, 'seamCharacters is 1500; allowed: at most half'],
    ['zero calls', { maxCallsPerRequest: 0 }, 'maxCallsPerRequest is 0'],
    ['a timeout of 2 seconds', { timeout: Duration.seconds(2) }, 'timeout (seconds) is 2'],
  ])('GuardrailEnforcer fails for %s', (_n, props, message) => {
    const stack = testStack();
    const g = AiGuardrail.fromGuardrailAttributes(stack, 'G', { guardrailArn: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc', guardrailVersion: '1' });
    expect(() => new GuardrailEnforcer(stack, 'E', { guardrail: g, ...props })).toThrow(message);
  });

  test.each([
    ['an ARN of another service', 'arn:aws:s3:::bucket', '1', 'guardrailArn is "arn:aws:s3:::bucket"'],
    ['DRAFT', 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc', 'DRAFT', 'guardrailVersion is "DRAFT"'],
    ['version 0', 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc', '0', 'guardrailVersion is "0"'],
  ])('fromGuardrailAttributes fails for %s', (_n, guardrailArn, guardrailVersion, message) => {
    expect(() => AiGuardrail.fromGuardrailAttributes(testStack(), 'G', { guardrailArn, guardrailVersion })).toThrow(message);
  });
});
