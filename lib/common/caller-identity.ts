import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { IDENTITY_ENV_VAR } from '../../lambda/shared/identity-env';
import { throwIfInvalid, validatePattern } from '../private/validation';
import { JwksPin, JwksPinOptions } from './jwks-pin';

/** Which Cognito token the library accepts as proof of the caller. */
export enum CognitoTokenUse {
  /** Access tokens (`token_use: access`, client checked against `client_id`). Recommended for APIs and MCP. */
  ACCESS = 'access',
  /** ID tokens (`token_use: id`, client checked against `aud`). */
  ID = 'id',
}

/** Options for {@link CallerIdentity.cognito}. */
export interface CognitoCallerIdentityOptions {
  /** The user pool that issues the tokens. */
  readonly userPool: cognito.IUserPool;
  /** App clients whose tokens are accepted (at least one). */
  readonly clients: cognito.IUserPoolClient[];
  /**
   * Which token is accepted.
   * @default CognitoTokenUse.ACCESS
   */
  readonly tokenUse?: CognitoTokenUse;
  /**
   * Scopes that must all be present in the token.
   * @default - none
   */
  readonly requiredScopes?: string[];
  /**
   * Allowed clock difference for expiry and not-before, 0 to 60 seconds.
   * @default 0
   */
  readonly clockSkewSeconds?: number;
}

/** Options for {@link CallerIdentity.oidc}. */
export interface OidcCallerIdentityOptions {
  /** The issuer (`iss`), an https URL compared exactly. Its discovery document is `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /**
   * The issuer's JWKS URL.
   * @default `<issuer>/.well-known/jwks.json`
   */
  readonly jwksUri?: string;
  /**
   * Accepted audiences (`aud`) of access tokens for this API: at least one. Required because OIDC has no standard
   * token-use claim, and an ID token's audience is its client: checking only the client would accept ID tokens.
   */
  readonly audiences: string[];
  /**
   * Accepted clients (`client_id`, else `azp`).
   * @default - the client is not checked
   */
  readonly clientIds?: string[];
  /**
   * Claim holding the caller's groups.
   * @default 'groups'
   */
  readonly groupsClaim?: string;
  /**
   * Scopes that must all be present in the token.
   * @default - none
   */
  readonly requiredScopes?: string[];
  /**
   * Allowed clock difference for expiry and not-before, 0 to 60 seconds.
   * @default 0
   */
  readonly clockSkewSeconds?: number;
}

/**
 * Who may call, as proven by a verified bearer token: the one description of token verification that the library's
 * handlers (interceptors, targets, approval API) and AgentCore's inbound JWT authorizer share.
 *
 * Identity never comes from a request body, a caller-controlled header or model output; handlers verify the
 * signature, algorithm, issuer, audience or client, token use, expiry and not-before themselves.
 */
export abstract class CallerIdentity {
  /** Tokens from a Cognito user pool (access tokens of the given app clients by default). */
  public static cognito(options: CognitoCallerIdentityOptions): CallerIdentity {
    return new CognitoCallerIdentity(options);
  }

  /** Tokens from any OIDC issuer that publishes a JWKS. */
  public static oidc(options: OidcCallerIdentityOptions): CallerIdentity {
    return new OidcCallerIdentity(options);
  }

  /** The issuer URL (may be a token). */
  public abstract readonly issuer: string;

  /** The OIDC discovery URL, as AgentCore's CUSTOM_JWT authorizer wants it. */
  public get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  /** Accepted client ids, if checked. */
  public abstract readonly allowedClients: string[] | undefined;

  /** Accepted audiences, if checked. */
  public abstract readonly allowedAudiences: string[] | undefined;

  /** Required scopes. */
  public abstract readonly requiredScopes: string[];

  /**
   * The environment variables a handler reads its identity configuration from.
   * @param scope any construct in the stack of the function
   */
  public environment(scope: Construct): { [key: string]: string } {
    return { [IDENTITY_ENV_VAR]: Stack.of(scope).toJsonString(this._config()) };
  }

  /**
   * This identity with the issuer's public keys pinned at deploy time: handlers verify tokens with the pinned keys
   * only and never fetch them, so verification works in isolated subnets (no internet path; Cognito's PrivateLink
   * endpoint does not serve user pools with a domain). A {@link JwksPin} is created once per stack and issuer (in the
   * stack of `scope` now, and in the stack of each function that takes `environment()`); its drift alarm fires when
   * the issuer's keys change, and a deployment with a new `repin` value pins the new keys.
   *
   * @param scope any construct in the stack that holds the pin
   */
  public withPinnedKeys(scope: Construct, options: JwksPinOptions = {}): PinnedCallerIdentity {
    return new PinnedCallerIdentity(this, scope, options);
  }

  /**
   * The identity configuration handlers read (the JSON of `environment()`), without pinned keys.
   * @internal
   */
  public abstract _config(): { [key: string]: unknown };

  /**
   * Where the issuer's keys are fetched from when they are pinned.
   * @internal
   */
  public abstract _jwksSource(): { issuer: string; jwksUri?: string };
}

/**
 * A {@link CallerIdentity} whose handlers verify tokens with keys pinned at deploy time (see
 * `CallerIdentity.withPinnedKeys`). Its `environment()` carries the pinned key set (`jwks`) beside the rest of the
 * configuration, and its pins (one per stack) raise the drift alarm.
 */
export class PinnedCallerIdentity extends CallerIdentity {
  public readonly issuer: string;
  public readonly allowedClients: string[] | undefined;
  public readonly allowedAudiences: string[] | undefined;
  public readonly requiredScopes: string[];
  /** The pin in the stack of the scope given to `withPinnedKeys` (its `driftAlarm` is the one to route). */
  public readonly pin: JwksPin;

  /** @internal */
  constructor(
    private readonly unpinned: CallerIdentity,
    scope: Construct,
    private readonly options: JwksPinOptions,
  ) {
    super();
    this.issuer = unpinned.issuer;
    this.allowedClients = unpinned.allowedClients;
    this.allowedAudiences = unpinned.allowedAudiences;
    this.requiredScopes = unpinned.requiredScopes;
    this.pin = this.pinFor(scope);
  }

  /** The pin in the stack of `scope`, created on first use (each stack that runs handlers gets its own). */
  public pinFor(scope: Construct): JwksPin {
    return JwksPin.getOrCreate(scope, { ...this.options, ...this._jwksSource() });
  }

  /**
   * The handler environment: the identity configuration with `jwks`, the pinned key set, embedded as JSON (it is
   * resolved at deploy time, so the value is an `Fn::Join` over the pin's attribute).
   */
  public environment(scope: Construct): { [key: string]: string } {
    const stack = Stack.of(scope);
    const pin = this.pinFor(scope);
    const config = this._config();
    const members = Object.keys(config).map((k) => `${JSON.stringify(k)}:${stack.toJsonString(config[k])}`);
    // The key set is JSON already: it goes in raw, not as a quoted string (CloudFormation cannot escape it).
    return { [IDENTITY_ENV_VAR]: `{${[...members, `"jwks":${pin.jwksJson}`].join(',')}}` };
  }

  /** Already pinned: the same identity when the options are the same, an error otherwise. */
  public withPinnedKeys(scope: Construct, options: JwksPinOptions = {}): PinnedCallerIdentity {
    JwksPin.getOrCreate(scope, { ...options, ...this._jwksSource() });
    return this;
  }

  /** @internal */
  public _config(): { [key: string]: unknown } {
    return this.unpinned._config();
  }

  /** @internal */
  public _jwksSource(): { issuer: string; jwksUri?: string } {
    return this.unpinned._jwksSource();
  }
}

function validateSkew(value: number | undefined): string[] {
  if (value === undefined) return [];
  return Number.isInteger(value) && value >= 0 && value <= 60 ? [] : [`clockSkewSeconds is ${value}; allowed: a whole number from 0 to 60`];
}

class CognitoCallerIdentity extends CallerIdentity {
  public readonly issuer: string;
  public readonly allowedClients: string[];
  public readonly allowedAudiences = undefined;
  public readonly requiredScopes: string[];

  constructor(private readonly options: CognitoCallerIdentityOptions) {
    super();
    throwIfInvalid('CallerIdentity.cognito', [
      ...(options.clients.length === 0 ? ['clients is empty; allowed: at least one app client'] : []),
      ...validateSkew(options.clockSkewSeconds),
    ]);
    this.issuer = `https://cognito-idp.${Stack.of(options.userPool).region}.${Stack.of(options.userPool).urlSuffix}/${options.userPool.userPoolId}`;
    this.allowedClients = options.clients.map((c) => c.userPoolClientId);
    this.requiredScopes = [...(options.requiredScopes ?? [])];
  }

  /** @internal */
  public _config(): { [key: string]: unknown } {
    return {
      issuer: this.issuer,
      clientId: this.allowedClients,
      tokenUse: this.options.tokenUse ?? CognitoTokenUse.ACCESS,
      groupsClaim: 'cognito:groups',
      ...(this.requiredScopes.length > 0 ? { requiredScopes: this.requiredScopes } : {}),
      ...(this.options.clockSkewSeconds !== undefined ? { clockSkewSeconds: this.options.clockSkewSeconds } : {}),
    };
  }

  /** @internal */
  public _jwksSource(): { issuer: string; jwksUri?: string } {
    // A user pool's keys are always at this address (the verifier insists on it too).
    return { issuer: this.issuer, jwksUri: `${this.issuer}/.well-known/jwks.json` };
  }
}

class OidcCallerIdentity extends CallerIdentity {
  public readonly issuer: string;
  public readonly allowedClients: string[] | undefined;
  public readonly allowedAudiences: string[] | undefined;
  public readonly requiredScopes: string[];

  constructor(private readonly options: OidcCallerIdentityOptions) {
    super();
    const https = /^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
    throwIfInvalid('CallerIdentity.oidc', [
      ...validatePattern('issuer', options.issuer, https, 'an https URL without query or fragment'),
      ...validatePattern('jwksUri', options.jwksUri, https, 'an https URL without query or fragment'),
      // OIDC has no standard token-use claim: an ID token's audience is its client, so a check on the client alone
      // would accept ID tokens as access tokens. The API's own audience is what tells them apart.
      ...(!options.audiences?.length
        ? ['audiences is empty; allowed: at least one API audience (the aud of access tokens for this API; checking only the client would also accept ID tokens)']
        : []),
      ...validateSkew(options.clockSkewSeconds),
    ]);
    this.issuer = options.issuer.replace(/\/$/, '');
    this.allowedClients = options.clientIds ? [...options.clientIds] : undefined;
    this.allowedAudiences = options.audiences ? [...options.audiences] : undefined;
    this.requiredScopes = [...(options.requiredScopes ?? [])];
  }

  /** @internal */
  public _config(): { [key: string]: unknown } {
    return {
      issuer: this.issuer,
      ...(this.options.jwksUri ? { jwksUri: this.options.jwksUri } : {}),
      ...(this.allowedAudiences ? { audience: this.allowedAudiences } : {}),
      ...(this.allowedClients ? { clientId: this.allowedClients } : {}),
      groupsClaim: this.options.groupsClaim ?? 'groups',
      ...(this.requiredScopes.length > 0 ? { requiredScopes: this.requiredScopes } : {}),
      ...(this.options.clockSkewSeconds !== undefined ? { clockSkewSeconds: this.options.clockSkewSeconds } : {}),
    };
  }

  /** @internal */
  public _jwksSource(): { issuer: string; jwksUri?: string } {
    // Without a configured jwksUri the pin reads jwks_uri from the discovery document.
    return { issuer: this.issuer, ...(this.options.jwksUri ? { jwksUri: this.options.jwksUri } : {}) };
  }
}
