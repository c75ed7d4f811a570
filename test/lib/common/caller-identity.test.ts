import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { CallerIdentity, CognitoTokenUse } from '../../../lib/common/caller-identity';
import { IDENTITY_ENV_VAR, identityConfigFromEnv } from '../../../lambda/shared/identity-env';
import { TEST_ENV, testStack } from '../../rig/synth';

/** The environment a handler would see, with CloudFormation tokens resolved the way the test stack renders them. */
function resolvedEnv(stack: Stack, identity: CallerIdentity): Record<string, string> {
  const env = identity.environment(stack);
  const resolved = stack.resolve(env[IDENTITY_ENV_VAR]);
  // Flatten Fn::Join into a string with placeholder ids, so the handler-side parser can check the shape.
  const flatten = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(flatten).join(v['Fn::Join'][0]);
    if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return 'us-east-1_Placeholder'; // the user pool id
  };
  return { [IDENTITY_ENV_VAR]: flatten(resolved) };
}

describe('CallerIdentity', () => {
  test('Cognito: access tokens of the given clients, with the groups claim, readable by the handler', () => {
    const stack = testStack({ env: TEST_ENV });
    const pool = new cognito.UserPool(stack, 'Pool');
    const client = pool.addClient('Client');
    const identity = CallerIdentity.cognito({ userPool: pool, clients: [client], requiredScopes: ['tools/invoke'] });
    const config = identityConfigFromEnv(resolvedEnv(stack, identity)) as any;
    expect(config.issuer).toMatch(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//);
    expect(config.tokenUse).toBe('access');
    expect(config.groupsClaim).toBe('cognito:groups');
    expect(config.requiredScopes).toEqual(['tools/invoke']);
    expect(identity.discoveryUrl).toMatch(/\/\.well-known\/openid-configuration$/);
  });

  test('Cognito ID tokens on request', () => {
    const stack = testStack({ env: TEST_ENV });
    const pool = new cognito.UserPool(stack, 'Pool');
    const identity = CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('C')], tokenUse: CognitoTokenUse.ID });
    expect((identityConfigFromEnv(resolvedEnv(stack, identity)) as any).tokenUse).toBe('id');
  });

  test('OIDC: issuer, audiences and clients pass through exactly', () => {
    const stack = testStack();
    const identity = CallerIdentity.oidc({ issuer: 'https://login.example.com/', audiences: ['api://tools'], clientIds: ['app'], groupsClaim: 'roles' });
    const config = identityConfigFromEnv(resolvedEnv(stack, identity)) as any;
    expect(config).toEqual({ issuer: 'https://login.example.com', audience: ['api://tools'], clientId: ['app'], groupsClaim: 'roles' });
    expect(identity.allowedAudiences).toEqual(['api://tools']);
  });

  test('withPinnedKeys: the same configuration plus the pinned key set, embedded raw', () => {
    const stack = testStack();
    const unpinned = CallerIdentity.oidc({ issuer: 'https://login.example.com', audiences: ['api://tools'], jwksUri: 'https://login.example.com/keys' });
    const pinned = unpinned.withPinnedKeys(stack);
    const jwks = '{"keys":[{"e":"AQAB","kid":"k1","kty":"RSA","n":"' + 'A'.repeat(342) + '"}]}';
    const raw = JSON.stringify(stack.resolve(pinned.environment(stack)[IDENTITY_ENV_VAR]));
    const text = (stack.resolve(pinned.environment(stack)[IDENTITY_ENV_VAR]) as any)['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : jwks)).join('');
    expect(raw).toContain('"Fn::GetAtt"');
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({ ...JSON.parse(stack.resolve(unpinned.environment(stack)[IDENTITY_ENV_VAR])), jwks: JSON.parse(jwks) });
    expect(pinned.issuer).toBe(unpinned.issuer);
    expect(pinned.allowedAudiences).toEqual(['api://tools']);
    expect(pinned.discoveryUrl).toBe('https://login.example.com/.well-known/openid-configuration');
  });

  test.each<[string, () => unknown, RegExp]>([
    ['an http issuer', () => CallerIdentity.oidc({ issuer: 'http://login.example.com', audiences: ['a'] }), /issuer is "http:\/\/login.example.com"; allowed: an https URL/],
    ['no API audience (a client-only check would accept ID tokens)', () => CallerIdentity.oidc({ issuer: 'https://login.example.com', audiences: [], clientIds: ['app'] }), /audiences is empty; allowed: at least one API audience/],
    ['a clock skew over a minute', () => CallerIdentity.oidc({ issuer: 'https://l.example.com', audiences: ['a'], clockSkewSeconds: 300 }), /clockSkewSeconds is 300; allowed: a whole number from 0 to 60/],
    ['no Cognito clients', () => {
      const stack = testStack();
      return CallerIdentity.cognito({ userPool: new cognito.UserPool(stack, 'P'), clients: [] });
    }, /clients is empty/],
  ])('fails at synth with %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});
