/**
 * `cdk-ai-defense/enforcement`: the pure enforcement core every handler of the library uses, exported for
 * customers' own agent code. Decisions, verified identity, fail-closed error handling, canonical JSON and hashes,
 * invisible-character screening, and the decision log. See README.md beside this file.
 */
export * from './decision';
export * from './reason-codes';
export * from './log-contract';
export * from './errors';
export * from './deadline';
export * from './canonical-json';
export * from './text-safety';
export * from './identity';
export * from './decision-log';
export * from './caller-context';
export * from './identity-env';
