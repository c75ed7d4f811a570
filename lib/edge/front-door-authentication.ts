import { Duration, Names, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2Actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import { Construct } from 'constructs';
import { createSecureUserPool } from '../private/secure-user-pool';
import { throwIfInvalid, validatePattern } from '../private/validation';

/**
 * Options for `FrontDoorAuthentication.cognito()`: a user pool created for the front door.
 */
export interface CognitoAuthenticationOptions {
  /**
   * Prefix of the Cognito hosted domain (`<prefix>.auth.<region>.amazoncognito.com`): 1-63 lowercase letters, digits
   * and hyphens, not starting or ending with a hyphen, without `aws`, `amazon` or `cognito`. Must be unique in the
   * region across all AWS accounts.
   * @default - derived from the construct path and, when the stack has one, the account id
   */
  readonly domainPrefix?: string;
  /**
   * Cognito feature plan. With `PLUS` (the default) threat protection is enforced: Cognito blocks sign-ins from
   * compromised credentials and adapts authentication to risk. With `ESSENTIALS` or `LITE` there is no threat
   * protection, and cdk-nag's Cognito plus-tier rules report the pool (by design: that is your choice to see).
   * @default cognito.FeaturePlan.PLUS
   */
  readonly featurePlan?: cognito.FeaturePlan;
}

/**
 * Options for `FrontDoorAuthentication.existingCognito()`: a user pool you manage.
 */
export interface ExistingCognitoAuthenticationOptions {
  /** The user pool users sign in to. */
  readonly userPool: cognito.IUserPool;
  /**
   * An app client of the pool with a client secret, the authorization-code grant, the `openid` scope and the front
   * door's callback URL (`AiFrontDoor.callbackUrl`, `https://<domainName>/oauth2/idpresponse`) among its callback URLs.
   */
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The pool's hosted domain. */
  readonly userPoolDomain: cognito.IUserPoolDomain;
}

/**
 * Options for `FrontDoorAuthentication.oidc()`: any OpenID Connect provider. Register the front door's callback URL
 * (`AiFrontDoor.callbackUrl`, `https://<domainName>/oauth2/idpresponse`) with the provider.
 */
export interface OidcAuthenticationOptions {
  /** The issuer identifier of the provider (an `https://` URL). */
  readonly issuer: string;
  /** The authorization endpoint of the provider (an `https://` URL). */
  readonly authorizationEndpoint: string;
  /** The token endpoint of the provider (an `https://` URL). */
  readonly tokenEndpoint: string;
  /** The user info endpoint of the provider (an `https://` URL). */
  readonly userInfoEndpoint: string;
  /** The OAuth 2.0 client id of the front door at the provider. */
  readonly clientId: string;
  /** The OAuth 2.0 client secret, for example `SecretValue.secretsManager('front-door/oidc')`. */
  readonly clientSecret: SecretValue;
  /**
   * Space-separated scopes to request.
   * @default 'openid'
   */
  readonly scope?: string;
}

/**
 * Settings of the front door that the authentication needs.
 * @internal
 */
export interface FrontDoorAuthenticationBindOptions {
  readonly callbackUrl: string;
  readonly sessionTimeout: Duration;
  readonly onUnauthenticatedRequest: elbv2.UnauthenticatedAction;
}

/**
 * The authentication bound to a front door.
 * @internal
 */
export interface BoundFrontDoorAuthentication {
  /** The listener action that authenticates and then runs `next`. */
  readonly action: (next: elbv2.ListenerAction) => elbv2.ListenerAction;
  /** The `iss` claim of the `x-amzn-oidc-data` tokens. */
  readonly issuer: string;
  /** The `client` claim of the `x-amzn-oidc-data` tokens. */
  readonly clientId: string;
  readonly userPool?: cognito.IUserPool;
  readonly userPoolClient?: cognito.IUserPoolClient;
  readonly userPoolDomain?: cognito.IUserPoolDomain;
}

/**
 * How `AiFrontDoor` authenticates users before any request reaches the application: with a Cognito user pool
 * (created by default) or with any OpenID Connect provider. The load balancer runs the authorization-code flow, keeps
 * the session in an encrypted cookie and forwards only authenticated requests, with the user's claims in the
 * ALB-signed `x-amzn-oidc-data` header.
 */
export abstract class FrontDoorAuthentication {
  /**
   * A new Cognito user pool with MFA required (TOTP), a strong password policy, self sign-up off, threat protection
   * enforced (plus tier), deletion protection, an app client with a secret and the authorization-code flow only, and
   * a hosted domain.
   */
  public static cognito(options: CognitoAuthenticationOptions = {}): FrontDoorAuthentication {
    const errors: string[] = [];
    if (options.domainPrefix !== undefined) errors.push(...validateDomainPrefix(options.domainPrefix));
    throwIfInvalid('FrontDoorAuthentication.cognito', errors);
    return new CognitoAuthentication(options);
  }

  /** A Cognito user pool, app client and domain you manage (see `ExistingCognitoAuthenticationOptions`). */
  public static existingCognito(options: ExistingCognitoAuthenticationOptions): FrontDoorAuthentication {
    return new ExistingCognitoAuthentication(options);
  }

  /** Any OpenID Connect provider (Entra ID, Okta, Auth0, IAM Identity Center applications...). */
  public static oidc(options: OidcAuthenticationOptions): FrontDoorAuthentication {
    const errors: string[] = [];
    for (const field of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint'] as const) {
      errors.push(...validatePattern(field, options[field], /^https:\/\/[^\s/?#]+[^\s]*$/, 'an https:// URL'));
    }
    errors.push(...validatePattern('clientId', options.clientId, /^\S+$/, 'a non-empty client id without spaces'));
    errors.push(...validatePattern('scope', options.scope, /(^|\s)openid(\s|$)/, 'space-separated scopes that include "openid"'));
    throwIfInvalid('FrontDoorAuthentication.oidc', errors);
    return new OidcAuthentication(options);
  }

  /** @internal */
  public abstract _bind(scope: Construct, options: FrontDoorAuthenticationBindOptions): BoundFrontDoorAuthentication;
}

class CognitoAuthentication extends FrontDoorAuthentication {
  constructor(private readonly options: CognitoAuthenticationOptions) {
    super();
  }

  public _bind(scope: Construct, options: FrontDoorAuthenticationBindOptions): BoundFrontDoorAuthentication {
    const { userPool, client: userPoolClient } = createSecureUserPool(scope, 'UserPool', {
      featurePlan: this.options.featurePlan,
      callbackUrls: [options.callbackUrl],
      oAuthScopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
    });
    const userPoolDomain = userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: this.options.domainPrefix ?? defaultDomainPrefix(scope) },
    });
    return bindCognito({ userPool, userPoolClient, userPoolDomain }, options, 'openid email');
  }
}

class ExistingCognitoAuthentication extends FrontDoorAuthentication {
  constructor(private readonly options: ExistingCognitoAuthenticationOptions) {
    super();
  }

  public _bind(_scope: Construct, options: FrontDoorAuthenticationBindOptions): BoundFrontDoorAuthentication {
    return bindCognito(this.options, options);
  }
}

class OidcAuthentication extends FrontDoorAuthentication {
  constructor(private readonly options: OidcAuthenticationOptions) {
    super();
  }

  public _bind(_scope: Construct, options: FrontDoorAuthenticationBindOptions): BoundFrontDoorAuthentication {
    const o = this.options;
    return {
      issuer: o.issuer,
      clientId: o.clientId,
      action: (next) =>
        elbv2.ListenerAction.authenticateOidc({
          issuer: o.issuer,
          authorizationEndpoint: o.authorizationEndpoint,
          tokenEndpoint: o.tokenEndpoint,
          userInfoEndpoint: o.userInfoEndpoint,
          clientId: o.clientId,
          clientSecret: o.clientSecret,
          scope: o.scope ?? 'openid',
          next,
          sessionTimeout: options.sessionTimeout,
          onUnauthenticatedRequest: options.onUnauthenticatedRequest,
        }),
    };
  }
}

/**
 * The front door authenticated by a Cognito user pool, its app client and hosted domain.
 * @param scope OAuth scopes the load balancer requests (default: the load balancer's, `openid`)
 */
function bindCognito(cognitoAuth: ExistingCognitoAuthenticationOptions, options: FrontDoorAuthenticationBindOptions, scope?: string): BoundFrontDoorAuthentication {
  const { userPool, userPoolClient, userPoolDomain } = cognitoAuth;
  return {
    userPool,
    userPoolClient,
    userPoolDomain,
    issuer: cognitoIssuer(userPool),
    clientId: userPoolClient.userPoolClientId,
    action: (next) =>
      new elbv2Actions.AuthenticateCognitoAction({
        userPool,
        userPoolClient,
        userPoolDomain,
        next,
        scope,
        sessionTimeout: options.sessionTimeout,
        onUnauthenticatedRequest: options.onUnauthenticatedRequest,
      }),
  };
}

/** The `iss` claim of tokens from a user pool (the pool's ProviderURL attribute lacks the scheme). */
function cognitoIssuer(userPool: cognito.IUserPool): string {
  return `https://cognito-idp.${userPool.env.region}.amazonaws.com/${userPool.userPoolId}`;
}

const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_IN_PREFIX = /aws|amazon|cognito/;

function validateDomainPrefix(prefix: string): string[] {
  if (Token.isUnresolved(prefix)) return [];
  if (!DOMAIN_PREFIX.test(prefix) || RESERVED_IN_PREFIX.test(prefix)) {
    return [`domainPrefix is "${prefix}"; allowed: 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, without "aws", "amazon" or "cognito"`];
  }
  return [];
}

/** A stable, valid prefix from the construct path (and the account when known, to be unique across accounts). */
function defaultDomainPrefix(scope: Construct): string {
  const account = Stack.of(scope).account;
  const suffix = Token.isUnresolved(account) ? '' : `-${account}`;
  const base = Names.uniqueResourceName(scope, { maxLength: 63 - suffix.length, separator: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/aws|amazon|cognito/g, 'x');
  return `${base}${suffix}`.replace(/^-+|-+$/g, '').replace(/-{2,}/g, '-');
}
