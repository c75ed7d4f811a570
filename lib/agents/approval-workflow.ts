import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { APPROVAL_DEFAULTS, APPROVAL_LIMITS, ApprovalEnv, GROUP_NAME_PATTERN } from '../../lambda/approval/config';
import { TOOL_PATTERN } from '../../lambda/approval/hash';
import { ApprovalAttribute, PENDING_INDEX_NAME, PENDING_INDEX_PROJECTION } from '../../lambda/approval/store';
import { CallerIdentity } from '../common/caller-identity';
import { AiWebAcl } from '../edge/ai-web-acl';
import { EnforcementFunction, EnforcementFunctionOptions, sharedLogKey } from '../private/enforcement-function';
import { acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { createApproverApi } from './private/approval-api';
import { ApprovalPerms } from './private/approval-perms';
import { createApproverPool } from './private/approval-pool';

/** Props of `ApprovalWorkflow`. */
export interface ApprovalWorkflowProps extends EnforcementFunctionOptions {
  /**
   * Whose tokens the approver API accepts: approvers sign in with this identity and are known only from its verified
   * token. Give it together with `userPool` (the pool that issues those tokens, for API Gateway's authorizer).
   * @default - a new Cognito user pool for approvers (MFA required, no self sign-up) with the approver group, whose
   *   ID tokens the API accepts
   */
  readonly approverIdentity?: CallerIdentity;
  /**
   * The Cognito user pool that issues approvers' tokens, for the API's Cognito user pools authorizer. Required with
   * `approverIdentity`, and only with it.
   * @default - the user pool created for approvers
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * The group (in the verified token's groups claim, compared exactly) whose members may approve. Create it in your
   * pool when you give one.
   * @default 'approvers'
   */
  readonly approverGroup?: string;
  /**
   * OAuth scopes the API's authorizer requires. Needed when `approverIdentity` accepts ACCESS tokens (API Gateway
   * only accepts a Cognito access token for a method with scopes); leave unset for ID tokens.
   * @default - no scopes (the authorizer accepts ID tokens)
   */
  readonly authorizationScopes?: string[];
  /**
   * How long a request, and an approval of it, stays valid (1 to 60 minutes, whole seconds). An approval not used by
   * then is denied APPROVAL_EXPIRED; a workflow waiting for it fails with `States.Timeout`.
   * @default Duration.minutes(15)
   */
  readonly approvalTtl?: Duration;
  /**
   * Most pending requests one principal may have at a time (1 to 100); further calls are denied APPROVAL_CAP_REACHED
   * until a request is decided or expires. Bounds how hard one user (or an agent acting for them) can press approvers.
   * @default 5
   */
  readonly maxPendingPerPrincipal?: number;
  /**
   * Key that encrypts the approval table and the notification topic.
   * @default - a new customer-managed key with rotation on (retained on delete)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Web ACL that protects the approver API's stage.
   * @default - no web ACL (cdk-nag's API Gateway WAF rules then report the stage)
   */
  readonly webAcl?: AiWebAcl;
  /**
   * Steady-state requests per second the API's stage allows (1 to 10,000).
   * @default 10 (approvals are decided by people)
   */
  readonly apiRateLimit?: number;
  /**
   * Burst of requests the API's stage allows (1 to 5,000).
   * @default 20
   */
  readonly apiBurstLimit?: number;
}

/** Options of `ApprovalWorkflow.approvalTask`. */
export interface ApprovalTaskOptions {
  /**
   * Name of the action approvers decide on (1 to 256 of `A-Z a-z 0-9 _ . -`), shown in the request and the
   * notification, and bound into the approval.
   */
  readonly tool: string;
  /**
   * JSON path (in the state's input) of the object the approver approves, for example `$.refund`. It is shown to
   * approvers and bound into the approval hash.
   */
  readonly argumentsPath: string;
  /**
   * JSON path of the VERIFIED principal who asked, as `<issuer>|<subject>` (the same form as a caller of the tool
   * gateway). That principal may not approve their own request; never take it from model output.
   */
  readonly principalPath: string;
  /**
   * JSON path of the session the approval is bound to.
   * @default '$$.Execution.Id' (the execution)
   */
  readonly sessionPath?: string;
  /**
   * Where the approval (`{ approvalId, decision, approvalHash, decidedAt }`) is put in the state's output.
   * @default '$.approval'
   */
  readonly resultPath?: string;
  /**
   * Comment of the state.
   * @default - a comment naming the action
   */
  readonly comment?: string;
}

const JSON_PATH = /^\$\$?(\.[A-Za-z0-9_-]+|\[[0-9]+\])*$/;

/**
 * Human approval of high-risk tool calls and workflow steps, bound to the exact call and usable once.
 *
 * What it protects against: an agent (or whoever steers it through prompt injection) running a high-risk tool
 * without a person agreeing; an approval being stretched to another call (other arguments, tool version, user or
 * session), reused, used late, or given by the requester themselves.
 *
 * - A DynamoDB table (customer-managed KMS key, point-in-time recovery, TTL, on-demand, retained, deletion
 *   protection) holds each request under the canonical hash of the call: tool, tool pin, arguments, principal and
 *   session; the approval hash adds a random nonce and the expiry. A sparse index lists pending requests.
 * - The tool interceptor's approval gate (`grantGate` + `gateEnvironment`) stores a request for an unapproved call,
 *   notifies approvers on a KMS-encrypted SNS topic (tool, id and expiry only), and lets an approved call run once
 *   (a conditional write), within the expiry (default 15 minutes), under a cap of pending requests per principal.
 * - The approver API (API Gateway REST with a Cognito user pools authorizer) verifies the approver's token again,
 *   requires the approver group, never lets the requester decide, and records a decision only if the approver
 *   echoes the hash of exactly what they saw.
 * - `approvalTask` gives Step Functions workflows a wait-for-task-token step that an approver completes.
 * Every step is a line in the decision log of the function that took it.
 */
export class ApprovalWorkflow extends Construct {
  /** The approval table (partition key `id`). */
  public readonly table: dynamodb.ITable;
  /** The key of the table and the topic. */
  public readonly encryptionKey: kms.IKey;
  /** The topic that tells approvers about new requests; subscribe approvers (or a chat integration) to it. */
  public readonly topic: sns.ITopic;
  /** The approver API. */
  public readonly api: apigateway.RestApi;
  /** The approver API's URL (`.../approvals/`): `GET approvals`, `GET approvals/{id}`, `POST approvals/{id}`. */
  public readonly apiUrl: string;
  /** The approver API's access log group. */
  public readonly apiAccessLogGroup: logs.ILogGroup;
  /** The function behind the approver API. */
  public readonly apiFunction: lambda.IFunction;
  /** The approver API function's log group: one decision line per step (give it to `AiAuditTrail.watchDecisionLogs`). */
  public readonly apiDecisionLogGroup: logs.ILogGroup;
  /** The user pool of approvers (created or given). */
  public readonly userPool: cognito.IUserPool;
  /** The app client of the created user pool (for the approver UI); undefined when the pool was given. */
  public readonly userPoolClient?: cognito.IUserPoolClient;
  /** Whose tokens the approver API accepts. */
  public readonly approverIdentity: CallerIdentity;
  /** The approver group. */
  public readonly approverGroup: string;
  /** How long a request and its approval stay valid. */
  public readonly approvalTtl: Duration;
  /** Most pending requests per principal. */
  public readonly maxPendingPerPrincipal: number;

  private readonly props: ApprovalWorkflowProps;
  private requestFn?: EnforcementFunction;
  private readonly workflows = new Set<string>();
  private taskCount = 0;

  constructor(scope: Construct, id: string, props: ApprovalWorkflowProps = {}) {
    super(scope, id);
    const approverGroup = props.approverGroup ?? APPROVAL_DEFAULTS.approverGroup;
    const ttl = props.approvalTtl ?? Duration.seconds(APPROVAL_DEFAULTS.ttlSeconds);
    const maxPending = props.maxPendingPerPrincipal ?? APPROVAL_DEFAULTS.maxPendingPerPrincipal;
    const ttlSeconds = ttl.toSeconds({ integral: false });
    throwIfInvalid('ApprovalWorkflow', [
      ...(props.approverIdentity !== undefined && props.userPool === undefined
        ? ['approverIdentity is set without userPool; allowed: both (your pool and the identity of its tokens), or neither (a pool is created)']
        : []),
      ...(props.userPool !== undefined && props.approverIdentity === undefined
        ? ['userPool is set without approverIdentity; allowed: both, or neither (a pool is created)']
        : []),
      ...(Token.isUnresolved(approverGroup) ? ['approverGroup is a token; allowed: a literal group name'] : validatePattern('approverGroup', approverGroup, GROUP_NAME_PATTERN, 'a group name of 1 to 128 characters without surrounding spaces')),
      ...validateInteger('approvalTtl (seconds)', ttlSeconds, ...APPROVAL_LIMITS.ttlSeconds),
      ...validateInteger('maxPendingPerPrincipal', maxPending, ...APPROVAL_LIMITS.maxPendingPerPrincipal),
      ...validateInteger('apiRateLimit', props.apiRateLimit, 1, 10_000),
      ...validateInteger('apiBurstLimit', props.apiBurstLimit, 1, 5_000),
      ...(props.authorizationScopes ?? []).flatMap((s) => validatePattern('authorizationScopes', s, /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, 'OAuth scope names')),
    ]);
    this.props = props;
    this.approverGroup = approverGroup;
    this.approvalTtl = ttl;
    this.maxPendingPerPrincipal = maxPending;

    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'cdk-ai-defense ApprovalWorkflow: encrypts approval requests and their notifications',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.encryptionKey = key;

    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ApprovalAttribute.ID, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ApprovalAttribute.TTL,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    table.addGlobalSecondaryIndex({
      indexName: PENDING_INDEX_NAME,
      partitionKey: { name: ApprovalAttribute.QUEUE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ApprovalAttribute.EXPIRES_AT, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...PENDING_INDEX_PROJECTION],
    });
    acknowledgeNagAll(table, ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'], 'The table holds short-lived approval requests (minutes, removed by TTL a day after expiry); point-in-time recovery is on, each step is in the decision log, and restoring a backup would bring back spent or expired approvals.');
    this.table = table;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Approval requests',
      masterKey: key,
      enforceSSL: true,
    });

    let identity = props.approverIdentity;
    let userPool = props.userPool;
    if (identity === undefined || userPool === undefined) {
      const pool = createApproverPool(this, approverGroup);
      identity = pool.identity;
      userPool = pool.userPool;
      this.userPoolClient = pool.client;
    }
    this.approverIdentity = identity;
    this.userPool = userPool;

    const apiFunction = new EnforcementFunction(this, 'ApiFunction', {
      ...this.functionOptions(),
      handlerName: 'approval-api',
      description: 'cdk-ai-defense ApprovalWorkflow: the approver API (verifies the approver, records decisions once)',
      timeout: Duration.seconds(10),
      environment: {
        ...identity.environment(this),
        ...this.storeEnvironment(),
        [ApprovalEnv.APPROVER_GROUP]: approverGroup,
        [ApprovalEnv.TIMEOUT_MS]: '7000',
      },
    });
    this.apiFunction = apiFunction;
    this.apiDecisionLogGroup = apiFunction.decisionLogGroup;
    this.grantTable(apiFunction, ApprovalPerms.API_TABLE);
    iam.Grant.addToPrincipal({ grantee: apiFunction, actions: [...ApprovalPerms.API_INDEX], resourceArns: [`${table.tableArn}/index/${PENDING_INDEX_NAME}`] });

    const { api, accessLogGroup } = createApproverApi(this, {
      handler: apiFunction,
      userPool,
      authorizationScopes: props.authorizationScopes,
      logEncryptionKey: props.logEncryptionKey ?? sharedLogKey(this),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      throttlingRateLimit: props.apiRateLimit ?? 10,
      throttlingBurstLimit: props.apiBurstLimit ?? 20,
    });
    this.api = api;
    this.apiUrl = api.urlForPath('/approvals');
    this.apiAccessLogGroup = accessLogGroup;
    props.webAcl?.associate(api.deploymentStage.stageArn);

    this.node.addValidation({
      validate: () =>
        this.taskCount > 0 && this.workflows.size === 0
          ? ['ApprovalWorkflow: approvalTask() is used but no state machine was added; call addWorkflow(stateMachine) so the approver API may answer its tasks']
          : [],
    });
  }

  /**
   * Gives the tool interceptor (or any function that embeds the approval gate) exactly what the gate needs:
   * GetItem, PutItem and UpdateItem on the table, the table key through DynamoDB, and Publish on the topic with the
   * topic key through SNS.
   */
  public grantGate(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantTable(grantee, ApprovalPerms.GATE_TABLE);
    this.grantPublish(grantee);
    return grant;
  }

  /**
   * The environment the gate reads (`approvalGateFromEnv` in `lambda/approval/gate.ts`): table, topic, expiry and
   * cap. Add it to the tool interceptor's environment.
   */
  public gateEnvironment(): { [key: string]: string } {
    return this.storeEnvironment();
  }

  /**
   * A Step Functions task that asks for a human approval and waits (wait-for-task-token) until an approver decides
   * in the approver API: APPROVE continues with the approval at `resultPath`, REJECT fails the task with the error
   * `ApprovalRejected`, no decision within `approvalTtl` fails it with `States.Timeout`, and a refused request
   * (`APPROVAL_CAP_REACHED`, `MALFORMED_REQUEST`, `UPSTREAM_*`) fails it at once with the code as the error. Add the
   * state machine with `addWorkflow` so that the approver API may answer it.
   */
  public approvalTask(scope: Construct, id: string, options: ApprovalTaskOptions): tasks.LambdaInvoke {
    const sessionPath = options.sessionPath ?? '$$.Execution.Id';
    const paths: Array<[string, string | undefined]> = [
      ['argumentsPath', options.argumentsPath],
      ['principalPath', options.principalPath],
      ['sessionPath', sessionPath],
      ['resultPath', options.resultPath],
    ];
    throwIfInvalid('ApprovalWorkflow.approvalTask', [
      ...validatePattern('tool', options.tool, TOOL_PATTERN, '1 to 256 of A-Z a-z 0-9 _ . -'),
      ...paths.flatMap(([name, path]) => validatePattern(name, path, JSON_PATH, 'a JSON path such as $.field or $$.Execution.Id')),
    ]);
    this.taskCount++;
    return new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: this.ensureRequestFunction(),
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        tool: options.tool,
        toolPin: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
        arguments: sfn.JsonPath.objectAt(options.argumentsPath),
        principal: sfn.JsonPath.stringAt(options.principalPath),
        session: sfn.JsonPath.stringAt(sessionPath),
      }),
      taskTimeout: sfn.Timeout.duration(this.approvalTtl),
      resultPath: options.resultPath ?? '$.approval',
      comment: options.comment ?? `Waits for a human approval of ${options.tool}`,
    });
  }

  /** Lets the approver API answer the approval tasks of a state machine (SendTaskSuccess and SendTaskFailure on it). */
  public addWorkflow(stateMachine: sfn.IStateMachine): void {
    const key = Stack.of(this).resolve(stateMachine.stateMachineArn);
    const id = JSON.stringify(key);
    if (this.workflows.has(id)) return;
    this.workflows.add(id);
    iam.Grant.addToPrincipal({ grantee: this.apiFunction, actions: [...ApprovalPerms.TASK_RESPONSE], resourceArns: [stateMachine.stateMachineArn] });
  }

  /** The function behind `approvalTask` (created on its first use), or undefined before. */
  public get requestFunction(): lambda.IFunction | undefined {
    return this.requestFn;
  }

  private ensureRequestFunction(): EnforcementFunction {
    if (this.requestFn) return this.requestFn;
    const fn = new EnforcementFunction(this, 'RequestFunction', {
      ...this.functionOptions(),
      handlerName: 'approval-request',
      description: 'cdk-ai-defense ApprovalWorkflow: stores a workflow approval request with its task token',
      timeout: Duration.seconds(10),
      environment: { ...this.storeEnvironment(), [ApprovalEnv.TIMEOUT_MS]: '7000' },
    });
    this.grantTable(fn, ApprovalPerms.REQUEST_TABLE);
    this.grantPublish(fn);
    this.requestFn = fn;
    return fn;
  }

  private functionOptions(): EnforcementFunctionOptions {
    const p = this.props;
    return { vpc: p.vpc, vpcSubnets: p.vpcSubnets, securityGroups: p.securityGroups, logEncryptionKey: p.logEncryptionKey, logRetention: p.logRetention };
  }

  private storeEnvironment(): { [key: string]: string } {
    return {
      [ApprovalEnv.TABLE_NAME]: this.table.tableName,
      [ApprovalEnv.TOPIC_ARN]: this.topic.topicArn,
      [ApprovalEnv.TTL_SECONDS]: String(this.approvalTtl.toSeconds()),
      [ApprovalEnv.MAX_PENDING]: String(this.maxPendingPerPrincipal),
    };
  }

  private grantTable(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.table.tableArn] });
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...ApprovalPerms.TABLE_KEY],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
    });
    return grant;
  }

  private grantPublish(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({ grantee, actions: [...ApprovalPerms.TOPIC], resourceArns: [this.topic.topicArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...ApprovalPerms.TOPIC_KEY],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.${stack.urlSuffix}` } },
    });
  }
}
