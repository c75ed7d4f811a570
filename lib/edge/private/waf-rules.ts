import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';

/**
 * Pure builders for the rules of `AiWebAcl`. They return plain CloudFormation shapes so that they can be tested
 * without synthesizing a stack. Not public API.
 */

/** AWS WAF inspects at most this many bytes of an Application Load Balancer request body (not configurable for ALB). */
export const ALB_BODY_INSPECTION_LIMIT_BYTES = 8192;

/** The rule of AWSManagedRulesCommonRuleSet that blocks bodies over 8 KB; replaced by our own body-size rule. */
export const COMMON_RULE_SET_BODY_SIZE_RULE = 'SizeRestrictions_BODY';

/** Whether rules block (the default) or only count. */
export interface RuleEnforcement {
  /** true: every rule counts instead of blocking. */
  readonly countOnly: boolean;
}

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

function blockOrCount(enforcement: RuleEnforcement, responseCode: number): CfnWebACL.RuleActionProperty {
  return enforcement.countOnly ? { count: {} } : { block: { customResponse: { responseCode } } };
}

/** A per-source-IP rate-based rule; blocked requests get HTTP 429. */
export function rateLimitRule(
  name: string,
  priority: number,
  limit: number,
  windowSeconds: number,
  enforcement: RuleEnforcement,
): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    action: blockOrCount(enforcement, 429),
    statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit, evaluationWindowSec: windowSeconds } },
    visibilityConfig: visibility(name),
  };
}

/**
 * A body-size rule: matches bodies larger than `maxBytes`, and (oversize handling MATCH) every body larger than what
 * WAF can inspect, so an oversized body is blocked rather than passed uninspected. Blocked requests get HTTP 413.
 *
 * With path prefixes, the rule applies only to URI paths that start with one of them, compared after URL decoding,
 * path normalization (`//`, `/./`, `/../`) and lowercasing, so `//API/./chat` cannot slip past a `/api/chat` prefix.
 */
export function bodySizeRule(
  name: string,
  priority: number,
  maxBytes: number,
  pathPrefixes: string[] | undefined,
  enforcement: RuleEnforcement,
): CfnWebACL.RuleProperty {
  const size: CfnWebACL.StatementProperty = {
    sizeConstraintStatement: {
      fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
      comparisonOperator: 'GT',
      size: maxBytes,
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  };
  let statement = size;
  if (pathPrefixes && pathPrefixes.length > 0) {
    const matches: CfnWebACL.StatementProperty[] = pathPrefixes.map((prefix) => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'STARTS_WITH',
        searchString: prefix.toLowerCase(),
        textTransformations: [
          { priority: 0, type: 'URL_DECODE' },
          { priority: 1, type: 'NORMALIZE_PATH' },
          { priority: 2, type: 'LOWERCASE' },
        ],
      },
    }));
    const scope = matches.length === 1 ? matches[0] : { orStatement: { statements: matches } };
    statement = { andStatement: { statements: [size, scope] } };
  }
  return { name, priority, action: blockOrCount(enforcement, 413), statement, visibilityConfig: visibility(name) };
}

/** An AWS managed rule group; `countRules` are rules of the group whose action is overridden to COUNT. */
export function managedRuleGroup(
  groupName: string,
  priority: number,
  enforcement: RuleEnforcement,
  countRules: string[] = [],
): CfnWebACL.RuleProperty {
  return {
    name: groupName,
    priority,
    overrideAction: enforcement.countOnly ? { count: {} } : { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name: groupName,
        ruleActionOverrides: countRules.length > 0 ? countRules.map((rule) => ({ name: rule, actionToUse: { count: {} } })) : undefined,
      },
    },
    visibilityConfig: visibility(groupName),
  };
}
