/**
 * Tells approvers about a new request through SNS (a KMS-encrypted topic). The message names the tool, the approval
 * id and the expiry, never the arguments, the principal or any token: approvers open the request in the approver
 * API, which verifies who they are first.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { MalformedResponseError } from '../shared/errors';
import { ApprovalRecord } from './decide';

/** Value of the message's `type`. */
export const NOTIFICATION_TYPE = 'cdk-ai-defense.approval-request';

/** Sends the notification of a new request. */
export interface ApprovalNotifier {
  notify(record: ApprovalRecord, signal?: AbortSignal): Promise<void>;
}

/** The notification of a request: only the tool, the id, the kind and the times. */
export function notificationOf(record: ApprovalRecord): { subject: string; message: string } {
  const message = {
    type: NOTIFICATION_TYPE,
    version: 1,
    approvalId: record.approvalId,
    kind: record.kind,
    tool: record.call.tool,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
  // SNS subjects: ASCII, no line breaks, at most 100 characters (tool names are already plain ASCII).
  const subject = `Approval requested: ${record.call.tool}`.slice(0, 100);
  return { subject, message: JSON.stringify(message) };
}

/** Publishes to an SNS topic. */
export class SnsApprovalNotifier implements ApprovalNotifier {
  public constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  public async notify(record: ApprovalRecord, signal?: AbortSignal): Promise<void> {
    const { subject, message } = notificationOf(record);
    const response: unknown = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subject,
        Message: message,
        MessageAttributes: { type: { DataType: 'String', StringValue: NOTIFICATION_TYPE } },
      }),
      { abortSignal: signal },
    );
    const messageId = typeof response === 'object' && response !== null ? (response as { MessageId?: unknown }).MessageId : undefined;
    if (typeof messageId !== 'string' || messageId.length === 0) throw new MalformedResponseError('Publish returned no MessageId');
  }
}
