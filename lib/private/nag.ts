import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges one exact cdk-nag finding on a construct, with the reason it is acceptable.
 *
 * The id must be the exact finding (for example `AwsSolutions-IAM5[Resource::*]`), never a bare rule prefix, so an
 * acknowledgement cannot hide findings nobody looked at. The library acknowledges only findings that follow from
 * its own design; findings that follow from a user's choice (for example a function outside a VPC) are left to
 * the user to see.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  if (!/^[A-Za-z0-9.]+-[A-Za-z0-9]+(\[.+\])?$/.test(id)) throw new Error(`acknowledgeNag: "${id}" is not an exact cdk-nag finding id`);
  if (reason.trim().length < 20) throw new Error(`acknowledgeNag: the reason for ${id} must explain itself (20+ characters)`);
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the same finding under each of the packs that report it (the rule ids differ per pack).
 * @param ids exact finding ids, one per pack
 */
export function acknowledgeNagAll(scope: IConstruct, ids: string[], reason: string): void {
  for (const id of ids) acknowledgeNag(scope, id, reason);
}
