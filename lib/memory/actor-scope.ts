import { Token } from 'aws-cdk-lib';
import { ACTOR_SEGMENT_PATTERN, SESSION_ID_PATTERN, SPACE_ID_PATTERN } from '../../lambda/memory-broker/namespaces';

/**
 * One value of an actor-scoped grant's IAM conditions: a principal (or session) tag that trusted code sets from the
 * verified identity, or a fixed value for a principal that only ever acts for one actor.
 */
export class MemoryScopeValue {
  /**
   * The value of a tag on the calling principal: `${aws:PrincipalTag/<tagKey>}`. Session tags count (set them with
   * `sts:TagSession` from the verified identity, with `deriveActorSegment`); a caller without the tag matches nothing.
   * @param tagKey 1 to 128 of `A-Z a-z 0-9 _ . : / = + @ -`, not starting with `aws:`
   */
  public static fromPrincipalTag(tagKey: string): MemoryScopeValue {
    return new MemoryScopeValue(`\${aws:PrincipalTag/${tagKey}}`, tagKey, undefined);
  }

  /** A fixed value: an actor segment (`a-` + 64 hex), a tenant id, or a session id, validated for its place. */
  public static fixed(value: string): MemoryScopeValue {
    return new MemoryScopeValue(value, undefined, value);
  }

  /** The value as it appears in a policy condition. */
  public readonly policyValue: string;
  /** The principal tag key, for a tag value. */
  public readonly tagKey?: string;
  /** The literal value, for a fixed value. */
  public readonly fixedValue?: string;

  private constructor(policyValue: string, tagKey: string | undefined, fixedValue: string | undefined) {
    this.policyValue = policyValue;
    this.tagKey = tagKey;
    this.fixedValue = fixedValue;
  }

  /**
   * Problems with this value in the given place (`actor`, `tenant` or `session`).
   * @internal
   */
  public _problems(place: 'actor' | 'tenant' | 'session'): string[] {
    if (this.tagKey !== undefined) {
      if (Token.isUnresolved(this.tagKey)) return [`${place} tag key is a token; allowed: a literal tag key`];
      return /^[A-Za-z0-9_.:/=+@-]{1,128}$/.test(this.tagKey) && !this.tagKey.toLowerCase().startsWith('aws:')
        ? []
        : [`${place} tag key is "${this.tagKey}"; allowed: 1 to 128 of A-Z a-z 0-9 _ . : / = + @ -, not starting with aws:`];
    }
    const v = this.fixedValue ?? '';
    if (Token.isUnresolved(v)) return [`${place} is a token; allowed: a literal value (or a principal tag)`];
    const [pattern, allowed] =
      place === 'actor'
        ? [ACTOR_SEGMENT_PATTERN, 'an actor segment: a- and 64 lowercase hex digits (deriveActorSegment)']
        : place === 'tenant'
          ? [SPACE_ID_PATTERN, '1 to 64 ASCII letters, digits, _ and -, starting with a letter or digit']
          : [SESSION_ID_PATTERN, '1 to 100 ASCII letters, digits, _ and -, starting with a letter or digit'];
    return pattern.test(v) ? [] : [`${place} is "${v}"; allowed: ${allowed}`];
  }
}

/** Whose memory an actor-scoped grant covers. */
export interface ActorScopedGrantOptions {
  /** The actor segment (`a-` + 64 hex, as `deriveActorSegment(issuer, subject)` gives it). */
  readonly actor: MemoryScopeValue;
  /**
   * The actor's tenant, when actors are placed under tenants (a `MemoryBroker` with `tenantClaim`).
   * @default - actors are not under a tenant (`/actor/<segment>/`)
   */
  readonly tenant?: MemoryScopeValue;
  /**
   * Limit short-term (event) operations to one session.
   * @default - any session of the actor
   */
  readonly session?: MemoryScopeValue;
}
