import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  STEP_NAME_PATTERN,
  StepConfig,
  WORKFLOW_DEFAULTS,
  WORKFLOW_LIMITS,
  WorkflowEnv,
  WorkflowErrorName,
  inputSchemaProblems,
  stepConfigProblems,
} from '../../lambda/agent-workflow/config';
import { RunnerAction } from '../../lambda/agent-workflow/decide';
import { EnforcementFunction, EnforcementFunctionOptions, sharedLogKey } from '../private/enforcement-function';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { acknowledgeNag, acknowledgeNagAll } from '../private/nag';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { ToolCapability } from '../tools/tool-registry';
import { AgentLoop } from './agent-loop';
import { ApprovalWorkflow } from './approval-workflow';
import { exactInvokeView } from './private/workflow-exact';
import { WorkflowAgentReach } from './private/workflow-reach';
import { WorkflowIdentity } from './workflow-identity';

/** Options of {@link AgentStepOutput.verdict}. */
export interface VerdictOutputOptions {
  /** The verdicts the agent may answer (2 to 8 upper-case codes, `A-Z 0-9 _`). Choice states route on them. */
  readonly verdicts: string[];
  /**
   * The safe verdict, used whenever the agent's answer is not exactly a valid verdict (prose, a malformed or second
   * object, an unknown verdict, a wrong echo) or the agent did not complete. One of `verdicts`.
   */
  readonly defaultVerdict: string;
  /**
   * Fields the verdict must echo, each with the JSON path (in the state) of the value it must equal exactly, for
   * example `{ ip: '$.input.sourceIp' }`. A verdict other than the default must echo all of them.
   * @default - none
   */
  readonly echo?: { [field: string]: string };
}

/** How a step reads its agent's answer. */
export class AgentStepOutput {
  /** The screened answer text is the step's output (`<resultPath>.text`), for a later agent to read as data. */
  public static text(): AgentStepOutput {
    return new AgentStepOutput('TEXT', undefined);
  }

  /**
   * The answer must be one JSON verdict, parsed strictly by deterministic code; the step's output is
   * `<resultPath>.verdict` (always one of `verdicts`), `verdictSource` (`AGENT` or `DEFAULT`) and `verdictReason`.
   * The model's text itself never reaches the state.
   */
  public static verdict(options: VerdictOutputOptions): AgentStepOutput {
    return new AgentStepOutput('VERDICT', options);
  }

  private constructor(
    /** @internal */ public readonly _type: 'TEXT' | 'VERDICT',
    /** @internal */ public readonly _verdict: VerdictOutputOptions | undefined,
  ) {}
}

/** Options of `AgentWorkflow.agentStep`. */
export interface AgentStepOptions {
  /**
   * The agent. Its `identity` must be the workflow identity's `callerIdentity` (the step runner calls it with the
   * workflow's token). Its Lambda timeout must be at most the workflow's `stepTimeout` minus 15 seconds.
   */
  readonly agent: AgentLoop;
  /**
   * The data the agent gets, by name: JSON paths in the state (for example `{ alert: '$.input' }`). Each is put in
   * the prompt as canonical JSON inside its own data tag. At most 8.
   */
  readonly inputs: { [name: string]: string };
  /**
   * How the answer is read.
   * @default AgentStepOutput.text()
   */
  readonly output?: AgentStepOutput;
  /**
   * Where the step's output goes in the state.
   * @default - `$.<id with a lower-case first letter>`
   */
  readonly resultPath?: string;
  /**
   * The capabilities of each input (what the data is: `UNTRUSTED_CONTENT` for an alert an attacker can shape,
   * `SENSITIVE_DATA` for inventory, `[]` for a closed verdict), for the lethal-trifecta analysis.
   * @default - an input without an entry counts as sensitive data and untrusted content
   */
  readonly inputCapabilities?: { [name: string]: ToolCapability[] };
  /**
   * Comment of the state.
   * @default - a comment naming the agent
   */
  readonly comment?: string;
}

/** Options of `AgentWorkflow.taskStep`. */
export interface TaskStepOptions {
  /** The function: deterministic code, never a model. */
  readonly function: lambda.IFunction;
  /** Its payload (JSON paths into the state; never a token). */
  readonly payload: sfn.TaskInput;
  /**
   * Where the function's answer goes in the state.
   * @default - `$.<id with a lower-case first letter>`
   */
  readonly resultPath?: string;
  /**
   * Error names (besides Lambda's own throttling and service errors) that are retried with backoff.
   * @default - only Lambda's own transient errors
   */
  readonly retryOn?: string[];
  /**
   * Deadline of the task.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Comment of the state.
   * @default - none
   */
  readonly comment?: string;
}

/** Options of `AgentWorkflow.approvalStep`. */
export interface WorkflowApprovalStepOptions {
  /** Name of the action approvers decide on (bound into the approval). */
  readonly tool: string;
  /** JSON path of the object approvers approve (exactly what the next deterministic step executes). */
  readonly argumentsPath: string;
  /**
   * Where the approval goes in the state.
   * @default '$.approval'
   */
  readonly resultPath?: string;
  /**
   * Comment of the state.
   * @default - a comment naming the action
   */
  readonly comment?: string;
}

/**
 * Props of `AgentWorkflow`. The function options (`vpc`, `vpcSubnets`, `securityGroups`, `logEncryptionKey`,
 * `logRetention`) apply to the step runner. The runner must reach the user pool's OAuth 2.0 token endpoint, which has
 * no PrivateLink endpoint: give it a VPC only with subnets that have an egress path; by default it runs outside any
 * VPC (deterministic code that holds only the workflow's client secret and the permission to invoke its agents).
 */
export interface AgentWorkflowProps extends EnforcementFunctionOptions {
  /** The workflow's own identity: the step runner calls every agent with its tokens. */
  readonly identity: WorkflowIdentity;
  /**
   * JSON Schema of the execution input (an object; the strict subset the library validates, at most 2,048
   * characters of JSON; extra keys are always rejected). The first state validates the input against it.
   */
  readonly inputSchema: { [key: string]: any };
  /**
   * Human approval for `approvalStep`.
   * @default - no approval steps
   */
  readonly approvals?: ApprovalWorkflow;
  /**
   * Deadline of one agent step (1 to 14 minutes): the step runner's Lambda timeout. Each agent's own timeout must
   * be at least 15 seconds shorter.
   * @default Duration.minutes(6)
   */
  readonly stepTimeout?: Duration;
  /**
   * Deadline of a whole execution (1 minute to 1 day), approvals included.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * Largest prompt the runner builds for an agent (1,000 to 100,000 characters); a larger one fails the step,
   * never truncated.
   * @default 20000
   */
  readonly maxPromptCharacters?: number;
}

const JSON_PATH = /^\$(\.[A-Za-z0-9_-]+|\[[0-9]+\])*$/;
/** Lambda's own transient errors, retried on every task. */
const LAMBDA_TRANSIENT = ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'];
const TOKEN_TIMEOUT = Duration.seconds(WORKFLOW_DEFAULTS.tokenTimeoutMs / 1000);
/** The runner needs this much of its timeout besides the agent call. */
const RUNNER_MARGIN = Duration.seconds(5);
const DEFAULT_INPUT_CAPABILITIES = [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT];

function lowerFirst(id: string): string {
  return id.charAt(0).toLowerCase() + id.slice(1);
}

/**
 * A deterministic graph of agents as a Step Functions state machine: each agent is an `AgentLoop` with its own
 * minimal tools, the order is fixed by the state machine, and branches route only on structured, validated output.
 *
 * What it protects against:
 * - Routing on model text: a branch reads a VERDICT step's `verdict`, which deterministic code parses strictly
 *   from the agent's answer; anything else is the step's safe default verdict. The model's text never routes.
 * - A model choosing what a high-risk action does: actions are deterministic `taskStep`s with arguments from the
 *   state (validated input, prepared requests), after a human `approvalStep` on exactly those arguments.
 * - Tokens in execution history: no token enters the state. The step runner mints the workflow identity's token in
 *   its own memory and calls the agent itself; the state machine logs ALL events without execution data.
 * - One agent holding all three legs of the lethal trifecta: each step is analysed as its own subject, with its
 *   tools and the data it is given.
 * - Runaway or stuck executions: a deadline per step and per execution, retries with backoff only on throttles and
 *   transient faults, and every other failure caught into one Fail state with its reason code.
 *
 * Use: create the agents with `identity.callerIdentity`, create steps with `agentStep` / `taskStep` /
 * `approvalStep`, compose them with Step Functions `Choice`, `Pass` and `next`, then call `build(definition)` once.
 */
export class AgentWorkflow extends Construct {
  /** The step runner (validates the input, calls agents, parses verdicts). */
  public readonly runner: lambda.IFunction;
  /** The runner's decision log. */
  public readonly decisionLogGroup: logs.ILogGroup;
  /** The state machine's log group (ALL events, no execution data). */
  public readonly logGroup: logs.ILogGroup;
  /** The Fail state every caught error ends in (error and cause from `$.failure`). */
  public readonly failState: sfn.Fail;
  /** The first state: validates the execution input into `$.input` and puts the workflow principal at `$.workflow.principal`. */
  public readonly validateState: tasks.LambdaInvoke;
  /** The workflow identity. */
  public readonly identity: WorkflowIdentity;
  /** Deadline of one agent step. */
  public readonly stepTimeout: Duration;

  private readonly props: AgentWorkflowProps;
  private readonly runnerFunction: EnforcementFunction;
  private readonly steps: Record<string, StepConfig> = {};
  private readonly agentDeadline: Duration;
  private approvalTasks = 0;
  private _stateMachine?: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: AgentWorkflowProps) {
    super(scope, id);
    const stepTimeout = props.stepTimeout ?? Duration.minutes(6);
    const timeout = props.timeout ?? Duration.hours(2);
    const maxPrompt = props.maxPromptCharacters ?? WORKFLOW_DEFAULTS.maxPromptChars;
    const stepSeconds = stepTimeout.toSeconds({ integral: false });
    throwIfInvalid('AgentWorkflow', [
      ...validateInteger('stepTimeout (seconds)', stepSeconds, 60, 840),
      ...validateInteger('timeout (seconds)', timeout.toSeconds({ integral: false }), 60, 86_400),
      ...validateInteger('maxPromptCharacters', maxPrompt, ...WORKFLOW_LIMITS.maxPromptChars),
      ...inputSchemaProblems(props.inputSchema),
      ...(props.identity.accessTokenValidity.toSeconds() < stepSeconds + 60
        ? [`identity.accessTokenValidity (${props.identity.accessTokenValidity.toMinutes({ integral: false })} minutes) must exceed stepTimeout by at least a minute: an agent stops when the token expires`]
        : []),
    ]);
    this.props = props;
    this.identity = props.identity;
    this.stepTimeout = stepTimeout;
    this.agentDeadline = Duration.seconds(stepSeconds - TOKEN_TIMEOUT.toSeconds() - RUNNER_MARGIN.toSeconds());

    const runner = new EnforcementFunction(this, 'Runner', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logEncryptionKey: props.logEncryptionKey,
      logRetention: props.logRetention,
      handlerName: 'agent-workflow',
      description: 'cdk-ai-defense AgentWorkflow: validates input, calls agents with the workflow identity, parses verdicts; fails closed',
      timeout: stepTimeout,
      environment: {
        [WorkflowEnv.INPUT_SCHEMA]: JSON.stringify(props.inputSchema),
        [WorkflowEnv.PRINCIPAL]: props.identity.principal,
        [WorkflowEnv.TOKEN_URL]: props.identity.tokenEndpoint,
        [WorkflowEnv.CLIENT_ID]: props.identity.client.userPoolClientId,
        [WorkflowEnv.CLIENT_SECRET_ARN]: props.identity.clientSecret.secretArn,
        [WorkflowEnv.SCOPE]: props.identity.scope,
        [WorkflowEnv.MAX_PROMPT_CHARS]: String(maxPrompt),
        [WorkflowEnv.AGENT_TIMEOUT_MS]: String(this.agentDeadline.toMilliseconds()),
        [WorkflowEnv.TOKEN_TIMEOUT_MS]: String(TOKEN_TIMEOUT.toMilliseconds()),
      },
    });
    // The client secret is read through the AWS Parameters and Secrets Lambda extension (cached in the container).
    const extension = lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
      cacheEnabled: true,
      secretsManagerTtl: Duration.minutes(5),
      logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
    })._bind(this, runner);
    runner.addLayers(lambda.LayerVersion.fromLayerVersionArn(this, 'SecretsExtension', extension.arn));
    for (const [k, v] of Object.entries(extension.environmentVars)) runner.addEnvironment(k, String(v));
    props.identity.grantTokenRequest(runner);
    if (!props.vpc) {
      acknowledgeNagAll(
        runner,
        ['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC'],
        "The step runner must reach the user pool's OAuth 2.0 token endpoint, which has no PrivateLink endpoint; it runs no model, holds only the workflow client secret and the permission to invoke the workflow's agents, and sends nothing but token requests and agent invocations.",
      );
    }
    this.runner = runner;
    this.runnerFunction = runner;
    this.decisionLogGroup = runner.decisionLogGroup;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Step Functions delivers to /aws/vendedlogs/ groups without growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      encryptionKey: props.logEncryptionKey ?? sharedLogKey(this),
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.failState = new sfn.Fail(this, 'Failed', {
      comment: 'A step failed: its error name and reason code are the failure',
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });

    this.validateState = new tasks.LambdaInvoke(this, 'ValidateInput', {
      lambdaFunction: exactInvokeView(runner),
      payload: sfn.TaskInput.fromObject({ action: RunnerAction.VALIDATE_INPUT, input: sfn.JsonPath.objectAt('$') }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: '$',
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
      comment: 'Validates the execution input against the workflow schema; the state then holds only validated data',
    });
    this.retryTransient(this.validateState, []);
    this.validateState.addCatch(this.failState, { resultPath: '$.failure' });

    this.node.addValidation({ validate: () => (this._stateMachine ? [] : ['AgentWorkflow: build(definition) was never called, so no state machine exists']) });
  }

  /** The state machine (after `build`). */
  public get stateMachine(): sfn.StateMachine {
    if (!this._stateMachine) throw new Error('AgentWorkflow: call build(definition) before using stateMachine');
    return this._stateMachine;
  }

  /**
   * A step that runs one agent: the runner builds the prompt from `inputs`, calls the agent with the workflow's token
   * and puts the structured output at `resultPath`. Throttles and transient faults are retried with backoff (3
   * attempts); any other failure ends in the Fail state.
   */
  public agentStep(id: string, options: AgentStepOptions): tasks.LambdaInvoke {
    if (this._stateMachine) throw new Error('AgentWorkflow: steps must be created before build()');
    const output = options.output ?? AgentStepOutput.text();
    const inputs = options.inputs ?? {};
    const inputNames = Object.keys(inputs);
    const echo = output._verdict?.echo ?? {};
    const config: StepConfig = {
      functionArn: options.agent.function.functionArn,
      output: output._type,
      inputs: inputNames,
      ...(output._type === 'VERDICT'
        ? { verdicts: [...output._verdict!.verdicts], defaultVerdict: output._verdict!.defaultVerdict, ...(Object.keys(echo).length > 0 ? { echo: Object.keys(echo) } : {}) }
        : {}),
    };
    const resultPath = options.resultPath ?? `$.${lowerFirst(id)}`;
    const errors = stepConfigProblems(id, config, false);
    if (this.steps[id] !== undefined) errors.push(`a step named ${id} exists already`);
    for (const [name, path] of [...Object.entries(inputs), ...Object.entries(echo)]) errors.push(...validatePattern(`path of ${name}`, path, JSON_PATH, 'a JSON path into the state such as $.input.field'));
    errors.push(...validatePattern('resultPath', resultPath, JSON_PATH, 'a JSON path such as $.triage'));
    if (resultPath === '$') errors.push('resultPath must not replace the whole state');
    for (const name of Object.keys(options.inputCapabilities ?? {})) if (!inputNames.includes(name)) errors.push(`inputCapabilities names ${name}, which is not an input`);
    const agentFn = options.agent.function;
    if (agentFn instanceof lambda.Function && agentFn.timeout !== undefined && agentFn.timeout.toSeconds() > this.agentDeadline.toSeconds()) {
      errors.push(`the agent's timeout (${agentFn.timeout.toSeconds()} s) exceeds what the step leaves it (${this.agentDeadline.toSeconds()} s); raise stepTimeout or lower the agent's timeout`);
    }
    throwIfInvalid(`AgentWorkflow.agentStep(${id})`, errors);
    this.steps[id] = config;

    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: exactInvokeView(this.runner),
      payload: sfn.TaskInput.fromObject({
        action: RunnerAction.RUN_AGENT,
        step: id,
        executionId: sfn.JsonPath.stringAt('$$.Execution.Id'),
        inputs: Object.fromEntries(inputNames.map((n) => [n, sfn.JsonPath.objectAt(inputs[n])])),
        ...(Object.keys(echo).length > 0 ? { expect: Object.fromEntries(Object.entries(echo).map(([f, p]) => [f, sfn.JsonPath.stringAt(p)])) } : {}),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
      taskTimeout: sfn.Timeout.duration(this.stepTimeout.plus(Duration.seconds(30))),
      comment: options.comment ?? `Runs the agent ${options.agent.node.path} (${output._type})`,
    });
    this.retryTransient(task, [WorkflowErrorName.RETRYABLE]);
    task.addCatch(this.failState, { resultPath: '$.failure' });
    options.agent.grantInvoke(this.runner);

    new WorkflowAgentReach(this, `${id}Reach`, {
      agent: options.agent,
      inputs: inputNames.map((name) => ({ name, capabilities: [...(options.inputCapabilities?.[name] ?? DEFAULT_INPUT_CAPABILITIES)] })),
    });
    return task;
  }

  /**
   * A deterministic step: a function (never a model) invoked with a payload from the state. Lambda's transient
   * errors and `retryOn` are retried with backoff; any other failure ends in the Fail state.
   */
  public taskStep(id: string, options: TaskStepOptions): tasks.LambdaInvoke {
    if (this._stateMachine) throw new Error('AgentWorkflow: steps must be created before build()');
    const resultPath = options.resultPath ?? `$.${lowerFirst(id)}`;
    const timeout = options.timeout ?? Duration.minutes(1);
    throwIfInvalid(`AgentWorkflow.taskStep(${id})`, [
      ...validatePattern('id', id, STEP_NAME_PATTERN, '1 to 64 letters and digits, starting with a letter'),
      ...validatePattern('resultPath', resultPath, JSON_PATH, 'a JSON path such as $.remediation'),
      ...(resultPath === '$' ? ['resultPath must not replace the whole state'] : []),
      ...validateInteger('timeout (seconds)', timeout.toSeconds({ integral: false }), 1, 900),
      ...(options.retryOn ?? []).flatMap((e) => validatePattern('retryOn', e, /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/, 'error names')),
    ]);
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: exactInvokeView(options.function),
      payload: options.payload,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
      taskTimeout: sfn.Timeout.duration(timeout),
      ...(options.comment !== undefined ? { comment: options.comment } : {}),
    });
    this.retryTransient(task, options.retryOn ?? []);
    task.addCatch(this.failState, { resultPath: '$.failure' });
    return task;
  }

  /**
   * A human approval of exactly the object at `argumentsPath`, requested by the workflow's principal for this
   * execution (through the `approvals` workflow's task token). It waits until an approver decides: APPROVE continues
   * with the approval at `resultPath`; a rejection (`ApprovalRejected`), the expiry (`States.Timeout`) or a refused
   * request fail the task, so catch them into the branch that does not act.
   */
  public approvalStep(id: string, options: WorkflowApprovalStepOptions): tasks.LambdaInvoke {
    if (!this.props.approvals) throw new Error('AgentWorkflow.approvalStep: set the approvals prop (an ApprovalWorkflow) first');
    if (this._stateMachine) throw new Error('AgentWorkflow: steps must be created before build()');
    this.approvalTasks++;
    return this.props.approvals.approvalTask(this, id, {
      tool: options.tool,
      argumentsPath: options.argumentsPath,
      principalPath: '$.workflow.principal',
      sessionPath: '$$.Execution.Id',
      resultPath: options.resultPath ?? '$.approval',
      ...(options.comment !== undefined ? { comment: options.comment } : {}),
    });
  }

  /**
   * Creates the state machine: input validation, then `definition`. Call once, after creating every step.
   * Standard workflow, X-Ray tracing, ALL events logged to the encrypted log group without execution data (no
   * inputs, outputs or prompts in the logs), the execution deadline.
   */
  public build(definition: sfn.IChainable): sfn.StateMachine {
    if (this._stateMachine) throw new Error('AgentWorkflow: build() was already called');
    const stack = Stack.of(this);
    const steps = Object.keys(this.steps);
    if (steps.length === 0) throw new Error('AgentWorkflow: the workflow has no agent step; add one with agentStep()');
    this.runnerFunction.addEnvironment(WorkflowEnv.STEPS, stack.toJsonString(this.steps));
    const timeout = this.props.timeout ?? Duration.hours(2);
    // Grants in a customer-managed policy (no inline policy); only Step Functions of this account may assume it.
    const role = new ManagedPolicyRole(this, 'StateMachineRole', {
      assumedBy: new iam.PrincipalWithConditions(new iam.ServicePrincipal('states.amazonaws.com'), { StringEquals: { 'aws:SourceAccount': stack.account } }),
      description: `cdk-ai-defense AgentWorkflow ${this.node.path}: state machine role`,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      role,
      definitionBody: sfn.DefinitionBody.fromChainable(sfn.Chain.start(this.validateState).next(definition)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: `cdk-ai-defense AgentWorkflow ${this.node.path}: deterministic agent graph`,
    });
    acknowledgeNag(
      stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing do not support resource-level permissions.',
    );
    if (this.approvalTasks > 0 && this.props.approvals) {
      this.props.approvals.addWorkflow(stateMachine);
      const request = this.props.approvals.requestFunction;
      const cfn = request?.node.defaultChild as lambda.CfnFunction | undefined;
      if (cfn) {
        acknowledgeNag(
          stateMachine.role,
          `AwsSolutions-IAM5[Resource::<${Stack.of(cfn).getLogicalId(cfn)}.Arn>:*]`,
          "ApprovalWorkflow.approvalTask is a LambdaInvoke task of the approval workflow, whose grant covers the request function's versions; the state machine only invokes the unqualified function.",
        );
      }
    }
    this._stateMachine = stateMachine;
    return stateMachine;
  }

  /** Lets a principal (an EventBridge rule's role, an operator) start executions. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  private retryTransient(task: sfn.TaskStateBase, extra: string[]): void {
    task.addRetry({
      errors: [...LAMBDA_TRANSIENT, ...extra],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 3,
      maxDelay: Duration.seconds(30),
      jitterStrategy: sfn.JitterType.FULL,
    });
  }
}
