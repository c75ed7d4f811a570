import { generateKeyPairSync } from 'node:crypto';
import { powertoolsReporter } from '../../../lambda/jwks-pin/clients';
import { PinConfig, PinHandlerResult, createHandler, handler } from '../../../lambda/jwks-pin/index';
import { Checked, pinJwksDocument } from '../../../lambda/jwks-pin/decide';
import { IDENTITY_ENV_VAR, identityConfigFromEnv } from '../../../lambda/shared/identity-env';
import { createTokenVerifier, verifyIdentity } from '../../../lambda/shared/identity';
import { createTestIssuer } from '../shared/jwt-helper';
import {
  DISCOVERY_URI,
  ISSUER,
  JWKS_URI,
  RESPONSE_URL,
  Route,
  cfnEvent,
  driftEvent,
  endlessBody,
  fakeFetch,
  json,
  recordingReporter,
  rsaJwk,
} from './fixtures';

const key1 = rsaJwk('key-1').publicJwk;
const key2 = rsaJwk('key-2').publicJwk;
const JWKS = { keys: [key1, key2] };
const CONFIG: Checked<PinConfig> = { ok: true, value: { issuer: ISSUER, jwksUri: JWKS_URI } };
const DISCOVERY_CONFIG: Checked<PinConfig> = { ok: true, value: { issuer: ISSUER } };
const FAST = { requestTimeoutMs: 50, deadlineMs: 2_000 };

function setup(routes: Record<string, Route | Route[]>, config: Checked<PinConfig> = CONFIG, putStatus = 200) {
  const fetch = fakeFetch(routes, putStatus);
  const reporter = recordingReporter();
  const run = createHandler(config, { fetch: fetch.fetch, reporter }, FAST);
  return { ...fetch, reporter, run };
}

const gets = (calls: Array<{ url: string; init: RequestInit }>): string[] => calls.filter((c) => c.init.method === 'GET').map((c) => c.url);

describe('pin at deploy time (CloudFormation custom resource)', () => {
  test('Create pins the canonical key set: SUCCESS with Jwks, Sha256 and KeyCount, and a drift datapoint of 0', async () => {
    // Prepare
    const s = setup({ [JWKS_URI]: json(JWKS) });
    // Act
    const result = await s.run(cfnEvent('Create'));
    // Assess
    expect(result).toEqual({ kind: 'cloudformation', status: 'SUCCESS' });
    const [body] = s.puts();
    const expected = (pinJwksDocument(JSON.stringify(JWKS)) as any).value;
    expect(body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: expect.stringMatching(/^jwks-pin-[0-9a-f]{24}$/),
      StackId: expect.any(String),
      RequestId: 'a5b3f7c2-3a43-4c6b-9a1b-6e1f0f6b8c11',
      LogicalResourceId: 'CdkAiDefenseJwksPinABCDEF1234',
      Data: { Jwks: expected.canonical, Sha256: expected.sha256, KeyCount: '2' },
    });
    const get = s.calls.find((c) => c.init.method === 'GET')!;
    expect(get.init).toMatchObject({ method: 'GET', redirect: 'manual', headers: { accept: 'application/json, application/jwk-set+json' } });
    const put = s.calls.find((c) => c.init.method === 'PUT')!;
    expect(put.url).toBe(RESPONSE_URL);
    expect(put.init).toMatchObject({ redirect: 'manual', headers: { 'content-type': '' } });
    expect(s.reporter.drift).toEqual([{ issuer: ISSUER, value: 0 }]);
    // The response URL is a capability to answer CloudFormation: it is never logged.
    expect(JSON.stringify(s.reporter.lines)).not.toContain('amazonaws.com');
    expect(s.reporter.lines[0].fields).toMatchObject({ status: 'SUCCESS', keyCount: 2, kids: ['key-1', 'key-2'] });
  });

  test('without a JWKS URL, reads jwks_uri from the discovery document', async () => {
    const s = setup({ [DISCOVERY_URI]: json({ issuer: ISSUER, jwks_uri: JWKS_URI }), [JWKS_URI]: json(JWKS) }, DISCOVERY_CONFIG);
    await expect(s.run(cfnEvent('Create', { Issuer: ISSUER }))).resolves.toMatchObject({ status: 'SUCCESS' });
    expect(gets(s.calls)).toEqual([DISCOVERY_URI, JWKS_URI]);
  });

  test('Update fetches again and pins the current keys', async () => {
    const s = setup({ [JWKS_URI]: json({ keys: [key2] }) });
    await s.run(cfnEvent('Update', { Issuer: ISSUER, JwksUri: JWKS_URI, Repin: '2' }));
    expect(s.puts()[0]).toMatchObject({ Status: 'SUCCESS', Data: { KeyCount: '1' } });
  });

  test('Delete succeeds without fetching anything and keeps the physical id', async () => {
    const s = setup({});
    await expect(s.run(cfnEvent('Delete'))).resolves.toMatchObject({ status: 'SUCCESS' });
    expect(gets(s.calls)).toEqual([]);
    expect(s.puts()[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'jwks-pin-previous' });
    expect(s.puts()[0].Data).toBeUndefined();
  });

  test('a 5xx is tried once more, and a success then pins', async () => {
    const s = setup({ [JWKS_URI]: [json('oops', { status: 503 }), json(JWKS)] });
    await expect(s.run(cfnEvent('Create'))).resolves.toMatchObject({ status: 'SUCCESS' });
    expect(gets(s.calls)).toEqual([JWKS_URI, JWKS_URI]);
  });

  const invalidUtf8 = new Response(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { headers: { 'content-type': 'application/json' } });
  test.each<[string, Record<string, Route | Route[]>, RegExp, number]>([
    ['the issuer times out', { [JWKS_URI]: 'hang' }, /the JWKS did not arrive within 50 ms/, 2],
    ['the issuer answers 5xx twice', { [JWKS_URI]: json('down', { status: 502 }) }, /the JWKS answered HTTP 502/, 2],
    ['the issuer cannot be resolved', {}, /the JWKS could not be fetched \(Error: getaddrinfo ENOTFOUND idp.example.test\)/, 2],
    ['the issuer redirects', { [JWKS_URI]: new Response(null, { status: 302, headers: { location: 'https://evil.example/keys' } }) }, /redirect \(HTTP 302\); redirects are refused/, 1],
    ['the issuer answers 404', { [JWKS_URI]: json('nope', { status: 404 }) }, /the JWKS answered HTTP 404/, 1],
    ['the issuer answers 403', { [JWKS_URI]: json('denied', { status: 403 }) }, /the JWKS answered HTTP 403/, 1],
    ['the content is HTML', { [JWKS_URI]: json('<html></html>', { contentType: 'text/html' }) }, /content type "text\/html"; allowed: application\/json, application\/jwk-set\+json/, 1],
    ['the content has no type', { [JWKS_URI]: new Response(JSON.stringify(JWKS)) }, /content type "text\/plain"|content type ""/, 1],
    ['the declared length is too large', { [JWKS_URI]: json(JWKS, { headers: { 'content-length': '100000' } }) }, /the JWKS is 100000 bytes; allowed: at most 8192/, 1],
    ['the body never ends', { [JWKS_URI]: () => endlessBody() }, /the JWKS is larger than 8192 bytes/, 1],
    ['the body is not UTF-8', { [JWKS_URI]: invalidUtf8 }, /not UTF-8 text/, 1],
    ['the body is malformed JSON', { [JWKS_URI]: json('{"keys":[') }, /not strict JSON/, 1],
    ['the set holds a private key', { [JWKS_URI]: json({ keys: [rsaJwk('p').privateJwk] }) }, /private or symmetric key material/, 1],
    ['the set holds a symmetric key', { [JWKS_URI]: json({ keys: [key1, { kty: 'oct', kid: 's', k: 'c2VjcmV0' }] }) }, /symmetric/, 1],
  ])('fails the deployment with a reason when %s (never pins a partial set)', async (_name, routes, reason, attempts) => {
    // Prepare
    const s = setup(routes);
    // Act
    const result = await s.run(cfnEvent('Create'));
    // Assess
    expect(result).toMatchObject({ kind: 'cloudformation', status: 'FAILED' });
    const [body] = s.puts();
    expect(body.Status).toBe('FAILED');
    expect(body.Reason).toMatch(/^could not pin the keys of https:\/\/idp.example.test\/tenant-1 from https:\/\/idp.example.test\/tenant-1\/keys: /);
    expect(body.Reason).toMatch(reason);
    expect(body.Data).toBeUndefined();
    expect(body.PhysicalResourceId).toMatch(/^jwks-pin-/);
    expect(gets(s.calls)).toHaveLength(attempts);
    expect(s.reporter.drift).toEqual([]);
    expect(s.reporter.lines[0]).toMatchObject({ level: 'error', fields: { status: 'FAILED' } });
  });

  test('fails when the whole pin exceeds its deadline', async () => {
    const fetch = fakeFetch({ [JWKS_URI]: 'hang' });
    const run = createHandler(CONFIG, { fetch: fetch.fetch, reporter: recordingReporter() }, { requestTimeoutMs: 10_000, deadlineMs: 60 });
    await run(cfnEvent('Create'));
    expect(fetch.puts()[0].Reason).toMatch(/the JWKS pin did not settle within 60 ms/);
  });

  test('fails when the discovery document names another issuer', async () => {
    const s = setup({ [DISCOVERY_URI]: json({ issuer: 'https://evil.example', jwks_uri: 'https://evil.example/keys' }) }, DISCOVERY_CONFIG);
    await s.run(cfnEvent('Create', { Issuer: ISSUER }));
    expect(s.puts()[0].Reason).toMatch(/from the jwks_uri of https:\/\/idp.example.test\/tenant-1\/.well-known\/openid-configuration: the discovery document names issuer "https:\/\/evil.example"/);
    expect(gets(s.calls)).toEqual([DISCOVERY_URI]);
  });

  test('refuses properties that differ from the function configuration, without fetching', async () => {
    const s = setup({ [JWKS_URI]: json(JWKS) });
    await s.run(cfnEvent('Create', { Issuer: ISSUER, JwksUri: 'https://attacker.example/keys' }));
    expect(s.puts()[0]).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^refused: the resource's JwksUri "https:\/\/attacker.example\/keys"/) });
    expect(gets(s.calls)).toEqual([]);
  });

  test('fails with the configuration problems when the function is misconfigured', async () => {
    const s = setup({}, { ok: false, problems: ['CAD_JWKS_PIN_ISSUER must use https, got "http://x"'] });
    await s.run(cfnEvent('Create'));
    expect(s.puts()[0]).toMatchObject({ Status: 'FAILED', Reason: 'the JWKS pin function is misconfigured: CAD_JWKS_PIN_ISSUER must use https, got "http://x"' });
  });

  test('ignores a request whose response URL is not CloudFormation’s: nothing is fetched or sent', async () => {
    const s = setup({ [JWKS_URI]: json(JWKS) });
    const result = await s.run(cfnEvent('Create', undefined, { ResponseURL: 'https://attacker.example/collect' }));
    expect(result).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/not on an amazonaws.com host/) });
    expect(s.calls).toEqual([]);
  });

  test('rejects (so that Lambda retries) when the response URL does not take the answer', async () => {
    const s = setup({ [JWKS_URI]: json(JWKS) }, CONFIG, 403);
    await expect(s.run(cfnEvent('Create'))).rejects.toThrow(/response URL answered HTTP 403/);
  });
});

describe('drift check (schedule)', () => {
  const pinned = (pinJwksDocument(JSON.stringify(JWKS)) as any).value;

  test.each<[string, Record<string, Route | Route[]>, 0 | 1, string]>([
    ['the same keys in another order', { [JWKS_URI]: json({ keys: [key2, { ...key1, x5c: ['MIIC'] }] }) }, 0, 'UNCHANGED'],
    ['a rotated key set', { [JWKS_URI]: json({ keys: [key2] }) }, 1, 'CHANGED'],
    ['an unreachable issuer', { [JWKS_URI]: json('down', { status: 503 }) }, 1, 'UNVERIFIABLE'],
    ['a key set that fails validation', { [JWKS_URI]: json({ keys: [rsaJwk('p').privateJwk] }) }, 1, 'UNVERIFIABLE'],
    ['a timeout', { [JWKS_URI]: 'hang' }, 1, 'UNVERIFIABLE'],
  ])('publishes JwksDrift for %s', async (_name, routes, value, status) => {
    const s = setup(routes);
    const result = await s.run(driftEvent(pinned.sha256));
    expect(result).toMatchObject({ kind: 'drift', value, status });
    expect(s.reporter.drift).toEqual([{ issuer: ISSUER, value }]);
    expect(s.puts()).toEqual([]);
  });

  test.each<[string, unknown, Checked<PinConfig>]>([
    ['an unknown event', { hello: 'world' }, CONFIG],
    ['a drift event with a bad hash', driftEvent('nope'), CONFIG],
    ['a misconfigured function', driftEvent('a'.repeat(64)), { ok: false, problems: ['bad'] }],
  ])('publishes nothing for %s (the alarm treats missing data as drift)', async (_name, event, config) => {
    const s = setup({ [JWKS_URI]: json(JWKS) }, config);
    await expect(s.run(event)).resolves.toMatchObject({ kind: 'ignored' });
    expect(s.reporter.drift).toEqual([]);
    expect(s.calls).toEqual([]);
  });
});

/** Captures what Powertools writes to stdout and stderr (one JSON document per line). */
function captureStdout(): { lines: () => any[]; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  return {
    lines: () => chunks.join('').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l)),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

test('the Powertools reporter publishes JwksDrift as EMF in CdkAiDefense on service and Issuer', () => {
  const out = captureStdout();
  try {
    powertoolsReporter().publishDrift(ISSUER, 1);
  } finally {
    out.restore();
  }
  const emf = out.lines().find((l) => l._aws);
  expect(emf._aws.CloudWatchMetrics[0]).toEqual({ Namespace: 'CdkAiDefense', Dimensions: [['service', 'Issuer']], Metrics: [{ Name: 'JwksDrift', Unit: 'Count' }] });
  expect(emf).toMatchObject({ service: 'jwks-pin', Issuer: ISSUER, JwksDrift: 1 });
});

test('the Lambda entry point reads its configuration on first use and fails a pin closed when it is missing', async () => {
  const puts: string[] = [];
  const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
    puts.push(String(init?.body));
    return new Response(null, { status: 200 });
  });
  const saved = { ...process.env };
  delete process.env.CAD_JWKS_PIN_ISSUER;
  const out = captureStdout();
  try {
    const result: PinHandlerResult = await handler(cfnEvent('Create'));
    expect(result).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/misconfigured: CAD_JWKS_PIN_ISSUER must be an https URL/) });
    expect(JSON.parse(puts[0])).toMatchObject({ Status: 'FAILED' });
  } finally {
    out.restore();
    fetchSpy.mockRestore();
    process.env = saved;
  }
  // One JSON log line, without the response URL.
  expect(out.lines()).toEqual([expect.objectContaining({ level: 'ERROR', message: 'jwks pin', service: 'jwks-pin', status: 'FAILED' })]);
  expect(JSON.stringify(out.lines())).not.toContain('amazonaws.com');
});

describe('end to end: keys pinned at deploy time verify tokens without any fetch', () => {
  const cognitoIssuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example1';
  const idp = createTestIssuer({ issuer: cognitoIssuer, kid: 'cognito-key-1' });
  let env: Record<string, string>;
  let requestSpy: jest.SpyInstance;
  let fetchSpy: jest.SpyInstance;

  beforeAll(async () => {
    // Deploy time: the pin function fetches the user pool's JWKS (outside the VPC) and answers CloudFormation.
    const jwksUri = `${cognitoIssuer}/.well-known/jwks.json`;
    const s = setup({ [jwksUri]: json({ keys: [{ ...idp.publicJwk, x5c: ['MIIC'] }, rsaJwk('cognito-key-2').publicJwk] }) }, { ok: true, value: { issuer: cognitoIssuer, jwksUri } });
    await s.run(cfnEvent('Create', { Issuer: cognitoIssuer, JwksUri: jwksUri }));
    const pinnedJson: string = s.puts()[0].Data.Jwks;
    // The consumer's environment, as CallerIdentity.withPinnedKeys writes it: the key set embedded raw.
    const config = { issuer: cognitoIssuer, clientId: ['client-1'], tokenUse: 'access', groupsClaim: 'cognito:groups' };
    const members = Object.entries(config).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    env = { [IDENTITY_ENV_VAR]: `{${members.join(',')},"jwks":${pinnedJson}}` };
    // Run time (isolated subnet): no network at all.
    // aws-jwt-verify fetches with node:https (the CommonJS module object, which a spy can replace).
    requestSpy = jest.spyOn(require('node:https') as typeof import('node:https'), 'request').mockImplementation(() => {
      throw new Error('no network in the isolated subnet');
    });
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async () => {
      throw new Error('no network in the isolated subnet');
    });
  });
  afterAll(() => {
    requestSpy.mockRestore();
    fetchSpy.mockRestore();
  });

  const claims = { sub: 'alice', client_id: 'client-1', token_use: 'access', 'cognito:groups': ['finance'] };

  test('a token of the user pool verifies with the pinned keys', async () => {
    const verifier = createTokenVerifier(identityConfigFromEnv(env));
    const identity = await verifier.verify(idp.sign(claims));
    expect(identity).toMatchObject({ subject: 'alice', issuer: cognitoIssuer, groups: ['finance'], clientId: 'client-1' });
    expect(requestSpy).not.toHaveBeenCalled();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  test.each<[string, () => string]>([
    ['signed by another key under the pinned kid', () => idp.sign(claims, { privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })],
    ['signed under a kid that is not pinned', () => idp.sign(claims, { kid: 'rotated-key' })],
    ['HS256 keyed with the public key (algorithm confusion)', () => idp.sign(claims, { alg: 'HS256' })],
  ])('a token %s is rejected, still without any fetch', async (_name, token) => {
    const verifier = createTokenVerifier(identityConfigFromEnv(env));
    await expect(verifyIdentity(verifier, token())).resolves.toMatchObject({ outcome: 'DENY', reasonCode: 'IDENTITY_INVALID' });
    expect(requestSpy).not.toHaveBeenCalled();
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
