/**
 * Knowledge base routing: which knowledge bases a verified identity may search. Chosen only from the verified
 * identity (groups from the verified token, the verified subject); an identity that matches no route is denied.
 * Pure: no SDK, no environment, no clock.
 */

/** One knowledge base the retriever can search, with the S3 scopes its chunk sources must lie in. */
export interface KnowledgeBaseTarget {
  /** Knowledge base id (10 upper-case letters and digits). */
  readonly id: string;
  /** Grant-scope-shaped locations (`s3://bucket/prefix/*`) of the knowledge base's indexed documents. */
  readonly sourceScopes: readonly string[];
}

/** What a route matches on. */
export const RouteKind = {
  /** A verified group (from the configured groups claim). */
  GROUP: 'GROUP',
  /** The verified subject (`sub`). */
  SUBJECT: 'SUBJECT',
} as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

/** One route: a group or subject to a knowledge base (by index into the targets). */
export interface Route {
  readonly kind: RouteKind;
  readonly value: string;
  readonly knowledgeBase: number;
}

/** Routing as configured. */
export interface RoutingSpec {
  readonly knowledgeBases: readonly KnowledgeBaseTarget[];
  /** `undefined`: one knowledge base for every verified caller. */
  readonly routes?: readonly Route[];
  /** Most knowledge bases one request may search; a caller routed to more is denied. */
  readonly maxKnowledgeBasesPerRequest: number;
}

/** Result of {@link resolveKnowledgeBases}. */
export type RoutingResult =
  | { readonly ok: true; readonly targets: readonly KnowledgeBaseTarget[] }
  | { readonly ok: false; readonly detail: string };

/** The identity parts routing reads. */
export interface RoutingIdentity {
  readonly subject: string;
  readonly groups: readonly string[];
}

/**
 * The knowledge bases an identity may search, in the order of the configured targets (duplicates once). Denied when
 * no route matches (an unknown group is denied) or when more than `maxKnowledgeBasesPerRequest` match.
 */
export function resolveKnowledgeBases(spec: RoutingSpec, identity: RoutingIdentity): RoutingResult {
  if (!spec.routes) {
    return spec.knowledgeBases.length === 1 ? { ok: true, targets: [spec.knowledgeBases[0]] } : { ok: false, detail: 'unrouted configuration must have exactly one knowledge base' };
  }
  const groups = new Set(Array.isArray(identity.groups) ? identity.groups.filter((g) => typeof g === 'string') : []);
  const chosen = new Set<number>();
  for (const route of spec.routes) {
    const matches = route.kind === RouteKind.GROUP ? groups.has(route.value) : route.kind === RouteKind.SUBJECT && route.value === identity.subject;
    if (matches && Number.isInteger(route.knowledgeBase) && route.knowledgeBase >= 0 && route.knowledgeBase < spec.knowledgeBases.length) {
      chosen.add(route.knowledgeBase);
    }
  }
  if (chosen.size === 0) return { ok: false, detail: 'no route matches the verified identity' };
  if (chosen.size > spec.maxKnowledgeBasesPerRequest) {
    return { ok: false, detail: `${chosen.size} knowledge bases routed, at most ${spec.maxKnowledgeBasesPerRequest} allowed` };
  }
  return { ok: true, targets: [...chosen].sort((a, b) => a - b).map((i) => spec.knowledgeBases[i]) };
}
