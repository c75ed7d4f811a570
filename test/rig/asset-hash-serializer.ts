/**
 * Snapshot serializer that replaces asset hashes (64 hex characters) so that snapshots change only when the
 * template changes, not when handler code or the CDK's bootstrap version string does.
 */
const HASH = /[A-Fa-f0-9]{64}/g;

const serializer: jest.SnapshotSerializerPlugin = {
  test: (val: unknown) => typeof val === 'string' && /[A-Fa-f0-9]{64}/.test(val),
  serialize: (val: string) => JSON.stringify(val.replace(HASH, '[ASSET HASH]')),
};

module.exports = serializer;
