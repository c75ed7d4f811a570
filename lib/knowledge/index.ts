export * from './metadata-contract';
export * from './retrieval-filter-policy';
export * from './knowledge-base-options';
export * from './secure-knowledge-base';
export * from './access-grants-authorizer';
export * from './knowledge-router';
export * from './knowledge-retriever';
export * from './perms';
