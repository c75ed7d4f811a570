/**
 * `cdk-ai-defense scan-tools <file | ->`: runs the tool-definition scanner (the same rules as the gateway RESPONSE
 * interceptor) over a `tools/list` response, a `tools/list` result, an array of tool definitions or one definition,
 * and prints findings and, with `--server`, pins. For teams to run in their own CI before they pin a server's tools.
 *
 * Exit codes: 0 when no definition has an error-severity finding (warnings allowed), 1 when one has, 2 on a usage
 * or input error (unreadable file, text that is not strict JSON, an unrecognised shape).
 *
 * Output never echoes definition text: tool names are printed only when they are valid MCP tool names, otherwise
 * as `#<index>`; findings carry fixed messages and JSON pointers whose unsafe characters are percent-encoded.
 */
import * as fs from 'fs';
import { parseStrictJson } from '../../lambda/shared/canonical-json';
import { skeletonCollisions } from '../../lambda/tool-interceptor/confusables';
import { SERVER_ID_PATTERN, ToolPin, pinOf, safeToolName } from '../../lambda/tool-interceptor/pin';
import { ScanFinding, ScanPolicy, ScanRule, ScanSeverity, hasErrors, scanToolDefinition } from '../../lambda/tool-interceptor/scan';

/** Where the CLI reads and writes (injectable for tests). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads a file, or standard input for `-`. */
  readonly read: (file: string) => string;
}

/** Largest input accepted, in characters. */
export const MAX_INPUT_CHARS = 16 * 1024 * 1024;

/** Exit codes. */
export const ExitCode = { CLEAN: 0, FINDINGS: 1, USAGE: 2 } as const;

export const USAGE = `Usage: cdk-ai-defense scan-tools <file | -> [--server <id>] [--known <tool-name>]... [--json]

Scans MCP tool definitions for hidden instructions, references to other tools or servers, sensitive paths,
secrets, metadata endpoints, invisible and control characters, look-alike names, encoded blobs and size caps.

  <file | ->         a tools/list response or result, an array of tool definitions, or one definition ('-': stdin)
  --server <id>      print the pin (SHA-256 of the canonical { server, definition }) of each clean definition
  --known <name>     a trusted tool name: definitions whose names are look-alikes of it fail (repeatable)
  --json             machine-readable output (the "pins" array is what ToolPinning.fromLockFile reads)

Exit code: 0 no errors (warnings allowed), 1 errors found, 2 usage or input error.`;

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(`${t}\n`),
  stderr: (t) => process.stderr.write(`${t}\n`),
  read: (file) => fs.readFileSync(file === '-' ? 0 : file, 'utf8'),
};

interface Options {
  readonly file: string;
  readonly server?: string;
  readonly known: string[];
  readonly json: boolean;
}

function parseArgs(args: readonly string[]): Options | string {
  let file: string | undefined;
  let server: string | undefined;
  let json = false;
  const known: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--server' || a === '--known') {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) return `${a} needs a value`;
      if (a === '--server') {
        if (!SERVER_ID_PATTERN.test(v)) return '--server must be 1 to 256 visible ASCII characters';
        server = v;
      } else {
        known.push(v);
      }
    } else if (a.startsWith('--')) return `unknown option ${a}`;
    else if (file === undefined) file = a;
    else return 'only one input file is accepted';
  }
  if (file === undefined) return 'no input file (use - for standard input)';
  return { file, server, known, json };
}

/** The definitions in any accepted input shape, or a problem. */
export function definitionsOf(input: unknown): unknown[] | string {
  if (Array.isArray(input)) return input;
  if (typeof input !== 'object' || input === null) return 'the input is not a JSON object or array';
  const o = input as Record<string, unknown>;
  const result = typeof o.result === 'object' && o.result !== null ? (o.result as Record<string, unknown>) : undefined;
  if (result && Array.isArray(result.tools)) return result.tools;
  if (Array.isArray(o.tools)) return o.tools;
  if (typeof o.name === 'string' || 'inputSchema' in o) return [input];
  return 'the input is not a tools/list response or result, an array of definitions, or a definition';
}

/** One scanned definition in the report. */
export interface ScannedTool {
  readonly index: number;
  /** The tool name when it is a valid MCP tool name. */
  readonly name?: string;
  /** The pin, with `--server`, for definitions without errors. */
  readonly pin?: string;
  readonly findings: readonly ScanFinding[];
}

/** The report `--json` prints. */
export interface ScanReport {
  readonly server?: string;
  readonly tools: readonly ScannedTool[];
  /** Pins of the clean definitions (with `--server`): the lock file `ToolPinning.fromLockFile` reads. */
  readonly pins: readonly ToolPin[];
  readonly summary: { readonly tools: number; readonly withErrors: number; readonly withWarnings: number };
}

/** Scans definitions as the CLI does (exported for reuse in other tooling). */
export function scanDefinitions(definitions: readonly unknown[], server?: string, policy: ScanPolicy = {}): ScanReport {
  const names = definitions.map((d) => safeToolName(d));
  const colliding = new Set(skeletonCollisions(names.filter((n): n is string => n !== undefined)).flat());
  const tools: ScannedTool[] = definitions.map((def, index) => {
    const name = names[index];
    const findings = [...scanToolDefinition(def, policy)];
    if (name !== undefined && colliding.has(name)) {
      findings.unshift({
        ruleId: ScanRule.LOOKALIKE_NAME,
        severity: ScanSeverity.ERROR,
        path: '/name',
        message: 'the tool name collides with another tool in the list (same name or same skeleton)',
      });
    }
    let pin: string | undefined;
    if (server !== undefined && name !== undefined && !hasErrors(findings)) {
      try {
        pin = pinOf(def, server);
      } catch {
        pin = undefined;
      }
    }
    return { index, ...(name !== undefined ? { name } : {}), ...(pin !== undefined ? { pin } : {}), findings };
  });
  const pins = tools.filter((t) => t.pin !== undefined).map((t) => ({ server: server as string, name: t.name as string, sha256: t.pin as string }));
  return {
    ...(server !== undefined ? { server } : {}),
    tools,
    pins,
    summary: {
      tools: tools.length,
      withErrors: tools.filter((t) => hasErrors(t.findings)).length,
      withWarnings: tools.filter((t) => !hasErrors(t.findings) && t.findings.length > 0).length,
    },
  };
}

function formatText(report: ScanReport): string[] {
  const lines: string[] = [];
  for (const t of report.tools) {
    const label = t.name ?? `#${t.index}`;
    const status = hasErrors(t.findings) ? 'FAIL' : t.findings.length > 0 ? 'WARN' : 'ok  ';
    lines.push(`${status} ${label}${t.pin ? `  pin ${t.pin}` : ''}`);
    for (const f of t.findings) lines.push(`       ${f.severity.padEnd(7)} ${f.ruleId.padEnd(22)} ${f.path || '/'}  ${f.message}`);
  }
  const s = report.summary;
  lines.push(`${s.tools} tool(s): ${s.withErrors} with errors, ${s.withWarnings} with warnings only${report.server ? `; pins for server ${report.server}` : ''}`);
  return lines;
}

/** Runs `scan-tools` with its arguments (without the command name); returns the exit code. */
export function scanToolsCommand(args: readonly string[], io: CliIo = defaultIo): number {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(USAGE);
    return ExitCode.CLEAN;
  }
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.stderr(`scan-tools: ${options}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  let text: string;
  try {
    text = io.read(options.file);
  } catch (err) {
    io.stderr(`scan-tools: cannot read ${options.file === '-' ? 'standard input' : options.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return ExitCode.USAGE;
  }
  if (text.length > MAX_INPUT_CHARS) {
    io.stderr(`scan-tools: the input is larger than ${MAX_INPUT_CHARS} characters`);
    return ExitCode.USAGE;
  }
  let input: unknown;
  try {
    input = parseStrictJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    io.stderr(`scan-tools: the input is not strict JSON: ${(err as Error).message}`);
    return ExitCode.USAGE;
  }
  const definitions = definitionsOf(input);
  if (typeof definitions === 'string') {
    io.stderr(`scan-tools: ${definitions}`);
    return ExitCode.USAGE;
  }
  const report = scanDefinitions(definitions, options.server, options.known.length > 0 ? { knownToolNames: options.known } : {});
  if (options.json) io.stdout(JSON.stringify(report, null, 2));
  else for (const line of formatText(report)) io.stdout(line);
  return report.summary.withErrors > 0 ? ExitCode.FINDINGS : ExitCode.CLEAN;
}

/** The `cdk-ai-defense` command line: dispatches to its sub-commands (`scan-tools`). Returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo = defaultIo): number {
  const [command, ...rest] = argv;
  if (command === 'scan-tools') return scanToolsCommand(rest, io);
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return command === undefined ? ExitCode.USAGE : ExitCode.CLEAN;
  }
  io.stderr(`cdk-ai-defense: unknown command ${JSON.stringify(command).slice(0, 40)}\n\n${USAGE}`);
  return ExitCode.USAGE;
}
