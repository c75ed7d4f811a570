import { Annotations, Duration, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BindingAttribute } from '../../lambda/oauth-callback/clients';
import { CALLBACK_DEFAULTS, CallbackEnv } from '../../lambda/oauth-callback/config';
import { CallerIdentity } from '../common/caller-identity';
import { EnforcementFunction, EnforcementFunctionOptions } from '../private/enforcement-function';
import { acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validatePattern } from '../private/validation';
import { AgentIdentityProvider, OAuth2Flow, OAuth2ProviderOptions } from './oauth-credential-provider';
import { BINDING_KEY_ACTIONS, BindingTableAction, IdentityAction, IdentityArns } from './private/identity-perms';
import {
  COOKIE_NAME_PATTERN,
  PARAMETER_NAME_PATTERN,
  PRINTABLE,
  PROVIDER_NAME,
  WORKLOAD_IDENTITY_NAME,
  validateExactHttpsUrl,
  validateReturnUrls,
  validateScopes,
} from './private/identity-validation';

/** Where the 3LO callback reads the signed-in user's token. */
export enum CallbackTokenSource {
  /**
   * `Authorization: Bearer <JWT>`: the return URL is an application page that calls the callback API with the
   * user's token (typical behind API Gateway).
   */
  AUTHORIZATION_HEADER = 'AUTHORIZATION_HEADER',
  /** A cookie the application sets with the user's JWT (`callbackTokenCookieName`). */
  COOKIE = 'COOKIE',
  /**
   * `x-amzn-oidc-accesstoken`, added by an Application Load Balancer that authenticates users (`AiFrontDoor`).
   * The token is verified like any other; `identity` must accept the load balancer's OAuth client.
   */
  ALB_OIDC_ACCESS_TOKEN = 'ALB_OIDC_ACCESS_TOKEN',
}

/** Props of {@link AgentIdentity}. */
export interface AgentIdentityProps extends EnforcementFunctionOptions {
  /**
   * Name of the workload identity (3 to 255 of letters, digits, `_`, `.`, `-`), which agent code passes to
   * GetWorkloadAccessToken*.
   * @default - a name generated from the construct path
   */
  readonly workloadIdentityName?: string;
  /**
   * The exact URLs AgentCore may send users back to after a three-legged authorization: https, no wildcards, no
   * query or fragment. Point them at the callback function (behind your API Gateway or load balancer). More can be
   * added with `addAllowedReturnUrl`.
   * @default - none (then no authorization-code provider may be added)
   */
  readonly allowedReturnUrls?: string[];
  /**
   * Who may complete three-legged authorizations: the callback verifies the signed-in user's token with it and
   * completes only flows that user started. Setting it creates the callback function and its binding table.
   * @default - no callback; `addAuthorizationCodeProvider` throws
   */
  readonly identity?: CallerIdentity;
  /**
   * Where the callback reads the user's token.
   * @default CallbackTokenSource.AUTHORIZATION_HEADER
   */
  readonly callbackTokenSource?: CallbackTokenSource;
  /**
   * The cookie that holds the user's JWT, when `callbackTokenSource` is COOKIE (prefer a `__Host-` name).
   * @default - none; required with CallbackTokenSource.COOKIE
   */
  readonly callbackTokenCookieName?: string;
  /**
   * The query parameter that carries the state AgentCore hands back (`customState`).
   * @default 'state'
   */
  readonly callbackStateParameter?: string;
  /**
   * The query parameter that carries AgentCore's session URI.
   * @default 'session_id'
   */
  readonly callbackSessionParameter?: string;
  /**
   * An exact https URL the browser is sent to (303) after a completed authorization.
   * @default - the callback shows a short confirmation page
   */
  readonly completionRedirectUrl?: string;
  /**
   * KMS key that encrypts the binding table.
   * @default - a new customer-managed key with rotation
   */
  readonly bindingTableKey?: kms.IKey;
}

type GrantKind = 'self' | 'jwt' | 'userId' | 'callback';

/**
 * A workload identity for an agent with OAuth 2.0 credential providers for the services it calls, in two-legged
 * (client credentials) and three-legged (authorization code, user federation) form, and the callback that binds
 * every three-legged flow to the user who started it.
 *
 * - Client secrets stay in Secrets Manager: providers reference a secret and JSON key, never a value.
 * - Return URLs are exact https URLs.
 * - Grants are per flow: the agent's own tokens (`grantWorkloadToken`), tokens for a user proven by a JWT
 *   (`grantWorkloadTokenForJwt`); tokens for a user id are only granted by `unsafeGrantTokenForUserId`.
 * - The callback completes an authorization only for the same verified user, with the state AgentCore hands back,
 *   once, within ten minutes, and passes AgentCore the user's token, never a user id.
 *
 * @resource AWS::BedrockAgentCore::WorkloadIdentity
 */
export class AgentIdentity extends Construct {
  /** The workload identity. */
  public readonly workloadIdentity: agentcore.CfnWorkloadIdentity;
  /** Its name. */
  public readonly workloadIdentityName: string;
  /** Its ARN, built from the name (so that referencing it creates no deployment dependency). */
  public readonly workloadIdentityArn: string;
  /** The 3LO callback function: put it behind your API Gateway or load balancer at an allowed return URL. */
  public readonly callbackFunction?: lambda.IFunction;
  /** The table of pending bindings (partition key `stateHash`, TTL `ttl`). */
  public readonly bindingTable?: dynamodb.ITable;
  /** The key that encrypts the binding table. */
  public readonly bindingTableKey?: kms.IKey;

  private readonly returnUrls: string[] = [];
  private readonly providerList: AgentIdentityProvider[] = [];
  private readonly grantees: Array<{ grantee: iam.IGrantable; kind: GrantKind }> = [];

  constructor(scope: Construct, id: string, props: AgentIdentityProps = {}) {
    super(scope, id);
    throwIfInvalid('AgentIdentity', validateAgentIdentityProps(props));

    this.workloadIdentityName = props.workloadIdentityName ?? Names.uniqueResourceName(this, { maxLength: 48, separator: '-' });
    this.workloadIdentityArn = IdentityArns.workloadIdentity(this, this.workloadIdentityName);
    this.returnUrls.push(...(props.allowedReturnUrls ?? []));
    this.workloadIdentity = new agentcore.CfnWorkloadIdentity(this, 'Resource', {
      name: this.workloadIdentityName,
      allowedResourceOauth2ReturnUrls: Lazy.list({ produce: () => [...this.returnUrls] }, { omitEmpty: true }),
    });

    if (props.identity) {
      const key =
        props.bindingTableKey ??
        new kms.Key(this, 'BindingKey', {
          description: 'cdk-ai-defense AgentIdentity: encrypts pending OAuth session bindings',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.DESTROY,
        });
      const table = new dynamodb.Table(this, 'BindingTable', {
        partitionKey: { name: BindingAttribute.STATE_HASH, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: BindingAttribute.TTL,
        // Bindings live ten minutes; nothing in the table outlives its flow.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      acknowledgeNagAll(
        table,
        ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'],
        'The table holds only pending OAuth session bindings that expire after ten minutes; a backup plan would restore spent or expired bindings, and point-in-time recovery is on for the table itself.',
      );
      const fn = new EnforcementFunction(this, 'CallbackFunction', {
        handlerName: 'oauth-callback',
        description: 'cdk-ai-defense AgentIdentity: binds each 3LO authorization to the user who started it, then completes it',
        environment: {
          ...props.identity.environment(this),
          [CallbackEnv.BINDING_TABLE]: table.tableName,
          [CallbackEnv.TOKEN_SOURCE]: props.callbackTokenSource ?? CallbackTokenSource.AUTHORIZATION_HEADER,
          ...(props.callbackTokenCookieName !== undefined ? { [CallbackEnv.TOKEN_COOKIE]: props.callbackTokenCookieName } : {}),
          [CallbackEnv.STATE_PARAMETER]: props.callbackStateParameter ?? CALLBACK_DEFAULTS.stateParameter,
          [CallbackEnv.SESSION_PARAMETER]: props.callbackSessionParameter ?? CALLBACK_DEFAULTS.sessionParameter,
          ...(props.completionRedirectUrl !== undefined ? { [CallbackEnv.COMPLETION_REDIRECT_URL]: props.completionRedirectUrl } : {}),
          [CallbackEnv.TIMEOUT_MS]: String(CALLBACK_DEFAULTS.timeoutMs),
        },
        timeout: Duration.seconds(10),
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        securityGroups: props.securityGroups,
        logEncryptionKey: props.logEncryptionKey,
        logRetention: props.logRetention,
      });
      this.bindingTableKey = key;
      this.bindingTable = table;
      this.callbackFunction = fn;
      this.grantBindingTable(fn, BindingTableAction.CONSUME);
      this.track(fn, 'callback');
    }

    this.node.addValidation({
      validate: () =>
        this.providerList.some((p) => p.flow === OAuth2Flow.AUTHORIZATION_CODE) && this.returnUrls.length === 0
          ? ['AgentIdentity: authorization-code providers need at least one allowed return URL (allowedReturnUrls or addAllowedReturnUrl)']
          : [],
    });
  }

  /** The credential providers added so far. */
  public get providers(): AgentIdentityProvider[] {
    return [...this.providerList];
  }

  /** Allows one more exact https return URL (for example the URL of the API that fronts the callback). */
  public addAllowedReturnUrl(url: string): void {
    throwIfInvalid('AgentIdentity', validateReturnUrls('allowedReturnUrls', [...this.returnUrls, url]));
    this.returnUrls.push(url);
  }

  /**
   * Adds a two-legged provider (client credentials): the agent acts as itself, with scopes granted to its own client.
   * Agents granted `grantWorkloadToken` or `grantWorkloadTokenForJwt` may request its tokens.
   */
  public addClientCredentialsProvider(id: string, options: OAuth2ProviderOptions): AgentIdentityProvider {
    return this.addProvider(id, options, OAuth2Flow.CLIENT_CREDENTIALS);
  }

  /**
   * Adds a three-legged provider (authorization code, user federation): the agent acts for a signed-in user, on the
   * user's data, after the user consents. Requires `identity` (the callback) and at least one allowed return URL.
   * Register the provider's `callbackUrl` as the redirect URI at the identity provider.
   */
  public addAuthorizationCodeProvider(id: string, options: OAuth2ProviderOptions): AgentIdentityProvider {
    if (!this.callbackFunction) {
      throw new Error(`AgentIdentity: addAuthorizationCodeProvider("${id}") needs props.identity: three-legged flows are completed only by the callback that verifies the user`);
    }
    return this.addProvider(id, options, OAuth2Flow.AUTHORIZATION_CODE);
  }

  /**
   * Lets the agent act as itself: GetWorkloadAccessToken on this workload identity, and GetResourceOauth2Token with
   * the client-credentials providers (and reading their client secrets).
   */
  public grantWorkloadToken(grantee: iam.IGrantable): iam.Grant {
    return this.grantTokens(grantee, 'self', IdentityAction.WORKLOAD_TOKEN);
  }

  /**
   * Lets the agent act for a user proven by a JWT: GetWorkloadAccessTokenForJWT on this workload identity, and
   * GetResourceOauth2Token with every provider (and reading their client secrets). AgentCore derives the user from
   * the token itself, so a caller cannot name someone else.
   */
  public grantWorkloadTokenForJwt(grantee: iam.IGrantable): iam.Grant {
    return this.grantTokens(grantee, 'jwt', IdentityAction.WORKLOAD_TOKEN_FOR_JWT);
  }

  /**
   * UNSAFE: lets the grantee get workload tokens for ANY user id it names (GetWorkloadAccessTokenForUserId), and so
   * use every user's three-legged tokens. AgentCore trusts the user id as given; nothing proves it belongs to the
   * caller. Grant it only to code that derives the user id from a verified identity itself, and prefer
   * `grantWorkloadTokenForJwt`.
   */
  public unsafeGrantTokenForUserId(grantee: iam.IGrantable): iam.Grant {
    Annotations.of(this).addWarningV2(
      'cdk-ai-defense:unsafeGrantTokenForUserId',
      'unsafeGrantTokenForUserId lets the grantee obtain any user\'s tokens by naming a user id; prefer grantWorkloadTokenForJwt.',
    );
    return this.grantTokens(grantee, 'userId', IdentityAction.WORKLOAD_TOKEN_FOR_USER_ID);
  }

  /**
   * Lets agent code record pending bindings (PutItem on the binding table) when it starts a three-legged
   * authorization (`createAuthorizationStarter` in `lambda/oauth-callback/start.ts`).
   */
  public grantRecordBinding(grantee: iam.IGrantable): iam.Grant {
    if (!this.bindingTable) throw new Error('AgentIdentity: grantRecordBinding needs props.identity (there is no binding table without the callback)');
    return this.grantBindingTable(grantee, BindingTableAction.RECORD);
  }

  private addProvider(id: string, options: OAuth2ProviderOptions, flow: OAuth2Flow): AgentIdentityProvider {
    const jsonKey = options.clientSecretJsonKey ?? 'clientSecret';
    const errors = [
      ...validatePattern('providerName', options.providerName, PROVIDER_NAME, '1 to 128 of letters, digits, "_" and "-"'),
      ...validatePattern('clientId', options.clientId, PRINTABLE, '1 to 256 printable characters without spaces'),
      ...validatePattern('clientSecretJsonKey', jsonKey, PRINTABLE, '1 to 256 printable characters without spaces'),
      ...validateScopes('scopes', options.scopes),
    ];
    if (options.providerName !== undefined && this.providerList.some((p) => p.providerName === options.providerName)) {
      errors.push(`providerName "${options.providerName}" is already used by this AgentIdentity; allowed: a distinct name per provider`);
    }
    throwIfInvalid(`AgentIdentity provider "${id}"`, errors);

    const container = (this.node.tryFindChild('Providers') as Construct | undefined) ?? new Construct(this, 'Providers');
    const resource = new agentcore.CfnOAuth2CredentialProvider(container, id, {
      name: options.providerName ?? 'pending',
      credentialProviderVendor: options.vendor.vendorName,
      oauth2ProviderConfigInput: options.vendor._render(options.clientId, options.clientSecret, jsonKey),
    });
    const providerName = options.providerName ?? Names.uniqueResourceName(resource, { maxLength: 64, separator: '-' });
    resource.name = providerName;
    // cfn-lint 1.51's schema predates ClientSecretSource/ClientSecretConfig (secrets referenced in Secrets Manager)
    // and still requires ClientSecret; the CloudFormation registry and aws-cdk-lib 2.276 have them.
    resource.addMetadata('cfn-lint', { config: { ignore_checks: ['E3002', 'E3003'] } });

    const provider: AgentIdentityProvider = {
      providerName,
      credentialProviderArn: IdentityArns.oauth2Provider(this, providerName),
      callbackUrl: resource.attrCallbackUrl,
      flow,
      scopes: [...options.scopes],
      clientSecret: options.clientSecret,
      resource,
    };
    this.providerList.push(provider);
    for (const { grantee, kind } of this.grantees) if (this.covers(kind, provider)) this.grantProvider(grantee, kind, provider);
    return provider;
  }

  /** Which providers a grant kind reaches: the agent alone never uses three-legged ones; the callback only those. */
  private covers(kind: GrantKind, provider: AgentIdentityProvider): boolean {
    switch (kind) {
      case 'self':
        return provider.flow === OAuth2Flow.CLIENT_CREDENTIALS;
      case 'callback':
        return provider.flow === OAuth2Flow.AUTHORIZATION_CODE;
      default:
        return true;
    }
  }

  private grantProvider(grantee: iam.IGrantable, kind: GrantKind, provider: AgentIdentityProvider): void {
    const action = kind === 'callback' ? IdentityAction.COMPLETE_RESOURCE_TOKEN_AUTH : IdentityAction.RESOURCE_OAUTH2_TOKEN;
    iam.Grant.addToPrincipal({ grantee, actions: [action], resourceArns: [provider.credentialProviderArn] });
    // AgentCore reads a customer-managed client secret with the caller's credentials (as aws-cdk-lib's grantUse does).
    provider.clientSecret.grantRead(grantee);
  }

  private track(grantee: iam.IGrantable, kind: GrantKind): void {
    const resourceAction = kind === 'callback' ? IdentityAction.COMPLETE_RESOURCE_TOKEN_AUTH : IdentityAction.RESOURCE_OAUTH2_TOKEN;
    iam.Grant.addToPrincipal({
      grantee,
      actions: [resourceAction],
      resourceArns: [IdentityArns.tokenVault(this), this.workloadIdentityArn, IdentityArns.directory(this)],
    });
    this.grantees.push({ grantee, kind });
    for (const provider of this.providerList) if (this.covers(kind, provider)) this.grantProvider(grantee, kind, provider);
  }

  private grantTokens(grantee: iam.IGrantable, kind: GrantKind, tokenAction: string): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [tokenAction],
      resourceArns: [this.workloadIdentityArn, IdentityArns.directory(this)],
    });
    this.track(grantee, kind);
    return grant;
  }

  private grantBindingTable(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.bindingTable!.tableArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: BINDING_KEY_ACTIONS,
      resourceArns: [this.bindingTableKey!.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.${Stack.of(this).urlSuffix}` } },
    });
    return grant;
  }
}

function validateAgentIdentityProps(props: AgentIdentityProps): string[] {
  const errors = [
    ...validatePattern('workloadIdentityName', props.workloadIdentityName, WORKLOAD_IDENTITY_NAME, '3 to 255 of letters, digits, "_", "." and "-"'),
    ...validateReturnUrls('allowedReturnUrls', props.allowedReturnUrls ?? []),
    ...validateExactHttpsUrl('completionRedirectUrl', props.completionRedirectUrl),
    ...validatePattern('callbackTokenCookieName', props.callbackTokenCookieName, COOKIE_NAME_PATTERN, 'a cookie name of letters, digits, "_" and "-", optionally prefixed __Host- or __Secure-'),
    ...validatePattern('callbackStateParameter', props.callbackStateParameter, PARAMETER_NAME_PATTERN, 'a query parameter name (a letter, then letters, digits, "_" or "-")'),
    ...validatePattern('callbackSessionParameter', props.callbackSessionParameter, PARAMETER_NAME_PATTERN, 'a query parameter name (a letter, then letters, digits, "_" or "-")'),
  ];
  const source = props.callbackTokenSource ?? CallbackTokenSource.AUTHORIZATION_HEADER;
  if (source === CallbackTokenSource.COOKIE && props.callbackTokenCookieName === undefined) {
    errors.push('callbackTokenSource is COOKIE but callbackTokenCookieName is not set; allowed: the name of the cookie that holds the user\'s JWT');
  }
  if (source !== CallbackTokenSource.COOKIE && props.callbackTokenCookieName !== undefined) {
    errors.push(`callbackTokenCookieName is set but callbackTokenSource is ${source}; allowed: a cookie name only with CallbackTokenSource.COOKIE`);
  }
  const state = props.callbackStateParameter ?? CALLBACK_DEFAULTS.stateParameter;
  const session = props.callbackSessionParameter ?? CALLBACK_DEFAULTS.sessionParameter;
  if (state === session) errors.push(`callbackStateParameter and callbackSessionParameter are both "${state}"; allowed: two different names`);
  if (!props.identity) {
    const callbackOnly = (
      [
        'callbackTokenSource',
        'callbackTokenCookieName',
        'callbackStateParameter',
        'callbackSessionParameter',
        'completionRedirectUrl',
        'bindingTableKey',
        'vpc',
        'vpcSubnets',
        'securityGroups',
        'logEncryptionKey',
        'logRetention',
      ] as const
    ).filter((k) => props[k] !== undefined);
    if (callbackOnly.length > 0) errors.push(`${callbackOnly.join(', ')} configure the 3LO callback, which exists only with identity; allowed: set identity as well`);
  }
  if (props.workloadIdentityName !== undefined && Token.isUnresolved(props.workloadIdentityName)) {
    errors.push('workloadIdentityName is a token; allowed: a literal name (grants are built from it)');
  }
  return errors;
}
