/**
 * The WAFv2 adapter of the remediation: GetIPSet and UpdateIPSet (with the lock token) through the SDK client, each
 * with the caller's abort signal. Answers are returned raw and read strictly by `decide.ts`; faults reject with the
 * SDK's error (classified by `classifyFault`, a `WAFOptimisticLockException` recognised by `isLockConflict`).
 */
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { IpSetApi } from './clients';

/** The {@link IpSetApi} over a WAFv2 client. */
export function wafv2IpSetApi(client: WAFV2Client): IpSetApi {
  return {
    getIpSet: (ref, scope, signal) => client.send(new GetIPSetCommand({ Name: ref.name, Id: ref.id, Scope: scope }), { abortSignal: signal }),
    updateIpSet: (ref, scope, addresses, lockToken, signal, description) =>
      client.send(
        new UpdateIPSetCommand({
          Name: ref.name,
          Id: ref.id,
          Scope: scope,
          Addresses: addresses,
          LockToken: lockToken,
          ...(description !== undefined ? { Description: description } : {}),
        }),
        { abortSignal: signal },
      ),
  };
}
