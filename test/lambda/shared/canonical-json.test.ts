import { isDeepStrictEqual } from 'node:util';
import * as fc from 'fast-check';
import {
  CanonicalizationError,
  StrictJsonError,
  canonicalHash,
  canonicalize,
  isWellFormedString,
  parseStrictJson,
  sha256Hex,
} from '../../../lambda/shared/canonical-json';

const FC = { seed: 8785, numRuns: 1000 } as const;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON data without the keys the strict parser refuses (fast-check can generate them). */
const jsonData = fc.jsonValue({ maxDepth: 4 }).filter((v) => !JSON.stringify(v).match(/"(__proto__|constructor|prototype)":/));

/** A deep copy whose objects list their keys in reverse insertion order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) {
      Object.defineProperty(out, key, { value: reverseKeys((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

describe('parseStrictJson', () => {
  test.each([
    ['true', true],
    ['false', false],
    ['null', null],
    ['0', 0],
    ['-0.5e-3', -0.0005],
    ['1E2', 100],
    [' \t\r\n"x" \n', 'x'],
    ['"\\u0061\\n\\"\\\\\\/\\b\\f\\r\\t"', 'a\n"\\/\b\f\r\t'],
    ['"\\ud83d\\ude00"', '😀'],
    ['"😀"', '😀'],
    ['[]', []],
    ['[1,[2,[3]]]', [1, [2, [3]]]],
    ['{"a":{"b":[{"c":null}]}}', { a: { b: [{ c: null }] } }],
    ['{"a":1,"A":2}', { a: 1, A: 2 }],
  ])('parses %s', (text, expected) => {
    expect(parseStrictJson(text)).toEqual(expected);
  });

  test.each([
    ['duplicate key at the top', '{"a":1,"a":2}', 'duplicate key'],
    ['duplicate key at depth 3', '{"x":{"y":{"z":1,"q":2,"z":1}}}', 'duplicate key'],
    ['duplicate key inside an array element', '[{"k":1},{"k":1,"k":1}]', 'duplicate key'],
    ['duplicate key spelled with an escape', '{"a":1,"\\u0061":2}', 'duplicate key'],
    ['__proto__ key', '{"__proto__":{"admin":true}}', 'forbidden key'],
    ['__proto__ key spelled with an escape', '{"__pro\\u0074o__":{}}', 'forbidden key'],
    ['constructor key', '{"a":{"constructor":{"prototype":{}}}}', 'forbidden key'],
    ['prototype key', '{"prototype":1}', 'forbidden key'],
    ['number overflowing to Infinity', '1e400', 'number out of range'],
    ['number overflowing to -Infinity', '[-1e400]', 'number out of range'],
    ['NaN literal', 'NaN', 'unexpected character'],
    ['Infinity literal', 'Infinity', 'unexpected character'],
    ['escaped lone high surrogate', '"\\ud800"', 'lone surrogate'],
    ['escaped lone low surrogate', '"\\udc00x"', 'lone surrogate'],
    ['high surrogate before a non-surrogate', '"\\ud83d\\u0041"', 'lone surrogate'],
    ['raw lone surrogate', '"\ud800"', 'lone surrogate'],
    ['raw lone surrogate in a key', '{"\udc00":1}', 'lone surrogate'],
    ['control character in a string', '"a\nb"', 'control character'],
    ['invalid escape', '"\\x41"', 'invalid escape'],
    ['short unicode escape', '"\\u12"', 'invalid unicode escape'],
    ['trailing comma in an array', '[1,]', 'unexpected character'],
    ['trailing comma in an object', '{"a":1,}', 'expected a string key'],
    ['comment', '{"a":1 /* c */}', "expected ',' or '}'"],
    ['single quotes', "{'a':1}", 'expected a string key'],
    ['leading zero', '01', 'unexpected text'],
    ['plus sign', '+1', 'unexpected character'],
    ['bare fraction', '.5', 'unexpected character'],
    ['dangling decimal point', '1.', 'unexpected text'],
    ['byte-order mark', '\ufeff{}', 'unexpected character'],
    ['text after the value', '{} {}', 'unexpected text'],
    ['empty text', '', 'unexpected end'],
    ['only whitespace', '  ', 'unexpected end'],
    ['unterminated string', '"abc', 'unterminated string'],
    ['unterminated array', '[1,2', "expected ',' or ']'"],
    ['misspelled literal', 'nul', 'invalid literal'],
    ['missing colon', '{"a" 1}', "expected ':'"],
  ])('fails on %s', (_name, text, message) => {
    expect(() => parseStrictJson(text)).toThrow(StrictJsonError);
    expect(() => parseStrictJson(text)).toThrow(message);
  });

  test('its errors are SyntaxErrors with a position', () => {
    try {
      parseStrictJson('{"a":1,"a":2}');
      throw new Error('not thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(SyntaxError);
      expect((err as StrictJsonError).position).toBe(7);
    }
  });

  test('fails on nesting deeper than maxDepth', () => {
    expect(() => parseStrictJson('[[[1]]]', { maxDepth: 2 })).toThrow('nesting too deep');
    expect(parseStrictJson('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
    expect(() => parseStrictJson(`${'['.repeat(129)}${']'.repeat(129)}`)).toThrow('nesting too deep');
  });

  test('fails on a non-string input', () => {
    expect(() => parseStrictJson(undefined as unknown as string)).toThrow(StrictJsonError);
  });

  test('returns null-prototype objects that cannot reach Object.prototype', () => {
    const parsed = parseStrictJson('{"a":{"b":1},"list":[{"c":2}]}') as Record<string, any>;
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.getPrototypeOf(parsed.a)).toBeNull();
    expect(Object.getPrototypeOf(parsed.list[0])).toBeNull();
    expect(parsed.toString).toBeUndefined();
    expect(parsed.hasOwnProperty).toBeUndefined();
  });

  test('agrees with JSON.parse on generated JSON (property)', () => {
    fc.assert(
      fc.property(jsonData, (value) => {
        const text = JSON.stringify(value);
        expect(canonicalize(parseStrictJson(text))).toBe(canonicalize(JSON.parse(text)));
      }),
      FC,
    );
  });
});

describe('canonicalize', () => {
  test('matches the RFC 8785 section 3.2.2 example', () => {
    const input =
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
      '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}';
    expect(canonicalize(parseStrictJson(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test('sorts keys by UTF-16 code units as RFC 8785 section 3.2.3 does (not by code point)', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order from the text: JSON.parse would move the integer-like key "1" first.
    const keys = [...canonicalize(value).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(keys.map((k) => k.codePointAt(0)!.toString(16))).toEqual(['d', '31', '80', 'f6', '20ac', '1f600', 'fb33']);
  });

  test.each([
    ['integers', 42, '42'],
    ['negative zero', -0, '0'],
    ['1e21', 1e21, '1e+21'],
    ['1e-7', 1e-7, '1e-7'],
    ['0.1 + 0.2', 0.1 + 0.2, '0.30000000000000004'],
    ['max safe integer', Number.MAX_SAFE_INTEGER, '9007199254740991'],
    ['min positive double', 5e-324, '5e-324'],
    ['max double', Number.MAX_VALUE, '1.7976931348623157e+308'],
    ['a string with controls and quotes', 'a"\\\u0001\u001f', '"a\\"\\\\\\u0001\\u001f"'],
    ['a string with U+2028 (not escaped)', '\u2028', '"\u2028"'],
    ['an emoji string', '😀', '"😀"'],
    ['nested containers', { b: [1, { d: true, c: null }], a: {} }, '{"a":{},"b":[1,{"c":null,"d":true}]}'],
    ['a null-prototype object', Object.assign(Object.create(null), { z: 1, y: 2 }), '{"y":2,"z":1}'],
    ['a shared (non-cyclic) reference', (() => { const s = { v: 1 }; return { a: s, b: s }; })(), '{"a":{"v":1},"b":{"v":1}}'],
  ])('serializes %s', (_name, value, expected) => {
    expect(canonicalize(value)).toBe(expected);
  });

  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  class Point {
    public constructor(public readonly x: number) {}
  }
  class MyArray extends Array {}

  test.each([
    ['NaN', NaN, 'non-finite'],
    ['Infinity', Infinity, 'non-finite'],
    ['-Infinity inside an array', [-Infinity], 'non-finite number -Infinity at $[0]'],
    ['undefined', undefined, 'undefined has no JSON form'],
    ['an undefined property', { a: { b: undefined } }, 'undefined has no JSON form at $.a.b'],
    ['an undefined array element', [undefined], 'at $[0]'],
    ['a function', () => 1, 'function has no JSON form'],
    ['a function property (toJSON)', { toJSON: () => 'x' }, 'function has no JSON form'],
    ['a symbol', Symbol('s'), 'symbol has no JSON form'],
    ['a bigint', BigInt(10), 'bigint has no JSON form'],
    ['a cycle through an object', cyclic, 'cycle at $.self'],
    ['a cycle through arrays', cyclicArray, 'cycle'],
    ['a Date', new Date(0), 'non-plain object (Date)'],
    ['a Map', new Map(), 'non-plain object (Map)'],
    ['a class instance', new Point(1), 'non-plain object (Point)'],
    ['a Buffer', Buffer.from('x'), 'non-plain object'],
    ['a Uint8Array', new Uint8Array(1), 'non-plain object'],
    ['a boxed string', new String('x'), 'non-plain object'],
    ['an array subclass', MyArray.from([1]), 'array subclass'],
    ['a sparse array', [1, , 3], 'sparse array at $[1]'], // eslint-disable-line no-sparse-arrays
    ['a symbol key', { [Symbol('k')]: 1 }, 'symbol key'],
    ['a lone surrogate in a string', { a: 'x\ud800' }, 'lone surrogate in string at $.a'],
    ['a lone surrogate in a key', { ['\udfff']: 1 }, 'lone surrogate in key'],
  ])('fails on %s', (_name, value, message) => {
    expect(() => canonicalize(value)).toThrow(CanonicalizationError);
    expect(() => canonicalize(value)).toThrow(message);
  });

  test('fails on nesting deeper than 512 levels instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(() => canonicalize(deep)).toThrow('nesting too deep');
  });

  test('is the same for any key order and whitespace (property)', () => {
    fc.assert(
      fc.property(jsonData, (value) => {
        const expected = canonicalize(value);
        expect(canonicalize(reverseKeys(value))).toBe(expected);
        expect(canonicalize(parseStrictJson(JSON.stringify(value, null, 2)))).toBe(expected);
        expect(canonicalize(parseStrictJson(JSON.stringify(reverseKeys(value), null, '\t')))).toBe(expected);
        // Canonical text is a fixed point and valid JSON.
        expect(canonicalize(parseStrictJson(expected))).toBe(expected);
      }),
      FC,
    );
  });

  test('differs exactly when the data differs (property)', () => {
    fc.assert(
      fc.property(jsonData, jsonData, (a, b) => {
        const same = isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
        expect(canonicalHash(a) === canonicalHash(b)).toBe(same);
      }),
      FC,
    );
  });

  test('changes when any single leaf of a record changes (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !FORBIDDEN.has(k)), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 8 }),
        fc.nat(),
        fc.jsonValue({ maxDepth: 1 }),
        (record, pick, replacement) => {
          const keys = Object.keys(record);
          const key = keys[pick % keys.length];
          fc.pre(!isDeepStrictEqual(JSON.parse(JSON.stringify(record[key])), JSON.parse(JSON.stringify(replacement))));
          const changed = { ...record, [key]: replacement };
          expect(canonicalHash(changed)).not.toBe(canonicalHash(record));
        },
      ),
      FC,
    );
  });
});

describe('canonicalHash', () => {
  const toolCall = {
    tool: 'transfer_funds',
    arguments: { from: 'acct-1', to: 'acct-2', amount: 100, currency: 'EUR', memo: 'rent' },
    target: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-1',
    tags: ['a', 'b'],
  };
  const base = canonicalHash(toolCall);

  test.each([
    ['reordered keys', '{"tags":["a","b"],"target":"arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-1","arguments":{"memo":"rent","currency":"EUR","amount":100,"to":"acct-2","from":"acct-1"},"tool":"transfer_funds"}'],
    ['pretty-printed', JSON.stringify(toolCall, null, 4)],
    ['an equivalent number form', JSON.stringify(toolCall).replace('"amount":100', '"amount":1.00e2')],
    ['escaped characters', JSON.stringify(toolCall).replace('"rent"', '"\\u0072ent"')],
  ])('is equal for %s', (_name, text) => {
    expect(canonicalHash(parseStrictJson(text))).toBe(base);
  });

  test.each([
    ['a changed amount', { ...toolCall, arguments: { ...toolCall.arguments, amount: 1000 } }],
    ['a number turned into a string', { ...toolCall, arguments: { ...toolCall.arguments, amount: '100' } }],
    ['a changed recipient', { ...toolCall, arguments: { ...toolCall.arguments, to: 'acct-3' } }],
    ['an added argument', { ...toolCall, arguments: { ...toolCall.arguments, urgent: true } }],
    ['a removed argument', { ...toolCall, arguments: { from: 'acct-1', to: 'acct-2', amount: 100, currency: 'EUR' } }],
    ['a null instead of a value', { ...toolCall, arguments: { ...toolCall.arguments, memo: null } }],
    ['an empty string instead of null', { ...toolCall, arguments: { ...toolCall.arguments, memo: '' } }],
    ['a key in another case', { ...toolCall, Tool: toolCall.tool, tool: undefined as never }],
    ['reordered array elements', { ...toolCall, tags: ['b', 'a'] }],
    ['a trailing space inside a string', { ...toolCall, tool: 'transfer_funds ' }],
    ['another tool', { ...toolCall, tool: 'transfer_fund' }],
    ['another target', { ...toolCall, target: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-2' }],
    ['false instead of 0', { ...toolCall, arguments: { ...toolCall.arguments, amount: false } }],
  ])('differs for %s', (_name, changed) => {
    const cleaned = JSON.parse(JSON.stringify(changed));
    expect(canonicalHash(cleaned)).not.toBe(base);
  });

  test('is sha256Hex of the canonical text', () => {
    expect(canonicalHash({ b: 1, a: 2 })).toBe(sha256Hex('{"a":2,"b":1}'));
  });
});

describe('sha256Hex', () => {
  test.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['€', sha256Hex(new Uint8Array([0xe2, 0x82, 0xac]))],
  ])('hashes %j as UTF-8', (input, expected) => {
    expect(sha256Hex(input)).toBe(expected);
  });

  test('hashes bytes', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('fails on a string with a lone surrogate (which UTF-8 cannot represent exactly)', () => {
    expect(() => sha256Hex('\ud800')).toThrow(TypeError);
    expect(() => sha256Hex('a\udfffb')).toThrow('lone surrogate');
  });

  test('fails on a non-string, non-bytes input', () => {
    expect(() => sha256Hex(42 as unknown as string)).toThrow(TypeError);
  });

  test('isWellFormedString tells paired from lone surrogates', () => {
    expect(isWellFormedString('😀')).toBe(true);
    expect(isWellFormedString('\ud83d')).toBe(false);
  });
});

describe('speed', () => {
  test('hashes a typical tool call in well under a millisecond', () => {
    const value = { tool: 'search', arguments: { query: 'q'.repeat(200), filters: { year: 2024, tags: ['a', 'b', 'c'] }, limit: 10 } };
    const start = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) canonicalHash(value);
    const perCallMs = Number(process.hrtime.bigint() - start) / 1e6 / 2000;
    expect(perCallMs).toBeLessThan(0.5);
  });
});
