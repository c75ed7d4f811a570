import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** A fixed, fake environment for tests that need one (lookups are never made: no credentials in tests). */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/** An App that never bundles (construct tests point handlers at a stub), with the library's feature flags. */
export function testApp(): App {
  return new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      '@aws-cdk/core:checkSecretUsage': true,
      '@aws-cdk/aws-iam:minimizePolicies': true,
      '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
      '@aws-cdk/aws-lambda:useCdkManagedLogGroup': true,
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
    },
  });
}

/** A new stack in a new test App. */
export function testStack(props: StackProps = {}): Stack {
  return new Stack(testApp(), 'TestStack', props);
}

export interface Synthesized<T> {
  readonly stack: Stack;
  readonly template: Template;
  /** Whatever the build function returned (usually the construct under test). */
  readonly built: T;
}

/**
 * Builds a stack once and synthesizes it once; call from `beforeAll` and assert many times against the result.
 * aws-cdk-lib takes about two seconds to load per test file, so each file should synthesize as few stacks as it can.
 */
export function synthOnce<T>(build: (stack: Stack) => T, props: StackProps = {}): Synthesized<T> {
  const stack = testStack(props);
  const built = build(stack);
  return { stack, built, template: Template.fromStack(stack) };
}
