/**
 * fast-check arbitraries shared by the approval property tests: valid bound calls, and single mutations of one bound
 * field (including a key reorder, which must NOT count as a change).
 */
import fc from 'fast-check';
import { canonicalize } from '../../../lambda/shared/canonical-json';
import { BoundCall } from '../../../lambda/approval/hash';

export const token = fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/);
export const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
export const jsonArgs = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
export const callArb: fc.Arbitrary<BoundCall> = fc.record({
  tool: token,
  toolPin: fc.oneof(fc.constant('unpinned'), hex64),
  arguments: jsonArgs,
  principal: fc.tuple(token, token).map(([iss, sub]) => `https://${iss}|${sub}`),
  session: token,
});

export type Mutation =
  | { kind: 'tool' | 'toolPin' | 'principal' | 'session'; value: string }
  | { kind: 'argSet'; key: string; value: fc.JsonValue }
  | { kind: 'argDelete'; at: number }
  | { kind: 'argReplace'; value: Record<string, fc.JsonValue> }
  | { kind: 'reorder' };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('tool' as const), value: token }),
  fc.record({ kind: fc.constant('toolPin' as const), value: fc.oneof(fc.constant('unpinned'), hex64) }),
  fc.record({ kind: fc.constant('principal' as const), value: fc.tuple(token, token).map(([i, s]) => `https://${i}|${s}`) }),
  fc.record({ kind: fc.constant('session' as const), value: token }),
  fc.record({ kind: fc.constant('argSet' as const), key: fc.string({ maxLength: 6 }), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('argDelete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('argReplace' as const), value: jsonArgs }),
  fc.constant({ kind: 'reorder' as const }),
);

/** Applies one mutation to a call (a new object; the original is untouched). */
export function mutateCall(call: BoundCall, m: Mutation): BoundCall {
  const args = { ...call.arguments } as Record<string, unknown>;
  switch (m.kind) {
    case 'argSet':
      Object.defineProperty(args, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      return { ...call, arguments: args };
    case 'argDelete': {
      const keys = Object.keys(args);
      if (keys.length > 0) delete args[keys[m.at % keys.length]];
      return { ...call, arguments: args };
    }
    case 'argReplace':
      return { ...call, arguments: m.value };
    case 'reorder':
      return { ...call, arguments: Object.fromEntries(Object.entries(args).reverse()) };
    default:
      return { ...call, [m.kind]: m.value };
  }
}

/** True when two calls are the same JSON data in every bound field. */
export const same = (a: BoundCall, b: BoundCall): boolean =>
  canonicalize({ t: a.tool, p: a.toolPin, a: a.arguments, u: a.principal, s: a.session }) === canonicalize({ t: b.tool, p: b.toolPin, a: b.arguments, u: b.principal, s: b.session });

