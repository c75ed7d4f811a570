export * from './tool-registry';
export * from './tool-policy';
export * from './tool-pinning';
export * from './agent-identity';
export * from './oauth-credential-provider';
export * from './guarded-gateway';
