/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/rig/setup.ts'],
  snapshotSerializers: ['<rootDir>/test/rig/asset-hash-serializer.ts'],
  testTimeout: 60000,
  // Two cores: one worker per core keeps aws-cdk-lib loading from thrashing.
  maxWorkers: 2,
};
