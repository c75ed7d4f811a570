import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNagAll } from '../../private/nag';

/** Settings of the approver API. */
export interface ApproverApiOptions {
  readonly handler: lambda.IFunction;
  readonly userPool: cognito.IUserPool;
  readonly authorizationScopes?: string[];
  readonly logEncryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
}

/** The approver API and the resources it is made of. */
export interface ApproverApi {
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
}

/**
 * A regional REST API in front of the approver function: a Cognito user pools authorizer on every method, request
 * validation (path parameter, and a strict body model on decisions), JSON access logs to a KMS-encrypted log group,
 * execution logging of errors (never request or response bodies), X-Ray tracing, stage throttling, no caching.
 */
export function createApproverApi(scope: Construct, options: ApproverApiOptions): ApproverApi {
  const accessLogGroup = new logs.LogGroup(scope, 'ApiAccessLogs', {
    encryptionKey: options.logEncryptionKey,
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const api = new apigateway.RestApi(scope, 'Api', {
    description: 'cdk-ai-defense ApprovalWorkflow: approvers list, view and decide pending approvals',
    endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'approvals',
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
        caller: true,
        httpMethod: true,
        ip: true,
        protocol: true,
        requestTime: true,
        resourcePath: true,
        responseLength: true,
        status: true,
        user: true,
      }),
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      // Bodies carry the arguments of the calls under approval: never written to execution logs.
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: true,
      throttlingRateLimit: options.throttlingRateLimit,
      throttlingBurstLimit: options.throttlingBurstLimit,
    },
  });
  acknowledgeNagAll(api.deploymentStage, ['NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'HIPAA.Security-APIGWCacheEnabledAndEncrypted'], 'Responses of the approver API must never be cached: each depends on the approver and on the current state of a request, and a cached answer could show a decided request as pending.');
  acknowledgeNagAll(api.deploymentStage, ['NIST.800.53.R5-APIGWSSLEnabled', 'HIPAA.Security-APIGWSSLEnabled'], 'The API has a Lambda proxy integration only; a client certificate authenticates API Gateway to HTTP backends and has no use for Lambda integrations.');

  const authorizer = new apigateway.CognitoUserPoolsAuthorizer(scope, 'ApiAuthorizer', {
    cognitoUserPools: [options.userPool],
    identitySource: apigateway.IdentitySource.header('Authorization'),
  });
  const validator = new apigateway.RequestValidator(scope, 'ApiRequestValidator', {
    restApi: api,
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const decisionModel = new apigateway.Model(scope, 'ApiDecisionModel', {
    restApi: api,
    contentType: 'application/json',
    description: 'An approver decision: exactly decision and approvalHash',
    schema: {
      schema: apigateway.JsonSchemaVersion.DRAFT4,
      type: apigateway.JsonSchemaType.OBJECT,
      required: ['decision', 'approvalHash'],
      additionalProperties: false,
      properties: {
        decision: { type: apigateway.JsonSchemaType.STRING, enum: ['APPROVE', 'REJECT'] },
        approvalHash: { type: apigateway.JsonSchemaType.STRING, pattern: '^[0-9a-f]{64}$' },
      },
    },
  });
  const integration = new apigateway.LambdaIntegration(options.handler, { allowTestInvoke: false });
  const methodOptions = (extra: apigateway.MethodOptions = {}): apigateway.MethodOptions => ({
    authorizer,
    authorizationType: apigateway.AuthorizationType.COGNITO,
    ...(options.authorizationScopes?.length ? { authorizationScopes: options.authorizationScopes } : {}),
    requestValidator: validator,
    ...extra,
  });
  const approvals = api.root.addResource('approvals');
  approvals.addMethod('GET', integration, methodOptions());
  const approval = approvals.addResource('{id}');
  const idParameter = { 'method.request.path.id': true };
  approval.addMethod('GET', integration, methodOptions({ requestParameters: idParameter }));
  approval.addMethod('POST', integration, methodOptions({ requestParameters: idParameter, requestModels: { 'application/json': decisionModel } }));
  // The body model is checked only for application/json bodies; the handler checks every body again, strictly.
  return { api, accessLogGroup };
}
