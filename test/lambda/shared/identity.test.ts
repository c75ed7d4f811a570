import { generateKeyPairSync } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import { ConfigurationError } from '../../../lambda/shared/errors';
import {
  Fetcher,
  IdentityConfig,
  IdentityError,
  Jwks,
  TokenVerifier,
  bearerTokenFrom,
  createTokenVerifier,
  validateIdentityConfig,
  verifyIdentity,
} from '../../../lambda/shared/identity';
import { createTestIssuer, signJws } from './jwt-helper';

const COGNITO_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1';
const AUDIENCE = 'api://orders';
const CLIENT = 'client-abc';

// Keys are generated inside the test: one OIDC issuer (RS256), one Cognito pool (ES256), and an attacker who
// knows the issuer name and key id but not the private key.
const oidc = createTestIssuer({ issuer: 'https://idp.example.test/tenant-1', alg: 'RS256', kid: 'oidc-1' });
const cognito = createTestIssuer({ issuer: COGNITO_ISSUER, alg: 'ES256', kid: 'cognito-1' });
const attacker = createTestIssuer({ issuer: oidc.issuer, alg: 'RS256', kid: 'oidc-1' });

const oidcConfig: IdentityConfig = { issuer: oidc.issuer, audience: AUDIENCE, jwks: oidc.jwks };
const cognitoConfig: IdentityConfig = { issuer: COGNITO_ISSUER, clientId: CLIENT, tokenUse: 'access', jwks: cognito.jwks };
const oidcVerifier = createTokenVerifier(oidcConfig);
const cognitoVerifier = createTokenVerifier(cognitoConfig);

const oidcToken = (claims: Record<string, unknown> = {}, options = {}) => oidc.sign({ sub: 'alice', aud: AUDIENCE, ...claims }, options);
const cognitoToken = (claims: Record<string, unknown> = {}, options = {}) =>
  cognito.sign({ sub: 'bob', client_id: CLIENT, token_use: 'access', ...claims }, options);

async function reasonOf(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(IdentityError);
    return (err as IdentityError).reasonCode;
  }
  return 'ACCEPTED';
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const segments = (token: string) => token.split('.');

describe('valid tokens are accepted', () => {
  test('a Cognito access token with client_id, scopes and groups', async () => {
    const token = cognitoToken({ scope: 'orders/read orders/write', 'cognito:groups': ['analysts', 'eu'], username: 'bob' });
    const identity = await cognitoVerifier.verify(token);
    expect(identity).toMatchObject({
      subject: 'bob',
      issuer: COGNITO_ISSUER,
      groups: ['analysts', 'eu'],
      clientId: CLIENT,
      tokenUse: 'access',
      scopes: ['orders/read', 'orders/write'],
    });
    expect(identity.claims.username).toBe('bob');
    expect(identity.expiresAt).toBeGreaterThan(cognito.now());
  });

  test('an OIDC token with aud (string or array)', async () => {
    const identity = await oidcVerifier.verify(oidcToken());
    expect(identity).toMatchObject({ subject: 'alice', issuer: oidc.issuer, groups: [], scopes: [] });
    expect(identity.tokenUse).toBeUndefined();
    expect(identity.clientId).toBeUndefined();
    await expect(oidcVerifier.verify(oidcToken({ aud: ['other', AUDIENCE] }))).resolves.toMatchObject({ subject: 'alice' });
  });

  test('the identity is deeply frozen and its claims have no prototype', async () => {
    const identity = await cognitoVerifier.verify(cognitoToken({ 'cognito:groups': ['a'], nested: { x: [1] } }));
    expect(Object.isFrozen(identity)).toBe(true);
    expect(Object.isFrozen(identity.groups)).toBe(true);
    expect(Object.isFrozen(identity.scopes)).toBe(true);
    expect(Object.isFrozen(identity.claims)).toBe(true);
    expect(Object.isFrozen((identity.claims.nested as { x: number[] }).x)).toBe(true);
    expect(Object.getPrototypeOf(identity.claims)).toBeNull();
  });

  test('a Cognito ID token, whose client is its aud', async () => {
    const verifier = createTokenVerifier({ ...cognitoConfig, tokenUse: 'id' });
    const identity = await verifier.verify(cognito.sign({ sub: 'bob', aud: CLIENT, token_use: 'id', email: 'bob@example.test' }));
    expect(identity).toMatchObject({ subject: 'bob', clientId: CLIENT, tokenUse: 'id' });
  });

  test('a Cognito token with the global issuer format of the same pool', async () => {
    const token = cognitoToken({ iss: 'https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1' });
    await expect(cognitoVerifier.verify(token)).resolves.toMatchObject({ subject: 'bob' });
  });

  test.each(['RS384', 'RS512', 'ES384', 'ES512'] as const)('a %s token', async (alg) => {
    const idp = createTestIssuer({ alg, kid: `k-${alg}` });
    const verifier = createTokenVerifier({ issuer: idp.issuer, audience: AUDIENCE, jwks: idp.jwks });
    await expect(verifier.verify(idp.sign({ sub: 's', aud: AUDIENCE }))).resolves.toMatchObject({ subject: 's' });
  });

  test('an OIDC token matched by client_id or azp when clientId is configured', async () => {
    const verifier = createTokenVerifier({ issuer: oidc.issuer, clientId: ['svc-1', 'svc-2'], jwks: oidc.jwks });
    await expect(verifier.verify(oidc.sign({ sub: 'm2m', client_id: 'svc-2' }))).resolves.toMatchObject({ clientId: 'svc-2' });
    await expect(verifier.verify(oidc.sign({ sub: 'u', azp: 'svc-1' }))).resolves.toMatchObject({ clientId: 'svc-1' });
  });

  test('a custom groups claim and required scopes that are all present', async () => {
    const verifier = createTokenVerifier({ ...oidcConfig, groupsClaim: 'groups', requiredScopes: ['kb:read', 'kb:list'] });
    const identity = await verifier.verify(oidcToken({ groups: ['g1'], scope: 'kb:list openid kb:read' }));
    expect(identity.groups).toEqual(['g1']);
  });

  test('a token that expired within the configured clock skew', async () => {
    const token = oidcToken({ exp: oidc.now() - 20 });
    await expect(createTokenVerifier({ ...oidcConfig, clockSkewSeconds: 60 }).verify(token)).resolves.toMatchObject({ subject: 'alice' });
    expect(await reasonOf(oidcVerifier, token)).toBe('IDENTITY_EXPIRED');
  });
});

describe('hostile and invalid tokens are rejected', () => {
  const attackerJwk = { ...attacker.publicJwk };

  test.each<[string, () => string, string]>([
    // algorithm attacks
    ['alg none without a signature', () => oidcToken({}, { alg: 'none' }), 'IDENTITY_INVALID'],
    ['alg none with a junk signature', () => oidcToken({}, { alg: 'none', noneSignature: 'AAAA' }), 'IDENTITY_INVALID'],
    ['alg NONE (upper case)', () => oidcToken({}, { alg: 'NONE', noneSignature: 'AAAA' }), 'IDENTITY_INVALID'],
    ['algorithm confusion: HS256 keyed with the public key PEM', () => oidcToken({}, { alg: 'HS256' }), 'IDENTITY_INVALID'],
    ['algorithm confusion: HS256 keyed with the public JWK modulus', () => oidcToken({}, { alg: 'HS256', hmacSecret: oidc.publicJwk.n }), 'IDENTITY_INVALID'],
    ['HS512', () => oidcToken({}, { alg: 'HS512', hmacSecret: 'secret' }), 'IDENTITY_INVALID'],
    ['a header alg that differs from the JWK alg', () => {
      const [, payload] = segments(oidcToken());
      const input = `${b64({ alg: 'RS512', kid: 'oidc-1' })}.${payload}`;
      return `${input}.${signJws('RS512', input, oidc.privateKey).toString('base64url')}`;
    }, 'IDENTITY_INVALID'],
    // time
    ['expired', () => oidcToken({ exp: oidc.now() - 120 }), 'IDENTITY_EXPIRED'],
    ['not valid before a future nbf', () => oidcToken({ nbf: oidc.now() + 600 }), 'IDENTITY_EXPIRED'],
    ['without exp', () => oidcToken({ exp: undefined }), 'IDENTITY_CLAIMS_INVALID'],
    ['with a string exp', () => oidcToken({ exp: String(oidc.now() + 300) }), 'IDENTITY_INVALID'],
    // issuer and audience
    ['from another issuer', () => oidcToken({ iss: 'https://evil.example.test/tenant-1' }), 'IDENTITY_INVALID'],
    ['with a trailing slash on the issuer', () => oidcToken({ iss: `${oidc.issuer}/` }), 'IDENTITY_INVALID'],
    ['without iss', () => oidcToken({ iss: undefined }), 'IDENTITY_INVALID'],
    ['for another audience', () => oidcToken({ aud: 'api://payments' }), 'IDENTITY_INVALID'],
    ['without aud', () => oidcToken({ aud: undefined }), 'IDENTITY_INVALID'],
    // integrity
    ['with a tampered payload (sub swapped after signing)', () => {
      const [h, , s] = segments(oidcToken());
      return `${h}.${b64({ iss: oidc.issuer, sub: 'admin', aud: AUDIENCE, exp: oidc.now() + 300 })}.${s}`;
    }, 'IDENTITY_INVALID'],
    ['with a tampered header', () => {
      const [, p, s] = segments(oidcToken());
      return `${b64({ alg: 'RS256', kid: 'oidc-1', typ: 'at+jwt' })}.${p}.${s}`;
    }, 'IDENTITY_INVALID'],
    ['with a truncated signature', () => oidcToken().slice(0, -10), 'IDENTITY_INVALID'],
    ['signed by another key under the same kid', () => attacker.sign({ sub: 'alice', aud: AUDIENCE }), 'IDENTITY_INVALID'],
    ['with an unknown kid', () => oidcToken({}, { kid: 'rotated-away' }), 'IDENTITY_INVALID'],
    ['without kid', () => oidcToken({}, { kid: null }), 'IDENTITY_INVALID'],
    // keys offered by the token itself
    ['offering its own key in jwk (attacker kid)', () => attacker.sign({ sub: 'alice', aud: AUDIENCE }, { kid: 'attacker', header: { jwk: attackerJwk } }), 'IDENTITY_INVALID'],
    ['offering its own key in jwk (issuer kid)', () => attacker.sign({ sub: 'alice', aud: AUDIENCE }, { header: { jwk: attackerJwk } }), 'IDENTITY_INVALID'],
    ['pointing at a key URL in jku', () => attacker.sign({ sub: 'alice', aud: AUDIENCE }, { header: { jku: 'https://evil.example.test/jwks.json' } }), 'IDENTITY_INVALID'],
    ['pointing at a certificate URL in x5u', () => attacker.sign({ sub: 'alice', aud: AUDIENCE }, { header: { x5u: 'https://evil.example.test/cert.pem' } }), 'IDENTITY_INVALID'],
    ['embedding a certificate chain in x5c', () => oidcToken({}, { header: { x5c: ['MIIB'] } }), 'IDENTITY_INVALID'],
    ['demanding critical extensions', () => oidcToken({}, { header: { crit: ['b64'], b64: false } }), 'IDENTITY_INVALID'],
    ['even a legitimately signed token that carries jku', () => oidcToken({}, { header: { jku: 'https://idp.example.test/jwks.json' } }), 'IDENTITY_INVALID'],
    // parser differentials
    ['with a duplicate sub claim', () => oidcToken({}, { rawPayload: `{"iss":"${oidc.issuer}","aud":"${AUDIENCE}","exp":${oidc.now() + 300},"sub":"alice","sub":"admin"}` }), 'IDENTITY_INVALID'],
    ['with a duplicate alg header', () => oidcToken({}, { rawHeader: '{"alg":"RS256","kid":"oidc-1","alg":"none"}' }), 'IDENTITY_INVALID'],
    ['with a __proto__ claim', () => oidcToken({}, { rawPayload: `{"iss":"${oidc.issuer}","aud":"${AUDIENCE}","exp":${oidc.now() + 300},"sub":"a","__proto__":{"admin":true}}` }), 'IDENTITY_INVALID'],
    ['whose payload is an array', () => oidcToken({}, { rawPayload: '[1]' }), 'IDENTITY_INVALID'],
    ['whose payload is not JSON', () => oidcToken({}, { rawPayload: 'not json' }), 'IDENTITY_INVALID'],
    // shape
    ['an empty string', () => '', 'IDENTITY_MISSING'],
    ['a bare word', () => 'token', 'IDENTITY_INVALID'],
    ['two segments', () => segments(oidcToken()).slice(0, 2).join('.'), 'IDENTITY_INVALID'],
    ['a five-segment JWE', () => `${oidcToken()}.AAAA.BBBB`, 'IDENTITY_INVALID'],
    ['base64 with padding', () => oidcToken().replace('.', '=.'), 'IDENTITY_INVALID'],
    ['longer than 16 KiB', () => oidcToken({ pad: 'x'.repeat(20_000) }), 'IDENTITY_INVALID'],
    // claims
    ['without sub', () => oidcToken({ sub: undefined }), 'IDENTITY_CLAIMS_INVALID'],
    ['with an empty sub', () => oidcToken({ sub: '' }), 'IDENTITY_CLAIMS_INVALID'],
    ['with groups that are a string', () => oidcToken({ 'cognito:groups': 'admins' }), 'IDENTITY_CLAIMS_INVALID'],
    ['with groups that hold a non-string', () => oidcToken({ 'cognito:groups': ['a', 1] }), 'IDENTITY_CLAIMS_INVALID'],
  ])('%s', async (_name, makeToken, expected) => {
    expect(await reasonOf(oidcVerifier, makeToken())).toBe(expected);
  });

  test.each<[string, () => string, string]>([
    ['with another client_id', () => cognitoToken({ client_id: 'client-evil' }), 'IDENTITY_INVALID'],
    ['without client_id', () => cognitoToken({ client_id: undefined }), 'IDENTITY_INVALID'],
    ['an ID token where access tokens are expected', () => cognito.sign({ sub: 'bob', aud: CLIENT, token_use: 'id' }), 'IDENTITY_INVALID'],
    ['without token_use', () => cognitoToken({ token_use: undefined }), 'IDENTITY_INVALID'],
    ['from another user pool', () => cognitoToken({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool' }), 'IDENTITY_INVALID'],
    ['from the same pool id in another region', () => cognitoToken({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_TestPool1' }), 'IDENTITY_INVALID'],
    ['signed with the OIDC issuer key', () => oidc.sign({ iss: COGNITO_ISSUER, sub: 'bob', client_id: CLIENT, token_use: 'access' }, { kid: 'cognito-1' }), 'IDENTITY_INVALID'],
    ['an RS256 token when only ES256 keys exist', () => cognitoToken({}, { alg: 'RS256', privateKey: oidc.privateKey }), 'IDENTITY_INVALID'],
  ])('Cognito: %s', async (_name, makeToken, expected) => {
    expect(await reasonOf(cognitoVerifier, makeToken())).toBe(expected);
  });

  test('an algorithm outside the configured subset', async () => {
    const verifier = createTokenVerifier({ ...oidcConfig, algorithms: ['ES256'] });
    expect(await reasonOf(verifier, oidcToken())).toBe('IDENTITY_INVALID');
  });

  test('an ES256 header against an RSA key published without alg', async () => {
    const idp = createTestIssuer({ alg: 'RS256', kid: 'no-alg', jwkAlg: false });
    const verifier = createTokenVerifier({ issuer: idp.issuer, audience: AUDIENCE, jwks: idp.jwks });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await reasonOf(verifier, idp.sign({ sub: 's', aud: AUDIENCE }, { alg: 'ES256', privateKey: ec.privateKey }))).toBe('IDENTITY_INVALID');
    // The same key still verifies the other RSA algorithms, as a JWK without alg allows.
    await expect(verifier.verify(idp.sign({ sub: 's', aud: AUDIENCE }, { alg: 'RS512' }))).resolves.toMatchObject({ subject: 's' });
  });

  test('an OIDC token whose client is not configured', async () => {
    const verifier = createTokenVerifier({ issuer: oidc.issuer, clientId: 'svc-1', jwks: oidc.jwks });
    expect(await reasonOf(verifier, oidc.sign({ sub: 'x', client_id: 'svc-9' }))).toBe('IDENTITY_INVALID');
    expect(await reasonOf(verifier, oidc.sign({ sub: 'x' }))).toBe('IDENTITY_INVALID');
  });

  test('a token that lacks one of the required scopes', async () => {
    const verifier = createTokenVerifier({ ...oidcConfig, requiredScopes: ['kb:read', 'kb:write'] });
    expect(await reasonOf(verifier, oidcToken({ scope: 'kb:read' }))).toBe('IDENTITY_CLAIMS_INVALID');
    expect(await reasonOf(verifier, oidcToken())).toBe('IDENTITY_CLAIMS_INVALID');
  });

  test('a non-string token', async () => {
    expect(await reasonOf(oidcVerifier, undefined as unknown as string)).toBe('IDENTITY_MISSING');
  });
});

describe('keys fetched from the JWKS URI', () => {
  function countingFetcher(body: () => string): Fetcher & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      fetch: async (uri: string) => {
        calls.push(uri);
        return new TextEncoder().encode(body()).buffer as ArrayBuffer;
      },
    };
  }

  test('are fetched once per container and fetcher, from the configured URI', async () => {
    const fetcher = countingFetcher(() => JSON.stringify(oidc.jwks));
    const config: IdentityConfig = { issuer: oidc.issuer, audience: AUDIENCE, jwksUri: 'https://idp.example.test/keys', jwksFetcher: fetcher };
    const first = createTokenVerifier(config);
    await first.verify(oidcToken());
    await first.verify(oidcToken());
    await createTokenVerifier(config).verify(oidcToken());
    expect(fetcher.calls).toEqual(['https://idp.example.test/keys']);
  });

  test('default to <issuer>/.well-known/jwks.json, and hydrate prefetches them', async () => {
    const fetcher = countingFetcher(() => JSON.stringify(oidc.jwks));
    const verifier = createTokenVerifier({ issuer: oidc.issuer, audience: AUDIENCE, jwksFetcher: fetcher });
    await verifier.hydrate();
    await verifier.verify(oidcToken());
    expect(fetcher.calls).toEqual([`${oidc.issuer}/.well-known/jwks.json`]);
  });

  test('an unknown kid triggers one refetch, then the penalty box stops further fetches', async () => {
    const fetcher = countingFetcher(() => JSON.stringify(oidc.jwks));
    const verifier = createTokenVerifier({ issuer: oidc.issuer, audience: AUDIENCE, jwksFetcher: fetcher });
    await verifier.verify(oidcToken());
    expect(await reasonOf(verifier, oidcToken({}, { kid: 'unknown-1' }))).toBe('IDENTITY_INVALID');
    expect(await reasonOf(verifier, oidcToken({}, { kid: 'unknown-2' }))).toBe('IDENTITY_INVALID');
    expect(fetcher.calls).toHaveLength(2);
  });

  test('a failed fetch is an upstream fault, not the caller\'s', async () => {
    const throttled: Fetcher = { fetch: async () => { throw Object.assign(new Error('429'), { $metadata: { httpStatusCode: 429 } }); } };
    const down: Fetcher = { fetch: async () => { throw new Error('connect ECONNREFUSED'); } };
    expect(await reasonOf(createTokenVerifier({ ...oidcConfig, jwks: undefined, jwksFetcher: throttled }), oidcToken())).toBe('UPSTREAM_THROTTLED');
    expect(await reasonOf(createTokenVerifier({ ...oidcConfig, jwks: undefined, jwksFetcher: down }), oidcToken())).toBe('UPSTREAM_UNAVAILABLE');
  });

  test('a JWKS that is not valid JSON is a malformed upstream response', async () => {
    const fetcher = countingFetcher(() => '<html>oops</html>');
    expect(await reasonOf(createTokenVerifier({ ...oidcConfig, jwks: undefined, jwksFetcher: fetcher }), oidcToken())).toBe('UPSTREAM_MALFORMED_RESPONSE');
  });

  test('an EdDSA token is rejected even when the fetched JWKS holds its Ed25519 key', async () => {
    const ed = generateKeyPairSync('ed25519');
    const edJwk = { ...(ed.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'ed-1', use: 'sig' };
    const fetcher = countingFetcher(() => JSON.stringify({ keys: [...oidc.jwks.keys, edJwk] }));
    const verifier = createTokenVerifier({ ...oidcConfig, jwks: undefined, jwksFetcher: fetcher });
    const token = oidcToken({}, { alg: 'EdDSA', kid: 'ed-1', privateKey: ed.privateKey });
    expect(await reasonOf(verifier, token)).toBe('IDENTITY_INVALID');
    // Control: aws-jwt-verify alone would accept this token; the allowlist is what rejects it.
    const plain = JwtVerifier.create({ issuer: oidc.issuer, audience: AUDIENCE, jwksUri: 'https://idp.example.test/ed' });
    plain.cacheJwks({ keys: [edJwk] } as unknown as Jwks);
    await expect(plain.verify(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  test('structural checks run before any fetch', async () => {
    const fetcher = countingFetcher(() => JSON.stringify(oidc.jwks));
    const verifier = createTokenVerifier({ ...oidcConfig, jwks: undefined, jwksFetcher: fetcher });
    await reasonOf(verifier, oidcToken({}, { alg: 'HS256' }));
    await reasonOf(verifier, attacker.sign({ sub: 'a', aud: AUDIENCE }, { header: { jku: 'https://evil.example.test/' } }));
    expect(fetcher.calls).toEqual([]);
  });
});

describe('configuration', () => {
  const fetcher: Fetcher = { fetch: async () => new ArrayBuffer(0) };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateJwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;

  test.each<[string, Partial<IdentityConfig> & Record<string, unknown>, string]>([
    ['an http issuer', { issuer: 'http://idp.example.test' }, 'issuer must use https'],
    ['an issuer that is not a URL', { issuer: 'idp.example.test' }, 'issuer must be an absolute https URL'],
    ['an empty issuer', { issuer: '' }, 'issuer must be a non-empty string'],
    ['an issuer with a fragment', { issuer: 'https://idp.example.test/#x' }, 'fragment'],
    ['an http jwksUri', { jwksUri: 'http://idp.example.test/keys' }, 'jwksUri must use https'],
    ['OIDC without audience or clientId', { audience: undefined }, 'audience or clientId is required'],
    ['OIDC with tokenUse', { tokenUse: 'access' }, 'tokenUse applies only to a Cognito'],
    ['an empty audience list', { audience: [] }, 'audience must be a non-empty string'],
    ['an audience with spaces around it', { audience: ' api ' }, 'audience must be'],
    ['a clock skew above 60 s', { clockSkewSeconds: 61 }, 'clockSkewSeconds must be an integer from 0 to 60, got 61'],
    ['a negative clock skew', { clockSkewSeconds: -1 }, 'clockSkewSeconds'],
    ['a fractional clock skew', { clockSkewSeconds: 1.5 }, 'clockSkewSeconds'],
    ['an empty algorithm list', { algorithms: [] }, 'algorithms must be a non-empty subset'],
    ['HS256 in the algorithm list', { algorithms: ['RS256', 'HS256' as never] }, 'algorithms must be a non-empty subset of RS256, RS384, RS512, ES256, ES384, ES512, got ["RS256","HS256"]'],
    ['none in the algorithm list', { algorithms: ['none' as never] }, 'algorithms'],
    ['EdDSA in the algorithm list', { algorithms: ['EdDSA' as never] }, 'algorithms'],
    ['a JWKS with a private key', { jwks: { keys: [{ ...privateJwk, kid: 'p' }] } as unknown as Jwks }, 'carries private or symmetric key material (d, p, q, dp, dq, qi)'],
    ['a JWKS with a symmetric key', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }] } as Jwks }, 'must be an RSA or EC public key'],
    ['a JWKS without keys', { jwks: { keys: [] } as Jwks }, 'at least one key'],
    ['something that is not a JWKS', { jwks: { nope: true } as unknown as Jwks }, 'jwks must be a JWKS object'],
    ['pinned keys and a fetcher', { jwksFetcher: fetcher }, 'exclusive'],
    ['a fetcher without fetch', { jwks: undefined, jwksFetcher: {} as Fetcher }, 'jwksFetcher must have a fetch'],
    ['a scope with a space', { requiredScopes: ['a b'] }, 'requiredScopes must be an array of scope tokens'],
    ['a __proto__ groups claim', { groupsClaim: '__proto__' }, 'groupsClaim must be a claim name'],
    ['a tiny maxTokenLength', { maxTokenLength: 10 }, 'maxTokenLength must be an integer from 256 to 65536'],
  ])('fails on %s', (_name, override, message) => {
    const config = { ...oidcConfig, ...override } as IdentityConfig;
    expect(validateIdentityConfig(config).join('\n')).toContain(message);
    expect(() => createTokenVerifier(config)).toThrow(ConfigurationError);
    expect(() => createTokenVerifier(config)).toThrow(message);
  });

  test.each<[string, Partial<IdentityConfig>, string]>([
    ['Cognito without clientId', { clientId: undefined }, 'clientId is required for a Cognito user pool'],
    ['Cognito without tokenUse', { tokenUse: undefined }, 'tokenUse must be "access" or "id"'],
    ['Cognito with a bad tokenUse', { tokenUse: 'refresh' as never }, 'tokenUse must be "access" or "id"'],
    ['Cognito with audience', { audience: 'x' }, 'audience does not apply to a Cognito user pool'],
    ['Cognito with a foreign jwksUri', { jwksUri: 'https://evil.example.test/jwks.json' }, `jwksUri of a Cognito user pool must be ${COGNITO_ISSUER}/.well-known/jwks.json`],
  ])('fails on %s', (_name, override, message) => {
    const config = { ...cognitoConfig, ...override } as IdentityConfig;
    expect(() => createTokenVerifier(config)).toThrow(message);
  });

  test('a ConfigurationError lists every problem and carries MISCONFIGURED', () => {
    try {
      createTokenVerifier({ issuer: 'http://x', clockSkewSeconds: 600 } as IdentityConfig);
      throw new Error('not thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).reasonCode).toBe('MISCONFIGURED');
      expect((err as ConfigurationError).problems).toHaveLength(3);
    }
  });

  test('a non-object configuration', () => {
    expect(validateIdentityConfig(undefined as unknown as IdentityConfig)).toEqual(['identity configuration must be an object']);
  });

  test('valid configurations have no problems', () => {
    expect(validateIdentityConfig(oidcConfig)).toEqual([]);
    expect(validateIdentityConfig(cognitoConfig)).toEqual([]);
    expect(validateIdentityConfig({ issuer: 'https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_Ab1', clientId: 'c', tokenUse: 'id' })).toEqual([]);
  });
});

describe('bearerTokenFrom', () => {
  const jwt = 'aaa.bbb.ccc';
  test.each<[string, Record<string, any> | undefined | null, string | undefined]>([
    ['a canonical Authorization header', { Authorization: `Bearer ${jwt}` }, jwt],
    ['a lower-case header name', { authorization: `Bearer ${jwt}` }, jwt],
    ['an upper-case header name', { AUTHORIZATION: `Bearer ${jwt}` }, jwt],
    ['a lower-case scheme', { authorization: `bearer ${jwt}` }, jwt],
    ['a single-valued multi-value header', { authorization: [`Bearer ${jwt}`] }, jwt],
    ['an unsigned-shaped token (verification rejects it later)', { authorization: 'Bearer aaa.bbb.' }, 'aaa.bbb.'],
    ['no headers', undefined, undefined],
    ['null headers', null, undefined],
    ['no Authorization header', { 'x-api-key': 'k' }, undefined],
    ['two Authorization headers differing in case', { Authorization: `Bearer ${jwt}`, authorization: `Bearer ${jwt}` }, undefined],
    ['a multi-value header with two values', { authorization: [`Bearer ${jwt}`, `Bearer ${jwt}`] }, undefined],
    ['an empty multi-value header', { authorization: [] }, undefined],
    ['a Basic scheme', { authorization: 'Basic dXNlcjpwYXNz' }, undefined],
    ['no scheme', { authorization: jwt }, undefined],
    ['two spaces', { authorization: `Bearer  ${jwt}` }, undefined],
    ['a trailing space', { authorization: `Bearer ${jwt} ` }, undefined],
    ['a leading space', { authorization: ` Bearer ${jwt}` }, undefined],
    ['two tokens', { authorization: `Bearer ${jwt} ${jwt}` }, undefined],
    ['a token that is not a JWT', { authorization: 'Bearer opaque-token' }, undefined],
    ['a comma-joined pair', { authorization: `Bearer ${jwt}, Bearer ${jwt}` }, undefined],
    ['a null value', { authorization: null }, undefined],
    ['a non-string value', { authorization: 42 }, undefined],
    ['an oversized value', { authorization: `Bearer a.${'b'.repeat(20_000)}.c` }, undefined],
  ])('%s', (_name, headers, expected) => {
    expect(bearerTokenFrom(headers)).toBe(expected);
  });
});

describe('verifyIdentity', () => {
  test('allows with the identity', async () => {
    const decision = await verifyIdentity(oidcVerifier, oidcToken());
    expect(decision).toMatchObject({ outcome: 'ALLOW', reasonCode: 'ALLOWED', identity: { subject: 'alice' } });
  });

  test.each([undefined, ''])('denies IDENTITY_MISSING for %p', async (token) => {
    await expect(verifyIdentity(oidcVerifier, token)).resolves.toEqual({ outcome: 'DENY', reasonCode: 'IDENTITY_MISSING', detail: 'no bearer token' });
  });

  test('denies with the reason code and a detail for logs', async () => {
    const decision = await verifyIdentity(oidcVerifier, oidcToken({ exp: oidc.now() - 100 }));
    expect(decision.outcome).toBe('DENY');
    expect(decision.reasonCode).toBe('IDENTITY_EXPIRED');
    expect(decision).toMatchObject({ detail: expect.stringContaining('IdentityError') });
  });

  test('composes with bearerTokenFrom', async () => {
    const headers = { Authorization: `Bearer ${cognitoToken()}` };
    await expect(verifyIdentity(cognitoVerifier, bearerTokenFrom(headers))).resolves.toMatchObject({ outcome: 'ALLOW' });
    await expect(verifyIdentity(cognitoVerifier, bearerTokenFrom({ Authorization: `Basic x` }))).resolves.toMatchObject({ reasonCode: 'IDENTITY_MISSING' });
  });

  test('never rejects, even when the verifier throws something odd', async () => {
    const broken: TokenVerifier = { verify: async () => { throw 'weird'; }, hydrate: async () => undefined };
    await expect(verifyIdentity(broken, 'a.b.c')).resolves.toMatchObject({ outcome: 'DENY', reasonCode: 'INTERNAL_ERROR' });
  });

  test('verifies a token in about a millisecond once keys are cached', async () => {
    const token = oidcToken();
    await oidcVerifier.verify(token);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) await oidcVerifier.verify(token);
    expect(Number(process.hrtime.bigint() - start) / 1e6 / 200).toBeLessThan(5);
  });
});
