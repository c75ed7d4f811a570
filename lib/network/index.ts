export * from './endpoint-access';
export * from './private-ai-network';
