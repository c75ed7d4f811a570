export * from './actor-scope';
export * from './isolated-memory';
export * from './memory-broker';
export * from './perms';
