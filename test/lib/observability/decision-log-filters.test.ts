/**
 * The audit trail's metric filters read the handlers' decision lines. These tests run the contract's filter
 * patterns over decision lines written out by hand in the documented format, using a small evaluator of the
 * CloudWatch Logs JSON filter-pattern syntax, so that a change to either side of the contract breaks a test.
 */
import * as fc from 'fast-check';
import { allow, deny, notApplicable } from '../../../lambda/shared/decision';
import { createDecisionLogger } from '../../../lambda/shared/decision-log';
import {
  DECISION_LOG_TYPE,
  DENIAL_FILTER_PATTERN,
  DecisionLogField,
  DecisionOutcome,
  GUARDRAIL_INTERVENTION_FILTER_PATTERN,
  GuardrailLogAction,
} from '../../../lambda/shared/log-contract';

// ---- A tiny evaluator of CloudWatch Logs JSON filter patterns -------------------------------------------------
// Supports what metric filters on decision logs need: `{ <expr> }` where expr combines `$.a.b = "v"`,
// `$.a != "v"` (string or bare values, `*` as wildcard) with `&&`, `||` and parentheses. As in CloudWatch Logs,
// a comparison on a missing field does not match, and values compare as case-sensitive strings.

type Node =
  | { kind: 'cmp'; path: string[]; op: '=' | '!='; value: string }
  | { kind: 'and' | 'or'; left: Node; right: Node };

function tokenize(pattern: string): string[] {
  const src = pattern.trim();
  const re = /\s*(\{|\}|\(|\)|&&|\|\||!=|=|"(?:[^"\\]|\\.)*"|\$(?:\.[A-Za-z_][A-Za-z0-9_-]*)+|[^\s(){}=!&|"]+)/y;
  const tokens: string[] = [];
  while (re.lastIndex < src.length) {
    const at = re.lastIndex;
    const m = re.exec(src);
    if (m === null) throw new Error(`cannot parse filter pattern at: ${src.slice(at).trim()}`);
    tokens.push(m[1]);
  }
  return tokens;
}

function parseFilterPattern(pattern: string): Node {
  const t = tokenize(pattern);
  let i = 0;
  const expect = (tok: string) => {
    if (t[i] !== tok) throw new Error(`expected ${tok} at token ${i}, got ${t[i]}`);
    i++;
  };
  const primary = (): Node => {
    if (t[i] === '(') {
      i++;
      const e = or();
      expect(')');
      return e;
    }
    const sel = t[i++];
    if (!sel?.startsWith('$.')) throw new Error(`expected a $. selector, got ${sel}`);
    const op = t[i++];
    if (op !== '=' && op !== '!=') throw new Error(`expected = or !=, got ${op}`);
    const raw = t[i++];
    if (raw === undefined) throw new Error('expected a value');
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    return { kind: 'cmp', path: sel.slice(2).split('.'), op, value };
  };
  const and = (): Node => {
    let left = primary();
    while (t[i] === '&&') {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (t[i] === '||') {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  expect('{');
  const root = or();
  expect('}');
  if (i !== t.length) throw new Error(`unexpected trailing tokens: ${t.slice(i).join(' ')}`);
  return root;
}

function evaluate(node: Node, event: unknown): boolean {
  if (node.kind !== 'cmp') {
    return node.kind === 'and' ? evaluate(node.left, event) && evaluate(node.right, event) : evaluate(node.left, event) || evaluate(node.right, event);
  }
  let v: unknown = event;
  for (const key of node.path) {
    if (typeof v !== 'object' || v === null || !(key in v)) return false;
    v = (v as Record<string, unknown>)[key];
  }
  if (v === null || typeof v === 'object') return false;
  const text = String(v);
  const glob = new RegExp('^' + node.value.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return node.op === '=' ? glob.test(text) : !glob.test(text);
}

/** Whether a log line matches a JSON filter pattern (a line that is not a JSON object never does). */
function matches(pattern: string, line: string): boolean {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  return evaluate(parseFilterPattern(pattern), event);
}

function comparisons(node: Node): Array<[string, string, string]> {
  if (node.kind === 'cmp') return [[node.path.join('.'), node.op, node.value]];
  return [...comparisons(node.left), ...comparisons(node.right)];
}

// ---- Decision lines as the handlers write them (literal text, per the format documented in log-contract.ts) ----

const LINES = {
  guardrailBlockedInput:
    '{"level":"INFO","message":"decision","service":"guardrail-enforcer","timestamp":"2025-01-01T00:00:00.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"guardrail","outcome":"DENY","reasonCode":"GUARDRAIL_BLOCKED","subjectHash":"9f2c","requestId":"r-1","guardrailAction":"BLOCKED"}',
  guardrailMaskedOutput:
    '{"level":"INFO","message":"decision","service":"guardrail-enforcer","timestamp":"2025-01-01T00:00:01.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"guardrail","outcome":"ALLOW","reasonCode":"GUARDRAIL_MASKED","subjectHash":"9f2c","requestId":"r-2","guardrailAction":"MASKED"}',
  guardrailClean:
    '{"level":"INFO","message":"decision","service":"guardrail-enforcer","timestamp":"2025-01-01T00:00:02.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"guardrail","outcome":"ALLOW","reasonCode":"GUARDRAIL_NONE","subjectHash":"9f2c","requestId":"r-3","guardrailAction":"NONE"}',
  gatewayDeny:
    '{"level":"INFO","message":"decision","service":"gateway-interceptor","timestamp":"2025-01-01T00:00:03.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"tool-policy","outcome":"DENY","reasonCode":"POLICY_DENIED","subjectHash":"a1b2","requestId":"r-4"}',
  gatewayAllow:
    '{"level":"INFO","message":"decision","service":"gateway-interceptor","timestamp":"2025-01-01T00:00:04.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"tool-policy","outcome":"ALLOW","reasonCode":"POLICY_ALLOWED","subjectHash":"a1b2","requestId":"r-5"}',
  notApplicable:
    '{"level":"INFO","message":"decision","service":"knowledge-retriever","timestamp":"2025-01-01T00:00:05.000Z","logType":"cdk-ai-defense.decision","schemaVersion":1,"control":"retrieval","outcome":"NOT_APPLICABLE","reasonCode":"NO_CHUNKS","subjectHash":"c3d4","requestId":"r-6"}',
  otherLogTypeDeny: '{"level":"INFO","message":"audit","logType":"customer-app.audit","outcome":"DENY","guardrailAction":"BLOCKED"}',
  lowercaseDeny: '{"level":"INFO","message":"decision","logType":"cdk-ai-defense.decision","outcome":"deny","guardrailAction":"blocked"}',
  decisionNestedAsText:
    '{"level":"INFO","message":"{\\"logType\\":\\"cdk-ai-defense.decision\\",\\"outcome\\":\\"DENY\\"}","requestId":"r-7"}',
  platformReport: '{"time":"2025-01-01T00:00:06.000Z","type":"platform.report","record":{"requestId":"r-8","metrics":{"durationMs":12.5}}}',
  plainText: 'START RequestId: r-9 Version: $LATEST',
};

describe('decision-log filter patterns', () => {
  test.each<[keyof typeof LINES, boolean, boolean]>([
    ['guardrailBlockedInput', true, true],
    ['guardrailMaskedOutput', false, true],
    ['guardrailClean', false, false],
    ['gatewayDeny', true, false],
    ['gatewayAllow', false, false],
    ['notApplicable', false, false],
    ['otherLogTypeDeny', false, false],
    ['lowercaseDeny', false, false],
    ['decisionNestedAsText', false, false],
    ['platformReport', false, false],
    ['plainText', false, false],
  ])('%s: counted as denial %s, as intervention %s', (name, denial, intervention) => {
    expect(matches(DENIAL_FILTER_PATTERN, LINES[name])).toBe(denial);
    expect(matches(GUARDRAIL_INTERVENTION_FILTER_PATTERN, LINES[name])).toBe(intervention);
  });

  test('the denial pattern tests exactly logType and outcome against the documented values', () => {
    expect(comparisons(parseFilterPattern(DENIAL_FILTER_PATTERN))).toEqual([
      ['logType', '=', 'cdk-ai-defense.decision'],
      ['outcome', '=', 'DENY'],
    ]);
  });

  test('the intervention pattern tests exactly logType and guardrailAction BLOCKED or MASKED', () => {
    expect(comparisons(parseFilterPattern(GUARDRAIL_INTERVENTION_FILTER_PATTERN))).toEqual([
      ['logType', '=', 'cdk-ai-defense.decision'],
      ['guardrailAction', '=', 'BLOCKED'],
      ['guardrailAction', '=', 'MASKED'],
    ]);
  });

  test('the patterns read only fields the contract names', () => {
    const fields = new Set<string>(Object.values(DecisionLogField));
    for (const pattern of [DENIAL_FILTER_PATTERN, GUARDRAIL_INTERVENTION_FILTER_PATTERN]) {
      for (const [field] of comparisons(parseFilterPattern(pattern))) expect(fields).toContain(field);
    }
  });

  test('on any decision line, a denial is counted exactly when the outcome is DENY', () => {
    const line = fc.record(
      {
        logType: fc.constantFrom(DECISION_LOG_TYPE, 'customer-app.audit'),
        outcome: fc.constantFrom<string>(...Object.values(DecisionOutcome), 'deny', 'Deny'),
        guardrailAction: fc.constantFrom<string>(...Object.values(GuardrailLogAction), 'blocked'),
        reasonCode: fc.string({ maxLength: 20 }),
        control: fc.constantFrom('guardrail', 'tool-policy', 'retrieval', 'memory'),
      },
      { requiredKeys: ['logType', 'reasonCode', 'control'] },
    );
    fc.assert(
      fc.property(line, (event) => {
        const text = JSON.stringify(event);
        const decision = event.logType === DECISION_LOG_TYPE;
        expect(matches(DENIAL_FILTER_PATTERN, text)).toBe(decision && event.outcome === 'DENY');
        expect(matches(GUARDRAIL_INTERVENTION_FILTER_PATTERN, text)).toBe(
          decision && (event.guardrailAction === 'BLOCKED' || event.guardrailAction === 'MASKED'),
        );
      }),
      { numRuns: 300 },
    );
  });

  describe('on the lines the shared decision logger really writes', () => {
    let written: string[];
    let write: jest.SpyInstance;
    beforeEach(() => {
      written = [];
      write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
        written.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
        return true;
      });
    });
    afterEach(() => write.mockRestore());

    test('counts denials and guardrail interventions, and never the EMF metric lines', () => {
      const { logDecision } = createDecisionLogger({ serviceName: 'audit-contract-test' });
      logDecision({ control: 'guardrail', decision: deny('GUARDRAIL_BLOCKED', 'blocked'), requestId: 'r-1', guardrailAction: 'BLOCKED' });
      logDecision({ control: 'guardrail', decision: allow('GUARDRAIL_MASKED'), requestId: 'r-2', guardrailAction: 'MASKED' });
      logDecision({ control: 'guardrail', decision: allow(), requestId: 'r-3', guardrailAction: 'NONE' });
      logDecision({ control: 'tool-policy', decision: deny('IDENTITY_INVALID'), subject: 'alice', requestId: 'r-4' });
      logDecision({ control: 'retrieval', decision: notApplicable(), requestId: 'r-5' });

      const decisions = written.filter((l) => l.includes('"decision"'));
      expect(decisions).toHaveLength(5);
      expect(written.filter((l) => matches(DENIAL_FILTER_PATTERN, l)).map((l) => JSON.parse(l).requestId)).toEqual(['r-1', 'r-4']);
      expect(written.filter((l) => matches(GUARDRAIL_INTERVENTION_FILTER_PATTERN, l)).map((l) => JSON.parse(l).requestId)).toEqual(['r-1', 'r-2']);
      const emf = written.filter((l) => l.includes('"_aws"'));
      expect(emf.length).toBeGreaterThan(0);
      for (const line of emf) {
        expect(matches(DENIAL_FILTER_PATTERN, line)).toBe(false);
        expect(matches(GUARDRAIL_INTERVENTION_FILTER_PATTERN, line)).toBe(false);
      }
    });
  });

  describe('the evaluator itself', () => {
    test('honours wildcards, !=, missing fields and nested selectors', () => {
      expect(matches('{ $.a.b = "x*" }', '{"a":{"b":"xyz"}}')).toBe(true);
      expect(matches('{ $.a != "x" }', '{"a":"y"}')).toBe(true);
      expect(matches('{ $.a != "x" }', '{"b":"y"}')).toBe(false);
      expect(matches('{ ($.a = 1) || ($.b = 2) && ($.c = 3) }', '{"a":1}')).toBe(true);
      expect(matches('{ ($.a = 1) && ($.b = 2) }', '{"a":1}')).toBe(false);
    });

    test('fails on patterns it cannot read', () => {
      expect(() => parseFilterPattern('{ $.a = "x" ')).toThrow(/expected \}/);
      expect(() => parseFilterPattern('{ a = "x" }')).toThrow(/expected a \$\. selector, got a/);
      expect(() => parseFilterPattern('{ $.a > "x" }')).toThrow(/expected = or !=, got >/);
      expect(() => parseFilterPattern('{ $.a = "x }')).toThrow(/cannot parse filter pattern at: "x }/);
    });
  });
});
