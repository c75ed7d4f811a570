/**
 * A test identity provider: key pairs generated in the test process, a public JWKS, and a signer that can also
 * produce the malformed and hostile tokens a negative suite needs. Reusable by every handler test.
 *
 *   const idp = createTestIssuer();
 *   const verifier = createTokenVerifier({ issuer: idp.issuer, audience: 'api', jwks: idp.jwks });
 *   const token = idp.sign({ sub: 'alice', aud: 'api' });
 */
import { createHmac, generateKeyPairSync, KeyObject, sign as cryptoSign } from 'node:crypto';
import type { Jwk, Jwks } from '../../../lambda/shared/identity';

/** Algorithms the test issuer can sign with. */
export type TestAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

export interface TestIssuerOptions {
  /** @default 'https://idp.example.test/tenant-1' */
  readonly issuer?: string;
  /** @default 'RS256' */
  readonly alg?: TestAlgorithm;
  /** @default 'test-key-1' */
  readonly kid?: string;
  /** Publish `alg` on the JWK. @default true */
  readonly jwkAlg?: boolean;
}

export interface SignOptions {
  /**
   * Header `alg`. RS*, ES* sign with the (issuer's) private key, HS* is an HMAC keyed with `hmacSecret`, `EdDSA` signs
   * with `privateKey` (an Ed25519 key) when given; anything else (`none`) gets `noneSignature`. @default the issuer's
   */
  readonly alg?: string;
  /** Header `kid`; `null` leaves it out. @default the issuer's */
  readonly kid?: string | null;
  /** Extra header parameters (e.g. `jwk`, `jku`, `x5u`, `typ`). */
  readonly header?: Record<string, unknown>;
  /** Sign with this private key instead of the issuer's. */
  readonly privateKey?: KeyObject;
  /** HMAC secret for `alg: 'HS256'`. @default the issuer's public key PEM (the algorithm-confusion attack) */
  readonly hmacSecret?: string | Buffer;
  /** Use this exact header JSON text (for duplicate-key tests). */
  readonly rawHeader?: string;
  /** Use this exact payload JSON text instead of the claims. */
  readonly rawPayload?: string;
  /** Signature segment of an unsigned token (`alg: 'none'` and other unknown algorithms). @default '' */
  readonly noneSignature?: string;
}

export interface TestIssuer {
  readonly issuer: string;
  readonly kid: string;
  readonly alg: TestAlgorithm;
  /** The public JWKS (one key), ready for `IdentityConfig.jwks`. */
  readonly jwks: Jwks;
  /** The public JWK. */
  readonly publicJwk: Jwk & { readonly kid: string };
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  /** Current time in whole seconds. */
  now(): number;
  /**
   * Signs `claims` over defaults `{ iss, iat: now, exp: now + 300 }`; a claim set to `undefined` is left out.
   */
  sign(claims?: Record<string, unknown>, options?: SignOptions): string;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function hashOf(alg: string): string {
  return `sha${alg.slice(2)}`;
}

function generate(alg: TestAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  if (alg.startsWith('RS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  const namedCurve = alg === 'ES256' ? 'P-256' : alg === 'ES384' ? 'P-384' : 'P-521';
  return generateKeyPairSync('ec', { namedCurve });
}

/** Signs `input` with an asymmetric key as JWS `alg` does. */
export function signJws(alg: string, input: string, key: KeyObject): Buffer {
  if (alg.startsWith('RS')) return cryptoSign(hashOf(alg), Buffer.from(input), key);
  if (alg.startsWith('ES')) return cryptoSign(hashOf(alg), Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return cryptoSign(null, Buffer.from(input), key);
  throw new Error(`signJws: unsupported alg ${alg}`);
}

/** Creates a test issuer with a fresh key pair. */
export function createTestIssuer(options: TestIssuerOptions = {}): TestIssuer {
  const issuer = options.issuer ?? 'https://idp.example.test/tenant-1';
  const alg = options.alg ?? 'RS256';
  const kid = options.kid ?? 'test-key-1';
  const { publicKey, privateKey } = generate(alg);
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const publicJwk = { ...exported, kid, use: 'sig', ...(options.jwkAlg === false ? {} : { alg }) } as Jwk & { kid: string };
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const now = (): number => Math.floor(Date.now() / 1000);

  const sign = (claims: Record<string, unknown> = {}, o: SignOptions = {}): string => {
    const headerAlg = o.alg ?? alg;
    const header: Record<string, unknown> = { alg: headerAlg, typ: 'JWT', ...(o.kid === null ? {} : { kid: o.kid ?? kid }), ...o.header };
    const t = now();
    const payload = { iss: issuer, iat: t, exp: t + 300, ...claims };
    const input = `${b64url(o.rawHeader ?? JSON.stringify(header))}.${b64url(o.rawPayload ?? JSON.stringify(payload))}`;
    if (headerAlg === 'EdDSA' && o.privateKey) return `${input}.${signJws(headerAlg, input, o.privateKey).toString('base64url')}`;
    if (!/^(RS|ES|HS)(256|384|512)$/.test(headerAlg)) return `${input}.${o.noneSignature ?? ''}`;
    if (headerAlg.startsWith('HS')) {
      const secret = o.hmacSecret ?? publicKeyPem;
      return `${input}.${createHmac(hashOf(headerAlg), secret).update(input).digest('base64url')}`;
    }
    return `${input}.${signJws(headerAlg, input, o.privateKey ?? privateKey).toString('base64url')}`;
  };

  return {
    issuer,
    kid,
    alg,
    jwks: { keys: [publicJwk] },
    publicJwk,
    publicKey,
    privateKey,
    publicKeyPem,
    now,
    sign,
  };
}
