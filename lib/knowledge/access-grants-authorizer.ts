import { Arn, ArnFormat, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { GrantsConfigDocument } from '../../lambda/knowledge-retriever/config';
import { GRANTS_DEFAULTS } from '../../lambda/knowledge-retriever/grants';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { acknowledgeNag } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { KnowledgePerms } from './perms';
import { SecureKnowledgeBase } from './secure-knowledge-base';

/** How chunk sources are checked against S3 Access Grants at run time. */
export enum AccessGrantsCheckMode {
  /**
   * One paginated `ListCallerAccessGrants` per user session and revocation window, then literal matching of every
   * chunk source against the user's READ scopes. Few AWS calls; the scopes may be up to one window old.
   */
  LIST_CALLER_GRANTS = 'LIST_CALLER_GRANTS',
  /**
   * One `GetDataAccess` (READ, Minimal privilege, object target, 15 minutes) per distinct source not already decided
   * for the user in the window. Access Grants' own evaluation for every object; more calls.
   */
  GET_DATA_ACCESS = 'GET_DATA_ACCESS',
}

/** Options of {@link AccessGrantsIdentity.identityCenter}. */
export interface IdentityCenterOptions {
  /** The IAM Identity Center instance the Access Grants instance is associated with (for a created instance). */
  readonly identityCenterInstanceArn: string;
  /**
   * The Identity Center customer-managed application whose trusted token issuer accepts the callers' tokens; the
   * retriever calls `CreateTokenWithIAM` with it, and directory grants are bound to it.
   */
  readonly applicationArn: string;
}

/** How the end user's S3 Access Grants identity is established. */
export abstract class AccessGrantsIdentity {
  /**
   * Verified groups map to IAM roles (one per group, created or brought with `useRoleForGroup`); the retriever
   * assumes the roles of the caller's groups with a `cad-subject` session tag, and grants are IAM grants on them.
   */
  public static groupRoles(): AccessGrantsIdentity {
    return new GroupRolesIdentity();
  }

  /**
   * IAM Identity Center identity-enhanced sessions: the retriever exchanges the caller's verified token with
   * `CreateTokenWithIAM` and assumes a bearer role with the identity context; grants are directory user and group
   * grants resolved by Identity Center.
   */
  public static identityCenter(options: IdentityCenterOptions): AccessGrantsIdentity {
    return new IdentityCenterIdentity(options);
  }

  /** `GROUP_ROLES` or `IDENTITY_CENTER`. */
  public abstract readonly mode: string;
  /** The Identity Center options, in IDENTITY_CENTER mode. */
  public abstract readonly identityCenterOptions?: IdentityCenterOptions;
}

class GroupRolesIdentity extends AccessGrantsIdentity {
  public readonly mode = 'GROUP_ROLES';
  public readonly identityCenterOptions = undefined;
}

class IdentityCenterIdentity extends AccessGrantsIdentity {
  public readonly mode = 'IDENTITY_CENTER';
  constructor(public readonly identityCenterOptions: IdentityCenterOptions) {
    super();
    throwIfInvalid('AccessGrantsIdentity.identityCenter', [
      ...validatePattern('identityCenterInstanceArn', identityCenterOptions.identityCenterInstanceArn, /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'an Identity Center instance ARN'),
      ...validatePattern('applicationArn', identityCenterOptions.applicationArn, /^arn:aws[a-z-]*:sso::[0-9]{12}:application\/(sso)?ins-[a-zA-Z0-9-.]{16}\/apl-[a-zA-Z0-9]{16}$/, 'an Identity Center application ARN'),
    ]);
  }
}

/** Props of {@link AccessGrantsAuthorizer}. */
export interface AccessGrantsAuthorizerProps {
  /** How end users are identified to S3 Access Grants. */
  readonly identity: AccessGrantsIdentity;
  /**
   * Adopt the account's existing Access Grants instance (there is one per account and region) instead of creating one.
   * @default - a new instance is created (associated with Identity Center in IDENTITY_CENTER mode)
   */
  readonly existingInstanceArn?: string;
  /**
   * How chunk sources are checked.
   * @default AccessGrantsCheckMode.LIST_CALLER_GRANTS
   */
  readonly checkMode?: AccessGrantsCheckMode;
  /**
   * How long a user's authorization state (session, scopes, per-object answers) may be reused, 0 to 15 minutes. A
   * revoked grant stops admitting chunks at the latest this long after revocation.
   * @default Duration.minutes(5)
   */
  readonly revocationWindow?: Duration;
  /**
   * GROUP_ROLES: most group roles one caller may combine (1 to 20); a caller in more mapped groups is denied.
   * @default 5
   */
  readonly maxRolesPerCaller?: number;
}

/** Options of {@link AccessGrantsAuthorizer.addLocation}. */
export interface AccessGrantsLocationOptions {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /**
   * Key prefix of the location, ending with `/`.
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * The bucket's KMS key, if SSE-KMS (the location role needs to decrypt for vended credentials).
   * @default - the bucket's `encryptionKey`, if any
   */
  readonly encryptionKey?: kms.IKey;
}

/** A registered Access Grants location. */
export interface AccessGrantsLocation {
  /** The location id. */
  readonly locationId: string;
  /** The location scope (`s3://bucket/prefix/`). */
  readonly locationScope: string;
  /** The role Access Grants assumes to vend credentials for the location (read-only). */
  readonly role: iam.IRole;
}

const GROUP_NAME = /^[\p{L}\p{N}\p{M}_.:@+=,/ -]{1,256}$/u;
const SUB_PREFIX = /^([^*]+\/)$/;
const DIRECTORY_ID = /^([0-9a-f]{10}-|)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * S3 Access Grants for the knowledge retriever's post-retrieval check: an instance (created or adopted), locations
 * with read-only location roles, READ grants, and the user-session roles the retriever assumes so that every
 * Access Grants question is asked FOR THE END USER, never with the Lambda's own role.
 */
export class AccessGrantsAuthorizer extends Construct {
  /** The Access Grants instance ARN. */
  public readonly instanceArn: string;
  /** The created instance, unless adopted. */
  public readonly instance?: s3.CfnAccessGrantsInstance;
  /** The account that owns the instance (S3 Control `AccountId`). */
  public readonly accountId: string;
  /** The identity mode. */
  public readonly identity: AccessGrantsIdentity;
  /** The check mode. */
  public readonly checkMode: AccessGrantsCheckMode;
  /** The revocation window. */
  public readonly revocationWindow: Duration;
  /** IDENTITY_CENTER: the role assumed with the caller's identity context. */
  public readonly identityBearerRole?: iam.IRole;

  private readonly maxRolesPerCaller: number;
  private readonly groupRoles = new Map<string, iam.IRole>();
  private readonly authorizedArns: string[] = [];
  private readonly authorized: iam.IGrantable[] = [];

  constructor(scope: Construct, id: string, props: AccessGrantsAuthorizerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.identity = props.identity;
    this.checkMode = props.checkMode ?? AccessGrantsCheckMode.LIST_CALLER_GRANTS;
    this.revocationWindow = props.revocationWindow ?? Duration.minutes(5);
    this.maxRolesPerCaller = props.maxRolesPerCaller ?? GRANTS_DEFAULTS.maxRolesPerCaller;
    throwIfInvalid('AccessGrantsAuthorizer', [
      ...validateInteger('revocationWindow (seconds)', this.revocationWindow.toSeconds({ integral: false }), 0, 900),
      ...validateInteger('maxRolesPerCaller', this.maxRolesPerCaller, 1, 20),
      ...validatePattern('existingInstanceArn', props.existingInstanceArn, /^arn:aws[a-z-]*:s3:[a-z0-9-]+:[0-9]{12}:access-grants\/default$/, 'an Access Grants instance ARN (arn:aws:s3:<region>:<account>:access-grants/default)'),
    ]);

    if (props.existingInstanceArn) {
      this.instanceArn = props.existingInstanceArn;
      this.accountId = Token.isUnresolved(props.existingInstanceArn) ? stack.account : Arn.split(props.existingInstanceArn, ArnFormat.SLASH_RESOURCE_NAME).account ?? stack.account;
    } else {
      this.instance = new s3.CfnAccessGrantsInstance(this, 'Resource', {
        ...(this.identity.identityCenterOptions ? { identityCenterArn: this.identity.identityCenterOptions.identityCenterInstanceArn } : {}),
      });
      this.instanceArn = this.instance.attrAccessGrantsInstanceArn;
      this.accountId = stack.account;
    }

    if (this.identity.identityCenterOptions) {
      const bearer = this.sessionRole('IdentityBearerRole', 'cdk-ai-defense AccessGrantsAuthorizer: identity-enhanced sessions for end users', false);
      // Identity-enhanced sessions are created by AssumeRole with ProvidedContexts, which needs sts:SetContext.
      bearer.assumeRolePolicy!.addStatements(
        new iam.PolicyStatement({ actions: ['sts:SetContext'], principals: [new iam.AccountPrincipal(this.accountId)], conditions: { ArnEquals: { 'aws:PrincipalArn': this.authorizedArnList() } } }),
      );
      this.identityBearerRole = bearer;
    }

    this.node.addValidation({
      validate: () => (this.authorized.length === 0 ? ['AccessGrantsAuthorizer: no principal may use it; call grantAuthorize(retriever) (KnowledgeRetriever does this)'] : []),
    });
  }

  private authorizedArnList(): string[] {
    return Lazy.list({ produce: () => this.authorizedArns });
  }

  /** A role only the authorized retrievers may assume, holding only the caller-side Access Grants actions. */
  private sessionRole(id: string, description: string, requireSubjectTag: boolean): iam.Role {
    const principal = new iam.AccountPrincipal(this.accountId).withConditions({
      ArnEquals: { 'aws:PrincipalArn': this.authorizedArnList() },
      ...(requireSubjectTag ? { Null: { 'aws:RequestTag/cad-subject': 'false' } } : {}),
    });
    const role = new ManagedPolicyRole(this, id, { description, assumedBy: requireSubjectTag ? new iam.SessionTagsPrincipal(principal) : principal, maxSessionDuration: Duration.hours(1) });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: KnowledgePerms.ACCESS_GRANTS_CALLER, resources: [this.instanceArn] }));
    return role;
  }

  /** GROUP_ROLES: the role whose grants a verified group receives (created on first use). */
  public roleForGroup(group: string): iam.IRole {
    this.requireMode('GROUP_ROLES', 'roleForGroup');
    throwIfInvalid('AccessGrantsAuthorizer.roleForGroup', validatePattern('group', group, GROUP_NAME, 'a group name of 1 to 256 letters, digits, spaces and _.:@+=,/-'));
    let role = this.groupRoles.get(group);
    if (!role) {
      role = this.sessionRole(`GroupRole${hashOf(group)}`, `cdk-ai-defense AccessGrantsAuthorizer: S3 Access Grants identity of group ${group.slice(0, 100)}`, true);
      this.groupRoles.set(group, role);
      for (const g of this.authorized) this.allowAssume(g, role);
    }
    return role;
  }

  /**
   * GROUP_ROLES: use an existing role for a group. Its trust policy must let the retriever's role assume it with
   * `sts:AssumeRole` and `sts:TagSession`, and its policy must allow `s3:ListCallerAccessGrants` and
   * `s3:GetDataAccess` on the instance.
   */
  public useRoleForGroup(group: string, role: iam.IRole): void {
    this.requireMode('GROUP_ROLES', 'useRoleForGroup');
    throwIfInvalid('AccessGrantsAuthorizer.useRoleForGroup', [
      ...validatePattern('group', group, GROUP_NAME, 'a group name of 1 to 256 letters, digits, spaces and _.:@+=,/-'),
      ...(this.groupRoles.has(group) ? [`group "${group}" already has a role; allowed: one role per group`] : []),
    ]);
    this.groupRoles.set(group, role);
    for (const g of this.authorized) this.allowAssume(g, role);
  }

  /** Registers a location (a bucket, or a prefix of it) with a read-only location role. */
  public addLocation(id: string, options: AccessGrantsLocationOptions): AccessGrantsLocation {
    const prefix = options.prefix ?? '';
    throwIfInvalid('AccessGrantsAuthorizer.addLocation', prefix === '' ? [] : validatePattern('prefix', prefix, SUB_PREFIX, 'a key prefix ending with "/" and without "*"'));
    const stack = Stack.of(this);
    const scope = new Construct(this, id);
    const role = new ManagedPolicyRole(scope, 'Role', {
      description: 'cdk-ai-defense AccessGrantsAuthorizer: location role (read-only)',
      assumedBy: new iam.ServicePrincipal('access-grants.s3.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': this.accountId },
        ArnEquals: { 'aws:SourceArn': this.instanceArn },
      }),
    });
    // SetSourceIdentity (IAM grantees) and SetContext (directory grantees) join AssumeRole in the trust policy.
    role.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({
        actions: KnowledgePerms.LOCATION_TRUST.filter((a) => a !== 'sts:AssumeRole'),
        principals: [new iam.ServicePrincipal('access-grants.s3.amazonaws.com')],
        conditions: { StringEquals: { 'aws:SourceAccount': this.accountId }, ArnEquals: { 'aws:SourceArn': this.instanceArn } },
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: KnowledgePerms.LOCATION_READ, resources: [options.bucket.arnForObjects(`${prefix}*`)] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [options.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
    );
    const key = options.encryptionKey ?? options.bucket.encryptionKey;
    if (key) key.grant(role, 'kms:Decrypt');
    const bucketId = options.bucket.node.defaultChild instanceof s3.CfnBucket ? stack.getLogicalId(options.bucket.node.defaultChild) : undefined;
    if (bucketId) {
      acknowledgeNag(role, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, 'A location role vends read access to objects of its registered location; object keys are not known at deploy time and the grant scope narrows each vended credential further.');
    }
    const location = new s3.CfnAccessGrantsLocation(scope, 'Resource', { iamRoleArn: role.roleArn, locationScope: `s3://${options.bucket.bucketName}/${prefix}` });
    if (this.instance) location.node.addDependency(this.instance);
    return { locationId: location.attrAccessGrantsLocationId, locationScope: `s3://${options.bucket.bucketName}/${prefix}`, role };
  }

  /** Registers the published (indexed) prefix of a knowledge base as a location. */
  public addKnowledgeBaseLocation(id: string, knowledgeBase: SecureKnowledgeBase): AccessGrantsLocation {
    return this.addLocation(id, { bucket: knowledgeBase.documentsBucket, prefix: knowledgeBase.publishedPrefix, encryptionKey: knowledgeBase.encryptionKey });
  }

  private grant(id: string, location: AccessGrantsLocation, subPrefix: string | undefined, grantee: s3.CfnAccessGrant.GranteeProperty, applicationArn?: string): s3.CfnAccessGrant {
    throwIfInvalid(
      'AccessGrantsAuthorizer',
      subPrefix === undefined ? [] : validatePattern('subPrefix', subPrefix, SUB_PREFIX, 'a key prefix ending with "/" and without "*" (grants only ever cover whole folders)'),
    );
    return new s3.CfnAccessGrant(this, id, {
      accessGrantsLocationId: location.locationId,
      ...(subPrefix !== undefined ? { accessGrantsLocationConfiguration: { s3SubPrefix: `${subPrefix}*` } } : {}),
      grantee,
      permission: 'READ',
      ...(applicationArn ? { applicationArn } : {}),
    });
  }

  /** GROUP_ROLES: lets a verified group read a location (or a folder of it, `subPrefix` ending with `/`). */
  public grantGroupRead(group: string, location: AccessGrantsLocation, subPrefix?: string): s3.CfnAccessGrant {
    const role = this.roleForGroup(group);
    return this.grant(`GroupGrant${hashOf(`${group}\u0000${locationKey(location)}\u0000${subPrefix ?? ''}`)}`, location, subPrefix, { granteeType: 'IAM', granteeIdentifier: role.roleArn });
  }

  /** IDENTITY_CENTER: lets a directory group (its Identity Store id) read a location (or a folder of it). */
  public grantDirectoryGroupRead(groupId: string, location: AccessGrantsLocation, subPrefix?: string): s3.CfnAccessGrant {
    return this.directoryGrant('DIRECTORY_GROUP', groupId, location, subPrefix);
  }

  /** IDENTITY_CENTER: lets a directory user (its Identity Store id) read a location (or a folder of it). */
  public grantDirectoryUserRead(userId: string, location: AccessGrantsLocation, subPrefix?: string): s3.CfnAccessGrant {
    return this.directoryGrant('DIRECTORY_USER', userId, location, subPrefix);
  }

  private directoryGrant(type: string, id: string, location: AccessGrantsLocation, subPrefix?: string): s3.CfnAccessGrant {
    this.requireMode('IDENTITY_CENTER', type === 'DIRECTORY_USER' ? 'grantDirectoryUserRead' : 'grantDirectoryGroupRead');
    throwIfInvalid('AccessGrantsAuthorizer', validatePattern('identity store id', id, DIRECTORY_ID, 'an Identity Store user or group id (UUID)'));
    // Bound to the retriever's Identity Center application: the grant is usable through it only.
    return this.grant(`${type === 'DIRECTORY_USER' ? 'User' : 'Group'}Grant${hashOf(`${id}\u0000${locationKey(location)}\u0000${subPrefix ?? ''}`)}`, location, subPrefix, { granteeType: type, granteeIdentifier: id }, this.identity.identityCenterOptions!.applicationArn);
  }

  /**
   * Lets a principal (the retriever's role) establish user sessions: assume the group roles with session tags, or
   * exchange tokens with Identity Center and assume the bearer role with the identity context. The principal itself
   * gets no Access Grants action: it can only ask for a user.
   */
  public grantAuthorize(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    const arn = (principal as iam.IPrincipal & { roleArn?: string }).roleArn ?? (principal as { arn?: string }).arn;
    throwIfInvalid('AccessGrantsAuthorizer.grantAuthorize', arn === undefined ? ['grantee has no role ARN; allowed: a role (such as a Lambda function role)'] : []);
    this.authorized.push(grantee);
    this.authorizedArns.push(arn as string);
    if (this.identity.mode === 'GROUP_ROLES') {
      for (const role of this.groupRoles.values()) this.allowAssume(grantee, role);
    } else {
      principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole', 'sts:SetContext'], resources: [this.identityBearerRole!.roleArn] }));
      principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: KnowledgePerms.CREATE_TOKEN_WITH_IAM, resources: [this.identity.identityCenterOptions!.applicationArn] }));
    }
  }

  private allowAssume(grantee: iam.IGrantable, role: iam.IRole): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [role.roleArn] }));
  }

  private requireMode(mode: string, method: string): void {
    if (this.identity.mode !== mode) throw new Error(`AccessGrantsAuthorizer.${method}: only in ${mode} identity mode; this authorizer uses ${this.identity.mode}`);
  }

  /** @internal */
  public _runtimeConfig(): GrantsConfigDocument {
    const groupRoles = [...this.groupRoles.entries()].map(([group, role]) => ({ group, roleArn: role.roleArn }));
    return {
      accountId: this.accountId,
      identityMode: this.identity.mode as GrantsConfigDocument['identityMode'],
      ...(this.identity.mode === 'GROUP_ROLES' ? { groupRoles } : {}),
      ...(this.identity.identityCenterOptions ? { identityCenter: { applicationArn: this.identity.identityCenterOptions.applicationArn, bearerRoleArn: this.identityBearerRole!.roleArn } } : {}),
      checkMode: this.checkMode as GrantsConfigDocument['checkMode'],
      revocationWindowSeconds: this.revocationWindow.toSeconds(),
      maxRolesPerCaller: this.maxRolesPerCaller,
    };
  }

  /** @internal the groups with a role, for validation. */
  public get _groupCount(): number {
    return this.groupRoles.size;
  }
}

/**
 * A stable key of a location for construct ids. The scope usually holds a bucket-name token, whose text changes with
 * the order tokens are created in, so the location's role path stands in for it then.
 */
function locationKey(location: AccessGrantsLocation): string {
  return Token.isUnresolved(location.locationScope) ? location.role.node.path : location.locationScope;
}

function hashOf(text: string): string {
  // A short stable id component (construct ids must be stable and unique; group names may contain any character).
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0').toUpperCase();
}
