import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * A view of a function whose invoke grants cover exactly the function, not also its versions and aliases
 * (`<arn>:*`, which `LambdaInvoke` grants from `resourceArnsForGrantInvoke`). The state machine always invokes the
 * unqualified function, so the narrower grant is all it needs. Everything else reads through to the function.
 */
export function exactInvokeView(fn: lambda.IFunction): lambda.IFunction {
  return new Proxy(fn, {
    get(target, prop) {
      if (prop === 'resourceArnsForGrantInvoke') return [target.functionArn];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
