/**
 * response-interceptor: the GuardedGateway RESPONSE interceptor (AgentCore Gateway interceptor format 1.0). A gateway
 * takes one RESPONSE interceptor only, so this one composes two controls:
 *
 * - `tools/list`: every definition is scanned, checked against the deployed registry and its pin; failing tools are
 *   removed and each removal is logged with its reason code; kept tools lose the arguments the model must not fill.
 * - `tools/call`: the result is screened by the guardrail (the guardrail enforcer's `screenGatewayResponse`):
 *   passed, masked, or withheld; any fault withholds it.
 * - anything else passes through unchanged.
 *
 * It never receives request headers (the construct sets `passRequestHeaders: false`), so the caller's token never
 * reaches it. Importing this module never throws; configuration is read on the first call, and a bad one withholds
 * every response.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Decision, allow, deny } from '../shared/decision';
import { DecisionLogger, DecisionLogFieldValue, createDecisionLogger } from '../shared/decision-log';
import { describeFault } from '../shared/errors';
import { GuardrailLogAction } from '../shared/log-contract';
import { ReasonCode } from '../shared/reason-codes';
import { EnforcerClients, defaultClients } from '../guardrail-enforcer/clients';
import { EnforcerConfig, configFromEnv as enforcerConfigFromEnv } from '../guardrail-enforcer/config';
import { Finding, GatewayInterceptorOutput, gatewayOutput, parseGatewayResponseEvent, withheldBody } from '../guardrail-enforcer/decide';
import { screenDependencies, screenGatewayResponse } from '../guardrail-enforcer/index';
import { readConfigFile } from '../tool-interceptor/clients';
import { GatewayConfig, ReadTextFile, readGatewayConfigFile } from '../tool-interceptor/config';
import { ResponseKind, errorBody, filterToolListBody, responseKind } from './decide';

export type { GatewayInterceptorOutput } from '../guardrail-enforcer/decide';

const SERVICE_NAME = 'response-interceptor';
/** Decision-log control of `tools/list` filtering: one line per removed tool, and one for the list. */
export const CONTROL_TOOL_LIST = 'tool-list';
/** Decision-log control of tool-result screening. */
export const CONTROL_GUARDRAIL = 'guardrail';
/** EMF metric with one data point per guardrail finding, on dimensions Policy, Type and Action. */
export const FINDING_METRIC = 'GuardrailFindings';

/** The interceptor's configuration, validated. */
export interface ResponseInterceptorConfig {
  readonly gateway: GatewayConfig;
  /** The guardrail screening of tool results (guardrail id and version, limits, deadline). */
  readonly enforcer: EnforcerConfig;
}

/** A Lambda-style handler. */
export type ResponseInterceptorHandler = (event: unknown, context?: { awsRequestId?: string }) => Promise<GatewayInterceptorOutput>;

let decisionLogger: DecisionLogger | undefined;
function logs(): DecisionLogger | undefined {
  try {
    decisionLogger ??= createDecisionLogger({ serviceName: SERVICE_NAME });
    return decisionLogger;
  } catch {
    return undefined;
  }
}

const metricValue = (v: string): string => v.replace(/[^A-Za-z0-9_.:/@+=,#*|~-]/g, '_').slice(0, 100);

function log(control: string, decision: Decision, requestId: string | undefined, fields: Record<string, DecisionLogFieldValue>, guardrailAction?: GuardrailLogAction): void {
  try {
    logs()?.logDecision({ control, decision, requestId, guardrailAction, fields: { ...fields, decisionCode: decision.reasonCode } });
  } catch {
    // The answer goes out regardless; it is already fail-closed.
  }
}

function recordFindings(findings: readonly Finding[]): void {
  const l = logs();
  for (const f of findings) {
    try {
      l?.metrics.singleMetric().addDimensions({ Policy: f.policy, Type: metricValue(f.type), Action: f.action }).addMetric(FINDING_METRIC, MetricUnit.Count, 1);
    } catch {
      // Best effort.
    }
  }
}

function idOf(event: unknown): unknown {
  const parsed = parseGatewayResponseEvent(event);
  return parsed.ok ? parsed.value.id : null;
}

/** Builds the handler from explicit configuration and clients (tests, embedding). */
export function createHandler(config: ResponseInterceptorConfig, clients: EnforcerClients): ResponseInterceptorHandler {
  const deps = screenDependencies(config.enforcer, clients);
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    try {
      const parsed = parseGatewayResponseEvent(event);
      if (parsed.ok && responseKind(parsed.value.method, parsed.value.body) === ResponseKind.TOOL_LIST) {
        const { body, statusCode } = parsed.value;
        const outcome = filterToolListBody(body, config.gateway);
        for (const r of outcome.removed) {
          const fields: Record<string, DecisionLogFieldValue> = { method: 'tools/list', index: r.index };
          if (r.name !== undefined) fields.tool = r.name;
          if (r.pin !== undefined) fields.pin = r.pin;
          if (r.ruleIds !== undefined) fields.ruleIds = [...r.ruleIds].slice(0, 16);
          log(CONTROL_TOOL_LIST, deny(r.reasonCode as ReasonCode, `tool removed from tools/list`), requestId, fields);
        }
        const summary: Record<string, DecisionLogFieldValue> = { method: 'tools/list', kept: outcome.kept, removed: outcome.removed.length, warnings: outcome.warnings.length };
        log(CONTROL_TOOL_LIST, allow(), requestId, summary);
        logs()?.flush();
        return gatewayOutput(statusCode, outcome.body);
      }
      const screened = await screenGatewayResponse(event, deps);
      recordFindings(screened.findings);
      const fields: Record<string, DecisionLogFieldValue> = {
        source: config.enforcer.toolResultSource,
        findingCount: screened.findings.length,
        findings: screened.findings.slice(0, 16).map((f) => metricValue(`${f.policy}:${f.type}:${f.action}`)),
      };
      if (screened.method !== undefined) fields.method = screened.method;
      log(CONTROL_GUARDRAIL, screened.decision, requestId, fields, screened.guardrailAction);
      logs()?.flush();
      return screened.output;
    } catch (err) {
      log(CONTROL_GUARDRAIL, deny('INTERNAL_ERROR', describeFault(err)), requestId, {}, GuardrailLogAction.BLOCKED);
      return gatewayOutput(200, withheldBody(idOf(event), 'INTERNAL_ERROR'));
    }
  };
}

/** A handler for a configuration that failed validation: every response is withheld (MISCONFIGURED). */
export function misconfiguredHandler(problems: readonly string[]): ResponseInterceptorHandler {
  const detail = problems.join('; ');
  return async (event, context) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const parsed = parseGatewayResponseEvent(event);
    const id = parsed.ok ? parsed.value.id : null;
    const isList = parsed.ok && responseKind(parsed.value.method, parsed.value.body) === ResponseKind.TOOL_LIST;
    log(isList ? CONTROL_TOOL_LIST : CONTROL_GUARDRAIL, deny('MISCONFIGURED', detail), requestId, {}, isList ? undefined : GuardrailLogAction.BLOCKED);
    logs()?.flush();
    return gatewayOutput(200, isList ? errorBody(id, 'MISCONFIGURED') : withheldBody(id, 'MISCONFIGURED'));
  };
}

/** Reads the whole configuration from an environment map; throws naming every problem. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, readFile: ReadTextFile = readConfigFile): ResponseInterceptorConfig {
  const enforcer = enforcerConfigFromEnv(env);
  const problems = enforcer.ok ? [] : enforcer.problems;
  let gateway: GatewayConfig | undefined;
  try {
    gateway = readGatewayConfigFile(env, readFile);
  } catch (err) {
    const p = (err as { problems?: unknown }).problems;
    problems.push(...(Array.isArray(p) ? (p as string[]) : [describeFault(err)]));
  }
  if (problems.length > 0 || !enforcer.ok || gateway === undefined) throw Object.assign(new Error(problems.join('; ')), { problems });
  return { gateway, enforcer: enforcer.config };
}

let configured: ResponseInterceptorHandler | undefined;

function fromEnvironment(): ResponseInterceptorHandler {
  try {
    return createHandler(configFromEnv(process.env), defaultClients());
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    return misconfiguredHandler(Array.isArray(problems) ? (problems as string[]) : [describeFault(err)]);
  }
}

/** The Lambda entry point, configured from the environment on its first call. */
export const handler: ResponseInterceptorHandler = async (event, context) => {
  try {
    configured ??= fromEnvironment();
    return await configured(event, context);
  } catch {
    return gatewayOutput(200, withheldBody(idOf(event), 'INTERNAL_ERROR'));
  }
};
