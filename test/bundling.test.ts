/**
 * The one test that bundles for real: runs the build-time bundler over every handler, loads each bundle in a
 * fresh Node process (as Lambda would: ESM, no TypeScript, no node_modules next to it), and synthesizes a
 * function with the real (unstubbed) asset lookup.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { testApp } from './rig/synth';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'handlers');
const realHandlerCode = jest.requireActual('../lib/private/handler-code') as typeof import('../lib/private/handler-code');

const handlers = fs
  .readdirSync(path.join(ROOT, 'lambda'))
  .filter((n) => n !== 'shared' && fs.existsSync(path.join(ROOT, 'lambda', n, 'index.ts')))
  .sort();

describe('handler bundles', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle-handlers.mjs')], { cwd: ROOT, stdio: 'pipe' });
  }, 120_000);

  test('there are handlers to bundle', () => {
    expect(handlers.length).toBeGreaterThan(0);
  });

  test.each(handlers)('%s bundles to one minified ESM file that loads in a bare Node process', (name) => {
    const file = path.join(OUT, name, 'index.mjs');
    expect(fs.existsSync(file)).toBe(true);
    const code = fs.readFileSync(file, 'utf8');
    // Minified: lines average thousands of characters (only template literals keep their newlines).
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
    // ESM with the banner that gives bundled CommonJS modules require/__dirname.
    expect(code.startsWith("import { createRequire as __cadCreateRequire } from 'node:module';")).toBe(true);
    // Copy the bundle (and its siblings) somewhere with no node_modules above it, then import it.
    const isolated = fs.mkdtempSync('/tmp/cad-bundle-');
    for (const f of fs.readdirSync(path.join(OUT, name))) fs.copyFileSync(path.join(OUT, name, f), path.join(isolated, f));
    const probe = `const m = await import(${JSON.stringify('file://' + path.join(isolated, 'index.mjs'))}); console.log(typeof m.handler);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: isolated,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function');
    // Any .wasm the bundle loads must ship next to it.
    for (const wasm of code.match(/[\w-]+\.wasm/g) ?? []) {
      expect(fs.existsSync(path.join(OUT, name, wasm))).toBe(true);
    }
  });

  test('the real asset lookup points a function at the prebundled folder', () => {
    const stack = new Stack(testApp(), 'Bundled');
    new lambda.Function(stack, 'Fn', {
      code: realHandlerCode.handlerCode(handlers[0]),
      handler: realHandlerCode.HANDLER_EXPORT,
      runtime: lambda.Runtime.NODEJS_24_X,
    });
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const code = Object.values(fn)[0].Properties.Code;
    expect(code.S3Key).toMatch(/^[a-f0-9]{64}\.zip$/);
  });

  test('Cedar evaluates inside a bundle from a bare folder because its .wasm ships next to it, and fails without it', () => {
    const dir = fs.mkdtempSync('/tmp/cad-cedar-');
    const entry = path.join(dir, 'entry.ts');
    fs.writeFileSync(
      entry,
      `import { createToolAuthorizer, DEFAULT_TOOL_POLICIES } from ${JSON.stringify(path.join(ROOT, 'lambda', 'tool-interceptor', 'cedar'))};
export function run(): unknown {
  const identity = { subject: 's', issuer: 'i', groups: ['g'], scopes: [], expiresAt: 1, claims: {} };
  const tool = { name: 't', target: 'T', risk: 'LOW', capabilities: [], owner: 'o', allowedGroups: ['g'] };
  return createToolAuthorizer(DEFAULT_TOOL_POLICIES).authorize({ identity, tool } as never);
}`,
    );
    const out = path.join(dir, 'out');
    // The handlers' own bundler (scripts/bundle-handlers.mjs), with its .wasm copy rule.
    const bundler = `import { bundleEntry } from ${JSON.stringify(path.join(ROOT, 'scripts', 'bundle-handlers.mjs'))};
console.log(JSON.stringify(await bundleEntry(${JSON.stringify(entry)}, ${JSON.stringify(out)})));`;
    const bundled = spawnSync(process.execPath, ['--input-type=module', '-e', bundler], { cwd: ROOT, encoding: 'utf8' });
    expect(bundled.status).toBe(0);
    expect(JSON.parse(bundled.stdout).wasm).toEqual(['cedar_wasm_bg.wasm']);

    const probe = `const m = await import(${JSON.stringify(`file://${path.join(out, 'index.mjs')}`)}); console.log(JSON.stringify(m.run()));`;
    const run = () => spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: out, env: { PATH: process.env.PATH }, encoding: 'utf8' });
    const withWasm = run();
    expect(withWasm.stderr).toBe('');
    expect(JSON.parse(withWasm.stdout)).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED', determiningPolicies: ['permit-low-medium-to-allowed-groups'] });

    fs.rmSync(path.join(out, 'cedar_wasm_bg.wasm'));
    const without = run();
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/cedar_wasm_bg\.wasm/);
  }, 60_000);

  test('fails with the build command when a bundle is missing', () => {
    expect(() => realHandlerCode.handlerCode('no-such-handler')).toThrow(/Run "npm run build"/);
  });
});
