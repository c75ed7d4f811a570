import { Token } from 'aws-cdk-lib';
import { ToolPin, ToolPinDocument, pinOf, pinProblems, safeToolName } from '../../lambda/tool-interceptor/pin';
import { ScanPolicy, hasErrors, scanToolDefinition } from '../../lambda/tool-interceptor/scan';
import { skeletonCollisions } from '../../lambda/tool-interceptor/confusables';
import { readStrictJsonFile } from './private/json-file';

/** One pinned tool definition: `name` on `server` must hash to `sha256`. */
export interface ToolPinEntry {
  /** The server id the pin was computed with (for a gateway: the target name). */
  readonly server: string;
  /** The tool's name as its server declares it. */
  readonly name: string;
  /** SHA-256 hex of the canonical JSON of `{ server, definition }`. */
  readonly sha256: string;
}

/** Options of {@link ToolPinning.fromDefinitions}. */
export interface PinDefinitionsOptions {
  /** The server id (for a gateway: the target name). */
  readonly server: string;
  /** The reviewed tool definitions, exactly as the server serves them (`tools/list` entries). */
  readonly definitions: any[];
  /**
   * Trusted tool names: a definition whose name is a look-alike of one of them fails the synth.
   * @default - none
   */
  readonly knownToolNames?: string[];
}

/**
 * Where pinned tools are declared. A pin is the SHA-256 of the canonical JSON of `{ server, definition }` (the whole
 * definition: name, description, schemas, annotations, everything). On `tools/list`, the interceptor removes every
 * tool whose definition does not hash to an accepted pin (a "rug pull": the server changed the tool after review)
 * and every tool without a pin, and logs each with its reason.
 */
export class ToolPinning {
  /** Pins as printed by `cdk-ai-defense scan-tools --server <id>`. */
  public static fromPins(pins: ToolPinEntry[]): ToolPinning {
    return new ToolPinning(pins, true, 'fromPins');
  }

  /**
   * Pins computed at synth from reviewed definitions (committed next to your app). Each definition is scanned
   * first: a definition with an error finding, or two definitions with colliding names, fail the synth.
   */
  public static fromDefinitions(options: PinDefinitionsOptions): ToolPinning {
    const { server, definitions } = options;
    if (typeof server !== 'string' || Token.isUnresolved(server)) throw new Error('ToolPinning.fromDefinitions: server must be a literal string');
    if (!Array.isArray(definitions) || definitions.length === 0) throw new Error('ToolPinning.fromDefinitions: definitions must be a non-empty list');
    const policy: ScanPolicy = { knownToolNames: options.knownToolNames ?? [] };
    const errors: string[] = [];
    definitions.forEach((def, i) => {
      const label = safeToolName(def) ?? `#${i}`;
      const findings = scanToolDefinition(def, policy).filter((f) => f.severity === 'error');
      if (hasErrors(findings)) errors.push(`${label}: ${findings.map((f) => `${f.ruleId} at ${f.path || '/'} (${f.message})`).join('; ')}`);
    });
    const names = definitions.map((d) => safeToolName(d)).filter((n): n is string => n !== undefined);
    for (const group of skeletonCollisions(names)) errors.push(`names collide (same name or look-alikes): ${group.join(', ')}`);
    if (errors.length > 0) throw new Error(`ToolPinning.fromDefinitions: definitions fail the tool scanner:\n  - ${errors.join('\n  - ')}`);
    const pins = definitions.map((def) => ({ server, name: safeToolName(def) as string, sha256: pinOf(def, server) }));
    return new ToolPinning(pins, true, 'fromDefinitions');
  }

  /**
   * Pins from a JSON file: the `--json` report of `cdk-ai-defense scan-tools --server <id>` (its `pins`), a
   * `{ "pins": [...] }` object, or a list of pins.
   */
  public static fromLockFile(file: string): ToolPinning {
    const doc = readStrictJsonFile('ToolPinning.fromLockFile', file);
    const pins = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null ? (doc as { pins?: unknown }).pins : undefined;
    if (!Array.isArray(pins)) throw new Error(`ToolPinning.fromLockFile: ${file} has no "pins" list`);
    return new ToolPinning(pins as ToolPinEntry[], true, `fromLockFile(${file})`);
  }

  /**
   * WEAKER: no pins are required. Unpinned tools are kept when their scan is clean, so a server can change a tool's
   * definition after review and the change goes unnoticed. Use only while you collect the pins of a new server.
   */
  public static unsafeScanOnly(): ToolPinning {
    return new ToolPinning([], false, 'unsafeScanOnly');
  }

  /** The accepted pins. */
  public readonly pins: ToolPinEntry[];
  /** False only for {@link ToolPinning.unsafeScanOnly}. */
  public readonly requirePins: boolean;

  private constructor(pins: ToolPinEntry[], requirePins: boolean, origin: string) {
    const problems = pinProblems(pins);
    if (Array.isArray(pins) && pins.some((p) => p && typeof p === 'object' && Object.values(p).some((v) => typeof v === 'string' && Token.isUnresolved(v)))) {
      problems.push('pins must be literal strings (tokens are not allowed)');
    }
    if (problems.length > 0) throw new Error(`ToolPinning.${origin}: invalid pins:\n  - ${problems.join('\n  - ')}`);
    this.pins = pins.map((p) => ({ server: p.server, name: p.name, sha256: p.sha256 }));
    this.requirePins = requirePins;
  }

  /** These pins plus another set's (for example one set per server); pins are required if either requires them. */
  public merge(other: ToolPinning): ToolPinning {
    return new ToolPinning([...this.pins, ...other.pins], this.requirePins || other.requirePins, 'merge');
  }

  /** The serialized pins the tool interceptor reads (`parseToolPinDocument`). */
  public toDocument(): { [key: string]: any } {
    const doc: ToolPinDocument = { version: 1, requirePins: this.requirePins, pins: this.pins.map((p): ToolPin => ({ ...p })) };
    return doc;
  }

  /** {@link toDocument} as JSON text. */
  public toJson(): string {
    return JSON.stringify(this.toDocument());
  }
}
