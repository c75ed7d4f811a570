import { NamespaceSegment } from '../../../lambda/memory-broker/namespaces';
import { ActorScopedGrantOptions } from '../actor-scope';

/** The actor id and namespace root an actor-scoped grant's conditions use, and any problems with the options. */
export function renderActorScope(options: ActorScopedGrantOptions): { actorId: string; root: string; problems: string[] } {
  const problems = [...options.actor._problems('actor'), ...(options.tenant?._problems('tenant') ?? []), ...(options.session?._problems('session') ?? [])];
  const actorId = options.tenant
    ? `${NamespaceSegment.TENANT}/${options.tenant.policyValue}/${NamespaceSegment.ACTOR}/${options.actor.policyValue}`
    : `${NamespaceSegment.ACTOR}/${options.actor.policyValue}`;
  return { actorId, root: `/${actorId}/`, problems };
}
