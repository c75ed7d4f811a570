/**
 * The `cdk-ai-defense scan-tools` CLI, run as a child process through its launcher (cli/cdk-ai-defense.js) on the
 * corpus, as a team's CI would run it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pinOf } from '../../../lambda/tool-interceptor/pin';
import { ScanReport } from '../../../lib/cli/scan-tools';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CORPUS = path.join(ROOT, 'test', 'fixtures', 'mcp-tools');
const LAUNCHER = path.join(ROOT, 'cli', 'cdk-ai-defense.js');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', LAUNCHER, ...args], { cwd: ROOT, input, encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const benignFiles = fs.readdirSync(path.join(CORPUS, 'benign')).sort();
const benignDefs = benignFiles.map((f) => JSON.parse(fs.readFileSync(path.join(CORPUS, 'benign', f), 'utf8')) as { name: string });
const listResponse = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: benignDefs, nextCursor: 'x' } });

describe('cdk-ai-defense scan-tools', () => {
  test('a clean tools/list response from stdin exits 0 and prints a pin per tool with --server', () => {
    const r = cli(['scan-tools', '-', '--server', 'github'], listResponse);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(benignDefs.length + 1);
    expect(lines[lines.length - 1]).toBe(`${benignDefs.length} tool(s): 0 with errors, 0 with warnings only; pins for server github`);
    const first = benignDefs[0];
    expect(lines[0]).toBe(`ok   ${first.name}  pin ${pinOf(first, 'github')}`);
  }, 30_000);

  test('a malicious definition file exits 1 and prints the findings without echoing the definition', () => {
    const r = cli(['scan-tools', path.join(CORPUS, 'malicious', 'hidden-instructions--important-tag-ssh.json'), '--server', 'math']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL add');
    expect(r.stdout).toMatch(/error +HIDDEN_INSTRUCTIONS +\/description {2}description carries instructions aimed at the model \(instruction-tag\)/);
    expect(r.stdout).toMatch(/error +SENSITIVE_PATH/);
    expect(r.stdout).not.toContain('pin ');
    expect(r.stdout).not.toContain('mcp.json');
    expect(r.stdout).not.toContain('IMPORTANT');
  }, 30_000);

  test('--json reports every malicious corpus file as failing, with pins only for clean tools', () => {
    const all = fs.readdirSync(path.join(CORPUS, 'malicious')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(CORPUS, 'malicious', f), 'utf8')));
    const mixed = [...all, benignDefs[0]];
    const r = cli(['scan-tools', '-', '--json', '--server', 'mixed', ...benignDefs.flatMap((d) => ['--known', d.name])], JSON.stringify(mixed));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.summary).toEqual({ tools: mixed.length, withErrors: all.length, withWarnings: 0 });
    expect(report.pins).toEqual([{ server: 'mixed', name: benignDefs[0].name, sha256: pinOf(benignDefs[0], 'mixed') }]);
    // Names that are not valid tool names (the Cyrillic look-alike) are never printed.
    expect(report.tools.every((t) => t.name === undefined || /^[A-Za-z0-9_.-]+$/.test(t.name))).toBe(true);
    expect(r.stdout).not.toContain('r\u0435ad_file');
  }, 30_000);

  test('tools that collide within one list fail', () => {
    const r = cli(['scan-tools', '-'], JSON.stringify({ tools: [benignDefs[0], { ...benignDefs[0], name: benignDefs[0].name.toUpperCase() }] }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/LOOKALIKE_NAME +\/name {2}the tool name collides with another tool in the list/);
  }, 30_000);

  test.each([
    ['no file', ['scan-tools'], undefined, /no input file/],
    ['a missing file', ['scan-tools', '/nonexistent.json'], undefined, /cannot read \/nonexistent\.json: ENOENT/],
    ['duplicate keys', ['scan-tools', '-'], '{"tools":[],"tools":[]}', /not strict JSON: duplicate key/],
    ['an unknown shape', ['scan-tools', '-'], '{"items":[]}', /not a tools\/list response/],
    ['an unknown option', ['scan-tools', '-', '--fast'], '[]', /unknown option --fast/],
    ['a bad server id', ['scan-tools', '-', '--server', 'a b'], '[]', /--server must be/],
    ['an unknown command', ['scan-all'], undefined, /unknown command/],
  ])('exits 2 for %s', (_n, args, input, message) => {
    const r = cli(args, input);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  }, 30_000);

  test('--help prints the usage and exits 0', () => {
    const r = cli(['scan-tools', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: cdk-ai-defense scan-tools <file | ->');
  }, 30_000);
});
