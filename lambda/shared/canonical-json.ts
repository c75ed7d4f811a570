/**
 * Strict JSON parsing and RFC 8785 (JCS) canonical serialization, plus the SHA-256 hashes that approvals and
 * pins are bound to. Two values have the same canonical hash exactly when they are the same JSON data, whatever
 * the key order or whitespace of the text they came from.
 */
import { createHash } from 'node:crypto';

/** Thrown by {@link parseStrictJson} for text that is not strict JSON; a `SyntaxError`, like `JSON.parse`'s. */
export class StrictJsonError extends SyntaxError {
  /** UTF-16 offset in the text where the problem was found. */
  public readonly position: number;

  public constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = 'StrictJsonError';
    this.position = position;
  }
}

/** Thrown by {@link canonicalize} for a value that has no canonical JSON form; a `TypeError`. */
export class CanonicalizationError extends TypeError {
  /** JSON-pointer-like path of the offending value (`$` is the root). */
  public readonly path: string;

  public constructor(message: string, path: string) {
    super(`${message} at ${path}`);
    this.name = 'CanonicalizationError';
    this.path = path;
  }
}

/** Options of {@link parseStrictJson}. */
export interface StrictJsonOptions {
  /**
   * Deepest nesting of arrays and objects accepted.
   * @default 128
   */
  readonly maxDepth?: number;
}

/** Keys that could reach an object's prototype if the data were ever merged or assigned naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const DEFAULT_MAX_DEPTH = 128;
/** A lone (unpaired) surrogate: in a `u` regex a paired surrogate is one code point, never `\p{Cs}`. */
const LONE_SURROGATE = /\p{Cs}/u;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** True when a string has no lone surrogate (so it has exactly one UTF-8 encoding). */
export function isWellFormedString(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

class StrictParser {
  private pos = 0;

  public constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  public parseDocument(): unknown {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(message: string): never {
    throw new StrictJsonError(message, this.pos);
  }

  private skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private parseValue(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth + 1);
      case 0x5b: // [
        return this.parseArray(depth + 1);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail(Number.isNaN(c) ? 'unexpected end of text' : 'unexpected character');
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('invalid number');
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail('number out of range');
    this.pos += match[0].length;
    return value;
  }

  private parseString(): string {
    const t = this.text;
    let pos = this.pos + 1;
    let out = '';
    let chunkStart = pos;
    let sawSurrogate = false;
    for (;;) {
      if (pos >= t.length) {
        this.pos = pos;
        this.fail('unterminated string');
      }
      const c = t.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.pos = pos;
        this.fail('control character in string');
      }
      if (c >= 0xd800 && c <= 0xdfff) sawSurrogate = true;
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += t.slice(chunkStart, pos);
      const e = t.charCodeAt(pos + 1);
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = t.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = pos;
            this.fail('invalid unicode escape');
          }
          const unit = parseInt(hex, 16);
          if (unit >= 0xd800 && unit <= 0xdfff) sawSurrogate = true;
          out += String.fromCharCode(unit);
          pos += 4;
          break;
        }
        default:
          this.pos = pos;
          this.fail('invalid escape');
      }
      pos += 2;
      chunkStart = pos;
    }
    out += t.slice(chunkStart, pos);
    if (sawSurrogate && LONE_SURROGATE.test(out)) {
      this.fail('lone surrogate in string');
    }
    this.pos = pos + 1;
    return out;
  }

  private parseArray(depth: number): unknown[] {
    if (depth > this.maxDepth) this.fail('nesting too deep');
    this.pos++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) this.fail('nesting too deep');
    this.pos++;
    const out = Object.create(null) as Record<string, unknown>;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const keyPos = this.pos;
      const key = this.parseString();
      if (FORBIDDEN_KEYS.has(key)) {
        this.pos = keyPos;
        this.fail(`forbidden key "${key}"`);
      }
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        this.pos = keyPos;
        this.fail('duplicate key');
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      out[key] = this.parseValue(depth);
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}

/**
 * Parses JSON text strictly (RFC 8259 grammar, I-JSON data):
 * - rejects duplicate keys at any depth, and the keys `__proto__`, `constructor` and `prototype`;
 * - rejects numbers that do not fit a finite double (`1e400`), lone surrogates (raw or escaped), control characters
 *   in strings, comments, trailing commas, a byte-order mark, and any text after the value;
 * - returns objects with a `null` prototype, so no property lookup on the result reaches `Object.prototype`.
 * Throws a {@link StrictJsonError} (a `SyntaxError`) naming the position of the first problem.
 */
export function parseStrictJson(text: string, options?: StrictJsonOptions): unknown {
  if (typeof text !== 'string') throw new StrictJsonError('input is not a string', 0);
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  return new StrictParser(text, maxDepth).parseDocument();
}

const MAX_CANONICAL_DEPTH = 512;

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new CanonicalizationError('lone surrogate in string', path);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError(`non-finite number ${value}`, path);
      // ECMAScript Number::toString is exactly the JCS number form; JSON.stringify(-0) is "0" as JCS wants.
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new CanonicalizationError('cycle', path);
      if (ancestors.size >= MAX_CANONICAL_DEPTH) throw new CanonicalizationError('nesting too deep', path);
      const proto = Object.getPrototypeOf(value);
      ancestors.add(value);
      try {
        if (Array.isArray(value)) {
          if (proto !== Array.prototype) throw new CanonicalizationError('array subclass', path);
          const parts: string[] = [];
          for (let i = 0; i < value.length; i++) {
            if (!(i in value)) throw new CanonicalizationError('sparse array', `${path}[${i}]`);
            parts.push(serialize(value[i], `${path}[${i}]`, ancestors));
          }
          return `[${parts.join(',')}]`;
        }
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
          throw new CanonicalizationError(`non-plain object (${kind})`, path);
        }
        if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalizationError('symbol key', path);
        // Default sort compares UTF-16 code units, which is the JCS key order.
        const keys = Object.keys(value).sort();
        const parts: string[] = [];
        for (const key of keys) {
          const childPath = `${path}.${key}`;
          if (LONE_SURROGATE.test(key)) throw new CanonicalizationError('lone surrogate in key', childPath);
          const child = (value as Record<string, unknown>)[key];
          parts.push(`${JSON.stringify(key)}:${serialize(child, childPath, ancestors)}`);
        }
        return `{${parts.join(',')}}`;
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      // undefined, function, symbol, bigint
      throw new CanonicalizationError(`${typeof value} has no JSON form`, path);
  }
}

/**
 * Serializes JSON data in the RFC 8785 (JCS) canonical form: object keys sorted by UTF-16 code units, no
 * insignificant whitespace, numbers in their ECMAScript form, strings escaped as `JSON.stringify` does.
 * Accepts only plain data (plain or null-prototype objects, arrays, strings, finite numbers, booleans, null).
 * Throws a {@link CanonicalizationError} for `undefined` (also as a property value), functions, symbols, bigint,
 * NaN/Infinity, cycles, sparse arrays, lone surrogates, and non-plain objects (Date, Map, class instances, Buffer).
 */
export function canonicalize(value: unknown): string {
  return serialize(value, '$', new Set());
}

/**
 * Lowercase hex SHA-256 of a string (hashed as UTF-8) or bytes. Throws a `TypeError` for a string with a lone
 * surrogate, which has no exact UTF-8 form (Node would silently hash U+FFFD in its place).
 */
export function sha256Hex(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    if (LONE_SURROGATE.test(input)) throw new TypeError('sha256Hex: string has a lone surrogate');
  } else if (!(input instanceof Uint8Array)) {
    throw new TypeError('sha256Hex: input must be a string or a Uint8Array');
  }
  return createHash('sha256').update(input).digest('hex');
}

/** `sha256Hex(canonicalize(value))`: the hash that approvals and pins are bound to. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalize(value));
}
