import * as cedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalHash } from '../../../lambda/shared/canonical-json';
import { ConfigurationError } from '../../../lambda/shared/errors';
import { VerifiedIdentity, createTokenVerifier } from '../../../lambda/shared/identity';
import {
  CedarEngine,
  DEFAULT_TOOL_POLICIES,
  TOOL_POLICY_SCHEMA,
  ToolAuthorizer,
  ToolCallRequest,
  authorizeToolCall,
  cedarEngine,
  createToolAuthorizer,
  identifyPolicies,
  interpretAnswer,
  parseToolPolicyDocument,
  toolPolicyProblems,
} from '../../../lambda/tool-interceptor/cedar';
import { isReasonCode } from '../../../lambda/shared/reason-codes';
import { RegisteredTool, RiskClass, ToolCapability } from '../../../lambda/tool-interceptor/registry';
import { createTestIssuer } from '../shared/jwt-helper';


function identity(overrides: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  return Object.freeze({
    subject: 'alice',
    issuer: 'https://idp.example.test/tenant-1',
    groups: ['analysts'],
    scopes: ['tools'],
    clientId: 'agent-app',
    expiresAt: 2_000_000_000,
    claims: Object.freeze({ sub: 'alice', department: 'finance', count: 3 }),
    ...overrides,
  });
}

function tool(overrides: Partial<RegisteredTool> = {}): RegisteredTool {
  return {
    name: 'search_orders',
    target: 'Orders',
    risk: RiskClass.LOW,
    capabilities: [],
    owner: 'team-orders',
    allowedGroups: ['analysts'],
    ...overrides,
  };
}

const NS = 'CdkAiDefense';
const SCOPE = `principal is ${NS}::User, action == ${NS}::Action::"invoke", resource is ${NS}::Tool`;

describe('the default tool policy', () => {
  let authz: ToolAuthorizer;
  beforeAll(() => {
    authz = createToolAuthorizer(DEFAULT_TOOL_POLICIES);
  });
  const call = (req: Partial<ToolCallRequest>) => authz.authorize({ identity: identity(), tool: tool(), ...req });

  test('validates in strict mode against the schema and names every policy', () => {
    expect(toolPolicyProblems(DEFAULT_TOOL_POLICIES)).toEqual([]);
    expect(authz.policyIds).toEqual([
      'permit-low-medium-to-allowed-groups',
      'permit-high-critical-with-approval-to-allowed-groups',
      'forbid-high-critical-without-approval',
      'forbid-critical-after-untrusted-content',
      'forbid-lethal-trifecta-without-approval',
    ]);
  });

  test.each([RiskClass.LOW, RiskClass.MEDIUM])('permits a %s tool to a user in an allowed group', (risk) => {
    expect(call({ tool: tool({ risk }) })).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED', determiningPolicies: ['permit-low-medium-to-allowed-groups'] });
  });

  test('fails when the user is in none of the allowed groups (default deny)', () => {
    expect(call({ identity: identity({ groups: ['sales'] }) })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED', determiningPolicies: [] });
  });

  test('fails when the user has no groups, or the tool allows no group', () => {
    expect(call({ identity: identity({ groups: [] }) })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' });
    expect(call({ tool: tool({ allowedGroups: [] }) })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' });
  });

  test.each([RiskClass.HIGH, RiskClass.CRITICAL])('fails for a %s tool without an approval (forbid wins)', (risk) => {
    expect(call({ tool: tool({ risk }) })).toMatchObject({
      outcome: 'DENY',
      reasonCode: 'TOOL_POLICY_DENIED',
      determiningPolicies: ['forbid-high-critical-without-approval'],
    });
  });

  test.each([RiskClass.HIGH, RiskClass.CRITICAL])('permits a %s tool with an approval of the exact call', (risk) => {
    expect(call({ tool: tool({ risk }), context: { approved: true } })).toMatchObject({
      outcome: 'ALLOW',
      determiningPolicies: ['permit-high-critical-with-approval-to-allowed-groups'],
    });
  });

  test('fails for an approved HIGH tool when the user is not in an allowed group', () => {
    expect(call({ tool: tool({ risk: RiskClass.HIGH }), context: { approved: true }, identity: identity({ groups: ['x'] }) })).toMatchObject({
      outcome: 'DENY',
      reasonCode: 'TOOL_POLICY_DENIED',
    });
  });

  test('fails for an approved CRITICAL tool once the session took in untrusted content', () => {
    const d = call({ tool: tool({ risk: RiskClass.CRITICAL }), context: { approved: true, sessionCapabilities: [ToolCapability.UNTRUSTED_CONTENT] } });
    expect(d).toMatchObject({ outcome: 'DENY', determiningPolicies: ['forbid-critical-after-untrusted-content'] });
  });

  test('fails for a call that would complete the lethal trifecta, and permits it with an approval', () => {
    const sender = tool({ capabilities: [ToolCapability.EXTERNAL_ACCESS] });
    const session = [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT];
    expect(call({ tool: sender, context: { sessionCapabilities: session } })).toMatchObject({
      outcome: 'DENY',
      determiningPolicies: ['forbid-lethal-trifecta-without-approval'],
    });
    expect(call({ tool: sender, context: { sessionCapabilities: session, approved: true } })).toMatchObject({ outcome: 'ALLOW' });
    // Two legs only: allowed.
    expect(call({ tool: sender, context: { sessionCapabilities: [ToolCapability.SENSITIVE_DATA] } })).toMatchObject({ outcome: 'ALLOW' });
    // A single tool that holds all three legs is the trifecta by itself.
    const browser = tool({ capabilities: [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT, ToolCapability.EXTERNAL_ACCESS] });
    expect(call({ tool: browser })).toMatchObject({ outcome: 'DENY', determiningPolicies: ['forbid-lethal-trifecta-without-approval'] });
  });

  test("annotations only raise risk: destructiveHint makes a LOW tool HIGH, readOnlyHint never lowers a HIGH one", () => {
    expect(call({ annotations: { destructiveHint: true } })).toMatchObject({ outcome: 'DENY', determiningPolicies: ['forbid-high-critical-without-approval'] });
    expect(call({ annotations: { destructiveHint: 'yes' } })).toMatchObject({ outcome: 'DENY' });
    expect(call({ tool: tool({ risk: RiskClass.HIGH }), annotations: { readOnlyHint: true, destructiveHint: false } })).toMatchObject({
      outcome: 'DENY',
      determiningPolicies: ['forbid-high-critical-without-approval'],
    });
    expect(call({ annotations: { readOnlyHint: true, destructiveHint: false } })).toMatchObject({ outcome: 'ALLOW' });
  });

  test('unknown tools are denied (TOOL_UNKNOWN)', () => {
    expect(call({ tool: undefined })).toEqual({ outcome: 'DENY', reasonCode: 'TOOL_UNKNOWN', detail: 'the tool is not in the registry' });
  });

  test('identity-like arguments from the model change nothing: only the verified identity is the principal', () => {
    const d = call({ identity: identity({ groups: ['sales'] }), args: { groups: ['analysts'], userId: 'admin', sub: 'root' } });
    expect(d).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' });
  });

  test.each([
    ['no subject', { subject: '' }],
    ['groups not a list', { groups: 'analysts' as unknown as string[] }],
    ['a group that is not a string', { groups: [7 as unknown as string] }],
    ['scopes missing', { scopes: undefined as unknown as string[] }],
    ['a lone surrogate in the subject', { subject: 'a\ud800' }],
  ])('fails with IDENTITY_CLAIMS_INVALID for a malformed identity (%s)', (_n, overrides) => {
    expect(call({ identity: identity(overrides) })).toMatchObject({ outcome: 'DENY', reasonCode: 'IDENTITY_CLAIMS_INVALID' });
  });

  test('fails for arguments with no canonical JSON form, and for session labels that are not capabilities', () => {
    expect(call({ args: { a: undefined } })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_ARGUMENTS_INVALID' });
    expect(call({ args: { n: Number.NaN } })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_ARGUMENTS_INVALID' });
    expect(call({ context: { sessionCapabilities: ['ADMIN' as ToolCapability] } })).toMatchObject({ outcome: 'DENY', reasonCode: 'MALFORMED_REQUEST' });
    expect(authz.authorize(null as unknown as ToolCallRequest)).toMatchObject({ outcome: 'DENY', reasonCode: 'MALFORMED_REQUEST' });
  });

  test('authorizers are cached per container: the same policy text is parsed once', () => {
    expect(createToolAuthorizer(DEFAULT_TOOL_POLICIES)).toBe(authz);
  });
});

describe('policies over verified claims and the call', () => {
  test('string claims are principal tags; a policy must test hasTag before getTag (strict validation)', () => {
    const policy = `@id("finance-only") permit (${SCOPE}) when { principal.hasTag("department") && principal.getTag("department") == "finance" };`;
    const authz = createToolAuthorizer(policy);
    expect(authz.authorize({ identity: identity(), tool: tool() })).toMatchObject({ outcome: 'ALLOW', determiningPolicies: ['finance-only'] });
    const other = identity({ claims: Object.freeze({ sub: 'alice', department: 'hr' }) });
    expect(authz.authorize({ identity: other, tool: tool() })).toMatchObject({ outcome: 'DENY' });
    const noClaim = identity({ claims: Object.freeze({ sub: 'alice' }) });
    expect(authz.authorize({ identity: noClaim, tool: tool() })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' });
    expect(toolPolicyProblems(`permit (${SCOPE}) when { principal.getTag("department") == "x" };`).join()).toMatch(/unable to guarantee safety of access to tag/);
  });

  test('groups are also entities: `principal in Group` works', () => {
    const authz = createToolAuthorizer(`@id("g") permit (principal in ${NS}::Group::"analysts", action, resource);`);
    expect(authz.authorize({ identity: identity(), tool: tool() })).toMatchObject({ outcome: 'ALLOW', determiningPolicies: ['g'] });
    expect(authz.authorize({ identity: identity({ groups: ['x'] }), tool: tool() })).toMatchObject({ outcome: 'DENY' });
  });

  test('the policy sees the canonical hash of the arguments, independent of key order', () => {
    const args = { b: [1, 2], a: 'x' };
    const hash = canonicalHash(args);
    const authz = createToolAuthorizer(`@id("exact-call") permit (${SCOPE}) when { context.argumentsHash == "${hash}" };`);
    expect(authz.authorize({ identity: identity(), tool: tool(), args: { a: 'x', b: [1, 2] } })).toMatchObject({ outcome: 'ALLOW' });
    expect(authz.authorize({ identity: identity(), tool: tool(), args: { a: 'x', b: [2, 1] } })).toMatchObject({ outcome: 'DENY' });
  });

  test('tokens verified by the core verifier authorize end to end', async () => {
    const idp = createTestIssuer();
    const verifier = createTokenVerifier({ issuer: idp.issuer, audience: 'gateway', jwks: idp.jwks, groupsClaim: 'groups' });
    const authz = createToolAuthorizer(DEFAULT_TOOL_POLICIES);
    const analyst = await verifier.verify(idp.sign({ sub: 'u-1', aud: 'gateway', groups: ['analysts'] }));
    const outsider = await verifier.verify(idp.sign({ sub: 'u-2', aud: 'gateway', groups: ['guests'] }));
    expect(authorizeToolCall(authz, { identity: analyst, tool: tool() })).toMatchObject({ outcome: 'ALLOW' });
    expect(authorizeToolCall(authz, { identity: outsider, tool: tool() })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' });
  });
});

describe('evaluation errors deny', () => {
  // Validates in strict mode, but overflows at run time, so Cedar skips the forbid with an error.
  const ERRORING = `@id("allow-all") permit (${SCOPE});
@id("overflowing-forbid") forbid (${SCOPE}) when { resource.riskLevel + 9223372036854775807 > 0 };`;

  test('Cedar alone would ALLOW when a forbid errors; the authorizer denies with TOOL_POLICY_ERROR', () => {
    expect(toolPolicyProblems(ERRORING)).toEqual([]);
    const authz = createToolAuthorizer(ERRORING);
    const d = authz.authorize({ identity: identity(), tool: tool({ risk: RiskClass.MEDIUM }) });
    expect(d).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR', determiningPolicies: ['overflowing-forbid'] });
    // The same request, straight to Cedar: allow with an error in the diagnostics.
    const raw = cedarWasm.isAuthorized({
      principal: { type: `${NS}::User`, id: 'alice' },
      action: { type: `${NS}::Action`, id: 'invoke' },
      resource: { type: `${NS}::Tool`, id: 'Orders___search_orders' },
      context: { approved: false, argumentsHash: 'x', sessionCapabilities: [] },
      policies: { staticPolicies: ERRORING },
      entities: [
        { uid: { type: `${NS}::User`, id: 'alice' }, attrs: {}, parents: [] },
        { uid: { type: `${NS}::Tool`, id: 'Orders___search_orders' }, attrs: { riskLevel: 1 }, parents: [] },
      ],
    } as Parameters<typeof cedarWasm.isAuthorized>[0]);
    expect(raw).toMatchObject({ type: 'success', response: { decision: 'allow' } });
  });

  test.each([
    ['no answer', null],
    ['a string', 'allow'],
    ['a failure', { type: 'failure', errors: [{ message: 'x' }], warnings: [] }],
    ['an unknown type', { type: 'maybe' }],
    ['no response', { type: 'success', warnings: [] }],
    ['warnings not a list', { type: 'success', response: { decision: 'allow', diagnostics: { reason: ['p'], errors: [] } } }],
    ['a warning', { type: 'success', response: { decision: 'allow', diagnostics: { reason: ['p'], errors: [] } }, warnings: [{ message: 'w' }] }],
    ['no diagnostics', { type: 'success', response: { decision: 'allow' }, warnings: [] }],
    ['reasons not strings', { type: 'success', response: { decision: 'allow', diagnostics: { reason: [1], errors: [] } }, warnings: [] }],
    ['errors not a list', { type: 'success', response: { decision: 'allow', diagnostics: { reason: ['p'], errors: {} } }, warnings: [] }],
    ['an evaluation error', { type: 'success', response: { decision: 'allow', diagnostics: { reason: ['p'], errors: [{ policyId: 'q', error: {} }] } }, warnings: [] }],
    ['allow without a determining policy', { type: 'success', response: { decision: 'allow', diagnostics: { reason: [], errors: [] } }, warnings: [] }],
    ['an unknown decision', { type: 'success', response: { decision: 'Allow', diagnostics: { reason: ['p'], errors: [] } }, warnings: [] }],
  ])('a malformed or unclean answer is a deny with TOOL_POLICY_ERROR (%s)', (_n, answer) => {
    expect(interpretAnswer(answer)).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR' });
  });

  test('an answer whose getters throw is a deny', () => {
    const hostile = { type: 'success', get response(): unknown { throw new Error('boom'); }, warnings: [] };
    expect(interpretAnswer(hostile)).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR' });
  });

  test('a clean allow and a clean deny are read as such', () => {
    expect(interpretAnswer({ type: 'success', response: { decision: 'allow', diagnostics: { reason: ['p'], errors: [] } }, warnings: [] })).toEqual({
      outcome: 'ALLOW',
      reasonCode: 'ALLOWED',
      determiningPolicies: ['p'],
    });
    expect(interpretAnswer({ type: 'success', response: { decision: 'deny', diagnostics: { reason: [], errors: [] } }, warnings: [] })).toMatchObject({
      outcome: 'DENY',
      reasonCode: 'TOOL_POLICY_DENIED',
    });
  });

  function faultyEngine(answer: () => unknown): CedarEngine {
    const real = cedarEngine();
    return { ...real, statefulIsAuthorized: (() => answer()) as CedarEngine['statefulIsAuthorized'] };
  }

  test('an engine that throws or answers garbage denies every call', () => {
    const throwing = createToolAuthorizer(DEFAULT_TOOL_POLICIES, { engine: faultyEngine(() => { throw new Error('wasm trap'); }) });
    expect(throwing.authorize({ identity: identity(), tool: tool() })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR' });
    const garbage = createToolAuthorizer(DEFAULT_TOOL_POLICIES, { engine: faultyEngine(() => ({ decision: 'allow' })) });
    expect(garbage.authorize({ identity: identity(), tool: tool() })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR' });
  });

  test('authorizeToolCall denies when the authorizer itself throws', () => {
    const broken: ToolAuthorizer = { policyHash: 'x', policyIds: [], authorize: () => { throw new Error('x'); } };
    expect(authorizeToolCall(broken, { identity: identity(), tool: tool() })).toMatchObject({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_ERROR' });
  });
});

describe('policy validation and loading', () => {
  test.each([
    ['an empty set', '', /empty/],
    ['a parse error', 'permit (principal, action, resource) when { x };', /parse error/],
    ['an unknown attribute', `permit (${SCOPE}) when { resource.colour == "red" };`, /colour/],
    ['an unknown entity type', 'permit (principal is Admin, action, resource);', /Admin/],
    ['a wrong type', `permit (${SCOPE}) when { resource.risk > 2 };`, /policy "policy0"/],
    ['a template', 'permit (principal == ?principal, action, resource);', /templates are not supported/],
    ['a duplicate id', '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);', /used twice/],
    ['an invalid id', '@id("no spaces allowed") permit (principal, action, resource);', /policy id/],
  ])('fails strict validation for %s', (_n, policy, message) => {
    const problems = toolPolicyProblems(policy);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
    expect(() => createToolAuthorizer(policy)).toThrow(ConfigurationError);
  });

  test('createToolAuthorizer reports MISCONFIGURED with every problem', () => {
    try {
      createToolAuthorizer(`permit (${SCOPE}) when { resource.colour == "red" && principal.shoeSize > 3 };`);
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).reasonCode).toBe('MISCONFIGURED');
      expect((err as ConfigurationError).problems.length).toBeGreaterThanOrEqual(1);
    }
  });

  test('policies are preparsed once per container: a second authorizer for the same text reuses the first', () => {
    const engine = cedarEngine();
    const spy = jest.spyOn(engine, 'preparsePolicySet');
    try {
      const text = `@id("once") permit (${SCOPE}) when { resource.owner == "cache-test" };`;
      const a = createToolAuthorizer(text);
      const b = createToolAuthorizer(text);
      expect(b).toBe(a);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test('identifyPolicies names policies by @id, else by position', () => {
    expect(identifyPolicies('@id("a") permit (principal, action, resource);\nforbid (principal, action, resource) when { false };')).toMatchObject({
      ids: ['a', 'policy1'],
    });
  });

  test('the serialized policy document is read strictly', () => {
    expect(parseToolPolicyDocument(JSON.stringify({ version: 1, policies: 'x' }))).toBe('x');
    expect(() => parseToolPolicyDocument('{"version":1,"policies":"x","policies":"y"}')).toThrow(ConfigurationError);
    expect(() => parseToolPolicyDocument('{"version":2,"policies":"x"}')).toThrow(/version/);
    expect(() => parseToolPolicyDocument('{"version":1,"policies":"x","schema":"y"}')).toThrow(ConfigurationError);
    expect(() => parseToolPolicyDocument('[]')).toThrow(ConfigurationError);
  });

  test('the schema is Cedar schema text in the CdkAiDefense namespace, and the tool reason codes are in the shared catalogue', () => {
    expect(TOOL_POLICY_SCHEMA).toContain('namespace CdkAiDefense');
    for (const code of ['TOOL_UNKNOWN', 'TOOL_POLICY_DENIED', 'TOOL_POLICY_ERROR', 'TOOL_ARGUMENTS_INVALID', 'TOOL_DEFINITION_REJECTED', 'TOOL_DEFINITION_MALFORMED', 'TOOL_PIN_MISMATCH', 'TOOL_UNPINNED', 'TOOL_NAME_COLLISION']) {
      expect(isReasonCode(code)).toBe(true);
    }
  });
});
