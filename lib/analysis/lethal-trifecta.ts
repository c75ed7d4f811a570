import { Annotations, AspectPriority, Aspects, IAspect, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ToolCapability } from '../tools/tool-registry';
import { throwIfInvalid } from '../private/validation';
import { CapabilityLabels } from './capability';
import { ALL_CAPABILITIES, normalizeCapabilities } from './private/capabilities';
import { ITrifectaSubject } from './trifecta-reach';

/** What the {@link LethalTrifecta} aspect does with a subject that reaches all three legs without approval. */
export enum TrifectaMode {
  /** An error annotation: `cdk synth` and `cdk deploy` fail. */
  ENFORCE = 'ENFORCE',
  /** Only a warning (fails only `cdk synth --strict`). For a migration period, not for production. */
  WARN_ONLY = 'WARN_ONLY',
}

/** Props of {@link LethalTrifecta}. */
export interface LethalTrifectaProps {
  /**
   * Whether a lethal trifecta fails the synth or is only reported.
   * @default TrifectaMode.ENFORCE
   */
  readonly mode?: TrifectaMode;
}

/** What one subject reaches, leg by leg. Each entry names a tool or path, how it is reached, and why it counts. */
export interface TrifectaFinding {
  /** The construct path of the agent or gateway. */
  readonly subjectPath: string;
  /** Tools and sources that give the subject sensitive data. */
  readonly sensitiveData: string[];
  /** Tools and sources that give the subject untrusted content. */
  readonly untrustedContent: string[];
  /** Every path to external access. */
  readonly externalAccess: string[];
  /** The paths to external access that do not require an approval of each call (network paths never do). */
  readonly externalAccessWithoutApproval: string[];
  /** All three legs are reachable and at least one external-access path needs no approval. */
  readonly lethal: boolean;
  /** The reasons given with {@link LethalTrifecta.acceptRisk}, if any. */
  readonly acceptedRiskReasons: string[];
}

/** The rule id that errors and warnings carry. */
const RULE_ID = 'CdkAiDefense-LethalTrifecta';
const ACCEPTED_RISK_METADATA_TYPE = 'cdk-ai-defense:lethal-trifecta:accepted-risk';
const MIN_REASON_LENGTH = 20;
const MAX_REASON_LENGTH = 1000;

/**
 * The lethal trifecta check: an agent or gateway (an {@link ITrifectaSubject}) that can reach sensitive data,
 * untrusted content and external access can be made, by content it reads, to send the data out. At synth time the
 * aspect unions the capabilities of everything each subject reaches (unlabeled tools count as all three) and fails
 * the synth when all three are present, unless every path to external access requires an approval of each call.
 * Network paths to the internet cannot be approved.
 *
 * Add it once for the whole app with {@link LethalTrifecta.check}. At run time the tool interceptor's session taint
 * is the complement: once a session has read sensitive data and untrusted content, external-access calls need an
 * approval.
 */
export class LethalTrifecta implements IAspect {
  /** The rule id of the errors and warnings (shown as `Annotation::CdkAiDefense-LethalTrifecta`). */
  public static readonly RULE_ID: string = RULE_ID;

  /**
   * Adds the aspect to a scope (normally the app) with the read-only priority, so that it runs after aspects that
   * change the app. Returns the aspect.
   */
  public static check(scope: IConstruct, props: LethalTrifectaProps = {}): LethalTrifecta {
    const aspect = new LethalTrifecta(props);
    Aspects.of(scope).add(aspect, { priority: AspectPriority.READONLY });
    return aspect;
  }

  /**
   * Accepts a lethal trifecta on one subject, deliberately: the subject is then reported with a warning that
   * carries the reason (it never disappears), instead of an error. The reason must say why the risk is acceptable
   * (at least 20 characters, one line). It is recorded in the subject's metadata and in the cloud assembly.
   */
  public static acceptRisk(subject: ITrifectaSubject, reason: string): void {
    const errors: string[] = [];
    if (!LethalTrifecta.isSubject(subject)) errors.push('subject does not implement ITrifectaSubject; allowed: an agent or a gateway');
    if (typeof reason !== 'string' || Token.isUnresolved(reason)) {
      errors.push('reason is not a literal string; allowed: a sentence written in the code');
    } else {
      const trimmed = reason.trim();
      if (trimmed.length < MIN_REASON_LENGTH || trimmed.length > MAX_REASON_LENGTH) {
        errors.push(`reason is ${JSON.stringify(reason)}; allowed: ${MIN_REASON_LENGTH} to ${MAX_REASON_LENGTH} characters that say why the risk is acceptable`);
      } else if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(trimmed)) {
        errors.push('reason contains control or invisible characters (line breaks included); allowed: one line of visible text');
      }
    }
    throwIfInvalid('LethalTrifecta.acceptRisk', errors);
    subject.node.addMetadata(ACCEPTED_RISK_METADATA_TYPE, reason.trim());
  }

  /** Whether a value implements {@link ITrifectaSubject}. */
  public static isSubject(x: any): x is ITrifectaSubject {
    return typeof x === 'object' && x !== null && typeof x.trifectaReach === 'function' && typeof x.node === 'object';
  }

  /**
   * Analyzes one subject now (the aspect calls this at synth time). Throws when the subject's reach is malformed
   * (a capability that is not a {@link ToolCapability}, a tool without a name).
   */
  public static analyze(subject: ITrifectaSubject): TrifectaFinding {
    const reach = subject.trifectaReach();
    if (!Array.isArray(reach)) throw new Error('trifectaReach() did not return a list');
    const legs: Record<ToolCapability, string[]> = {
      [ToolCapability.SENSITIVE_DATA]: [],
      [ToolCapability.UNTRUSTED_CONTENT]: [],
      [ToolCapability.EXTERNAL_ACCESS]: [],
    };
    const withoutApproval: string[] = [];
    for (const item of reach) {
      if (typeof item?.name !== 'string' || item.name.length === 0) throw new Error('a reachable tool has no name');
      const why = new Map<ToolCapability, string[]>(ALL_CAPABILITIES.map((c) => [c, []]));
      if (item.capabilities === undefined) {
        for (const c of ALL_CAPABILITIES) why.get(c)!.push('unlabeled: counts as all three');
      } else {
        for (const c of normalizeCapabilities(item.capabilities, `capabilities of ${item.name}`)) why.get(c)!.push('label');
      }
      for (const source of item.sources ?? []) {
        for (const c of CapabilityLabels.effective(source) ?? []) why.get(c)!.push(`source ${source.node.path}`);
      }
      const where = item.via ? `via ${item.via}` : 'reached directly';
      for (const c of ALL_CAPABILITIES) {
        const reasons = why.get(c)!;
        if (reasons.length > 0) legs[c].push(`${item.name} (${where}; ${reasons.join(', ')})`);
      }
      if (why.get(ToolCapability.EXTERNAL_ACCESS)!.length > 0 && item.requiresApproval !== true) withoutApproval.push(`${item.name} (${where})`);
    }
    const allLegs = ALL_CAPABILITIES.every((c) => legs[c].length > 0);
    return {
      subjectPath: subject.node.path,
      sensitiveData: legs[ToolCapability.SENSITIVE_DATA],
      untrustedContent: legs[ToolCapability.UNTRUSTED_CONTENT],
      externalAccess: legs[ToolCapability.EXTERNAL_ACCESS],
      externalAccessWithoutApproval: withoutApproval,
      lethal: allLegs && withoutApproval.length > 0,
      acceptedRiskReasons: acceptedRiskReasons(subject),
    };
  }

  /** The mode of this aspect. */
  public readonly mode: TrifectaMode;
  private readonly visited = new WeakSet<IConstruct>();

  constructor(props: LethalTrifectaProps = {}) {
    this.mode = props.mode ?? TrifectaMode.ENFORCE;
    throwIfInvalid('LethalTrifecta', Object.values(TrifectaMode).includes(this.mode) ? [] : [`mode is ${JSON.stringify(this.mode)}; allowed: ${Object.values(TrifectaMode).join(', ')}`]);
  }

  public visit(node: IConstruct): void {
    if (!LethalTrifecta.isSubject(node) || this.visited.has(node)) return;
    this.visited.add(node);
    let finding: TrifectaFinding;
    try {
      finding = LethalTrifecta.analyze(node);
    } catch (e) {
      // Fail closed: a subject whose reach cannot be read is reported like a trifecta.
      this.report(node, `LethalTrifecta: ${node.node.path} could not be analyzed (${(e as Error).message}); the check fails closed.`, []);
      return;
    }
    if (!finding.lethal) {
      if (finding.acceptedRiskReasons.length > 0) {
        Annotations.of(node).addInfo(
          `LethalTrifecta: a risk is accepted on ${finding.subjectPath}, but it no longer reaches all three legs without approval; remove the acceptance. [${RULE_ID}]`,
        );
      }
      return;
    }
    this.report(node, describeFinding(finding), finding.acceptedRiskReasons);
  }

  private report(node: IConstruct, message: string, acceptedReasons: string[]): void {
    if (acceptedReasons.length > 0) {
      // Not acknowledgeable: an accepted risk stays visible on every synth.
      Annotations.of(node).addWarning(`${message} RISK ACCEPTED: ${acceptedReasons.join(' / ')} [${RULE_ID}]`);
    } else if (this.mode === TrifectaMode.WARN_ONLY) {
      Annotations.of(node).addWarning(`[WARN_ONLY] ${message} [${RULE_ID}]`);
    } else {
      Validations.of(node).addError(RULE_ID, message);
    }
  }
}

function acceptedRiskReasons(subject: IConstruct): string[] {
  return subject.node.metadata.filter((m) => m.type === ACCEPTED_RISK_METADATA_TYPE).map((m) => String(m.data));
}

function describeFinding(f: TrifectaFinding): string {
  const approved = f.externalAccess.length - f.externalAccessWithoutApproval.length;
  return [
    `LethalTrifecta: ${f.subjectPath} can reach all three legs of the lethal trifecta (sensitive data, untrusted content, external access)`,
    'and not every path to external access requires an approval, so content it reads can make it send sensitive data out.',
    `Sensitive data: ${f.sensitiveData.join('; ')}.`,
    `Untrusted content: ${f.untrustedContent.join('; ')}.`,
    `External access without approval: ${f.externalAccessWithoutApproval.join('; ')}.`,
    approved > 0 ? `(${approved} more external-access path(s) require approval.)` : '',
    'Fix one of: split the agent or gateway so that none reaches all three; require an approval on every external-access tool',
    '(risk HIGH or CRITICAL under the default ToolPolicy; a network path cannot be approved: run the function in subnets without a route out);',
    'or remove a leg (correct a label only if it is wrong). A deliberate exception: LethalTrifecta.acceptRisk(subject, reason).',
  ]
    .filter((s) => s !== '')
    .join(' ');
}
