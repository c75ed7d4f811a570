export * from './agent-loop';
export * from './approval-workflow';
export * from './agent-workflow';
export * from './workflow-identity';
export * from './soc-example';
export * from './soc-single-agent';
