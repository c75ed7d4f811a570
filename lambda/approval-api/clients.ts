/**
 * AWS SDK I/O of the approver API: the approval table and the Step Functions callbacks of workflow approvals. Every
 * response is distrusted.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { MalformedResponseError } from '../shared/errors';
import { ApprovalStore } from '../approval/store';

/** The Step Functions error a rejected workflow approval fails its task with (catch it in the workflow). */
export const REJECTED_TASK_ERROR = 'ApprovalRejected';

/** Completes the task a workflow waits on. */
export interface TaskSignaller {
  /** SendTaskSuccess with a JSON output. */
  succeed(taskToken: string, output: Record<string, unknown>, signal?: AbortSignal): Promise<void>;
  /** SendTaskFailure with an error name and a cause (codes only, never free text). */
  fail(taskToken: string, error: string, cause: string, signal?: AbortSignal): Promise<void>;
}

function requireObject(response: unknown, what: string): void {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) throw new MalformedResponseError(`${what} returned no response object`);
}

/** Step Functions task callbacks. */
export class SfnTaskSignaller implements TaskSignaller {
  public constructor(private readonly client: SFNClient) {}

  public async succeed(taskToken: string, output: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    requireObject(await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }), { abortSignal: signal }), 'SendTaskSuccess');
  }

  public async fail(taskToken: string, error: string, cause: string, signal?: AbortSignal): Promise<void> {
    requireObject(await this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }), { abortSignal: signal }), 'SendTaskFailure');
  }
}

/** What the handler talks to. */
export interface ApprovalApiClients {
  readonly store: ApprovalStore;
  readonly tasks: TaskSignaller;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Clients for the function's region. */
export function defaultApprovalApiClients(tableName: string): ApprovalApiClients {
  return { store: new ApprovalStore(new DynamoDBClient({}), tableName), tasks: new SfnTaskSignaller(new SFNClient({})) };
}
