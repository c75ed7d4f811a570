export * from './common/caller-identity';
export * from './network';
export * from './edge';
export * from './observability';
export * from './guardrails';
export * from './tools';
export * from './memory';
export * from './knowledge';
