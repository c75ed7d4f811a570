import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** What differs between the user pools the library creates. */
export interface SecureUserPoolOptions {
  /**
   * Cognito feature plan. With `PLUS` threat protection is enforced (full function); with a lower plan there is none.
   * @default cognito.FeaturePlan.PLUS
   */
  readonly featurePlan?: cognito.FeaturePlan;
  /**
   * Construct id of the app client (under the pool).
   * @default 'Client'
   */
  readonly clientConstructId?: string;
  /**
   * Callback URLs of a confidential client that signs users in with the OAuth authorization-code flow (a load
   * balancer): the client gets a secret, the code flow only, and Cognito as its only identity provider.
   * @default - no OAuth: users sign in with SRP from the application; no hosted UI, no redirects, no secret to leak
   */
  readonly callbackUrls?: string[];
  /**
   * OAuth scopes of the client (with `callbackUrls` only).
   * @default [cognito.OAuthScope.OPENID]
   */
  readonly oAuthScopes?: cognito.OAuthScope[];
}

/** A pool created by `createSecureUserPool` and its app client. */
export interface SecureUserPool {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
}

/**
 * A user pool with the library's secure defaults: no self sign-up (an administrator adds each user), e-mail sign-in,
 * MFA required (TOTP only), a 14-character password policy with every character class, e-mail-only account recovery,
 * threat protection enforced (plus tier), deletion protection, retained; and one app client with SRP sign-in,
 * user-existence errors hidden, one-hour access and ID tokens, twelve-hour refresh tokens and token revocation.
 */
export function createSecureUserPool(scope: Construct, id: string, options: SecureUserPoolOptions = {}): SecureUserPool {
  const plan = options.featurePlan ?? cognito.FeaturePlan.PLUS;
  const userPool = new cognito.UserPool(scope, id, {
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    mfa: cognito.Mfa.REQUIRED,
    // TOTP only: SMS codes can be intercepted (SIM swap) and need an SNS role.
    mfaSecondFactor: { otp: true, sms: false },
    passwordPolicy: {
      minLength: 14,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    featurePlan: plan,
    standardThreatProtectionMode: plan === cognito.FeaturePlan.PLUS ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const common: cognito.UserPoolClientOptions = {
    authFlows: { userSrp: true },
    preventUserExistenceErrors: true,
    accessTokenValidity: Duration.hours(1),
    idTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.hours(12),
    enableTokenRevocation: true,
  };
  const clientId = options.clientConstructId ?? 'Client';
  const client =
    options.callbackUrls === undefined
      ? userPool.addClient(clientId, { ...common, generateSecret: false, disableOAuth: true })
      : userPool.addClient(clientId, {
        ...common,
        generateSecret: true,
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: options.oAuthScopes ?? [cognito.OAuthScope.OPENID],
          callbackUrls: options.callbackUrls,
        },
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      });
  return { userPool, client };
}
