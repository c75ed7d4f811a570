/** IAM action lists of the knowledge area, in the aws-cdk `perms.ts` manner. */
export namespace KnowledgePerms {
  /** Retrieving chunks from a knowledge base (on the knowledge base ARN). Never RetrieveAndGenerate. */
  export const RETRIEVE = ['bedrock:Retrieve'];
  /** Starting and watching data-source syncs (on the knowledge base ARN). */
  export const SYNC = ['bedrock:StartIngestionJob', 'bedrock:GetIngestionJob', 'bedrock:ListIngestionJobs'];
  /**
   * What the knowledge base service role needs on its S3 vector index.
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/kb-permissions.html
   */
  export const VECTOR_INDEX = ['s3vectors:GetIndex', 's3vectors:QueryVectors', 's3vectors:PutVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors'];
  /** What a user session needs to ask S3 Access Grants about itself (on the Access Grants instance ARN). */
  export const ACCESS_GRANTS_CALLER = ['s3:GetDataAccess', 's3:ListCallerAccessGrants'];
  /** Read-only object access an Access Grants location role vends (never write). */
  export const LOCATION_READ = ['s3:GetObject', 's3:GetObjectVersion'];
  /** What Access Grants needs in a location role's trust policy. */
  export const LOCATION_TRUST = ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:SetContext'];
  /** Exchanging a trusted IdP token for an Identity Center token (on the Identity Center application ARN). */
  export const CREATE_TOKEN_WITH_IAM = ['sso-oauth:CreateTokenWithIAM'];
}
