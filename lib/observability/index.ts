export * from './ai-audit-trail';
export * from './audit-data-resource-type';
export * from './model-invocation-logging';
