import * as fc from 'fast-check';
import {
  ArgumentProblemCode as P,
  MAX_PROBLEMS,
  SchemaCompileError,
  compileToolSchema,
  parseAndValidateArguments,
  toolSchemaProblems,
  validateArguments,
} from '../../../lambda/tool-interceptor/schema-validate';

const SCHEMA = compileToolSchema({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  description: 'Search orders',
  properties: {
    query: { type: 'string', minLength: 1, maxLength: 5, description: 'Text' },
    status: { type: 'string', enum: ['open', 'closed'], default: 'open' },
    limit: { type: 'integer', minimum: 1, maximum: 50 },
    ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, multipleOf: 0.25 },
    code: { type: 'string', pattern: '^[A-Z]{3}$' },
    tags: { type: 'array', items: { type: 'string', maxLength: 3 }, minItems: 1, maxItems: 3, uniqueItems: true },
    flag: { type: ['boolean', 'null'] },
    kind: { const: 'order' },
    filter: {
      type: 'object',
      properties: { from: { type: 'string', format: 'date' }, to: { type: 'string' } },
      required: ['from'],
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 2,
    },
  },
  required: ['query'],
  additionalProperties: false,
});

const problems = (args: unknown) => {
  const r = validateArguments(args, SCHEMA);
  return r.ok ? [] : r.problems.map((p) => `${p.code}@${p.path}`);
};

describe('validateArguments', () => {
  test('accepts valid arguments and returns them', () => {
    const args = { query: 'héllo', status: 'closed', limit: 50, ratio: 0.75, code: 'ABC', tags: ['a', 'b'], flag: null, kind: 'order', filter: { from: 'x' } };
    expect(validateArguments(args, SCHEMA)).toEqual({ ok: true, value: args });
    expect(problems({ query: '😀😀😀😀😀' })).toEqual([]); // five code points, ten UTF-16 units
  });

  test.each([
    [{}, [`${P.MISSING_REQUIRED}@/query`]],
    [{ query: 'a', userId: 'admin' }, [`${P.UNKNOWN_PROPERTY}@/userId`]],
    [{ query: 'a', filter: { from: 'x', groups: ['admins'] } }, [`${P.UNKNOWN_PROPERTY}@/filter/groups`]],
    [{ query: 7 }, [`${P.WRONG_TYPE}@/query`]],
    [{ query: '' }, [`${P.TOO_SHORT}@/query`]],
    [{ query: 'abcdef' }, [`${P.TOO_LONG}@/query`]],
    [{ query: 'a', status: 'OPEN' }, [`${P.NOT_IN_ENUM}@/status`]],
    [{ query: 'a', limit: 2.5 }, [`${P.WRONG_TYPE}@/limit`]],
    [{ query: 'a', limit: 0 }, [`${P.BELOW_MINIMUM}@/limit`]],
    [{ query: 'a', limit: 51 }, [`${P.ABOVE_MAXIMUM}@/limit`]],
    [{ query: 'a', limit: 2 ** 60 }, [`${P.WRONG_TYPE}@/limit`]],
    [{ query: 'a', ratio: 0 }, [`${P.BELOW_MINIMUM}@/ratio`]],
    [{ query: 'a', ratio: 1 }, [`${P.ABOVE_MAXIMUM}@/ratio`]],
    [{ query: 'a', ratio: 0.3 }, [`${P.NOT_MULTIPLE}@/ratio`]],
    [{ query: 'a', code: 'abc' }, [`${P.PATTERN_MISMATCH}@/code`]],
    [{ query: 'a', tags: [] }, [`${P.TOO_FEW_ITEMS}@/tags`]],
    [{ query: 'a', tags: ['a', 'b', 'c', 'd'] }, [`${P.TOO_MANY_ITEMS}@/tags`]],
    [{ query: 'a', tags: ['a', 'a'] }, [`${P.DUPLICATE_ITEMS}@/tags`]],
    [{ query: 'a', tags: ['abcd'] }, [`${P.TOO_LONG}@/tags/0`]],
    [{ query: 'a', flag: 'yes' }, [`${P.WRONG_TYPE}@/flag`]],
    [{ query: 'a', kind: 'refund' }, [`${P.NOT_CONST}@/kind`]],
    [{ query: 'a', filter: {} }, [`${P.TOO_FEW_PROPERTIES}@/filter`, `${P.MISSING_REQUIRED}@/filter/from`]],
    [{ query: 'a', filter: { from: 'a', to: 'b', x: 1 } }, [`${P.TOO_MANY_PROPERTIES}@/filter`, `${P.UNKNOWN_PROPERTY}@/filter/x`]],
  ])('fails for %j', (args, expected) => {
    expect(problems(args)).toEqual(expected);
  });

  test('fails for prototype keys anywhere, even when the schema would not otherwise look there', () => {
    expect(problems(JSON.parse('{"query":"a","__proto__":{"admin":true}}'))).toEqual([`${P.FORBIDDEN_KEY}@/__proto__`]);
    expect(problems(JSON.parse('{"query":"a","filter":{"from":"x","constructor":{"prototype":1}}}'))).toEqual([`${P.FORBIDDEN_KEY}@/filter/constructor`]);
    expect(problems({ query: 'a', tags: [JSON.parse('{"prototype":1}')] })).toEqual([`${P.FORBIDDEN_KEY}@/tags/0/prototype`]);
  });

  test('fails for values that are not plain JSON data', () => {
    expect(problems({ query: 'a', limit: Number.NaN })).toEqual([`${P.NOT_PLAIN_DATA}@/limit`]);
    expect(problems({ query: new Date(0) })).toEqual([`${P.NOT_PLAIN_DATA}@/query`]);
    expect(problems({ query: 'a', tags: [, 'b'] })).toEqual([`${P.NOT_PLAIN_DATA}@/tags/0`]); // eslint-disable-line no-sparse-arrays
    expect(problems({ query: undefined })).toEqual([`${P.NOT_PLAIN_DATA}@/query`]);
    const withGetter = Object.defineProperty({ query: 'a' }, 'limit', { get: () => 1, enumerable: true });
    expect(problems(withGetter)).toEqual([`${P.NOT_PLAIN_DATA}@/limit`]);
    expect(problems([])).toEqual([`${P.WRONG_TYPE}@`]);
    expect(problems('query')).toEqual([`${P.WRONG_TYPE}@`]);
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('boom'); } });
    expect(problems(hostile)).toEqual([`${P.NOT_PLAIN_DATA}@`]);
  });

  test(`reports at most ${MAX_PROBLEMS} problems, and never the values`, () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'secret-value']));
    const r = validateArguments({ query: 'a', ...many }, SCHEMA);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toHaveLength(MAX_PROBLEMS);
      expect(JSON.stringify(r.problems)).not.toContain('secret-value');
    }
  });

  test('a schema without properties accepts only {}', () => {
    const empty = compileToolSchema({ type: 'object' });
    expect(validateArguments({}, empty).ok).toBe(true);
    expect(validateArguments({ a: 1 }, empty)).toEqual({ ok: false, problems: [{ path: '/a', code: P.UNKNOWN_PROPERTY }] });
  });

  test('property: arguments with any key the schema does not declare are always rejected', () => {
    const schema = compileToolSchema({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } });
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== 'a' && k !== 'b'), fc.jsonValue(), (key, value) => {
        const r = validateArguments({ a: 'x', [key]: value }, schema);
        return !r.ok;
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

describe('parseAndValidateArguments', () => {
  test.each([
    ['{"query":"a","query":"b"}', P.DUPLICATE_KEY],
    ['{"query":"a","__proto__":{}}', P.FORBIDDEN_KEY],
    ['{"query":"a",}', P.INVALID_JSON],
    ['{"query":"\\ud800"}', P.INVALID_JSON],
    ['{"query":"a"} {}', P.INVALID_JSON],
    [`${'['.repeat(40)}${']'.repeat(40)}`, P.TOO_DEEP],
  ])('rejects %s at parse time', (text, code) => {
    expect(parseAndValidateArguments(text, SCHEMA)).toEqual({ ok: false, problems: [{ path: '', code }] });
  });

  test('parses and validates', () => {
    expect(parseAndValidateArguments('{"query":"abc","limit":3}', SCHEMA)).toMatchObject({ ok: true, value: { query: 'abc', limit: 3 } });
    expect(parseAndValidateArguments('{"query":"abc","extra":1}', SCHEMA)).toEqual({ ok: false, problems: [{ path: '/extra', code: P.UNKNOWN_PROPERTY }] });
  });
});

describe('compileToolSchema', () => {
  test.each([
    ['a root that is not an object', { type: 'string' }, /root .* exactly type "object"/],
    ['an untyped node', { type: 'object', properties: { a: { description: 'anything' } } }, /needs "type", "enum" or "const"/],
    ['oneOf', { type: 'object', properties: { a: { oneOf: [{ type: 'string' }] } } }, /unsupported keyword "oneOf"/],
    ['$ref', { type: 'object', properties: { a: { $ref: '#/x' } } }, /unsupported keyword "\$ref"/],
    ['patternProperties', { type: 'object', patternProperties: {} }, /unsupported keyword/],
    ['additionalProperties true', { type: 'object', additionalProperties: true }, /only false is supported/],
    ['additionalProperties as a schema', { type: 'object', additionalProperties: { type: 'string' } }, /only false is supported/],
    ['required naming an undeclared property', { type: 'object', properties: {}, required: ['x'] }, /undeclared properties \(x\)/],
    ['a forbidden property name', { type: 'object', properties: JSON.parse('{"__proto__":{"type":"string"}}') }, /"__proto__" is forbidden/],
    ['an invalid pattern', { type: 'object', properties: { a: { type: 'string', pattern: '(' } } }, /not a valid ECMAScript/],
    ['an array without items', { type: 'object', properties: { a: { type: 'array' } } }, /needs "items"/],
    ['an unknown type', { type: 'object', properties: { a: { type: 'date' } } }, /must be one of/],
    ['a negative bound', { type: 'object', properties: { a: { type: 'string', maxLength: -1 } } }, /non-negative integer/],
    ['min above max', { type: 'object', properties: { a: { type: 'string', minLength: 3, maxLength: 2 } } }, /minLength is above maxLength/],
    ['a boolean schema', { type: 'object', properties: { a: true } }, /must be a JSON object/],
    ['zero multipleOf', { type: 'object', properties: { a: { type: 'number', multipleOf: 0 } } }, /positive number/],
  ])('fails for %s', (_n, schema, message) => {
    expect(() => compileToolSchema(schema)).toThrow(SchemaCompileError);
    expect(toolSchemaProblems(schema).join('\n')).toMatch(message);
    // An uncompiled schema that does not compile is refused, not skipped.
    expect(() => validateArguments({}, schema)).toThrow(SchemaCompileError);
  });

  test('lists every problem at once', () => {
    expect(toolSchemaProblems({ type: 'object', properties: { a: { oneOf: [] }, b: { type: 'array' } }, additionalProperties: true })).toHaveLength(4);
  });
});
