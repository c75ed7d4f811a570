import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { throwIfInvalid } from '../private/validation';
import { DISCOVERY_URL, validateExactHttpsUrl } from './private/identity-validation';

/** The OAuth 2.0 grant a credential provider is used with (the `oauth2Flow` of GetResourceOauth2Token). */
export enum OAuth2Flow {
  /** Two-legged: client credentials; the agent acts as itself on data it (or its operator) owns. */
  CLIENT_CREDENTIALS = 'M2M',
  /** Three-legged: authorization code with user federation; the agent acts for a present user on the user's data. */
  AUTHORIZATION_CODE = 'USER_FEDERATION',
}

/** Identity providers that AgentCore supports through its generic "included" provider configuration. */
export enum IncludedOAuth2Vendor {
  OKTA = 'OktaOauth2',
  AUTH0 = 'Auth0Oauth2',
  COGNITO = 'CognitoOauth2',
  ONE_LOGIN = 'OneLoginOauth2',
  PING_ONE = 'PingOneOauth2',
  CYBER_ARK = 'CyberArkOauth2',
  FUSION_AUTH = 'FusionAuthOauth2',
  X = 'XOauth2',
  FACEBOOK = 'FacebookOauth2',
  YANDEX = 'YandexOauth2',
  REDDIT = 'RedditOauth2',
  ZOOM = 'ZoomOauth2',
  TWITCH = 'TwitchOauth2',
  SPOTIFY = 'SpotifyOauth2',
  DROPBOX = 'DropboxOauth2',
  NOTION = 'NotionOauth2',
  HUBSPOT = 'HubspotOauth2',
}

/** Endpoints of your tenant at an included identity provider (see the AgentCore guide of that provider). */
export interface IncludedOAuth2Endpoints {
  /**
   * Token issuer of your tenant, an https URL.
   * @default - the provider's default
   */
  readonly issuer?: string;
  /**
   * Authorization endpoint of your tenant, an https URL.
   * @default - the provider's default
   */
  readonly authorizationEndpoint?: string;
  /**
   * Token endpoint of your tenant, an https URL.
   * @default - the provider's default
   */
  readonly tokenEndpoint?: string;
}

/**
 * A custom OAuth 2.0 authorization server: give `discoveryUrl`, or all three of `issuer`, `authorizationEndpoint` and
 * `tokenEndpoint`.
 */
export interface CustomOAuth2ServerOptions {
  /**
   * The OIDC discovery document, `https://…/.well-known/openid-configuration`.
   * @default - the static metadata below is used
   */
  readonly discoveryUrl?: string;
  /**
   * Issuer of the authorization server (with `authorizationEndpoint` and `tokenEndpoint`, instead of `discoveryUrl`).
   * @default - from the discovery document
   */
  readonly issuer?: string;
  /**
   * Authorization endpoint, an https URL.
   * @default - from the discovery document
   */
  readonly authorizationEndpoint?: string;
  /**
   * Token endpoint, an https URL.
   * @default - from the discovery document
   */
  readonly tokenEndpoint?: string;
}

type VendorConfigKey =
  | 'customOauth2ProviderConfig'
  | 'googleOauth2ProviderConfig'
  | 'githubOauth2ProviderConfig'
  | 'slackOauth2ProviderConfig'
  | 'salesforceOauth2ProviderConfig'
  | 'microsoftOauth2ProviderConfig'
  | 'atlassianOauth2ProviderConfig'
  | 'linkedinOauth2ProviderConfig'
  | 'includedOauth2ProviderConfig';

/**
 * The identity provider (vendor) of a credential provider and its discovery settings. The client secret is never
 * part of it: `AgentIdentity` always references it in Secrets Manager.
 */
export class OAuth2ProviderVendor {
  /** Google. */
  public static readonly GOOGLE = new OAuth2ProviderVendor('GoogleOauth2', 'googleOauth2ProviderConfig', {});
  /** GitHub. */
  public static readonly GITHUB = new OAuth2ProviderVendor('GithubOauth2', 'githubOauth2ProviderConfig', {});
  /** Slack. */
  public static readonly SLACK = new OAuth2ProviderVendor('SlackOauth2', 'slackOauth2ProviderConfig', {});
  /** Salesforce. */
  public static readonly SALESFORCE = new OAuth2ProviderVendor('SalesforceOauth2', 'salesforceOauth2ProviderConfig', {});
  /** Atlassian. */
  public static readonly ATLASSIAN = new OAuth2ProviderVendor('AtlassianOauth2', 'atlassianOauth2ProviderConfig', {});
  /** LinkedIn. */
  public static readonly LINKEDIN = new OAuth2ProviderVendor('LinkedinOauth2', 'linkedinOauth2ProviderConfig', {});

  /**
   * Microsoft Entra ID.
   * @param tenantId the Entra tenant; default: the service's tenant resolution
   */
  public static microsoft(tenantId?: string): OAuth2ProviderVendor {
    throwIfInvalid('OAuth2ProviderVendor.microsoft', tenantId !== undefined && !/^[A-Za-z0-9.-]{1,256}$/.test(tenantId) ? [`tenantId is "${tenantId}"; allowed: a tenant id or domain`] : []);
    return new OAuth2ProviderVendor('MicrosoftOauth2', 'microsoftOauth2ProviderConfig', tenantId !== undefined ? { tenantId } : {});
  }

  /** An identity provider AgentCore configures from your tenant's endpoints (Okta, Auth0, Cognito, ...). */
  public static included(vendor: IncludedOAuth2Vendor, endpoints: IncludedOAuth2Endpoints = {}): OAuth2ProviderVendor {
    throwIfInvalid('OAuth2ProviderVendor.included', [
      ...validateExactHttpsUrl('issuer', endpoints.issuer),
      ...validateExactHttpsUrl('authorizationEndpoint', endpoints.authorizationEndpoint),
      ...validateExactHttpsUrl('tokenEndpoint', endpoints.tokenEndpoint),
    ]);
    return new OAuth2ProviderVendor(vendor, 'includedOauth2ProviderConfig', {
      ...(endpoints.issuer !== undefined ? { issuer: endpoints.issuer } : {}),
      ...(endpoints.authorizationEndpoint !== undefined ? { authorizationEndpoint: endpoints.authorizationEndpoint } : {}),
      ...(endpoints.tokenEndpoint !== undefined ? { tokenEndpoint: endpoints.tokenEndpoint } : {}),
    });
  }

  /** Any OAuth 2.0 authorization server, by discovery document or static metadata. */
  public static custom(options: CustomOAuth2ServerOptions): OAuth2ProviderVendor {
    const metadata = [options.issuer, options.authorizationEndpoint, options.tokenEndpoint];
    const errors: string[] = [];
    if (options.discoveryUrl !== undefined) {
      if (!DISCOVERY_URL.test(options.discoveryUrl) || validateExactHttpsUrl('discoveryUrl', options.discoveryUrl).length > 0) {
        errors.push(`discoveryUrl is "${options.discoveryUrl}"; allowed: an https URL ending in /.well-known/openid-configuration`);
      }
      if (metadata.some((m) => m !== undefined)) errors.push('discoveryUrl and issuer/authorizationEndpoint/tokenEndpoint are both set; allowed: one of the two');
    } else if (metadata.some((m) => m === undefined)) {
      errors.push('neither discoveryUrl nor all of issuer, authorizationEndpoint and tokenEndpoint are set; allowed: one of the two');
    }
    errors.push(
      ...validateExactHttpsUrl('issuer', options.issuer),
      ...validateExactHttpsUrl('authorizationEndpoint', options.authorizationEndpoint),
      ...validateExactHttpsUrl('tokenEndpoint', options.tokenEndpoint),
    );
    throwIfInvalid('OAuth2ProviderVendor.custom', errors);
    const oauthDiscovery: agentcore.CfnOAuth2CredentialProvider.Oauth2DiscoveryProperty =
      options.discoveryUrl !== undefined
        ? { discoveryUrl: options.discoveryUrl }
        : { authorizationServerMetadata: { issuer: options.issuer!, authorizationEndpoint: options.authorizationEndpoint!, tokenEndpoint: options.tokenEndpoint! } };
    return new OAuth2ProviderVendor('CustomOauth2', 'customOauth2ProviderConfig', { oauthDiscovery });
  }

  /** The `CredentialProviderVendor` value. */
  public readonly vendorName: string;

  private constructor(
    vendorName: string,
    private readonly configKey: VendorConfigKey,
    private readonly extra: Record<string, unknown>,
  ) {
    this.vendorName = vendorName;
  }

  /**
   * The provider configuration with the client secret referenced in Secrets Manager (`clientSecretSource: EXTERNAL`),
   * never as a value.
   * @internal
   */
  public _render(clientId: string, secret: secretsmanager.ISecret, jsonKey: string): agentcore.CfnOAuth2CredentialProvider.Oauth2ProviderConfigInputProperty {
    return {
      [this.configKey]: {
        clientId,
        clientSecretSource: 'EXTERNAL',
        clientSecretConfig: { secretId: secret.secretArn, jsonKey },
        ...this.extra,
      },
    };
  }
}

/** How a credential provider of an `AgentIdentity` is configured. */
export interface OAuth2ProviderOptions {
  /** The identity provider and its discovery settings. */
  readonly vendor: OAuth2ProviderVendor;
  /** The OAuth client id registered at the identity provider. */
  readonly clientId: string;
  /**
   * The Secrets Manager secret that holds the client secret. AgentCore reads it from there at run time; the value
   * never appears in the template. There is no plaintext alternative.
   */
  readonly clientSecret: secretsmanager.ISecret;
  /**
   * The JSON key of the client secret inside the secret's JSON value.
   * @default 'clientSecret'
   */
  readonly clientSecretJsonKey?: string;
  /** The scopes the agent requests with this provider (at least one); exposed for the agent's configuration. */
  readonly scopes: string[];
  /**
   * The provider name (1 to 128 of letters, digits, `_`, `-`), which agent code passes to GetResourceOauth2Token.
   * @default - a name generated from the construct path
   */
  readonly providerName?: string;
}

/** A credential provider added to an `AgentIdentity`. */
export interface AgentIdentityProvider {
  /** The provider name (the `resourceCredentialProviderName` of GetResourceOauth2Token). */
  readonly providerName: string;
  /** The provider ARN (built from the name). */
  readonly credentialProviderArn: string;
  /**
   * AgentCore's callback URL for this provider: register it as the redirect URI at the identity provider
   * (three-legged providers).
   */
  readonly callbackUrl: string;
  /** The grant this provider is used with. */
  readonly flow: OAuth2Flow;
  /** The scopes the agent requests. */
  readonly scopes: string[];
  /** The secret that holds the client secret. */
  readonly clientSecret: secretsmanager.ISecret;
  /** The CloudFormation resource (escape hatch). */
  readonly resource: agentcore.CfnOAuth2CredentialProvider;
}
