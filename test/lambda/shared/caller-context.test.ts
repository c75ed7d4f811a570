import {
  CALLER_TOKEN_ARGUMENT,
  callerTokenFromArguments,
  gatewayToolName,
  withoutReservedArguments,
} from '../../../lambda/shared/caller-context';
import { IDENTITY_ENV_VAR, identityConfigFromEnv } from '../../../lambda/shared/identity-env';
import { createTestIssuer } from './jwt-helper';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe('callerTokenFromArguments', () => {
  test.each<[string, unknown, string | undefined]>([
    ['a compact JWS set by the interceptor', { [CALLER_TOKEN_ARGUMENT]: JWT, q: 1 }, JWT],
    ['no reserved argument', { q: 1 }, undefined],
    ['a non-string value', { [CALLER_TOKEN_ARGUMENT]: { token: JWT } }, undefined],
    ['a string that is not a JWS', { [CALLER_TOKEN_ARGUMENT]: 'alice' }, undefined],
    ['a JWS with whitespace', { [CALLER_TOKEN_ARGUMENT]: ` ${JWT}` }, undefined],
    ['an inherited (prototype) value', Object.create({ [CALLER_TOKEN_ARGUMENT]: JWT }), undefined],
    ['an array', [JWT], undefined],
    ['null', null, undefined],
  ])('%s', (_name, args, expected) => {
    expect(callerTokenFromArguments(args)).toBe(expected);
  });
});

test('withoutReservedArguments removes the caller token and keeps the rest, with no prototype', () => {
  const out = withoutReservedArguments({ [CALLER_TOKEN_ARGUMENT]: JWT, query: 'x', n: 2 });
  expect(Object.keys(out).sort()).toEqual(['n', 'query']);
  expect(Object.getPrototypeOf(out)).toBeNull();
});

describe('gatewayToolName', () => {
  test.each<[string, unknown, string | undefined]>([
    ['target-prefixed name', { bedrockAgentCoreToolName: 'Knowledge___search_knowledge' }, 'search_knowledge'],
    ['bare name', { bedrockAgentCoreToolName: 'recall' }, 'recall'],
    ['missing', {}, undefined],
    ['not a string', { bedrockAgentCoreToolName: 7 }, undefined],
    ['characters outside the tool-name alphabet', { bedrockAgentCoreToolName: 'T___recall;rm' }, undefined],
    ['empty after the prefix', { bedrockAgentCoreToolName: 'T___' }, undefined],
    ['no client context', undefined, undefined],
  ])('%s', (_name, custom, expected) => {
    expect(gatewayToolName(custom)).toBe(expected);
  });
});

describe('identityConfigFromEnv', () => {
  const cognito = { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc', clientId: ['c1'], tokenUse: 'access' };
  test('reads a valid configuration', () => {
    expect(identityConfigFromEnv({ [IDENTITY_ENV_VAR]: JSON.stringify(cognito) })).toEqual(cognito);
  });
  test.each<[string, string | undefined, RegExp]>([
    ['missing', undefined, /is not set/],
    ['not JSON', '{issuer:', /not valid JSON/],
    ['duplicate keys (strict parse)', '{"issuer":"https://a","issuer":"https://b"}', /not valid JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['an empty pinned key set', JSON.stringify({ ...cognito, jwks: { keys: [] } }), /jwks.keys must be an array of 1 to 10 keys/],
    ['an invalid configuration', JSON.stringify({ issuer: 'https://issuer.example.com' }), /is invalid/],
    ['a fetcher smuggled through the environment', JSON.stringify({ ...cognito, jwksFetcher: {} }), /unsupported keys: jwksFetcher/],
  ])('fails closed (MISCONFIGURED) when %s', (_name, raw, message) => {
    let caught: unknown;
    try {
      identityConfigFromEnv(raw === undefined ? {} : { [IDENTITY_ENV_VAR]: raw });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ reasonCode: 'MISCONFIGURED' });
    expect(String((caught as Error).message)).toMatch(message);
  });
});

describe('identityConfigFromEnv with keys pinned at deploy time (jwks)', () => {
  const idp = createTestIssuer({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc' });
  const base = { issuer: idp.issuer, clientId: ['c1'], tokenUse: 'access' };
  const pub = { ...idp.publicJwk };
  const env = (jwks: unknown): Record<string, string> => ({ [IDENTITY_ENV_VAR]: JSON.stringify({ ...base, jwks }) });

  test('accepts the pinned public key set', () => {
    expect((identityConfigFromEnv(env({ keys: [pub] })) as any).jwks).toEqual({ keys: [pub] });
  });

  test.each<[string, unknown, RegExp]>([
    ['a private key member (d)', { keys: [{ ...pub, d: 'AQAB' }] }, /keys\[0\] has members a pinned public key never has: d/],
    ['a symmetric key', { keys: [{ kty: 'oct', kid: 's', k: 'c2VjcmV0' }] }, /never has: k[\s\S]*RSA or EC public key/],
    ['a certificate chain', { keys: [{ ...pub, x5c: ['MIIC'] }] }, /never has: x5c/],
    ['a key without kid', { keys: [{ ...pub, kid: undefined }] }, /keys\[0\] has no valid kid/],
    ['duplicate kids', { keys: [pub, pub] }, /keys\[1\] repeats kid "test-key-1"/],
    ['too many keys', { keys: Array.from({ length: 11 }, (_, i) => ({ ...pub, kid: `k${i}` })) }, /1 to 10 keys/],
    ['members beside keys', { keys: [pub], jku: 'https://evil.example' }, /jwks has unsupported members: jku/],
    ['a key set that is not an object', [pub], /jwks must be a JSON object/],
  ])('fails closed (MISCONFIGURED) when the pinned keys have %s', (_name, jwks, message) => {
    let caught: unknown;
    try {
      identityConfigFromEnv(env(jwks));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ reasonCode: 'MISCONFIGURED' });
    expect(String((caught as Error).message)).toMatch(message);
  });
});
