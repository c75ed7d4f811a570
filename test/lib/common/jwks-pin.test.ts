import * as fs from 'fs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CallerIdentity, PinnedCallerIdentity } from '../../../lib/common/caller-identity';
import { JWKS_REPIN_CONTEXT_KEY, JwksPin } from '../../../lib/common/jwks-pin';
import { EnforcementFunction } from '../../../lib/private/enforcement-function';
import { pinJwksDocument } from '../../../lambda/jwks-pin/decide';
import { IDENTITY_ENV_VAR, identityConfigFromEnv } from '../../../lambda/shared/identity-env';
import { cfnLint } from '../../rig/cfn-lint';
import { nagFindings } from '../../rig/nag';
import { Synthesized, TEST_ENV, synthOnce, testApp, testStack } from '../../rig/synth';
import { cognitoShapedJwks } from '../../lambda/jwks-pin/fixtures';

const PIN = 'Custom::CdkAiDefenseJwksPin';

/** A consumer of the identity, as the library's constructs create them. */
function consumer(stack: Stack, id: string, identity: CallerIdentity): EnforcementFunction {
  const fn = new EnforcementFunction(stack, id, { handlerName: 'memory-broker', description: 'consumer', environment: {} });
  for (const [k, v] of Object.entries(identity.environment(fn))) fn.addEnvironment(k, v);
  return fn;
}

function resources(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

function onlyPin(template: Template): [string, any] {
  const pins = resources(template, PIN);
  expect(pins).toHaveLength(1);
  return pins[0];
}

/**
 * A deploy-time value as a handler would see it: Fn::Join flattened, the user pool id and URL suffix filled in, and
 * the pin's attributes replaced by a real pinned key set.
 */
function deployed(value: unknown, jwks: string, poolId = 'us-east-1_AbCdEfGh1'): string {
  const flat = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
    if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (typeof v.Ref === 'string' && v.Ref.startsWith('PoolClient')) return 'client';
    if (typeof v.Ref === 'string' && v.Ref.startsWith('Pool')) return poolId;
    if (v['Fn::GetAtt']?.[1] === 'Jwks') return jwks;
    throw new Error(`unexpected intrinsic ${JSON.stringify(v)}`);
  };
  return flat(value);
}

function statementsOfRole(template: Template, roleLogicalId: string): any[] {
  return [...resources(template, 'AWS::IAM::Policy'), ...resources(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

/** Findings outside the test's scaffolding (the user pool, the topic and the consumers are not under test). */
function ownFindings(stack: Stack) {
  return nagFindings(stack).filter((f) => !f.resources.every((r) => /^TestStack\/(Pool|Topic|Consumer)/.test(r)));
}

describe('Cognito identity with pinned keys (the reference app shape)', () => {
  let s: Synthesized<{ identity: PinnedCallerIdentity; action: cw_actions.SnsAction }>;
  let template: ReturnType<Template['toJSON']>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const pool = new cognito.UserPool(stack, 'Pool');
      const client = pool.addClient('Client');
      const action = new cw_actions.SnsAction(new sns.Topic(stack, 'Topic'));
      const identity = CallerIdentity.cognito({ userPool: pool, clients: [client] }).withPinnedKeys(stack, { alarmActions: [action] });
      consumer(stack, 'ConsumerA', identity);
      consumer(stack, 'ConsumerB', identity);
      return { identity, action };
    }, { env: TEST_ENV });
    template = s.template.toJSON();
  });

  test('one pin for the issuer, shared by every consumer in the stack', () => {
    s.template.resourceCountIs(PIN, 1);
    expect(s.built.identity.pinFor(s.stack)).toBe(s.built.identity.pin);
    expect(s.built.identity.withPinnedKeys(s.stack, { alarmActions: [s.built.action] })).toBe(s.built.identity);
  });

  test('the pin resource names the user pool issuer and its fixed JWKS URL, and waits at most five minutes', () => {
    const [, pin] = onlyPin(s.template);
    expect(deployed(pin.Properties.Issuer, '')).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGh1');
    expect(deployed(pin.Properties.JwksUri, '')).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGh1/.well-known/jwks.json');
    expect(pin.Properties.ServiceTimeout).toBe('300');
    expect(pin.Properties.Repin).toBeUndefined();
    expect(pin.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/JwksPin.*Function/), 'Arn'] });
  });

  test('the pin function runs outside the VPC with the issuer in its environment', () => {
    const [, pin] = onlyPin(s.template);
    const fnId = pin.Properties.ServiceToken['Fn::GetAtt'][0];
    const fn = template.Resources[fnId];
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 60, MemorySize: 256, TracingConfig: { Mode: 'Active' }, KmsKeyArn: expect.anything() });
    expect(deployed(fn.Properties.Environment.Variables.CAD_JWKS_PIN_ISSUER, '')).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGh1');
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['CAD_JWKS_PIN_ISSUER', 'CAD_JWKS_PIN_JWKS_URI']);
  });

  test('IAM is minimal: its own log group, the log key, tracing; no metric, event or network permission', () => {
    const [, pin] = onlyPin(s.template);
    const fn = template.Resources[pin.Properties.ServiceToken['Fn::GetAtt'][0]];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = statementsOfRole(s.template, roleId);
    const actions = statements.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(['kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const logs = statements.find((st) => [st.Action].flat().includes('logs:PutLogEvents'));
    expect(JSON.stringify(logs.Resource)).toContain('JwksPin');
    expect(template.Resources[roleId].Properties.ManagedPolicyArns ?? []).toEqual(expect.not.arrayContaining([expect.stringContaining('AWSLambda')]));
  });

  test('a consumer environment carries the pinned key set, embedded raw, and the handler reads it', () => {
    const [pinId] = onlyPin(s.template);
    const consumers = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[IDENTITY_ENV_VAR]) as any[];
    expect(consumers).toHaveLength(2);
    const value = consumers[0].Properties.Environment.Variables[IDENTITY_ENV_VAR];
    const parts = value['Fn::Join'][1] as unknown[];
    const at = parts.findIndex((p) => JSON.stringify(p) === JSON.stringify({ 'Fn::GetAtt': [pinId, 'Jwks'] }));
    expect(at).toBeGreaterThan(0);
    expect(parts[at - 1]).toMatch(/,"jwks":$/);
    expect(parts[at + 1]).toBe('}');

    const pinned = (pinJwksDocument(JSON.stringify(cognitoShapedJwks())) as any).value;
    const env = { [IDENTITY_ENV_VAR]: deployed(value, pinned.canonical) };
    const config = identityConfigFromEnv(env) as any;
    expect(config).toMatchObject({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGh1', tokenUse: 'access', clientId: ['client'] });
    expect(JSON.stringify(config.jwks)).toBe(pinned.canonical);
    // Lambda allows 4 KB for all of a function's variables: the pinned Cognito configuration stays well under half.
    const size = Buffer.byteLength(IDENTITY_ENV_VAR) + Buffer.byteLength(env[IDENTITY_ENV_VAR]);
    expect(size).toBeLessThan(2_048);
  });

  test('an hourly drift check passes the pinned hash to the function', () => {
    const [pinId, pin] = onlyPin(s.template);
    const fnId = pin.Properties.ServiceToken['Fn::GetAtt'][0];
    const [[ruleId, rule]] = resources(s.template, 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0]).toMatchObject({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } });
    expect(rule.Properties.Targets[0].Input).toEqual({ 'Fn::Join': ['', ['{"action":"CHECK_JWKS_DRIFT","pinnedSha256":"', { 'Fn::GetAtt': [pinId, 'Sha256'] }, '"}']] });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    // Only the schedule may invoke it; CloudFormation calls it with the deployer's credentials.
    expect(resources(s.template, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(fnId))).toHaveLength(1);
  });

  test('the drift alarm fires on JwksDrift = 1 or on missing data, over two check intervals, and notifies', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkAiDefense',
      MetricName: 'JwksDrift',
      Dimensions: [{ Name: 'Issuer', Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) }, { Name: 'service', Value: 'jwks-pin' }],
      Statistic: 'Maximum',
      Period: 7200,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
    expect(s.built.identity.pin.driftAlarm).toBeDefined();
  });

  test('cdk-nag: zero unsuppressed findings', () => {
    expect(ownFindings(s.stack)).toEqual([]);
  });

  test('cfn-lint: clean', () => {
    const file = '/tmp/jwks-pin-test.template.json';
    fs.writeFileSync(file, JSON.stringify(template));
    expect(cfnLint([file]).errors).toEqual([]);
  });
});

describe('pins per stack and per issuer', () => {
  test('each issuer gets its own pin; OIDC without a JWKS URL uses discovery', () => {
    const { template, built } = synthOnce((stack) => {
      const pool = new cognito.UserPool(stack, 'Pool');
      const cognitoId = CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('C')] }).withPinnedKeys(stack);
      const oidc = CallerIdentity.oidc({ issuer: 'https://login.example.com', audiences: ['api'] }).withPinnedKeys(stack, { driftCheckInterval: Duration.minutes(15) });
      consumer(stack, 'ConsumerCognito', cognitoId);
      consumer(stack, 'ConsumerOidc', oidc);
      return { oidc };
    }, { env: TEST_ENV });
    template.resourceCountIs(PIN, 2);
    template.hasResourceProperties(PIN, { Issuer: 'https://login.example.com', JwksUri: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { CAD_JWKS_PIN_ISSUER: 'https://login.example.com', CAD_JWKS_PIN_JWKS_URI: Match.absent() } } });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 1800, Dimensions: Match.arrayWith([{ Name: 'Issuer', Value: 'https://login.example.com' }]) });
    expect(built.oidc.pin.issuer).toBe('https://login.example.com');
  });

  test('a consumer in another stack gets a pin in its own stack (no cross-stack reference)', () => {
    const app = testApp();
    const a = new Stack(app, 'A', { env: TEST_ENV });
    const b = new Stack(app, 'B', { env: TEST_ENV });
    const identity = CallerIdentity.oidc({ issuer: 'https://login.example.com', jwksUri: 'https://keys.example.com/jwks', audiences: ['api'], clientIds: ['app'] }).withPinnedKeys(a);
    consumer(b, 'Consumer', identity);
    const tb = Template.fromStack(b);
    tb.resourceCountIs(PIN, 1);
    tb.hasResourceProperties(PIN, { Issuer: 'https://login.example.com', JwksUri: 'https://keys.example.com/jwks' });
    Template.fromStack(a).resourceCountIs(PIN, 1);
    expect(JSON.stringify(tb.toJSON())).not.toContain('Fn::ImportValue');
  });

  test('repin: the option, else the app context, becomes a property (a change re-pins at the next deployment)', () => {
    const app = testApp();
    app.node.setContext(JWKS_REPIN_CONTEXT_KEY, '2026-06-01');
    const stack = new Stack(app, 'TestStack');
    new JwksPin(stack, 'FromContext', { issuer: 'https://a.example.com' });
    new JwksPin(stack, 'FromOption', { issuer: 'https://b.example.com', repin: 'r2' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(PIN, { Issuer: 'https://a.example.com', Repin: '2026-06-01' });
    t.hasResourceProperties(PIN, { Issuer: 'https://b.example.com', Repin: 'r2' });
  });

  test('fails when the same issuer is pinned twice in a stack with other options', () => {
    const stack = testStack();
    const identity = CallerIdentity.oidc({ issuer: 'https://login.example.com', audiences: ['api'] });
    identity.withPinnedKeys(stack);
    expect(() => identity.withPinnedKeys(stack, { driftCheckInterval: Duration.minutes(30) })).toThrow(/already exists with other options \(driftCheckInterval\)/);
  });

  test('an unpinned identity still writes no keys (handlers fetch them)', () => {
    const stack = testStack();
    const env = CallerIdentity.oidc({ issuer: 'https://login.example.com', audiences: ['api'] }).environment(stack);
    expect(JSON.parse(stack.resolve(env[IDENTITY_ENV_VAR])).jwks).toBeUndefined();
  });

  test.each<[string, () => unknown, RegExp]>([
    ['an http issuer', () => new JwksPin(testStack(), 'P', { issuer: 'http://login.example.com' }), /issuer is "http:\/\/login.example.com"; allowed: an https URL/],
    ['an http JWKS URL', () => new JwksPin(testStack(), 'P', { issuer: 'https://l.example.com', jwksUri: 'http://l.example.com/k' }), /jwksUri is "http:\/\/l.example.com\/k"; allowed: an https URL/],
    ['a drift check every minute', () => new JwksPin(testStack(), 'P', { issuer: 'https://l.example.com', driftCheckInterval: Duration.minutes(1) }), /driftCheckInterval \(minutes\) is 1; allowed: a whole number from 5 to 720/],
    ['a drift check every day', () => new JwksPin(testStack(), 'P', { issuer: 'https://l.example.com', driftCheckInterval: Duration.days(1) }), /is 1440; allowed: a whole number from 5 to 720/],
    ['a drift check in seconds', () => new JwksPin(testStack(), 'P', { issuer: 'https://l.example.com', driftCheckInterval: Duration.seconds(330) }), /is 5.5; allowed/],
    ['an empty repin', () => new JwksPin(testStack(), 'P', { issuer: 'https://l.example.com', repin: '' }), /repin is ""; allowed: 1 to 128 characters/],
  ])('fails at synth with %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

test('cdk-nag reports an alarm without actions (the user routes it), and nothing else', () => {
  const stack = testStack();
  new JwksPin(stack, 'Pin', { issuer: 'https://login.example.com' });
  const findings = nagFindings(stack);
  expect(findings.map((f) => f.rule).sort()).toEqual(['HIPAA.Security-CloudWatchAlarmAction', 'NIST.800.53.R5-CloudWatchAlarmAction']);
  expect(findings.every((f) => f.resources.every((r) => r.startsWith('TestStack/Pin/DriftAlarm')))).toBe(true);
});
