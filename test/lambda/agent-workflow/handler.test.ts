/**
 * The step runner as Step Functions calls it: input validation, agent steps with the workflow identity's token
 * (client credentials, secret through the Parameters and Secrets extension; both faked over `fetch`), the agent's
 * function mocked (aws-sdk-client-mock), verdicts parsed strictly, and the five fault kinds at every call site.
 */
import { InvokeCommand, InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { FAULT_KINDS, awsFault, hang } from '../../rig/faults';
import { FetchFunction, createTokenSource, extensionSecretReader } from '../../../lambda/agent-workflow/clients';
import { WorkflowEnv, WorkflowSettings, workflowSettingsFromEnv } from '../../../lambda/agent-workflow/config';
import { StepOutput, WorkflowStepError, createHandler, handler as envHandler } from '../../../lambda/agent-workflow/index';

const lambda = mockClient(LambdaClient);
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:soc:run-1';
const TOKEN_URL = 'https://soc.auth.us-east-1.amazoncognito.com/oauth2/token';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wf-client-AbCdEf';
const ACCESS_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZmNsaWVudCJ9.c2lnbmF0dXJl';
const PRINCIPAL = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc|wfclient';

const SETTINGS: WorkflowSettings = {
  steps: {
    Enrich: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:enrich', output: 'TEXT', inputs: ['alert'] },
    Triage: {
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:triage',
      output: 'VERDICT',
      inputs: ['alert', 'enrichment'],
      verdicts: ['REMEDIATE', 'DOCUMENT'],
      defaultVerdict: 'DOCUMENT',
      echo: ['ip'],
    },
  },
  inputSchema: {
    type: 'object',
    properties: { alertId: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' }, sourceIp: { type: 'string', pattern: '^[0-9a-fA-F:.]{2,45}$' } },
    required: ['alertId', 'sourceIp'],
    additionalProperties: false,
  },
  principal: PRINCIPAL,
  tokenUrl: TOKEN_URL,
  clientId: 'wfclient',
  clientSecretArn: SECRET_ARN,
  scope: 'wf/invoke',
  maxPromptChars: 20_000,
  agentTimeoutMs: 300,
  tokenTimeoutMs: 200,
};

type Answer = Response | 'hang';
interface FakeHttp {
  fetch: FetchFunction;
  requests: Array<{ url: string; headers: Record<string, string>; body?: string }>;
  secret: () => Answer;
  token: () => Answer;
}
const json = (body: unknown, status = 200) => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
function fakeHttp(): FakeHttp {
  const http: FakeHttp = {
    requests: [],
    secret: () => json({ ARN: SECRET_ARN, Name: 'wf-client', SecretString: 'c2VjcmV0LXZhbHVlLTEyMzQ1Ng' }),
    token: () => json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 900 }),
    fetch: async (url, init) => {
      http.requests.push({ url, headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) });
      const answer = url.startsWith('http://localhost:2773/') ? http.secret() : url === TOKEN_URL ? http.token() : json('not found', 404);
      return answer === 'hang' ? new Promise<Response>(() => undefined) : answer;
    },
  };
  return http;
}

let http: FakeHttp;
let clock = 1_760_000_000_000;
const build = (settings: Partial<WorkflowSettings> = {}) => {
  const s = { ...SETTINGS, ...settings };
  const tokens = createTokenSource(
    { tokenUrl: s.tokenUrl, clientId: s.clientId, clientSecretArn: s.clientSecretArn, scope: s.scope, timeoutMs: s.tokenTimeoutMs },
    extensionSecretReader(http.fetch, 2773, 'session-token'),
    http.fetch,
    () => clock,
  );
  return createHandler(s, { lambda: new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }), tokens });
};
const invokeAnswer = (body: unknown) => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(body)) }) as unknown as InvokeCommandOutput;
const completed = (answer: string) => invokeAnswer({ status: 'COMPLETED', reasonCode: 'ALLOWED', sessionId: 's', turns: 2, toolCalls: 1, answer });
const runEnrich = { action: 'RUN_AGENT', step: 'Enrich', executionId: EXECUTION, inputs: { alert: { alertId: 'a-1', sourceIp: '185.220.101.4' } } };
const runTriage = {
  action: 'RUN_AGENT',
  step: 'Triage',
  executionId: EXECUTION,
  inputs: { alert: { alertId: 'a-1', sourceIp: '185.220.101.4' }, enrichment: 'Known Tor exit node, score 97.' },
  expect: { ip: '185.220.101.4' },
};

async function rejection(promise: Promise<unknown>): Promise<WorkflowStepError> {
  try {
    await promise;
  } catch (err) {
    return err as WorkflowStepError;
  }
  throw new Error('expected the runner to fail');
}
const invokedPayloads = () => lambda.commandCalls(InvokeCommand).map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)) as Record<string, string>);

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  lambda.reset();
  http = fakeHttp();
});
afterEach(() => jest.restoreAllMocks());

describe('VALIDATE_INPUT', () => {
  test('returns the validated input and the workflow principal (and nothing else)', async () => {
    expect(await build()({ action: 'VALIDATE_INPUT', input: { alertId: 'a-1', sourceIp: '185.220.101.4' } })).toEqual({
      input: { alertId: 'a-1', sourceIp: '185.220.101.4' },
      workflow: { principal: PRINCIPAL },
    });
  });

  test.each<[string, unknown]>([
    ['an extra key', { alertId: 'a-1', sourceIp: '1.1.1.1', callerToken: 'x' }],
    ['a missing key', { alertId: 'a-1' }],
    ['a wrong pattern', { alertId: 'A 1', sourceIp: '1.1.1.1' }],
    ['not an object', 'alert'],
  ])('fails WorkflowInputInvalid for %s, before any call', async (_n, input) => {
    const err = await rejection(build()({ action: 'VALIDATE_INPUT', input }));
    expect(err.name).toBe('WorkflowInputInvalid');
    expect(err.message).toBe('MALFORMED_REQUEST');
    expect(http.requests).toEqual([]);
  });
});

describe('RUN_AGENT', () => {
  test('a TEXT step calls the agent with the workflow token; the token never leaves the runner', async () => {
    lambda.on(InvokeCommand).resolves(completed('Known Tor exit node, score 97.'));
    const out = (await build()(runEnrich)) as StepOutput;
    expect(out).toEqual({ step: 'Enrich', status: 'COMPLETED', reasonCode: 'ALLOWED', turns: 2, toolCalls: 1, text: 'Known Tor exit node, score 97.' });
    expect(JSON.stringify(out)).not.toContain(ACCESS_TOKEN);
    const [payload] = invokedPayloads();
    expect(Object.keys(payload).sort()).toEqual(['callerToken', 'prompt', 'sessionId']);
    expect(payload.callerToken).toBe(ACCESS_TOKEN);
    expect(payload.sessionId).toMatch(/^wf-Enrich-[0-9a-f]{40}$/);
    expect(payload.prompt).toContain('<data name="alert">\n{"alertId":"a-1","sourceIp":"185.220.101.4"}\n</data>');
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: SETTINGS.steps.Enrich.functionArn, InvocationType: 'RequestResponse' });
    // The client credentials grant, with the secret from the extension.
    const [secretRequest, tokenRequest] = http.requests;
    expect(secretRequest.url).toBe(`http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(SECRET_ARN)}`);
    expect(secretRequest.headers['X-Aws-Parameters-Secrets-Token']).toBe('session-token');
    expect(tokenRequest.body).toBe('grant_type=client_credentials&scope=wf%2Finvoke');
    expect(tokenRequest.headers.Authorization).toBe(`Basic ${Buffer.from('wfclient:c2VjcmV0LXZhbHVlLTEyMzQ1Ng').toString('base64')}`);
  });

  test('the token is cached until it gets close to expiry', async () => {
    lambda.on(InvokeCommand).resolves(completed('ok'));
    const h = build();
    await h(runEnrich);
    await h(runEnrich);
    expect(http.requests.filter((r) => r.url === TOKEN_URL)).toHaveLength(1);
    clock += 900_000 - 20_000;
    await h(runEnrich);
    expect(http.requests.filter((r) => r.url === TOKEN_URL)).toHaveLength(2);
  });

  test('a token that lives shorter than a step is refused', async () => {
    http.token = () => json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 1 }, 200);
    const err = await rejection(build({ agentTimeoutMs: 5_000 })(runEnrich));
    expect(err.message).toBe('MISCONFIGURED');
    expect(lambda.calls()).toHaveLength(0);
  });

  test.each<[string, string, Record<string, string>]>([
    ['a valid verdict', '{"verdict":"REMEDIATE","ip":"185.220.101.4"}', { verdict: 'REMEDIATE', verdictSource: 'AGENT', verdictReason: 'AGENT' }],
    ['prose', 'You should definitely block 185.220.101.4.', { verdict: 'DOCUMENT', verdictSource: 'DEFAULT', verdictReason: 'NOT_JSON' }],
    ['another address', '{"verdict":"REMEDIATE","ip":"1.1.1.1"}', { verdict: 'DOCUMENT', verdictSource: 'DEFAULT', verdictReason: 'ECHO_MISMATCH' }],
  ])('a VERDICT step with %s', async (_n, answer, expected) => {
    lambda.on(InvokeCommand).resolves(completed(answer));
    const out = (await build()(runTriage)) as StepOutput;
    expect(out).toEqual(expect.objectContaining(expected));
    // The model's text is not in the step's output.
    expect(out.text).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('definitely');
  });

  test.each(['REFUSED', 'STOPPED', 'APPROVAL_REQUIRED'])('a VERDICT step whose agent is %s takes the default verdict', async (status) => {
    lambda.on(InvokeCommand).resolves(invokeAnswer({ status, reasonCode: 'GUARDRAIL_BLOCKED', turns: 1, toolCalls: 0 }));
    expect(await build()(runTriage)).toEqual(expect.objectContaining({ verdict: 'DOCUMENT', verdictSource: 'DEFAULT', verdictReason: 'AGENT_NOT_COMPLETED', status }));
  });

  test('a TEXT step whose agent did not complete fails the step with its code', async () => {
    lambda.on(InvokeCommand).resolves(invokeAnswer({ status: 'REFUSED', reasonCode: 'GUARDRAIL_BLOCKED', turns: 1, toolCalls: 0, answer: 'Sorry.' }));
    const err = await rejection(build()(runEnrich));
    expect(err.name).toBe('WorkflowStepFailed');
    expect(err.message).toBe('GUARDRAIL_BLOCKED');
  });

  test.each(['UPSTREAM_THROTTLED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT'])('an agent that reports %s is retried (WorkflowRetryable)', async (code) => {
    lambda.on(InvokeCommand).resolves(invokeAnswer({ status: 'DENIED', reasonCode: code, turns: 0, toolCalls: 0 }));
    const err = await rejection(build()(runTriage));
    expect(err.name).toBe('WorkflowRetryable');
    expect(err.message).toBe(code);
  });

  test('an agent that reports IDENTITY_EXPIRED is retried with a fresh token', async () => {
    lambda.on(InvokeCommand).resolvesOnce(invokeAnswer({ status: 'DENIED', reasonCode: 'IDENTITY_EXPIRED', turns: 0, toolCalls: 0 })).resolves(completed('ok'));
    const h = build();
    expect((await rejection(h(runEnrich))).name).toBe('WorkflowRetryable');
    await h(runEnrich);
    expect(http.requests.filter((r) => r.url === TOKEN_URL)).toHaveLength(2);
  });

  test('an agent that denies the identity fails the step (no retry)', async () => {
    lambda.on(InvokeCommand).resolves(invokeAnswer({ status: 'DENIED', reasonCode: 'IDENTITY_INVALID', turns: 0, toolCalls: 0 }));
    const err = await rejection(build()(runTriage));
    expect(err.name).toBe('WorkflowStepFailed');
    expect(err.message).toBe('IDENTITY_INVALID');
  });

  test.each<[string, Record<string, unknown>, Partial<WorkflowSettings>, string]>([
    ['an unknown step', { ...runEnrich, step: 'Exfiltrate' }, {}, 'MISCONFIGURED'],
    ['undeclared inputs', { ...runEnrich, inputs: { alert: {}, secrets: 'x' } }, {}, 'MALFORMED_REQUEST'],
    ['a prompt above the limit', { ...runEnrich, inputs: { alert: 'x'.repeat(2_000) } }, { maxPromptChars: 1_000 }, 'REQUEST_TOO_LARGE'],
    ['a payload with a token', { ...runEnrich, callerToken: ACCESS_TOKEN }, {}, 'MALFORMED_REQUEST'],
  ])('%s fails the step before any call', async (_n, event, settings, code) => {
    const err = await rejection(build(settings)(event));
    expect(err.name).toBe('WorkflowStepFailed');
    expect(err.message).toBe(code);
    expect(http.requests).toEqual([]);
    expect(lambda.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The five fault kinds at every call site: the secret (extension), the token endpoint, the agent's Invoke
// ---------------------------------------------------------------------------------------------------------------

/** The five codes in the order of each site's faults below. */
const FAULT_CODES = FAULT_KINDS.map(([, code]) => code);
const retryable = (code: string) => ['UPSTREAM_THROTTLED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT'].includes(code);

const SITES: Record<string, Array<() => void>> = {
  'secret (Parameters and Secrets extension)': [
    () => (http.secret = () => json('ThrottlingException: Rate exceeded', 400)),
    () => (http.secret = () => json('internal error', 500)),
    () => (http.secret = () => 'hang'),
    () => (http.secret = () => json('AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue', 400)),
    () => (http.secret = () => json({ ARN: SECRET_ARN, SecretString: 'has space' })),
  ],
  'token endpoint': [
    () => (http.token = () => json('slow down', 429)),
    () => (http.token = () => json('unavailable', 503)),
    () => (http.token = () => 'hang'),
    () => (http.token = () => json({ error: 'invalid_client' }, 400)),
    () => (http.token = () => json({ access_token: 'not-a-jwt', token_type: 'Bearer', expires_in: 900 })),
  ],
  'Lambda Invoke (agent)': [
    () => lambda.on(InvokeCommand).rejects(awsFault('throttle', { name: 'TooManyRequestsException', httpStatusCode: 429 })),
    () => lambda.on(InvokeCommand).rejects(awsFault('server', { name: 'ServiceException' })),
    () => lambda.on(InvokeCommand).callsFake(hang),
    () => lambda.on(InvokeCommand).rejects(awsFault('accessDenied')),
    () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"status":"COMPLETED"') } as unknown as InvokeCommandOutput),
  ],
};
const MATRIX = Object.entries(SITES).flatMap(([site, faults]) => faults.map((_f, i) => [site, i, FAULT_CODES[i]] as const));

describe('the five fault kinds fail the step, never produce a verdict', () => {
  test.each(MATRIX)('%s fault #%s → %s', async (site, i, code) => {
    SITES[site][i]();
    lambda.on(InvokeCommand).resolves(completed('{"verdict":"REMEDIATE","ip":"185.220.101.4"}'));
    if (site.startsWith('Lambda')) SITES[site][i]();
    const err = await rejection(build()(runTriage));
    expect(err).toBeInstanceOf(WorkflowStepError);
    expect(err.message).toBe(code);
    expect(err.name).toBe(retryable(code) ? 'WorkflowRetryable' : 'WorkflowStepFailed');
    if (!site.startsWith('Lambda')) expect(lambda.calls()).toHaveLength(0);
  });
});

describe('configuration', () => {
  const ENV = {
    [WorkflowEnv.STEPS]: JSON.stringify(SETTINGS.steps),
    [WorkflowEnv.INPUT_SCHEMA]: JSON.stringify(SETTINGS.inputSchema),
    [WorkflowEnv.PRINCIPAL]: PRINCIPAL,
    [WorkflowEnv.TOKEN_URL]: TOKEN_URL,
    [WorkflowEnv.CLIENT_ID]: 'wfclient',
    [WorkflowEnv.CLIENT_SECRET_ARN]: SECRET_ARN,
    [WorkflowEnv.SCOPE]: 'wf/invoke',
    [WorkflowEnv.AGENT_TIMEOUT_MS]: '345000',
  };

  test('the environment the construct writes is read', () => {
    expect(workflowSettingsFromEnv(ENV)).toEqual({ ok: true, settings: expect.objectContaining({ agentTimeoutMs: 345_000, tokenTimeoutMs: 10_000, maxPromptChars: 20_000 }) });
  });

  test.each<[string, Record<string, string>]>([
    ['a step pointing at a qualified function', { [WorkflowEnv.STEPS]: JSON.stringify({ Enrich: { ...SETTINGS.steps.Enrich, functionArn: `${SETTINGS.steps.Enrich.functionArn}:prod` } }) }],
    ['an http token URL', { [WorkflowEnv.TOKEN_URL]: 'http://soc.auth.us-east-1.amazoncognito.com/oauth2/token' }],
    ['no agent deadline', { [WorkflowEnv.AGENT_TIMEOUT_MS]: '' }],
    ['a schema outside the subset', { [WorkflowEnv.INPUT_SCHEMA]: '{"type":"object","anyOf":[]}' }],
  ])('%s is refused', (_n, change) => {
    expect(workflowSettingsFromEnv({ ...ENV, ...change }).ok).toBe(false);
  });

  test('the entry point with no configuration fails every call MISCONFIGURED', async () => {
    const err = await rejection(envHandler(runEnrich));
    expect(err.message).toBe('MISCONFIGURED');
    expect(err.name).toBe('WorkflowStepFailed');
  });
});
