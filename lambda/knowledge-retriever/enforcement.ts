/**
 * The pure enforcement pieces of authorized retrieval, for customers' own agent code: the identity filter builder,
 * literal S3 URI authorization, routing, and the metadata sidecar validator. No SDK, no environment, no clock.
 */
export {
  buildRetrievalFilter,
  validateCallerFilter,
  parseFilterPolicy,
  topLevelMembers,
  IdentityConditionKind,
  MetadataValueType,
  FilterFailure,
} from './filter';
export type { FilterPolicySpec, FilterIdentity, FilterBuildResult, RetrievalFilterNode, IdentityConditionSpec, StaticConditionSpec } from './filter';
export { parseS3Uri, formatS3Uri, parseGrantScope, scopeCovers, UriAuthorizer, authorizeUris, GrantScopeKind } from './uri-authorizer';
export type { S3ObjectLocation, GrantScope, UriAuthorization } from './uri-authorizer';
export { resolveKnowledgeBases, RouteKind } from './routing';
export type { RoutingSpec, KnowledgeBaseTarget, Route } from './routing';
export { parseSearchArguments, parseRetrieveResponse, assembleAnswer } from './decide';
export { validateMetadataSidecar, parseMetadataContract, METADATA_SIDECAR_SUFFIX, MAX_SIDECAR_BYTES } from '../metadata-check/contract';
export type { MetadataContractSpec, SidecarValidation } from '../metadata-check/contract';
