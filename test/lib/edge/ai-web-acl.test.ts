import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiWebAcl, AiWebAclProps, WafMode } from '../../../lib/edge';
import { bodySizeRule, managedRuleGroup, rateLimitRule } from '../../../lib/edge/private/waf-rules';
import { nagFindings } from '../../rig/nag';
import { synthOnce, Synthesized, TEST_ENV, testStack } from '../../rig/synth';

const ALB_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/1111111111111111';
const ALB_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/b/2222222222222222';

/** The rules of the only web ACL in a template, by name. */
function rulesOf(template: Template): Record<string, any> {
  const acls = Object.values(template.findResources('AWS::WAFv2::WebACL'));
  expect(acls).toHaveLength(1);
  return Object.fromEntries((acls[0] as any).Properties.Rules.map((r: any) => [r.Name, r]));
}

describe('AiWebAcl with defaults', () => {
  let s: Synthesized<{ acl: AiWebAcl; first: unknown; again: unknown }>;
  let rules: Record<string, any>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      const acl = new AiWebAcl(stack, 'Acl');
      const first = acl.associate(ALB_A);
      acl.associate(ALB_B);
      const again = acl.associate(ALB_A);
      return { acl, first, again };
    }, { env: TEST_ENV });
    rules = rulesOf(s.template);
  });

  test('is a REGIONAL web ACL whose default action allows, so the rules do the blocking', () => {
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Name: s.built.acl.webAclName,
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: s.built.acl.webAclName },
    });
    expect(s.built.acl.webAclName).toMatch(/^[\w-]{1,128}$/);
  });

  test('rate-limits each source IP to 1000 requests per 5 minutes and answers 429', () => {
    expect(rules.RateLimitPerIp).toEqual({
      Name: 'RateLimitPerIp',
      Priority: 0,
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 1000, EvaluationWindowSec: 300 } },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: 'RateLimitPerIp' },
    });
  });

  test('blocks bodies over 8 KiB on every path, and bodies WAF cannot fully inspect (oversize MATCH), with 413', () => {
    expect(rules.BodySizeLimit.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 413 } } });
    expect(rules.BodySizeLimit.Statement).toEqual({
      SizeConstraintStatement: {
        FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
        ComparisonOperator: 'GT',
        Size: 8192,
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    });
  });

  test.each([
    ['AWSManagedRulesAmazonIpReputationList', 2],
    ['AWSManagedRulesAnonymousIpList', 3],
    ['AWSManagedRulesKnownBadInputsRuleSet', 4],
    ['AWSManagedRulesCommonRuleSet', 5],
  ])('enforces the AWS managed rule group %s (priority %d)', (group, priority) => {
    expect(rules[group]).toEqual(
      expect.objectContaining({
        Priority: priority,
        OverrideAction: { None: {} },
        Statement: { ManagedRuleGroupStatement: expect.objectContaining({ VendorName: 'AWS', Name: group }) },
      }),
    );
    expect(rules[group].Action).toBeUndefined();
  });

  test('counts only SizeRestrictions_BODY of the common rule set (the own body-size rule replaces it); other groups have no overrides', () => {
    expect(rules.AWSManagedRulesCommonRuleSet.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
    ]);
    for (const g of ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList', 'AWSManagedRulesKnownBadInputsRuleSet']) {
      expect(rules[g].Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
    }
  });

  test('logs to a KMS-encrypted aws-waf-logs- log group with retention', () => {
    s.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `aws-waf-logs-${s.built.acl.webAclName}`,
      KmsKeyId: Match.anyValue(),
      RetentionInDays: 365,
    });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('redacts the authorization and cookie headers from the logs and points at the bare log group ARN', () => {
    const configs = Object.values(s.template.findResources('AWS::WAFv2::LoggingConfiguration')) as any[];
    expect(configs).toHaveLength(1);
    const props = configs[0].Properties;
    expect(props.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }]);
    expect(props.ResourceArn).toEqual({ 'Fn::GetAtt': [s.stack.getLogicalId(s.built.acl.webAcl), 'Arn'] });
    const dest = JSON.stringify(props.LogDestinationConfigs);
    expect(dest).toContain(':log-group:');
    expect(dest).toContain(s.stack.getLogicalId(s.built.acl.logGroup.node.defaultChild as any));
    expect(dest).not.toContain(':*');
  });

  test('associates each resource once, with ids that do not depend on call order', () => {
    s.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 2);
    for (const arn of [ALB_A, ALB_B]) {
      s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: arn,
        WebACLArn: { 'Fn::GetAtt': [s.stack.getLogicalId(s.built.acl.webAcl), 'Arn'] },
      });
    }
    expect(s.built.again).toBe(s.built.first);
    const reversed = synthOnce((stack) => {
      const acl = new AiWebAcl(stack, 'Acl');
      acl.associate(ALB_B);
      acl.associate(ALB_A);
    }, { env: TEST_ENV });
    const ids = (t: Template) => Object.keys(t.findResources('AWS::WAFv2::WebACLAssociation')).sort();
    expect(ids(reversed.template)).toEqual(ids(s.template));
  });

  test('exposes WAF metrics for the web ACL', () => {
    const m = s.stack.resolve(s.built.acl.metricBlockedRequests().toMetricConfig().metricStat);
    expect(m).toEqual(
      expect.objectContaining({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        statistic: 'Sum',
        dimensions: expect.arrayContaining([
          { name: 'WebACL', value: s.built.acl.webAclName },
          { name: 'Rule', value: 'ALL' },
          { name: 'Region', value: 'us-east-1' },
        ]),
      }),
    );
    expect(s.built.acl.metricRateLimitedRequests().metricName).toBe('BlockedRequests');
    expect(s.built.acl.metricRateLimitedRequests().dimensions).toEqual(expect.objectContaining({ Rule: 'RateLimitPerIp' }));
    expect(s.built.acl.metricCountedRequests().metricName).toBe('CountedRequests');
  });

  test('has no cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('AiWebAcl in COUNT_ONLY mode with custom settings', () => {
  let s: Synthesized<AiWebAcl>;
  let rules: Record<string, any>;
  beforeAll(() => {
    s = synthOnce((stack) => {
      return new AiWebAcl(stack, 'Acl', {
        mode: WafMode.COUNT_ONLY,
        webAclName: 'chat-front',
        rateLimit: 200,
        rateLimitWindow: Duration.minutes(1),
        maxBodySize: Size.kibibytes(4),
        bodySizePathPrefixes: ['/api/chat', '/v1/Prompt'],
        countOnlyCommonRules: ['CrossSiteScripting_BODY', 'SizeRestrictions_BODY'],
        redactedHeaders: ['x-api-key'],
        logEncryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
        logRetention: logs.RetentionDays.THREE_MONTHS,
      });
    }, { env: TEST_ENV });
    rules = rulesOf(s.template);
  });

  test('sets every rule to count and blocks nothing', () => {
    expect(rules.RateLimitPerIp.Action).toEqual({ Count: {} });
    expect(rules.BodySizeLimit.Action).toEqual({ Count: {} });
    for (const g of AiWebAcl.MANAGED_RULE_GROUPS) expect(rules[g].OverrideAction).toEqual({ Count: {} });
    expect(JSON.stringify(rules)).not.toContain('Block');
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', { DefaultAction: { Allow: {} }, Description: Match.stringLikeRegexp('count-only') });
  });

  test('uses the configured rate limit and window', () => {
    expect(rules.RateLimitPerIp.Statement.RateBasedStatement).toEqual({ AggregateKeyType: 'IP', Limit: 200, EvaluationWindowSec: 60 });
  });

  test('limits bodies only on the configured path prefixes, normalized and lowercased, with oversize MATCH', () => {
    const and = rules.BodySizeLimit.Statement.AndStatement.Statements;
    expect(and[0].SizeConstraintStatement).toEqual(
      expect.objectContaining({ Size: 4096, ComparisonOperator: 'GT', FieldToMatch: { Body: { OversizeHandling: 'MATCH' } } }),
    );
    const matches = and[1].OrStatement.Statements.map((st: any) => st.ByteMatchStatement);
    expect(matches.map((m: any) => m.SearchString)).toEqual(['/api/chat', '/v1/prompt']);
    for (const m of matches) {
      expect(m.FieldToMatch).toEqual({ UriPath: {} });
      expect(m.PositionalConstraint).toBe('STARTS_WITH');
      expect(m.TextTransformations.map((t: any) => t.Type)).toEqual(['URL_DECODE', 'NORMALIZE_PATH', 'LOWERCASE']);
    }
  });

  test('counts the extra common rules once each, SizeRestrictions_BODY included', () => {
    expect(rules.AWSManagedRulesCommonRuleSet.Statement.ManagedRuleGroupStatement.RuleActionOverrides.map((o: any) => o.Name)).toEqual([
      'SizeRestrictions_BODY',
      'CrossSiteScripting_BODY',
    ]);
  });

  test('redacts the extra headers as well as authorization and cookie, and keeps logs as configured', () => {
    s.template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }, { SingleHeader: { Name: 'x-api-key' } }],
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-chat-front', RetentionInDays: 90 });
    s.template.resourceCountIs('AWS::KMS::Key', 1);
  });

  test('reports rate-limited requests from the counted metric', () => {
    expect(s.built.metricRateLimitedRequests().metricName).toBe('CountedRequests');
  });

  test('has no cdk-nag findings', () => {
    expect(nagFindings(s.stack)).toEqual([]);
  });
});

describe('AiWebAcl rule builders', () => {
  test('a single path prefix is one byte match, not an OR of one', () => {
    const rule = bodySizeRule('B', 1, 100, ['/chat'], { countOnly: false });
    expect((rule.statement as any).andStatement.statements[1].byteMatchStatement.searchString).toBe('/chat');
  });

  test('managed groups without overrides leave ruleActionOverrides out', () => {
    expect((managedRuleGroup('G', 1, { countOnly: false }).statement as any).managedRuleGroupStatement.ruleActionOverrides).toBeUndefined();
  });

  test('the rate rule blocks with 429 when enforcing', () => {
    expect(rateLimitRule('R', 0, 10, 60, { countOnly: false }).action).toEqual({ block: { customResponse: { responseCode: 429 } } });
  });
});

describe('AiWebAcl fails on invalid props', () => {
  const build = (props: AiWebAclProps) => () => new AiWebAcl(testStack({ env: TEST_ENV }), 'Acl', props);

  test.each<[string, AiWebAclProps, RegExp]>([
    ['rate limit below WAF minimum', { rateLimit: 5 }, /rateLimit is 5; allowed: a whole number from 10 to 2000000000/],
    ['rate limit above WAF maximum', { rateLimit: 3_000_000_000 }, /rateLimit is 3000000000; allowed/],
    ['fractional rate limit', { rateLimit: 10.5 }, /rateLimit is 10.5/],
    ['rate window not offered by WAF', { rateLimitWindow: Duration.minutes(3) }, /rateLimitWindow is 180 seconds; allowed: 60, 120, 300 or 600/],
    ['body size beyond the ALB inspection limit', { maxBodySize: Size.kibibytes(16) }, /maxBodySize is 16384 bytes; allowed: 0 to 8192 bytes/],
    ['empty path prefix list', { bodySizePathPrefixes: [] }, /bodySizePathPrefixes is \[\]/],
    ['path prefix without a leading slash', { bodySizePathPrefixes: ['api/chat'] }, /bodySizePathPrefixes entry is "api\/chat"; allowed: a path starting with "\/"/],
    ['too many path prefixes', { bodySizePathPrefixes: Array.from({ length: 11 }, (_, i) => `/p${i}`) }, /bodySizePathPrefixes has 11 entries; allowed: at most 10/],
    ['web ACL name with spaces', { webAclName: 'my acl' }, /webAclName is "my acl"/],
    ['header name with uppercase and spaces', { redactedHeaders: ['X Api Key'] }, /redactedHeaders entry is "X Api Key"; allowed: a lowercase HTTP header name/],
    ['common rule name with spaces', { countOnlyCommonRules: ['Cross Site'] }, /countOnlyCommonRules entry is "Cross Site"/],
  ])('fails on %s', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('fails listing every problem at once', () => {
    expect(build({ rateLimit: 1, maxBodySize: Size.mebibytes(1) })).toThrow(/AiWebAcl: invalid props:\n {2}- rateLimit is 1[^]*maxBodySize is 1048576 bytes/);
  });

  test('accepts the bounds', () => {
    const stack: Stack = testStack({ env: TEST_ENV });
    expect(() => new AiWebAcl(stack, 'Low', { rateLimit: 10, maxBodySize: Size.bytes(0), rateLimitWindow: Duration.minutes(10) })).not.toThrow();
    expect(() => new AiWebAcl(stack, 'High', { rateLimit: 2_000_000_000, maxBodySize: Size.kibibytes(8) })).not.toThrow();
  });
});
