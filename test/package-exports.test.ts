/**
 * Every subpath the package exports points at a compiled module whose TypeScript source exists and exports what
 * its documentation promises (the build compiles lambda/ and lib/ into dist/ one to one).
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { default: string } | string>; bin: Record<string, string> };

function sourceOf(distFile: string): string {
  return path.join(ROOT, distFile.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
}

const promised: Record<string, string[]> = {
  '.': ['PrivateAiNetwork', 'AiFrontDoor', 'AiAuditTrail', 'AiGuardrail', 'GuardedGateway', 'ApprovalWorkflow', 'AgentLoop', 'LethalTrifecta'],
  './enforcement': ['createTokenVerifier', 'guard', 'canonicalHash', 'findSmuggling', 'createDecisionLogger', 'ReasonCatalogue'],
  './enforcement/knowledge': ['buildRetrievalFilter'],
  './enforcement/memory': ['deriveActorSegment'],
  './enforcement/tools': ['scanToolDefinition', 'pinOf', 'filterToolList', 'createToolAuthorizer', 'validateArguments'],
  './enforcement/approval': ['callDigest', 'approvalHash'],
  './enforcement/oauth': ['createAuthorizationStarter'],
};

describe('package exports', () => {
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');

  test('every export is documented here (and nothing promised is missing from package.json)', () => {
    expect(subpaths.sort()).toEqual(Object.keys(promised).sort());
  });

  test.each(subpaths)('%s has its source and exports what it promises', (subpath) => {
    const target = pkg.exports[subpath] as { default: string; types: string };
    expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
    const source = sourceOf(target.default);
    expect(fs.existsSync(source)).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(source) as Record<string, unknown>;
    expect(Object.keys(mod).length).toBeGreaterThan(0);
    for (const name of promised[subpath]) expect(mod[name]).toBeDefined();
  });

  test('the CLI launcher ships', () => {
    expect(fs.existsSync(path.join(ROOT, pkg.bin['cdk-ai-defense']))).toBe(true);
  });
});
