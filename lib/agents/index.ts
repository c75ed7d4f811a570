export * from './agent-loop';
