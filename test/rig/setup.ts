import 'aws-sdk-client-mock-jest';
import * as path from 'path';

// Construct tests never bundle: every handler points at one stub folder, so templates stay stable and fast.
// test/bundling.test.ts is the one test that bundles for real and uses the real module.
jest.mock('../../lib/private/handler-code', () => {
  const actual = jest.requireActual('../../lib/private/handler-code');
  const lambda = jest.requireActual('aws-cdk-lib/aws-lambda');
  return {
    ...actual,
    handlerCode: (handlerName: string) => {
      if (!/^[a-z][a-z0-9-]*$/.test(handlerName)) throw new Error(`invalid handler name "${handlerName}"`);
      return lambda.Code.fromAsset(path.join(__dirname, '..', 'fixtures', 'handler-stub'));
    },
  };
});
