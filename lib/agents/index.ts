export * from './agent-loop';
export * from './approval-workflow';
