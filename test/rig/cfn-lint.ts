import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Rules switched off for CDK output, each with the reason:
 * - W3005: CDK writes explicit DependsOn that cfn-lint considers redundant; it is harmless and not ours to change.
 */
export const CFN_LINT_IGNORED = ['W3005'];

export interface CfnLintFinding {
  readonly file: string;
  readonly rule: string;
  readonly level: string;
  readonly message: string;
  readonly resource?: string;
}

export interface CfnLintResult {
  readonly templates: string[];
  readonly findings: CfnLintFinding[];
  readonly errors: CfnLintFinding[];
}

/** The templates of a cloud assembly folder, nested assemblies (stages) included. */
export function assemblyTemplates(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('assembly-')) out.push(...assemblyTemplates(p));
    else if (entry.isFile() && entry.name.endsWith('.template.json')) out.push(p);
  }
  return out.sort();
}

/** Runs cfn-lint (the Python linter, which must be on PATH) over template files; throws if it cannot run. */
export function cfnLint(templates: string[]): CfnLintResult {
  if (templates.length === 0) throw new Error('cfn-lint: no templates to lint');
  const args = ['--format', 'json', '--ignore-checks', ...CFN_LINT_IGNORED, '--', ...templates];
  const run = spawnSync('cfn-lint', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`cfn-lint could not run (${run.error.message}); install it with "pip install cfn-lint"`);
  // Exit codes are a bit mask: 2 errors, 4 warnings, 8 informational; 1 means the linter itself failed.
  if (run.status === 1 || run.status === null) throw new Error(`cfn-lint failed to run: ${run.stderr}`);
  const raw = JSON.parse(run.stdout || '[]') as Array<{
    Filename: string;
    Level: string;
    Message: string;
    Rule: { Id: string };
    Location?: { Path?: unknown[] };
  }>;
  const findings = raw.map((f) => ({
    file: path.basename(f.Filename),
    rule: f.Rule.Id,
    level: f.Level,
    message: f.Message,
    resource: Array.isArray(f.Location?.Path) ? f.Location!.Path!.slice(0, 2).join('/') : undefined,
  }));
  return { templates, findings, errors: findings.filter((f) => f.level === 'Error') };
}

/** Lints every template of a synthesized cloud assembly. */
export function cfnLintAssembly(dir: string): CfnLintResult {
  return cfnLint(assemblyTemplates(dir));
}
