/**
 * `cdk-ai-defense/enforcement/tools`: the pure tool controls of the GuardedGateway, for customers' own agent code.
 * Cedar authorization of a tool call, strict argument validation, the MCP tool-definition scanner, pins, tools/list
 * filtering, and the run-time tool registry. No AWS SDK; no environment reads.
 */
export * from './cedar';
export * from './schema-validate';
export * from './scan';
export * from './pin';
export * from './tool-list';
export * from './registry';
export * from './session-taint';
