import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lazy } from 'aws-cdk-lib';
import { DEFAULT_TOOL_POLICIES, createToolAuthorizer, parseToolPolicyDocument } from '../../../lambda/tool-interceptor/cedar';
import { parseToolPinDocument, pinOf } from '../../../lambda/tool-interceptor/pin';
import { RiskClass as RuntimeRiskClass, ToolCapability as RuntimeToolCapability, parseToolRegistry } from '../../../lambda/tool-interceptor/registry';
import { scanDefinitions } from '../../../lib/cli/scan-tools';
import { RiskClass, ToolCapability, ToolPinning, ToolPolicy, ToolRegistry } from '../../../lib/tools';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'mcp-tools');
const fixture = (kind: string, file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, kind, file), 'utf8')) as Record<string, unknown>;
const tmp = (name: string, text: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cad-tools-')), name);
  fs.writeFileSync(file, text);
  return file;
};

describe('ToolPolicy', () => {
  test('defaultPolicy validates at synth and exposes the policy text, schema, ids and hash', () => {
    const policy = ToolPolicy.defaultPolicy();
    expect(policy.policyText).toBe(DEFAULT_TOOL_POLICIES);
    expect(policy.schemaText).toBe(ToolPolicy.SCHEMA);
    expect(policy.policyIds).toContain('forbid-high-critical-without-approval');
    expect(policy.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parseToolPolicyDocument(policy.toJson())).toBe(DEFAULT_TOOL_POLICIES);
    expect(ToolPolicy.NAMESPACE).toBe('CdkAiDefense');
  });

  test('additional policies are appended and validated with the defaults; forbid still wins', () => {
    const policy = ToolPolicy.defaultPolicy({
      additionalPolicies: '@id("no-payments") forbid (principal, action, resource is CdkAiDefense::Tool) when { resource.target == "Payments" };',
    });
    expect(policy.policyIds[policy.policyIds.length - 1]).toBe('no-payments');
    const authz = createToolAuthorizer(policy.policyText);
    const identity = { subject: 's', issuer: 'i', groups: ['g'], scopes: [], expiresAt: 1, claims: {} };
    const tool = { name: 'pay', target: 'Payments', risk: RuntimeRiskClass.LOW, capabilities: [], owner: 'o', allowedGroups: ['g'] };
    expect(authz.authorize({ identity, tool })).toMatchObject({ outcome: 'DENY', determiningPolicies: ['no-payments'] });
  });

  test('fails at synth with the Cedar diagnostics for an invalid policy', () => {
    expect(() => ToolPolicy.fromCedar('permit (principal, action, resource) when { resource.colour == "red" };')).toThrow(
      /ToolPolicy\.fromCedar: the Cedar policies fail strict validation against the CdkAiDefense schema:\n {2}- policy "policy0": .*colour/s,
    );
    expect(() => ToolPolicy.defaultPolicy({ additionalPolicies: 'permit (principal, action, resource) when { principal.getTag("x") == "y" };' })).toThrow(
      /unable to guarantee safety of access to tag/,
    );
    expect(() => ToolPolicy.fromCedar('')).toThrow(/empty/);
    expect(() => ToolPolicy.fromCedar(Lazy.string({ produce: () => 'permit (principal, action, resource);' }))).toThrow(/tokens are not allowed/);
  });

  test('fromFile reads a .cedar file, and fails naming a missing one', () => {
    const file = tmp('tools.cedar', '@id("all") permit (principal, action, resource is CdkAiDefense::Tool) when { resource.riskLevel == 0 };');
    expect(ToolPolicy.fromFile(file).policyIds).toEqual(['all']);
    expect(() => ToolPolicy.fromFile('/nonexistent/tools.cedar')).toThrow(/cannot read \/nonexistent\/tools\.cedar \(ENOENT\)/);
  });
});

describe('ToolRegistry', () => {
  const search = {
    name: 'search_orders',
    target: 'Orders',
    risk: RiskClass.LOW,
    capabilities: [ToolCapability.SENSITIVE_DATA],
    owner: 'team-orders',
    allowedGroups: ['analysts'],
    inputSchema: { type: 'object', properties: { q: { type: 'string', maxLength: 200 } }, required: ['q'] },
  };

  test('registers tools and serializes them for the interceptor', () => {
    const registry = new ToolRegistry([search]).register({ name: 'refund', target: 'Orders', risk: RiskClass.CRITICAL, owner: 'team-payments' });
    expect(registry.gatewayToolNames).toEqual(['Orders___search_orders', 'Orders___refund']);
    const loaded = parseToolRegistry(registry.toJson());
    // Unlabeled counts as all three capabilities (fail closed), as the synth-time trifecta analysis treats it.
    expect(loaded.lookup('Orders___refund')).toEqual({
      name: 'refund',
      target: 'Orders',
      risk: 'CRITICAL',
      capabilities: ['SENSITIVE_DATA', 'UNTRUSTED_CONTENT', 'EXTERNAL_ACCESS'],
      owner: 'team-payments',
      allowedGroups: [],
    });
    expect(loaded.lookup('Orders___search_orders')?.capabilities).toEqual(['SENSITIVE_DATA']);
    expect(registry.tools).toHaveLength(2);
  });

  test('the construct enums carry exactly the run-time values', () => {
    expect(Object.values(RiskClass)).toEqual(Object.values(RuntimeRiskClass));
    expect(Object.values(ToolCapability).sort()).toEqual(Object.values(RuntimeToolCapability).sort());
  });

  test.each([
    ['an invalid name', { name: 'search orders' }, /name is "search orders"; allowed: 1 to 128 of A-Z a-z 0-9 _ - \./],
    ['an invalid target', { target: 'Orders_v2' }, /target is "Orders_v2"; allowed: letters and digits with single dashes/],
    ['an unsupported schema keyword', { inputSchema: { type: 'object', properties: { q: { type: 'string', format: 'email', anyOf: [] } } } }, /unsupported keyword "anyOf"/],
    ['a schema that allows extra keys', { inputSchema: { type: 'object', additionalProperties: true } }, /only false is supported/],
    ['an invalid pin', { pin: 'sha256:abc' }, /pin must be 64 lower-case hex/],
    ['a token as name', { name: Lazy.string({ produce: () => 'x' }) }, /name is a token/],
  ])('fails for %s', (_n, overrides, message) => {
    expect(() => new ToolRegistry([{ ...search, ...overrides }])).toThrow(message);
  });

  test('fails for a tool registered twice on the same target', () => {
    expect(() => new ToolRegistry([search, { ...search, risk: RiskClass.HIGH }])).toThrow(/already registered on target "Orders"/);
    expect(() => new ToolRegistry([search, { ...search, target: 'Archive' }])).not.toThrow();
  });
});

describe('ToolPinning', () => {
  const defs = ['filesystem-read-file.json', 'filesystem-write-file.json'].map((f) => fixture('benign', f));

  test('fromDefinitions scans, then pins each reviewed definition with its server', () => {
    const pinning = ToolPinning.fromDefinitions({ server: 'Files', definitions: defs });
    expect(pinning.pins).toEqual(defs.map((d) => ({ server: 'Files', name: d.name, sha256: pinOf(d, 'Files') })));
    expect(pinning.requirePins).toBe(true);
    const loaded = parseToolPinDocument(pinning.toJson());
    expect(loaded.requirePins).toBe(true);
    expect([...loaded.pins.accepted('Files', 'read_file')]).toEqual([pinOf(defs[0], 'Files')]);
  });

  test('fromDefinitions fails the synth for a definition the scanner rejects, and for colliding names', () => {
    const poisoned = fixture('malicious', 'hidden-instructions--important-tag-ssh.json');
    expect(() => ToolPinning.fromDefinitions({ server: 'Math', definitions: [poisoned] })).toThrow(
      /definitions fail the tool scanner:\n {2}- add: HIDDEN_INSTRUCTIONS at \/description/,
    );
    expect(() => ToolPinning.fromDefinitions({ server: 'Files', definitions: [defs[0], { ...defs[0], name: 'READ_FILE' }] })).toThrow(/names collide .*read_file, READ_FILE/);
    expect(() => ToolPinning.fromDefinitions({ server: 'Files', definitions: [{ ...defs[0], name: 'read_fiIe' }], knownToolNames: ['read_file'] })).toThrow(/LOOKALIKE_NAME/);
    expect(() => ToolPinning.fromDefinitions({ server: 'Files', definitions: [] })).toThrow(/non-empty list/);
  });

  test('fromLockFile reads the --json report of scan-tools, a { pins } object or a list', () => {
    const report = scanDefinitions(defs, 'Files');
    const fromReport = ToolPinning.fromLockFile(tmp('report.json', JSON.stringify(report)));
    expect(fromReport.pins).toEqual(ToolPinning.fromDefinitions({ server: 'Files', definitions: defs }).pins);
    expect(ToolPinning.fromLockFile(tmp('list.json', JSON.stringify(report.pins))).pins).toHaveLength(2);
    expect(() => ToolPinning.fromLockFile(tmp('dup.json', '{"pins":[],"pins":[]}'))).toThrow(/is not strict JSON: duplicate key/);
    expect(() => ToolPinning.fromLockFile(tmp('none.json', '{"tools":[]}'))).toThrow(/has no "pins" list/);
    expect(() => ToolPinning.fromLockFile(tmp('bad.json', '[{"server":"S","name":"n","sha256":"x"}]'))).toThrow(/sha256 must be 64 lower-case hex/);
  });

  test('fromPins validates; unsafeScanOnly is the only way not to require pins; merge keeps the stricter mode', () => {
    expect(() => ToolPinning.fromPins([{ server: 'S', name: 'bad name', sha256: 'a'.repeat(64) }])).toThrow(/name must be/);
    const scanOnly = ToolPinning.unsafeScanOnly();
    expect(scanOnly.requirePins).toBe(false);
    expect(JSON.parse(scanOnly.toJson())).toEqual({ version: 1, requirePins: false, pins: [] });
    const pinned = ToolPinning.fromPins([{ server: 'S', name: 'n', sha256: 'a'.repeat(64) }]);
    const merged = scanOnly.merge(pinned);
    expect(merged.requirePins).toBe(true);
    expect(merged.pins).toEqual(pinned.pins);
  });
});
