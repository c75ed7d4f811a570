import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../../private/nag';

/** `bedrock:InvokeModel` covers Converse; ConverseStream (not used) would need InvokeModelWithResponseStream. */
export const MODEL_INVOKE_ACTIONS = ['bedrock:InvokeModel'];

/** Condition key naming the inference profile through which a foundation model is invoked. */
export const INFERENCE_PROFILE_ARN_KEY = 'bedrock:InferenceProfileArn';

/** `arn:<partition>:bedrock:<region>::foundation-model/<modelId>` (foundation models have no account). */
export function foundationModelArn(scope: Construct, region: string, modelId: string): string {
  return Stack.of(scope).formatArn({ service: 'bedrock', region, account: '', resource: 'foundation-model', resourceName: modelId });
}

/** `arn:<partition>:bedrock:<stack region>:<stack account>:inference-profile/<profileId>`. */
export function inferenceProfileArn(scope: Construct, profileId: string): string {
  return Stack.of(scope).formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: profileId });
}

/** Grants `bedrock:InvokeModel` on exactly one foundation model, in the stack's Region (on-demand throughput). */
export function grantFoundationModel(scope: Construct, grantee: iam.IGrantable, modelId: string): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: MODEL_INVOKE_ACTIONS, resourceArns: [foundationModelArn(scope, Stack.of(scope).region, modelId)] });
}

/**
 * Grants `bedrock:InvokeModel` through one system-defined cross-Region inference profile: on the profile in the
 * stack's Region, and on its foundation model in the destination Regions only when the request goes through that
 * profile (`bedrock:InferenceProfileArn`). AWS documents both: a policy naming an inference profile must also allow
 * the foundation model in each Region the profile routes to; global profiles also route to the Region-less
 * foundation-model ARN.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html
 */
export function grantInferenceProfile(
  scope: Construct,
  grantee: iam.IGrantable,
  profileId: string,
  baseModelId: string,
  destinationRegions: readonly string[] | undefined,
): iam.Grant {
  const profileArn = inferenceProfileArn(scope, profileId);
  const grant = iam.Grant.addToPrincipal({ grantee, actions: MODEL_INVOKE_ACTIONS, resourceArns: [profileArn] });
  const regions = destinationRegions && destinationRegions.length > 0 ? [...destinationRegions] : ['*'];
  const modelArns = regions.map((r) => foundationModelArn(scope, r, baseModelId));
  if (profileId.startsWith('global.')) modelArns.push(foundationModelArn(scope, '', baseModelId));
  const models = iam.Grant.addToPrincipal({
    grantee,
    actions: MODEL_INVOKE_ACTIONS,
    resourceArns: modelArns,
    conditions: { StringEquals: { [INFERENCE_PROFILE_ARN_KEY]: profileArn } },
  });
  if (regions[0] === '*') {
    acknowledgeNag(scope, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${baseModelId}]`, 'A cross-Region inference profile routes each request to its model in any Region of its geography: the model ARN takes a Region wildcard (AWS-documented), names exactly one model, and holds only through this one profile (bedrock:InferenceProfileArn condition); pass destinationRegions to list the Regions instead.');
  }
  return grant.combine(models);
}
