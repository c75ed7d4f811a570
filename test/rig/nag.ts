import { IConstruct } from 'constructs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, NagPack, ServerlessChecks } from 'cdk-nag';

/** One unsuppressed finding, flattened so that a failing `toEqual([])` prints something a person can act on. */
export interface NagFinding {
  readonly pack: string;
  readonly rule: string;
  readonly resources: string[];
  readonly description: string;
}

/** The four cdk-nag 3 packs every construct and the reference app must pass with zero unsuppressed errors. */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new ServerlessChecks()];
}

/**
 * Runs the four packs over a scope with `validateScope` and returns every unsuppressed violation.
 * Suppressions are `Validations.of(construct).acknowledge({ id, reason })` with the exact finding id.
 */
export function nagFindings(scope: IConstruct): NagFinding[] {
  const findings: NagFinding[] = [];
  for (const pack of nagPacks()) {
    const report = pack.validateScope(scope);
    for (const v of report.violations) {
      if (v.severity !== 'error') continue;
      findings.push({
        pack: pack.readPackName,
        rule: v.ruleName,
        resources: v.violatingResources.map((r) => r.constructPath ?? r.locations.join(',')),
        description: v.description.slice(0, 160),
      });
    }
  }
  return findings;
}

/**
 * Findings that follow from a deployer's choice the construct cannot make: a created user pool's key-drift alarm
 * (JwksPin) has no action until the deployer routes it (`pin.driftAlarm.addAlarmAction(...)`). Returns the other findings.
 */
export function withoutUnroutedPinAlarms(findings: NagFinding[]): NagFinding[] {
  const unrouted = (f: NagFinding) =>
    /-CloudWatchAlarmAction$/.test(f.rule) && f.resources.every((r) => /\/CdkAiDefenseJwksPin\w*\/DriftAlarm\/Resource$/.test(r));
  return findings.filter((f) => !unrouted(f));
}
