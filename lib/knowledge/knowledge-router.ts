import { Construct } from 'constructs';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';
import { ISecureKnowledgeBase } from './secure-knowledge-base';

/** Props of {@link KnowledgeRouter}. */
export interface KnowledgeRouterProps {
  /**
   * Most knowledge bases one request may search (1 to 10); a caller routed to more is denied.
   * @default 3
   */
  readonly maxKnowledgeBasesPerRequest?: number;
}

/** One route. */
export interface KnowledgeRoute {
  /** `GROUP` or `SUBJECT`. */
  readonly kind: string;
  /** The verified group name or subject. */
  readonly value: string;
  /** The knowledge base it routes to. */
  readonly knowledgeBase: ISecureKnowledgeBase;
}

const NAME = /^[\p{L}\p{N}\p{M}_.:@+=,/ -]{1,256}$/u;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Per-group or per-user knowledge bases: the knowledge retriever searches only the knowledge bases routed to the
 * caller's VERIFIED groups (the identity's groups claim) or verified subject. A caller none of whose groups is
 * routed is denied; nothing a model writes can choose a knowledge base.
 */
export class KnowledgeRouter extends Construct {
  /** Most knowledge bases per request. */
  public readonly maxKnowledgeBasesPerRequest: number;
  private readonly routeList: KnowledgeRoute[] = [];

  constructor(scope: Construct, id: string, props: KnowledgeRouterProps = {}) {
    super(scope, id);
    this.maxKnowledgeBasesPerRequest = props.maxKnowledgeBasesPerRequest ?? 3;
    throwIfInvalid('KnowledgeRouter', validateInteger('maxKnowledgeBasesPerRequest', this.maxKnowledgeBasesPerRequest, 1, 10));
    this.node.addValidation({ validate: () => (this.routeList.length === 0 ? ['KnowledgeRouter: no route; add one with routeGroup() or routeSubject()'] : []) });
  }

  /** Routes a verified group to a knowledge base (a group routes to one knowledge base). */
  public routeGroup(group: string, knowledgeBase: ISecureKnowledgeBase): void {
    this.add('GROUP', group, knowledgeBase);
  }

  /** Routes a verified subject (`sub`) to a knowledge base (per-user stores). */
  public routeSubject(subject: string, knowledgeBase: ISecureKnowledgeBase): void {
    this.add('SUBJECT', subject, knowledgeBase);
  }

  /** The routes, in the order they were added. */
  public get routes(): KnowledgeRoute[] {
    return [...this.routeList];
  }

  /** The distinct knowledge bases routed to, in order of first route. */
  public get knowledgeBases(): ISecureKnowledgeBase[] {
    const out: ISecureKnowledgeBase[] = [];
    for (const r of this.routeList) if (!out.includes(r.knowledgeBase)) out.push(r.knowledgeBase);
    return out;
  }

  private add(kind: string, value: string, knowledgeBase: ISecureKnowledgeBase): void {
    throwIfInvalid(`KnowledgeRouter.route${kind === 'GROUP' ? 'Group' : 'Subject'}`, [
      ...validatePattern(kind === 'GROUP' ? 'group' : 'subject', value, NAME, 'a name of 1 to 256 letters, digits, spaces and _.:@+=,/-'),
      ...(FORBIDDEN.has(value) ? [`"${value}" is reserved; allowed: any other name`] : []),
      ...(this.routeList.some((r) => r.kind === kind && r.value === value) ? [`${kind.toLowerCase()} "${value}" is already routed; allowed: one knowledge base per ${kind.toLowerCase()}`] : []),
    ]);
    this.routeList.push({ kind, value, knowledgeBase });
  }
}
