/**
 * The pure parts of the REQUEST interceptor: the configuration document's validation, event parsing, the identity
 * argument rules (with a property test: nothing the model writes reaches the target as identity), argument
 * validation and the outputs.
 */
import * as fc from 'fast-check';
import { CALLER_TOKEN_ARGUMENT } from '../../../lambda/shared/caller-context';
import { VerifiedIdentity } from '../../../lambda/shared/identity';
import {
  DEFAULT_IDENTITY_LIKE_ARGUMENTS,
  GatewayConfigDocument,
  loadGatewayConfig,
  normalizeArgumentName,
  parseGatewayConfig,
  schemaWithoutArguments,
  serializeGatewayConfig,
  timeoutFromEnv,
} from '../../../lambda/tool-interceptor/config';
import {
  DenyErrorCode,
  NO_SESSION,
  denyOutput,
  errorCodeFor,
  eventRequestId,
  parseRequestEvent,
  parseToolCall,
  scrubIdentityArguments,
  sessionIdOf,
  targetArguments,
  validateToolArguments,
} from '../../../lambda/tool-interceptor/decide';
import { configDocument, requestEvent, toolsCall } from '../response-interceptor/gateway-fixtures';

const load = (doc: GatewayConfigDocument) => loadGatewayConfig(JSON.parse(JSON.stringify(doc)));

function identity(claims: Record<string, unknown> = {}): VerifiedIdentity {
  const all = { sub: 'alice', iss: 'https://idp.example.test', groups: ['staff'], ...claims };
  return { subject: 'alice', issuer: 'https://idp.example.test', groups: ['staff'], scopes: [], expiresAt: 2_000_000_000, claims: all };
}

describe('gateway configuration document', () => {
  test('the fixture document loads; the model-facing schema hides identity-bound arguments', () => {
    const gw = load(configDocument());
    expect(gw.targetKind('knowledge')).toBe('LIBRARY');
    expect(gw.targetKind('hr')).toBe('CUSTOMER');
    expect(gw.bindingsOf('hr___get_record')).toEqual([{ target: 'hr', tool: 'get_record', argument: 'userId', claim: 'sub' }]);
    // userId is required by the registered schema, but it is not the model's to give.
    expect(validateToolArguments({ employeeId: 'E1234' }, gw.modelSchemaOf('hr___get_record'))).toEqual({ ok: true, value: { employeeId: 'E1234' } });
    expect(validateToolArguments({ employeeId: 'E1234', userId: 'x' }, gw.modelSchemaOf('hr___get_record')).ok).toBe(false);
    expect(gw.modelSchemaOf('hr___add_note')).toBeUndefined();
  });

  test('round-trips through its canonical serialization', () => {
    const text = serializeGatewayConfig(configDocument());
    expect(parseGatewayConfig(text).document).toEqual(JSON.parse(text));
  });

  test.each<[string, Partial<GatewayConfigDocument> | ((d: GatewayConfigDocument) => unknown), RegExp]>([
    ['an unknown key', (d) => ({ ...d, extra: 1 }), /unsupported keys: extra/],
    ['another version', { version: 2 as 1 }, /version is 2/],
    ['a tool on an unlisted target', { targets: [{ name: 'knowledge', kind: 'LIBRARY' }, { name: 'hr', kind: 'CUSTOMER' }] }, /ops___block_ip is registered on target ops/],
    ['a target listed twice', (d) => ({ ...d, targets: [...d.targets, { name: 'hr', kind: 'CUSTOMER' }] }), /target hr is listed twice/],
    ['an unknown target kind', (d) => ({ ...d, targets: d.targets.map((t) => ({ ...t, kind: 'PARTNER' })) }), /allowed: LIBRARY, CUSTOMER/],
    ['a binding of an unregistered tool', { identityArguments: [{ target: 'hr', tool: 'nope', argument: 'userId', claim: 'sub' }] }, /hr___nope, which is not a registered tool/],
    ['a binding of an undeclared argument', { identityArguments: [{ target: 'hr', tool: 'get_record', argument: 'owner', claim: 'sub' }] }, /declares no argument owner/],
    ['a binding of the reserved argument', { identityArguments: [{ target: 'hr', tool: 'get_record', argument: CALLER_TOKEN_ARGUMENT, claim: 'sub' }] }, /not reserved/],
    ['a binding with a bad claim name', { identityArguments: [{ target: 'hr', tool: 'get_record', argument: 'userId', claim: '__proto__' }] }, /claim name/],
    ['a binding on a library target', { identityArguments: [{ target: 'knowledge', tool: 'search_knowledge', argument: 'query', claim: 'sub' }] }, /LIBRARY target/],
    ['a declared identity-like argument left unbound', { identityArguments: [] }, /declares the identity-like argument userId/],
    ['an unknown forged-argument handling', { forgedIdentityArguments: 'WARN' as 'STRIP' }, /allowed: STRIP, DENY/],
    ['an empty policy', { policy: { version: 1, policies: '  ' } }, /non-empty Cedar text/],
    ['pins of the wrong shape', (d) => ({ ...d, pins: { version: 1, requirePins: 'yes', pins: [] } }), /requirePins/],
  ])('fails (MISCONFIGURED) for %s', (_name, change, message) => {
    const base = configDocument();
    const doc = typeof change === 'function' ? change(base) : { ...base, ...change };
    expect(() => loadGatewayConfig(JSON.parse(JSON.stringify(doc)))).toThrow(message);
    expect(() => loadGatewayConfig(JSON.parse(JSON.stringify(doc)))).toThrow(expect.objectContaining({ reasonCode: 'MISCONFIGURED' }));
  });

  test('fails for text that is not strict JSON (duplicate keys)', () => {
    expect(() => parseGatewayConfig('{"version":1,"version":1}')).toThrow(/not strict JSON/);
  });

  test('identity-like names match case-insensitively without separators', () => {
    const gw = load(configDocument());
    for (const name of ['userId', 'USER_ID', 'user-id', 'User.Id', 'tenant_ID', 'EMAIL', 'Sub']) expect(gw.isIdentityLike(name)).toBe(true);
    for (const name of ['user', 'query', 'subject_line', 'emails_sent']) expect(gw.isIdentityLike(name)).toBe(false);
    expect(normalizeArgumentName('Tenant-Id_x.y')).toBe('tenantidxy');
    expect(DEFAULT_IDENTITY_LIKE_ARGUMENTS).toContain('namespace');
  });

  test('schemaWithoutArguments removes properties and required entries, and drops an empty required', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['b'] };
    expect(schemaWithoutArguments(schema, ['b'])).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
    expect(schema.required).toEqual(['b']);
  });

  test('environment settings: the request deadline', () => {
    expect(timeoutFromEnv({})).toBe(8_000);
    expect(timeoutFromEnv({ CAD_INTERCEPTOR_TIMEOUT_MS: '2500' })).toBe(2500);
    expect(() => timeoutFromEnv({ CAD_INTERCEPTOR_TIMEOUT_MS: '2.5' })).toThrow(/allowed: a whole number/);
  });
});

describe('event parsing', () => {
  test('the raw body is authoritative and strictly parsed (null-prototype objects)', () => {
    const parsed = parseRequestEvent(requestEvent(toolsCall('hr___add_note', { note: {} })));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.getPrototypeOf(parsed.value.body)).toBeNull();
    expect(parsed.value).toMatchObject({ id: 7, hasId: true, method: 'tools/call' });
    const call = parseToolCall(parsed.value);
    expect(call).toEqual({ ok: true, value: { name: 'hr___add_note', arguments: { note: {} } } });
  });

  test('a string body in gatewayRequest is parsed strictly too', () => {
    const event = requestEvent({}, { raw: null });
    (event.mcp as { gatewayRequest: { body: unknown } }).gatewayRequest.body = '{"jsonrpc":"2.0","id":1,"method":"ping","id":2}';
    expect(parseRequestEvent(event)).toMatchObject({ ok: false, reasonCode: 'MALFORMED_REQUEST' });
  });

  test('missing arguments are an empty object; non-object arguments are invalid', () => {
    const p = parseRequestEvent(requestEvent({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'hr___add_note' } }));
    if (!p.ok) throw new Error('unexpected');
    expect(parseToolCall(p.value)).toMatchObject({ ok: true, value: { arguments: {} } });
    const q = parseRequestEvent(requestEvent(toolsCall('hr___add_note', ['a'])));
    if (!q.ok) throw new Error('unexpected');
    expect(parseToolCall(q.value)).toMatchObject({ ok: false, reasonCode: 'TOOL_ARGUMENTS_INVALID' });
  });

  test('eventRequestId finds the id of even a broken event, and never throws', () => {
    expect(eventRequestId(requestEvent(toolsCall('x', {}, 'id-9')))).toBe('id-9');
    expect(eventRequestId({ interceptorInputVersion: '1.0', mcp: { rawGatewayRequest: { body: '{"id":5}' } } })).toBe(5);
    expect(eventRequestId({ mcp: { gatewayRequest: { body: { id: { nested: true } } } } })).toBeNull();
    const hostile = { get mcp(): never { throw new Error('boom'); } };
    expect(eventRequestId(hostile)).toBeNull();
  });

  test('session ids: absent → no-session, one visible value → it, duplicates or spaces → unusable', () => {
    expect(sessionIdOf(undefined)).toBe(NO_SESSION);
    expect(sessionIdOf({ Accept: 'x' })).toBe(NO_SESSION);
    expect(sessionIdOf({ 'mcp-session-id': 'abc-1' })).toBe('abc-1');
    expect(sessionIdOf({ 'Mcp-Session-Id': 'a', 'mcp-session-id': 'b' })).toBeUndefined();
    expect(sessionIdOf({ 'Mcp-Session-Id': 'a b' })).toBeUndefined();
  });
});

describe('identity arguments', () => {
  const gw = load(configDocument());
  const bindings = gw.bindingsOf('hr___get_record');

  test('STRIP removes reserved, bound and identity-like arguments and reports their names', () => {
    const result = scrubIdentityArguments({ employeeId: 'E1', userId: 'bob', [CALLER_TOKEN_ARGUMENT]: 'x.y.z', GROUPS: ['admin'], note: 'n' }, bindings, gw);
    expect(result).toEqual({ ok: true, value: { arguments: { employeeId: 'E1', note: 'n' }, removed: ['userId', CALLER_TOKEN_ARGUMENT, 'GROUPS'] } });
  });

  test('a library target receives the verified token; a customer target the bound claim values only', () => {
    const lib = targetArguments({ query: 'q' }, [], 'LIBRARY', identity(), 'h.p.s');
    expect(lib).toEqual({ ok: true, value: { query: 'q', [CALLER_TOKEN_ARGUMENT]: 'h.p.s' } });
    const cust = targetArguments({ employeeId: 'E1' }, bindings, 'CUSTOMER', identity(), 'h.p.s');
    expect(cust).toEqual({ ok: true, value: { employeeId: 'E1', userId: 'alice' } });
    const groups = targetArguments({}, [{ target: 'hr', tool: 'x', argument: 'teams', claim: 'groups' }], 'CUSTOMER', identity(), 't');
    expect(groups).toEqual({ ok: true, value: { teams: ['staff'] } });
  });

  test.each([
    ['missing', {}],
    ['a number', { employee: 42 }],
    ['an empty string', { employee: '' }],
    ['a list with a non-string', { employee: ['a', 1] }],
  ])('a bound claim that is %s denies (IDENTITY_CLAIMS_INVALID)', (_name, claims) => {
    const result = targetArguments({}, [{ target: 'hr', tool: 'x', argument: 'emp', claim: 'employee' }], 'CUSTOMER', identity(claims), 't');
    expect(result).toMatchObject({ ok: false, reasonCode: 'IDENTITY_CLAIMS_INVALID' });
  });

  test('property: whatever keys and values the model writes, identity reaches the target only from the verified token', () => {
    const identityLike = ['userId', 'USER_ID', 'user-id', 'actorId', 'principal', 'Sub', 'groups', 'tenant', 'TENANT_ID', 'email', CALLER_TOKEN_ARGUMENT];
    const key = fc.oneof(fc.constantFrom(...identityLike), fc.constantFrom('employeeId', 'note', 'q'), fc.string({ minLength: 1, maxLength: 8 }));
    const value = fc.oneof(fc.string(), fc.integer(), fc.constant('mallory'), fc.array(fc.string(), { maxLength: 3 }));
    const args = fc.dictionary(key, value, { maxKeys: 8 });
    fc.assert(
      fc.property(args, fc.constantFrom<'LIBRARY' | 'CUSTOMER'>('LIBRARY', 'CUSTOMER'), (modelArgs, kind) => {
        const clean = Object.fromEntries(Object.entries(modelArgs).filter(([k]) => !['__proto__', 'constructor', 'prototype'].includes(k)));
        const scrubbed = scrubIdentityArguments(clean, kind === 'CUSTOMER' ? bindings : [], gw);
        if (!scrubbed.ok) return false;
        const out = targetArguments(scrubbed.value.arguments, kind === 'CUSTOMER' ? bindings : [], kind, identity(), 'verified.token.sig');
        if (!out.ok) return false;
        for (const k of Object.keys(out.value)) {
          if (k === CALLER_TOKEN_ARGUMENT) {
            if (kind !== 'LIBRARY' || out.value[k] !== 'verified.token.sig') return false;
          } else if (k === 'userId') {
            if (kind !== 'CUSTOMER' || out.value[k] !== 'alice') return false;
          } else if (gw.isIdentityLike(k)) {
            return false;
          } else if (out.value[k] !== clean[k]) {
            return false;
          }
        }
        return kind === 'LIBRARY' ? out.value[CALLER_TOKEN_ARGUMENT] === 'verified.token.sig' : out.value.userId === 'alice' && !(CALLER_TOKEN_ARGUMENT in out.value);
      }),
      { seed: 42, numRuns: 10000 },
    );
  });
});

describe('argument validation without a schema (shape only)', () => {
  test.each([
    ['a function value', { f: () => 1 }],
    ['a Date', { d: new Date(0) }],
    ['NaN', { n: Number.NaN }],
    ['a lone surrogate', { s: '\ud800' }],
  ])('refuses %s', (_name, args) => {
    expect(validateToolArguments(args as Record<string, unknown>, undefined)).toMatchObject({ ok: false, reasonCode: 'TOOL_ARGUMENTS_INVALID' });
  });

  test('refuses a prototype key at any depth of an object built without the strict parser', () => {
    const args = { a: [{ b: JSON.parse('{"__proto__": {"polluted": true}}') }] };
    expect(validateToolArguments(args, undefined)).toMatchObject({ ok: false, reasonCode: 'TOOL_ARGUMENTS_INVALID' });
  });
});

describe('outputs', () => {
  test('deny output: a JSON-RPC error with only the reason code (and a safe request id)', () => {
    expect(denyOutput(3, 'APPROVAL_REQUIRED', 'abc-123')).toEqual({
      interceptorOutputVersion: '1.0',
      mcp: {
        transformedGatewayResponse: {
          statusCode: 200,
          body: { jsonrpc: '2.0', id: 3, error: { code: -32001, message: 'Denied: APPROVAL_REQUIRED', data: { reasonCode: 'APPROVAL_REQUIRED', requestId: 'abc-123' } } },
        },
      },
    });
    expect((denyOutput(null, 'TOOL_UNKNOWN', 'bad id!') as { mcp: { transformedGatewayResponse: { body: { error: { data: object } } } } }).mcp.transformedGatewayResponse.body.error.data).toEqual({ reasonCode: 'TOOL_UNKNOWN' });
  });

  test.each([
    ['MALFORMED_REQUEST', DenyErrorCode.INVALID_REQUEST],
    ['REQUEST_TOO_LARGE', DenyErrorCode.INVALID_REQUEST],
    ['TOOL_UNKNOWN', DenyErrorCode.INVALID_PARAMS],
    ['TOOL_ARGUMENTS_INVALID', DenyErrorCode.INVALID_PARAMS],
    ['IDENTITY_EXPIRED', DenyErrorCode.DENIED],
    ['TOOL_POLICY_ERROR', DenyErrorCode.DENIED],
    ['UPSTREAM_THROTTLED', DenyErrorCode.DENIED],
  ] as const)('%s answers with JSON-RPC code %d', (code, expected) => {
    expect(errorCodeFor(code)).toBe(expected);
  });
});
