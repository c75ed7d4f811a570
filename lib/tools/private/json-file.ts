import * as fs from 'fs';
import { parseStrictJson } from '../../../lambda/shared/canonical-json';

/** Reads a UTF-8 file for a synth-time check; throws naming the file and the problem. */
export function readTextFile(what: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Reads and strictly parses a JSON file (duplicate keys, prototype keys and trailing text are errors). */
export function readStrictJsonFile(what: string, file: string): unknown {
  const text = readTextFile(what, file);
  try {
    return parseStrictJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new Error(`${what}: ${file} is not strict JSON: ${(err as Error).message}`);
  }
}
