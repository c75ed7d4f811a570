export * from './ai-web-acl';
export * from './ai-front-door';
export * from './front-door-authentication';
