import { Duration, Names, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CallerIdentity } from '../common/caller-identity';
import { JwksPinOptions } from '../common/jwks-pin';
import { acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { WorkflowPerms } from './private/workflow-perms';

/** Props of `WorkflowIdentity`. */
export interface WorkflowIdentityProps {
  /** The user pool that issues the workflow's tokens (the one the agents' other callers come from, or its own). */
  readonly userPool: cognito.IUserPool;
  /**
   * The pool's domain: its OAuth 2.0 token endpoint (`<domain>/oauth2/token`) issues the workflow's tokens.
   */
  readonly userPoolDomain: cognito.IUserPoolDomain;
  /**
   * The token endpoint, for a domain imported from elsewhere (`https://<domain>/oauth2/token`).
   * @default - `<userPoolDomain.baseUrl()>/oauth2/token` for a domain defined in this app
   */
  readonly tokenEndpoint?: string;
  /**
   * Identifier of the resource server whose `invoke` scope the workflow's tokens carry (unique in the pool).
   * @default - a name derived from this construct's path
   */
  readonly resourceServerIdentifier?: string;
  /**
   * Lifetime of the workflow's access tokens (5 to 60 minutes). It must exceed the longest agent step: an agent
   * verifies the token before every tool call and stops when it expires.
   * @default Duration.minutes(15)
   */
  readonly accessTokenValidity?: Duration;
  /**
   * Key that encrypts the secret holding the app client's secret.
   * @default - a new customer-managed key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Options of the pin of the pool's signing keys (`CallerIdentity.withPinnedKeys`): give the same options as every
   * other pin of this pool in the stack (one set of options per issuer and stack), for example the same
   * `alarmActions` array.
   * @default - pinned with default options (the drift alarm has no action)
   */
  readonly keyPin?: JwksPinOptions;
  /**
   * Let the agents fetch the pool's signing keys at run time instead of pinning them at deploy time. Only for agents
   * with a network path to the issuer (outside isolated subnets).
   * @default false - the keys are pinned: the agents verify tokens without any network path
   */
  readonly fetchKeysAtRunTime?: boolean;
}

const RESOURCE_SERVER = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const TOKEN_ENDPOINT = /^https:\/\/[A-Za-z0-9.-]{1,253}\/oauth2\/token$/;
/** The scope name the workflow's tokens carry and the agents require. */
const INVOKE_SCOPE = 'invoke';

/**
 * The workload identity of a deterministic agent workflow: who runs the agents when no user is there (a workflow
 * started by a security alert, a schedule or a queue).
 *
 * An AgentLoop takes its caller only from a verified bearer token. Passing a user's token through Step Functions
 * would write it into the execution history; and an alert has no user. So the workflow gets its own principal: a
 * Cognito app client with the client credentials grant only, a resource server with one `invoke` scope, and its
 * client secret in Secrets Manager (written by CloudFormation from the client; it never appears in the template).
 * The workflow's step runner mints short-lived access tokens at run time and keeps them in memory; give
 * `callerIdentity` to the workflow's agents so that they accept exactly these tokens (this client, this scope) and
 * nobody else's.
 */
export class WorkflowIdentity extends Construct {
  /** The name of the one scope of the resource server (`<identifier>/invoke`). */
  public static readonly INVOKE_SCOPE = INVOKE_SCOPE;

  /** The workflow's app client (client credentials only, with a secret). */
  public readonly client: cognito.UserPoolClient;
  /** The resource server that defines the `invoke` scope. */
  public readonly resourceServer: cognito.UserPoolResourceServer;
  /** The scope the tokens carry: `<resourceServerIdentifier>/invoke`. */
  public readonly scope: string;
  /** The token endpoint. */
  public readonly tokenEndpoint: string;
  /** The secret that holds the app client's secret. */
  public readonly clientSecret: secretsmanager.ISecret;
  /** The secret's key. */
  public readonly encryptionKey: kms.IKey;
  /** Lifetime of the access tokens. */
  public readonly accessTokenValidity: Duration;
  /**
   * The identity the workflow's agents accept: this client's access tokens with the scope (with the pool's keys
   * pinned, unless `fetchKeysAtRunTime`).
   */
  public readonly callerIdentity: CallerIdentity;
  /**
   * The workflow's principal, as the library writes verified principals: `<issuer>|<subject>` (the subject of a
   * client credentials token is the client id). Approvals the workflow requests name it.
   */
  public readonly principal: string;

  constructor(scope: Construct, id: string, props: WorkflowIdentityProps) {
    super(scope, id);
    const validity = props.accessTokenValidity ?? Duration.minutes(15);
    const identifier = props.resourceServerIdentifier ?? `workflow-${Names.uniqueResourceName(this, { maxLength: 80 })}`;
    let tokenEndpoint = props.tokenEndpoint;
    const errors: string[] = [];
    if (tokenEndpoint === undefined) {
      if (props.userPoolDomain instanceof cognito.UserPoolDomain) tokenEndpoint = `${props.userPoolDomain.baseUrl()}/oauth2/token`;
      else errors.push('userPoolDomain is imported, so its URL is unknown; set tokenEndpoint (https://<domain>/oauth2/token)');
    } else if (!Token.isUnresolved(tokenEndpoint)) {
      errors.push(...validatePattern('tokenEndpoint', tokenEndpoint, TOKEN_ENDPOINT, 'an https URL of the form https://<domain>/oauth2/token'));
    }
    errors.push(...validateInteger('accessTokenValidity (minutes)', validity.toMinutes({ integral: false }), 5, 60));
    if (!Token.isUnresolved(identifier)) errors.push(...validatePattern('resourceServerIdentifier', identifier, RESOURCE_SERVER, '1 to 200 visible ASCII characters without " or \\'));
    throwIfInvalid('WorkflowIdentity', errors);
    this.accessTokenValidity = validity;
    this.tokenEndpoint = tokenEndpoint!;

    const invoke = new cognito.ResourceServerScope({ scopeName: INVOKE_SCOPE, scopeDescription: 'Run the agents of one deterministic workflow' });
    this.resourceServer = new cognito.UserPoolResourceServer(this, 'ResourceServer', {
      userPool: props.userPool,
      identifier,
      scopes: [invoke],
    });
    this.scope = `${identifier}/${INVOKE_SCOPE}`;

    this.client = new cognito.UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      generateSecret: true,
      // Client credentials only: no user sign-in flow of any kind.
      authFlows: { adminUserPassword: false, custom: false, userPassword: false, userSrp: false },
      oAuth: { flows: { clientCredentials: true }, scopes: [cognito.OAuthScope.resourceServer(this.resourceServer, invoke)] },
      accessTokenValidity: validity,
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'cdk-ai-defense WorkflowIdentity: encrypts the workflow app client secret',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    const cfnClient = this.client.node.defaultChild as cognito.CfnUserPoolClient;
    this.clientSecret = new secretsmanager.Secret(this, 'ClientSecret', {
      description: 'cdk-ai-defense WorkflowIdentity: the workflow app client secret (read by the step runner only)',
      encryptionKey: this.encryptionKey,
      // CloudFormation reads it from the client at deploy time: the template holds only the reference.
      secretStringValue: SecretValue.resourceAttribute(cfnClient.attrClientSecret),
    });
    acknowledgeNagAll(
      this.clientSecret,
      ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled', 'HIPAA.Security-SecretsManagerRotationEnabled'],
      'The secret is a copy of the Cognito app client secret, written by CloudFormation from the client; Secrets Manager cannot rotate a Cognito client secret. Rotate by replacing the client; the tokens it mints live at most accessTokenValidity.',
    );

    const identity = CallerIdentity.cognito({ userPool: props.userPool, clients: [this.client], requiredScopes: [this.scope] });
    // The agents run in isolated subnets, where the issuer's keys cannot be fetched: pin them at deploy time.
    this.callerIdentity = props.fetchKeysAtRunTime ? identity : identity.withPinnedKeys(this, props.keyPin ?? {});
    this.principal = `${this.callerIdentity.issuer}|${this.client.userPoolClientId}`;
  }

  /**
   * Lets a principal (the step runner) mint the workflow's tokens: `secretsmanager:GetSecretValue` on exactly the
   * client secret, and `kms:Decrypt` on its key through Secrets Manager only.
   */
  public grantTokenRequest(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...WorkflowPerms.CLIENT_SECRET], resourceArns: [this.clientSecret.secretArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...WorkflowPerms.SECRET_KEY],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } },
    });
    return grant;
  }
}
