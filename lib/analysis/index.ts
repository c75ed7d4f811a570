export * from './capability';
export * from './trifecta-reach';
export * from './lethal-trifecta';
