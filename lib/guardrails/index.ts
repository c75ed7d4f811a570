export * from './ai-guardrail';
export * from './guardrail-enforcer';
export * from './guardrail-filters';
