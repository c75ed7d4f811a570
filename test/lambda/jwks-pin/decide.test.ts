import { canonicalize, sha256Hex } from '../../../lambda/shared/canonical-json';
import { JWKS_LIMITS } from '../../../lambda/jwks-pin/contract';
import {
  Checked,
  PinnedJwks,
  cfnResponseBody,
  driftOf,
  jwksUriFromDiscovery,
  parseCfnRequest,
  parseDriftEvent,
  physicalIdOf,
  pinConfigFromEnv,
  pinJwksDocument,
  propertiesMatchConfig,
} from '../../../lambda/jwks-pin/decide';
import { ISSUER, JWKS_URI, cfnEvent, cognitoShapedJwks, driftEvent, ecJwk, rsaJwk } from './fixtures';

const rsa = rsaJwk('rsa-1');
const rsa2 = rsaJwk('rsa-2');
const ec = ecJwk('ec-1', 'P-256');
const doc = (keys: unknown[]): string => JSON.stringify({ keys });

function problemsOf<T>(result: Checked<T>): string {
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.problems.join('\n');
}

function pinned(result: Checked<PinnedJwks>): PinnedJwks {
  if (!result.ok) throw new Error(`expected a pin, got: ${result.problems.join('; ')}`);
  return result.value;
}

describe('pinJwksDocument', () => {
  test('pins public RSA and EC signing keys in canonical form: sorted by kid, public members only', () => {
    const withCert = { ...rsa2.publicJwk, x5c: ['MIIC...'], x5t: 'abc', key_ops: ['verify'] };
    const p = pinned(pinJwksDocument(doc([withCert, ec, rsa.publicJwk])));
    expect(p.jwks.keys.map((k) => k.kid)).toEqual(['ec-1', 'rsa-1', 'rsa-2']);
    expect(Object.keys(p.jwks.keys[2]).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(Object.keys(p.jwks.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(p.canonical).toBe(canonicalize(p.jwks));
    expect(p.sha256).toBe(sha256Hex(p.canonical));
  });

  test('the same keys in another order, with other whitespace and certificate members, hash the same', () => {
    const a = pinned(pinJwksDocument(doc([rsa.publicJwk, rsa2.publicJwk])));
    const b = pinned(pinJwksDocument(JSON.stringify({ keys: [{ ...rsa2.publicJwk, x5c: ['x'] }, rsa.publicJwk] }, null, 2)));
    expect(b.sha256).toBe(a.sha256);
    const c = pinned(pinJwksDocument(doc([rsa.publicJwk])));
    expect(c.sha256).not.toBe(a.sha256);
  });

  test('leaves out encryption keys (use enc, encryption algorithms, key_ops without verify) and says so', () => {
    const enc = rsaJwk('enc-1', { use: 'enc', alg: 'RSA-OAEP' }).publicJwk;
    const oaep = rsaJwk('enc-2', { use: null, alg: 'RSA-OAEP-256' }).publicJwk;
    const wrapOnly = { ...rsaJwk('enc-3').publicJwk, key_ops: ['wrapKey'] };
    const p = pinned(pinJwksDocument(doc([rsa.publicJwk, enc, oaep, wrapOnly])));
    expect(p.jwks.keys.map((k) => k.kid)).toEqual(['rsa-1']);
    expect(p.ignored).toHaveLength(3);
  });

  test('a Cognito key set pins to about 1 KB', () => {
    const p = pinned(pinJwksDocument(JSON.stringify(cognitoShapedJwks())));
    expect(p.jwks.keys).toHaveLength(2);
    expect(Buffer.byteLength(p.canonical)).toBeLessThan(1_100);
  });

  const tooMany = Array.from({ length: JWKS_LIMITS.maxKeys + 1 }, (_, i) => ({ ...ec, kid: `ec-${i}` }));
  test.each<[string, () => string, RegExp]>([
    ['an RSA private key (d, p, q, dp, dq, qi)', () => doc([rsa.privateJwk]), /private or symmetric key material \(d, p, q, dp, dq, qi\)/],
    ['a private member beside public keys (the whole set is refused)', () => doc([rsa2.publicJwk, { ...rsa.publicJwk, d: 'AQAB' }]), /keys\[1\] \(kid "rsa-1"\) carries private or symmetric key material \(d\)/],
    ['a symmetric key', () => doc([rsa.publicJwk, { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }]), /symmetric key \(kty "oct"\)[\s\S]*|carries private or symmetric key material \(k\)/],
    ['an OKP key', () => doc([{ kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'abc' }]), /key type "OKP"; only RSA and EC/],
    ['a key without kid', () => doc([{ ...rsa.publicJwk, kid: undefined }]), /keys\[0\] has no kid/],
    ['an empty kid', () => doc([{ ...rsa.publicJwk, kid: '' }]), /invalid kid ""/],
    ['a kid with a control character', () => doc([{ ...rsa.publicJwk, kid: 'a\nb' }]), /invalid kid/],
    ['duplicate kids', () => doc([rsa.publicJwk, { ...rsa2.publicJwk, kid: 'rsa-1' }]), /keys\[1\] \(kid "rsa-1"\) repeats the kid of keys\[0\]/],
    ['too many keys', () => doc(tooMany), /has 11 keys; allowed: at most 10/],
    ['no keys', () => doc([]), /has no keys/],
    ['only encryption keys', () => doc([rsaJwk('e', { use: 'enc', alg: 'RSA-OAEP' }).publicJwk]), /no signing keys/],
    ['an oversize document', () => JSON.stringify({ keys: [rsa.publicJwk], pad: 'x'.repeat(JWKS_LIMITS.maxDocumentBytes) }), /bytes; allowed: at most 8192/],
    ['malformed JSON', () => '{"keys": [', /not strict JSON/],
    ['a duplicate member name', () => `{"keys":[],"keys":[${JSON.stringify(rsa.publicJwk)}]}`, /not strict JSON \(duplicate key/],
    ['an array instead of an object', () => doc([]).slice(8, -1), /not a JSON object|not strict JSON/],
    ['no keys array', () => JSON.stringify({ key: [rsa.publicJwk] }), /no "keys" array/],
    ['a key that is not an object', () => doc(['abc']), /keys\[0\] is not a JSON object/],
    ['an RSA modulus under 2048 bits', () => doc([rsaJwk('small', { bits: 1024 }).publicJwk]), /1024-bit RSA modulus; allowed: 2048 to 8192 bits/],
    ['an even RSA exponent', () => doc([{ ...rsa.publicJwk, e: 'AAI' }]), /no valid public exponent/],
    ['an RSA modulus that is not base64url', () => doc([{ ...rsa.publicJwk, n: 'ab+/' }]), /no valid modulus/],
    ['an HMAC algorithm on an RSA key', () => doc([{ ...rsa.publicJwk, alg: 'HS256' }]), /alg "HS256"; allowed for RSA: RS256, RS384, RS512/],
    ['alg none', () => doc([{ ...rsa.publicJwk, alg: 'none' }]), /alg "none"/],
    ['an EC point of the wrong size', () => doc([{ ...ec, x: 'AAAA' }]), /no valid P-256 point/],
    ['an unknown curve', () => doc([{ ...ec, crv: 'secp256k1' }]), /curve "secp256k1"/],
    ['an EC algorithm that does not fit the curve', () => doc([{ ...ec, alg: 'ES384' }]), /does not fit curve P-256 \(ES256\)/],
    ['an unknown use', () => doc([{ ...rsa.publicJwk, use: 'both' }]), /use "both"/],
    ['a member that is not a string', () => doc([{ ...rsa.publicJwk, alg: 256 }]), /member alg is not a string/],
  ])('refuses %s', (_name, make, message) => {
    expect(problemsOf(pinJwksDocument(make()))).toMatch(message);
  });

  test('refuses a pinned set over the CloudFormation and Lambda budget', () => {
    const big = Array.from({ length: 8 }, (_, i) => ({ ...rsa.publicJwk, kid: `big-${i}` }));
    expect(problemsOf(pinJwksDocument(doc(big)))).toMatch(/pinned key set is \d+ bytes; allowed: at most 3072/);
  });
});

describe('jwksUriFromDiscovery', () => {
  test('reads jwks_uri when the issuer matches exactly', () => {
    expect(jwksUriFromDiscovery(JSON.stringify({ issuer: ISSUER, jwks_uri: JWKS_URI }), ISSUER)).toEqual({ ok: true, value: JWKS_URI });
  });
  test.each<[string, unknown, RegExp]>([
    ['another issuer', { issuer: 'https://evil.example/', jwks_uri: JWKS_URI }, /names issuer "https:\/\/evil.example\/", not the configured/],
    ['the issuer with a trailing slash', { issuer: `${ISSUER}/`, jwks_uri: JWKS_URI }, /not the configured/],
    ['an http jwks_uri', { issuer: ISSUER, jwks_uri: 'http://idp.example.test/keys' }, /jwks_uri must use https/],
    ['no jwks_uri', { issuer: ISSUER }, /jwks_uri must be an https URL/],
    ['not an object', [ISSUER], /not a JSON object/],
  ])('refuses %s', (_name, body, message) => {
    expect(problemsOf(jwksUriFromDiscovery(JSON.stringify(body), ISSUER))).toMatch(message);
  });
});

describe('pinConfigFromEnv', () => {
  test('reads the issuer and the optional JWKS URL', () => {
    expect(pinConfigFromEnv({ CAD_JWKS_PIN_ISSUER: ISSUER, CAD_JWKS_PIN_JWKS_URI: JWKS_URI })).toEqual({ ok: true, value: { issuer: ISSUER, jwksUri: JWKS_URI } });
    expect(pinConfigFromEnv({ CAD_JWKS_PIN_ISSUER: ISSUER })).toEqual({ ok: true, value: { issuer: ISSUER } });
  });
  test.each<[string, Record<string, string>, RegExp]>([
    ['no issuer', {}, /CAD_JWKS_PIN_ISSUER must be an https URL/],
    ['an http issuer', { CAD_JWKS_PIN_ISSUER: 'http://idp.example.test' }, /must use https/],
    ['credentials in the JWKS URL', { CAD_JWKS_PIN_ISSUER: ISSUER, CAD_JWKS_PIN_JWKS_URI: 'https://u:p@idp.example.test/keys' }, /credentials or a fragment/],
    ['a relative JWKS URL', { CAD_JWKS_PIN_ISSUER: ISSUER, CAD_JWKS_PIN_JWKS_URI: '/keys' }, /absolute https URL/],
  ])('fails with %s', (_name, env, message) => {
    expect(problemsOf(pinConfigFromEnv(env))).toMatch(message);
  });
});

describe('CloudFormation requests and responses', () => {
  test('parses a Create request', () => {
    const r = parseCfnRequest(cfnEvent('Create'));
    expect(r).toMatchObject({ ok: true, value: { requestType: 'Create', issuer: ISSUER, jwksUri: JWKS_URI } });
  });
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a response URL outside AWS', cfnEvent('Create', undefined, { ResponseURL: 'https://attacker.example/collect' }), /not on an amazonaws.com host/],
    ['an http response URL', cfnEvent('Create', undefined, { ResponseURL: 'http://bucket.s3.amazonaws.com/x' }), /ResponseURL must use https/],
    ['a look-alike host', cfnEvent('Create', undefined, { ResponseURL: 'https://s3.amazonaws.com.attacker.example/x' }), /not on an amazonaws.com host/],
    ['an unknown request type', cfnEvent('Create', undefined, { RequestType: 'Upsert' }), /RequestType "Upsert"/],
    ['an Update without physical id', cfnEvent('Update', undefined, { PhysicalResourceId: undefined }), /PhysicalResourceId is missing/],
    ['no resource properties', cfnEvent('Create', undefined, { ResourceProperties: undefined }), /ResourceProperties is missing/],
  ])('refuses %s', (_name, event, message) => {
    expect(problemsOf(parseCfnRequest(event))).toMatch(message);
  });

  test('properties must match the configuration', () => {
    const request = (parseCfnRequest(cfnEvent('Update', { Issuer: 'https://other.example', JwksUri: 'https://other.example/keys' })) as any).value;
    expect(propertiesMatchConfig(request, { issuer: ISSUER, jwksUri: JWKS_URI })).toEqual([
      expect.stringMatching(/Issuer "https:\/\/other.example" is not the function's issuer/),
      expect.stringMatching(/JwksUri "https:\/\/other.example\/keys" is not the function's JWKS URL/),
    ]);
  });

  test('a success carries the key set, its hash and count; one that would not fit 4 KB becomes a failure', () => {
    const request = (parseCfnRequest(cfnEvent('Create')) as any).value;
    const p = pinned(pinJwksDocument(doc([rsa.publicJwk])));
    const body = JSON.parse(cfnResponseBody(request, { status: 'SUCCESS', physicalResourceId: 'jwks-pin-x', pinned: p }, 'fallback'));
    expect(body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'jwks-pin-x', Data: { Jwks: p.canonical, Sha256: p.sha256, KeyCount: '1' } });
    const huge = { ...p, canonical: 'x'.repeat(4_000) };
    const failed = JSON.parse(cfnResponseBody(request, { status: 'SUCCESS', physicalResourceId: 'jwks-pin-x', pinned: huge }, 'fallback'));
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'fallback', Reason: expect.stringMatching(/CloudFormation accepts at most 4096/) });
    expect(failed.Data).toBeUndefined();
  });

  test('a failure keeps the physical id of an Update and truncates the reason', () => {
    const request = (parseCfnRequest(cfnEvent('Update')) as any).value;
    const body = JSON.parse(cfnResponseBody(request, { status: 'FAILED', reason: 'r'.repeat(5_000) }, 'fallback'));
    expect(body.PhysicalResourceId).toBe('jwks-pin-previous');
    expect(body.Reason.length).toBe(1_000);
  });

  test('the physical id is stable per issuer and JWKS URL', () => {
    expect(physicalIdOf({ issuer: ISSUER, jwksUri: JWKS_URI })).toBe(physicalIdOf({ issuer: ISSUER, jwksUri: JWKS_URI }));
    expect(physicalIdOf({ issuer: ISSUER })).not.toBe(physicalIdOf({ issuer: ISSUER, jwksUri: JWKS_URI }));
    expect(physicalIdOf({ issuer: ISSUER })).toMatch(/^jwks-pin-[0-9a-f]{24}$/);
  });
});

describe('drift', () => {
  const p = pinned(pinJwksDocument(doc([rsa.publicJwk])));
  test.each<[string, Checked<PinnedJwks>, 0 | 1, string]>([
    ['equal keys', { ok: true, value: p }, 0, 'UNCHANGED'],
    ['other keys', pinJwksDocument(doc([rsa2.publicJwk])), 1, 'CHANGED'],
    ['an unreachable or invalid issuer', { ok: false, problems: ['the JWKS answered HTTP 503'] }, 1, 'UNVERIFIABLE'],
  ])('%s', (_name, current, value, status) => {
    expect(driftOf(p.sha256, current)).toEqual({ value, status });
  });

  test.each<[string, unknown, RegExp | undefined]>([
    ['the scheduled event', driftEvent('a'.repeat(64)), undefined],
    ['another action', { action: 'PIN', pinnedSha256: 'a'.repeat(64) }, /action "PIN"/],
    ['an extra member', { ...driftEvent('a'.repeat(64)), issuer: 'https://evil.example' }, /unexpected members: issuer/],
    ['an uppercase hash', driftEvent('A'.repeat(64)), /not a lowercase hex SHA-256/],
    ['an unresolved token', driftEvent('${Token[TOKEN.1]}'), /not a lowercase hex SHA-256/],
    ['null', null, /not an object/],
  ])('parses %s', (_name, event, message) => {
    const r = parseDriftEvent(event);
    if (message === undefined) expect(r).toEqual({ ok: true, value: 'a'.repeat(64) });
    else expect(problemsOf(r)).toMatch(message);
  });
});
