/**
 * Runs the Python CloudFormation linter over every template in a cloud assembly and fails on any error.
 * Usage: tsx scripts/cfn-lint.ts [cdk.out]
 */
import { cfnLintAssembly } from '../test/rig/cfn-lint';

const dir = process.argv[2] ?? 'cdk.out';
const result = cfnLintAssembly(dir);
for (const f of result.findings) console.log(`${f.level} ${f.rule} ${f.file}: ${f.resource ?? ''} ${f.message}`);
console.log(`cfn-lint: ${result.templates.length} templates, ${result.errors.length} errors, ${result.findings.length - result.errors.length} warnings`);
if (result.errors.length > 0) process.exit(1);
