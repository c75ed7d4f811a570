/**
 * The agent loop's pure parts: the loop with injected fakes, context trimming (property-tested), reading Converse
 * responses, the MCP client's parsing, hook plumbing, configuration parsing and the reason codes.
 */
import { createHash } from 'crypto';
import fc from 'fast-check';
import {
  AGENT_LOOP_DEFAULTS,
  AgentDefinition,
  AgentLimits,
  AgentLoopEnv,
  definitionProblems,
  gatewayUrlProblems,
  limitProblems,
  localToolProblems,
  parseDefinition,
  renderDefinition,
  settingsFromEnv,
} from '../../../lambda/agent-loop/config';
import { AgentHook, HookContext, loopAllow, loopDeny, readHookAnswer, runTextHooks, toLoopDecision } from '../../../lambda/agent-loop/hooks';
import {
  AgentLoopDeps,
  ConverseRequest,
  Message,
  ToolExecutor,
  conversationProblems,
  conversationSize,
  isContextOverflowError,
  readConverseResponse,
  runAgentLoop,
  trimConversation,
} from '../../../lambda/agent-loop/loop';
import { createMcpClient, httpStatusCode, jsonRpcResponse, sseMessages, toolResultText } from '../../../lambda/agent-loop/mcp-client';
import { deniedWith, isStopCode } from '../../../lambda/agent-loop/reason-codes';
import { VerifiedIdentity } from '../../../lambda/shared/identity';
import { ReasonCatalogue } from '../../../lambda/shared/reason-codes';

const NOW = 1_800_000_000_000;
const IDENTITY: VerifiedIdentity = Object.freeze({
  subject: 'alice',
  issuer: 'https://idp.example.test',
  groups: ['analysts'],
  scopes: [],
  expiresAt: NOW / 1000 + 3600,
  claims: {},
});

function turn(content: unknown[], stopReason = 'end_turn'): Record<string, unknown> {
  return { output: { message: { role: 'assistant', content } }, stopReason };
}
const text = (t: string) => turn([{ text: t }]);
const use = (id: string, name: string, input: unknown = {}) => turn([{ toolUse: { toolUseId: id, name, input } }], 'tool_use');

interface Fake {
  deps: AgentLoopDeps;
  requests: ConverseRequest[];
  calls: string[];
  events: Array<{ control: string; outcome: string; reasonCode: string }>;
}

function fake(script: Array<unknown | Error>, over: Partial<AgentLoopDeps> = {}, limits: Partial<AgentLimits> = {}): Fake {
  const requests: ConverseRequest[] = [];
  const calls: string[] = [];
  const events: Fake['events'] = [];
  let i = 0;
  const tools: ToolExecutor = {
    listTools: async () => [{ name: 'echo', description: 'Echoes.', inputSchema: { type: 'object' } }, { name: 'secret', inputSchema: { type: 'object' } }],
    call: async (call) => {
      calls.push(call.name);
      return { kind: 'RESULT', text: `out:${JSON.stringify(call.input)}`, isError: false };
    },
  };
  const deps: AgentLoopDeps = {
    modelId: 'amazon.nova-pro-v1:0',
    systemPrompt: 'sys',
    converse: async (request) => {
      requests.push(JSON.parse(JSON.stringify(request)) as ConverseRequest);
      const next = script[Math.min(i++, script.length - 1)];
      if (next instanceof Error) throw next;
      return next;
    },
    tools,
    catalog: [{ name: 'echo', source: 'GATEWAY', requiresApproval: false }],
    hooks: [],
    limits: { ...AGENT_LOOP_DEFAULTS, ...limits },
    clock: () => NOW,
    log: (e) => events.push({ control: e.control, outcome: e.decision.outcome, reasonCode: e.decision.reasonCode }),
    ...over,
  };
  return { deps, requests, calls, events };
}

const input = (prompt = 'hello') => ({ identity: IDENTITY, sessionId: 's', prompt, now: NOW });

describe('runAgentLoop with injected fakes', () => {
  test('offers only catalogued tools, runs an allowed call, and returns the answer', async () => {
    const f = fake([use('a', 'echo', { x: 1 }), text('done')]);
    const res = await runAgentLoop(input(), f.deps);
    expect(res).toEqual({ status: 'COMPLETED', reasonCode: 'ALLOWED', answer: 'done', turns: 2, toolCalls: 1 });
    expect(f.requests[0].toolConfig?.tools.map((t) => t.toolSpec.name)).toEqual(['echo']);
    expect(f.calls).toEqual(['echo']);
    // Not a Claude model: tool results carry no status field.
    expect(f.requests[1].messages[2]).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: 'a', content: [{ text: 'out:{"x":1}' }] } }] });
  });

  test('without hooks the loop itself still never runs a tool outside the catalog', async () => {
    const f = fake([use('a', 'secret'), text('done')]);
    const res = await runAgentLoop(input(), f.deps);
    expect(res.status).toBe('COMPLETED');
    expect(f.calls).toEqual([]);
    expect(f.events).toContainEqual({ control: 'agent-tool', outcome: 'DENY', reasonCode: 'TOOL_NOT_ALLOWED' });
  });

  test('a tool input that is not an object is refused', async () => {
    const f = fake([use('a', 'echo', 'rm -rf'), text('done')]);
    await runAgentLoop(input(), f.deps);
    expect(f.calls).toEqual([]);
    expect(JSON.stringify(f.requests[1].messages)).toContain('Tool call refused (MALFORMED_REQUEST)');
  });

  test('an empty tool result becomes a fixed notice', async () => {
    const f = fake([use('a', 'echo'), text('done')], { tools: { listTools: async () => [], call: async () => ({ kind: 'RESULT', text: '  ', isError: false }) } });
    await runAgentLoop(input(), f.deps);
    expect(JSON.stringify(f.requests[1].messages)).toContain('(the tool returned no output)');
  });

  test('a customer afterTool hook can replace a result; the next hook sees the replacement', async () => {
    const seen: string[] = [];
    const hooks: AgentHook[] = [
      { name: 'redact', afterTool: (_c, r) => ({ decision: loopAllow(), text: r.replace(/\d/g, '#') }) },
      { name: 'observer', afterTool: (_c, r) => (seen.push(r), { decision: loopAllow() }) },
    ];
    const f = fake([use('a', 'echo', { n: 42 }), text('done')], { hooks });
    await runAgentLoop(input(), f.deps);
    expect(seen).toEqual(['out:{"n":##}']);
  });

  test('a beforeModel deny with a policy code stops the loop (STOPPED), a fault code denies', async () => {
    const budget: AgentHook = { name: 'budget', beforeModel: (v) => (v.turn > 1 ? loopDeny('HOOK_DENIED', 'budget exceeded') : loopAllow()) };
    const f = fake([use('a', 'echo'), text('done')], { hooks: [budget] });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'STOPPED', reasonCode: 'HOOK_DENIED', turns: 1 }));
    const g = fake([text('done')], { hooks: [{ name: 'x', beforeModel: () => loopDeny('UPSTREAM_THROTTLED') }] });
    expect(await runAgentLoop(input(), g.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'UPSTREAM_THROTTLED', turns: 0 }));
  });

  test.each<[string, unknown]>([
    ['undefined', undefined],
    ['a string', 'ALLOW'],
    ['an unknown outcome', { outcome: 'MAYBE', reasonCode: 'ALLOWED' }],
    ['a code with lower-case letters', { outcome: 'ALLOW', reasonCode: 'allowed' }],
  ])('a hook returning %s denies with INTERNAL_ERROR', async (_n, value) => {
    const f = fake([use('a', 'echo'), text('done')], { hooks: [{ name: 'bad', beforeTool: () => value as never }] });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'INTERNAL_ERROR' }));
    expect(f.calls).toEqual([]);
  });

  test('a text hook that replaces the text with a non-string denies', async () => {
    const f = fake([text('done')], { hooks: [{ name: 'bad', onFinal: () => ({ decision: loopAllow(), text: 42 as never }) }] });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'INTERNAL_ERROR' }));
  });

  test('an executor that returns an unknown outcome denies; a throwing log is ignored', async () => {
    const f = fake([use('a', 'echo'), text('done')], {
      tools: { listTools: async () => [], call: async () => ({ kind: 'WHAT' }) as never },
      log: () => {
        throw new Error('log down');
      },
    });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'INTERNAL_ERROR', toolCalls: 1 }));
  });

  test('an executor deny with an identity code stops the loop', async () => {
    const f = fake([use('a', 'echo'), text('done')], { tools: { listTools: async () => [], call: async () => ({ kind: 'DENIED', reasonCode: 'IDENTITY_EXPIRED' }) } });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'IDENTITY_EXPIRED' }));
  });

  test('the conversation is trimmed before a call when it exceeds the context budget', async () => {
    const big = 'z'.repeat(4_000);
    const f = fake([use('a', 'echo', { big }), use('b', 'echo', { big }), use('c', 'echo', { big }), text('done')], {}, { maxContextChars: 10_000 });
    const res = await runAgentLoop(input(), f.deps);
    expect(res.status).toBe('COMPLETED');
    const last = f.requests[3].messages;
    expect(conversationProblems(last)).toEqual([]);
    expect(last.length).toBeLessThan(7);
    expect(last[0]).toEqual({ role: 'user', content: [{ text: 'hello' }] });
  });

  test('a prompt that alone exceeds the context budget stops with CONTEXT_OVERFLOW before any call', async () => {
    const f = fake([text('done')], {}, { maxContextChars: 10_000, maxPromptChars: 20_000 });
    expect(await runAgentLoop(input('p'.repeat(12_000)), f.deps)).toEqual(expect.objectContaining({ status: 'STOPPED', reasonCode: 'CONTEXT_OVERFLOW' }));
    expect(f.requests).toEqual([]);
  });

  test('a prompt over the prompt limit is refused, never truncated', async () => {
    const f = fake([text('done')], {}, { maxPromptChars: 10 });
    expect(await runAgentLoop(input('p'.repeat(11)), f.deps)).toEqual(expect.objectContaining({ status: 'REFUSED', reasonCode: 'REQUEST_TOO_LARGE' }));
  });

  test('stopReason model_context_window_exceeded trims and retries without counting a turn', async () => {
    const f = fake([use('a', 'echo', { v: 'x'.repeat(300) }), use('b', 'echo'), turn([{ text: 'cut' }], 'model_context_window_exceeded'), text('done')]);
    const res = await runAgentLoop(input(), f.deps);
    expect(res).toEqual(expect.objectContaining({ status: 'COMPLETED', turns: 3 }));
    expect(f.requests[3].messages).toHaveLength(3);
  });

  test.each(['malformed_model_output', 'malformed_tool_use'])('stopReason %s denies as a malformed response', async (reason) => {
    const f = fake([turn([{ text: 'x' }], reason)]);
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
  });

  test('an empty answer is returned empty (nothing to screen)', async () => {
    const f = fake([turn([])]);
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'COMPLETED', answer: '' }));
  });

  test('no tool runs once the caller has aborted (deadline), even if the model answered', async () => {
    const controller = new AbortController();
    const f = fake([], {
      signal: controller.signal,
      converse: async () => {
        controller.abort();
        return use('a', 'echo');
      },
    });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'UPSTREAM_TIMEOUT', toolCalls: 0 }));
    expect(f.calls).toEqual([]);
  });

  test('the caller abort signal reaches the model call', async () => {
    const controller = new AbortController();
    const f = fake([], {
      signal: controller.signal,
      converse: (_r, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
          controller.abort();
        }),
    });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'DENIED', reasonCode: 'UPSTREAM_TIMEOUT' }));
  });
});

describe('trimConversation', () => {
  const pair = (id: string, size: number): Message[] => [
    { role: 'assistant', content: [{ text: 'thinking' }, { toolUse: { toolUseId: id, name: 'echo', input: { p: 'q'.repeat(size) } } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ text: 'r'.repeat(size) }] } }] },
  ];

  test('keeps everything when it fits, drops the oldest pairs first otherwise', () => {
    const conv: Message[] = [{ role: 'user', content: [{ text: 'prompt' }] }, ...pair('a', 100), ...pair('b', 100), ...pair('c', 100)];
    expect(trimConversation(conv, 1_000_000, 0)).toEqual({ messages: conv, dropped: 0 });
    const trimmed = trimConversation(conv, conversationSize(conv) - 10, 0)!;
    expect(trimmed.dropped).toBe(1);
    expect(trimmed.messages).toEqual([conv[0], ...conv.slice(3)]);
    expect(trimConversation(conv, 10, 0)).toBeUndefined();
  });

  test('property: any trim keeps the prompt and the latest pair, drops only the oldest pairs, and never orphans a result', () => {
    const arbPair = fc.record({ uses: fc.integer({ min: 1, max: 3 }), size: fc.integer({ min: 0, max: 400 }) });
    fc.assert(
      fc.property(fc.array(arbPair, { maxLength: 8 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 500 }), (pairs, budget, overhead) => {
        const conv: Message[] = [{ role: 'user', content: [{ text: 'the prompt' }] }];
        pairs.forEach((p, i) => {
          const ids = Array.from({ length: p.uses }, (_v, j) => `t${i}_${j}`);
          conv.push({ role: 'assistant', content: ids.map((id) => ({ toolUse: { toolUseId: id, name: 'echo', input: { s: 'x'.repeat(p.size) } } })) });
          conv.push({ role: 'user', content: ids.map((id) => ({ toolResult: { toolUseId: id, content: [{ text: 'y'.repeat(p.size) }] } })) });
        });
        const out = trimConversation(conv, budget, overhead);
        if (out === undefined) {
          // Only when even the prompt and the latest pair do not fit.
          const minimal = conv.length >= 3 ? [conv[0], ...conv.slice(-2)] : conv;
          return overhead + conversationSize(minimal) > budget;
        }
        const m = out.messages;
        return (
          conversationProblems(m).length === 0 &&
          m[0] === conv[0] &&
          overhead + conversationSize(m) <= budget &&
          JSON.stringify(m.slice(1)) === JSON.stringify(conv.slice(1 + 2 * out.dropped)) &&
          (conv.length < 3 || m[m.length - 1] === conv[conv.length - 1])
        );
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });
});

describe('readConverseResponse', () => {
  test('keeps text, tool uses and reasoning; drops other block kinds', () => {
    const t = readConverseResponse(
      turn([{ text: 'a' }, { reasoningContent: { reasoningText: { text: 'r' } } }, { citationsContent: {} }, { toolUse: { toolUseId: 'x', name: 'echo', input: { q: 1 } } }, { text: 'b' }], 'tool_use'),
    );
    expect(t.text).toBe('a\nb');
    expect(t.toolUses).toEqual([{ toolUseId: 'x', name: 'echo', input: { q: 1 } }]);
    expect(t.content).toHaveLength(4);
  });

  test.each<[string, unknown]>([
    ['not an object', 'x'],
    ['an unknown stopReason', { ...text('a'), stopReason: 'something_new' }],
    ['no message', { stopReason: 'end_turn', output: {} }],
    ['a user message', { stopReason: 'end_turn', output: { message: { role: 'user', content: [] } } }],
    ['a non-object block', turn(['text'])],
    ['a toolUse without an id', turn([{ toolUse: { name: 'echo', input: {} } }], 'tool_use')],
    ['a toolUse id with odd characters', turn([{ toolUse: { toolUseId: 'a b', name: 'echo', input: {} } }], 'tool_use')],
    ['a repeated toolUse id', turn([{ toolUse: { toolUseId: 'a', name: 'echo', input: {} } }, { toolUse: { toolUseId: 'a', name: 'echo', input: {} } }], 'tool_use')],
    ['tool_use without a tool use', turn([{ text: 'x' }], 'tool_use')],
    ['too many blocks', turn(Array.from({ length: 129 }, () => ({ text: 'x' })))],
  ])('throws a malformed-response error for %s', (_n, raw) => {
    expect(() => readConverseResponse(raw)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
  });
});

describe('isContextOverflowError', () => {
  const v = (message: string, name = 'ValidationException') => Object.assign(new Error(message), { name });
  test.each([
    'Input is too long for requested model.',
    'The model returned the following errors: input length and `max_tokens` exceed context limit: 142422 + 64000 > 204658',
    'too many total text bytes: 9000000 > 4000000',
    'prompt is too long: 210000 tokens > 200000 maximum',
    'Input Tokens Exceeded: Number of input tokens exceeds maximum length',
  ])('recognises "%s"', (m) => expect(isContextOverflowError(v(m))).toBe(true));

  test.each<[string, unknown]>([
    ['another validation error', v('The provided model identifier is invalid.')],
    ['an overflow text on a throttle', v('Input is too long for requested model.', 'ThrottlingException')],
    ['not an error', 'Input is too long for requested model'],
    ['null', null],
  ])('does not treat %s as an overflow', (_n, err) => expect(isContextOverflowError(err)).toBe(false));
});

describe('the MCP client', () => {
  test('maps HTTP statuses to the five fault kinds', () => {
    expect([401, 403, 408, 429, 500, 503, 404, 400].map(httpStatusCode)).toEqual([
      'UPSTREAM_ACCESS_DENIED',
      'UPSTREAM_ACCESS_DENIED',
      'UPSTREAM_TIMEOUT',
      'UPSTREAM_THROTTLED',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_MALFORMED_RESPONSE',
      'UPSTREAM_MALFORMED_RESPONSE',
    ]);
  });

  test('reads event streams, skipping notifications, and finds the response by id', () => {
    const body = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":"cad-1",\ndata: "result":{"ok":1}}\n\n';
    expect(jsonRpcResponse(sseMessages(body), 'cad-1')).toEqual({ result: { ok: 1 } });
    expect(() => jsonRpcResponse(sseMessages(body), 'cad-2')).toThrow('does not answer');
    expect(() => sseMessages('data: {bad json}\n\n')).toThrow('strict JSON');
  });

  test('turns tool results into text: text, embedded resources, named other kinds, structured content', () => {
    expect(toolResultText({ content: [{ type: 'text', text: 'a' }, { type: 'resource', resource: { text: 'b' } }, { type: 'image', data: 'xx' }] })).toEqual({ kind: 'RESULT', text: 'a\nb\n[image content omitted]', isError: false });
    expect(toolResultText({ content: [], structuredContent: { n: 1 } })).toEqual({ kind: 'RESULT', text: '{"n":1}', isError: false });
    expect(toolResultText({ content: [{ type: 'text', text: 'withheld' }], isError: true })).toEqual({ kind: 'RESULT', text: 'withheld', isError: true });
    expect(toolResultText({ content: [], isError: true, structuredContent: { reasonCode: 'TOOL_POLICY_DENIED' } })).toEqual({ kind: 'DENIED', reasonCode: 'TOOL_POLICY_DENIED' });
    expect(() => toolResultText({ content: 'x' })).toThrow();
    expect(() => toolResultText({ content: [{ text: 'no type' }] })).toThrow();
    expect(() => toolResultText({ content: [], isError: 'yes' })).toThrow();
  });

  const response = (body: unknown, headers: Record<string, string> = {}) =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });

  test('follows tools/list pages, and refuses endless paging', async () => {
    let page = 0;
    const client = createMcpClient({
      url: 'https://gw.example.test/mcp',
      timeoutMs: 1_000,
      maxPages: 3,
      fetch: async (_u, init) => {
        const req = JSON.parse(init.body) as { id: string; params: { cursor?: string } };
        page++;
        return response({ jsonrpc: '2.0', id: req.id, result: { tools: [{ name: `t${page}`, inputSchema: { type: 'object' } }, { name: 'bad' }], nextCursor: page < 2 ? `c${page}` : undefined } });
      },
    });
    expect((await client.listTools('tok', new AbortController().signal)).map((t) => t.name)).toEqual(['t1', 't2']);
    const endless = createMcpClient({
      url: 'https://gw.example.test/mcp',
      timeoutMs: 1_000,
      maxPages: 2,
      fetch: async (_u, init) => response({ jsonrpc: '2.0', id: (JSON.parse(init.body) as { id: string }).id, result: { tools: [], nextCursor: 'again' } }),
    });
    await expect(endless.listTools('tok', new AbortController().signal)).rejects.toThrow('more pages');
  });

  test('refuses a body larger than the limit, declared or streamed', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 'cad-1', result: { content: [{ type: 'text', text: 'x'.repeat(2_000) }] } });
    const declared = createMcpClient({ url: 'https://gw.example.test/mcp', timeoutMs: 1_000, maxResponseBytes: 1_000, fetch: async () => response(big, { 'content-length': String(big.length) }) });
    await expect(declared.callTool('tok', 'x', {}, new AbortController().signal)).rejects.toThrow('too large');
    const streamed = createMcpClient({ url: 'https://gw.example.test/mcp', timeoutMs: 1_000, maxResponseBytes: 1_000, fetch: async () => response(big) });
    await expect(streamed.callTool('tok', 'x', {}, new AbortController().signal)).rejects.toThrow('too large');
  });

  test('sends the token only in the Authorization header, with the MCP headers', async () => {
    const seen: Array<Record<string, string>> = [];
    const client = createMcpClient({
      url: 'https://gw.example.test/mcp',
      timeoutMs: 1_000,
      fetch: async (_u, init) => {
        seen.push(init.headers);
        expect(init.body).not.toContain('tok');
        return response({ jsonrpc: '2.0', id: (JSON.parse(init.body) as { id: string }).id, result: { content: [] } });
      },
    });
    await client.callTool('tok', 'x', { a: 1 }, new AbortController().signal);
    expect(seen[0]).toEqual({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer tok', 'mcp-protocol-version': '2025-06-18' });
  });
});

describe('hooks plumbing', () => {
  test.each<[string, unknown, string | undefined]>([
    ['allow', { outcome: 'ALLOW' }, 'ALLOW:ALLOWED'],
    ['deny with a catalogued code', { outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED' }, 'DENY:TOOL_POLICY_DENIED'],
    ['deny with a code of its own (not catalogued)', { outcome: 'DENY', reasonCode: 'OUT_OF_HOURS' }, 'DENY:HOOK_DENIED'],
    ['deny without a code', { outcome: 'DENY' }, 'DENY:HOOK_DENIED'],
    ['allow with extra keys', { outcome: 'ALLOW', text: 'x' }, undefined],
    ['deny with an unsafe code', { outcome: 'DENY', reasonCode: 'see <script>' }, undefined],
    ['an array', [], undefined],
    ['null', null, undefined],
  ])('reads a hook function answer: %s', (_n, answer, expected) => {
    if (expected === undefined) expect(() => readHookAnswer(answer)).toThrow(expect.objectContaining({ reasonCode: 'UPSTREAM_MALFORMED_RESPONSE' }));
    else {
      const d = readHookAnswer(answer);
      expect(`${d.outcome}:${d.reasonCode}`).toBe(expected);
    }
  });

  test('toLoopDecision survives hostile getters', () => {
    const hostile = {
      get outcome(): string {
        throw new Error('no');
      },
    };
    expect(toLoopDecision(hostile)).toBeUndefined();
  });

  test('toLoopDecision keeps catalogued codes and turns a code of its own into HOOK_DENIED, named in the detail', () => {
    expect(toLoopDecision({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED', detail: 'why' })).toEqual({ outcome: 'DENY', reasonCode: 'TOOL_POLICY_DENIED', detail: 'why' });
    expect(toLoopDecision({ outcome: 'DENY', reasonCode: 'OUT_OF_HOURS', detail: 'closed' })).toEqual({ outcome: 'DENY', reasonCode: 'HOOK_DENIED', detail: 'denied with its own code OUT_OF_HOURS: closed' });
    expect(toLoopDecision({ outcome: 'ALLOW', reasonCode: 'OK_BY_ME' })).toEqual({ outcome: 'ALLOW', reasonCode: 'ALLOWED' });
    expect(toLoopDecision({ outcome: 'ALLOW', reasonCode: 'GUARDRAIL_MASKED' })).toEqual({ outcome: 'ALLOW', reasonCode: 'GUARDRAIL_MASKED' });
    expect(toLoopDecision({ outcome: 'DENY', reasonCode: 'see <script>' })).toBeUndefined();
    expect(toLoopDecision({ outcome: 'MAYBE', reasonCode: 'ALLOWED' })).toBeUndefined();
  });

  test('text hooks run in order and the first deny wins', async () => {
    const order: string[] = [];
    const ctx: HookContext = { identity: IDENTITY, sessionId: 's', turn: 0, now: NOW, signal: new AbortController().signal };
    const run = await runTextHooks(
      [
        { name: 'a', onPrompt: (t) => (order.push('a'), { decision: loopAllow(), text: `${t}!` }) },
        { name: 'b', onPrompt: () => (order.push('b'), { decision: loopDeny('GUARDRAIL_BLOCKED') }) },
        { name: 'c', onPrompt: () => (order.push('c'), { decision: loopAllow() }) },
      ],
      'onPrompt',
      'hi',
      ctx,
    );
    expect(order).toEqual(['a', 'b']);
    expect(run).toEqual(expect.objectContaining({ ok: false, reasonCode: 'GUARDRAIL_BLOCKED', hook: 'b' }));
  });
});

describe('configuration', () => {
  const definition: AgentDefinition = {
    schemaVersion: 1,
    systemPrompt: 'Be helpful.',
    gatewayTools: [{ name: 'Crm___lookup', requiresApproval: false }],
    localTools: [{ name: 'calc', description: 'Calculates.', inputSchema: { type: 'object', properties: { e: { type: 'string' } }, additionalProperties: false }, requiresApproval: false }],
  };
  const text = renderDefinition(definition);
  const sha = createHash('sha256').update(text).digest('hex');
  const ENV = {
    [AgentLoopEnv.MODEL_ID]: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    [AgentLoopEnv.GUARDRAIL_IDENTIFIER]: 'gr0abc123def',
    [AgentLoopEnv.GUARDRAIL_VERSION]: '3',
    [AgentLoopEnv.GATEWAY_URL]: 'https://gw.example.test/mcp',
    [AgentLoopEnv.LOCAL_TOOL_FUNCTIONS]: JSON.stringify({ calc: 'arn:aws:lambda:us-east-1:123456789012:function:calc' }),
    [AgentLoopEnv.HOOK_FUNCTIONS]: JSON.stringify([{ point: 'BEFORE_TOOL', arn: 'arn:aws:lambda:us-east-1:123456789012:function:hook' }]),
    [AgentLoopEnv.DEFINITION_SHA256]: sha,
    [AgentLoopEnv.MAX_TURNS]: '5',
  };

  test('reads a valid environment and definition', () => {
    const r = settingsFromEnv(ENV, text);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.settings.limits.maxTurns).toBe(5);
      expect(r.settings.definition).toEqual(definition);
      expect(r.settings.hookFunctions).toEqual([{ point: 'BEFORE_TOOL', arn: 'arn:aws:lambda:us-east-1:123456789012:function:hook' }]);
    }
  });

  test.each<[string, Record<string, string | undefined>, string | undefined, RegExp]>([
    ['a definition whose hash differs', ENV, text.replace('helpful', 'harmful'), /SHA-256/],
    ['no definition file', ENV, undefined, /could not be read/],
    ['a model id with a space', { ...ENV, [AgentLoopEnv.MODEL_ID]: 'anthropic claude' }, text, /AGENT_MODEL_ID/],
    ['a DRAFT guardrail', { ...ENV, [AgentLoopEnv.GUARDRAIL_VERSION]: 'DRAFT' }, text, /DRAFT is refused/],
    ['an http gateway', { ...ENV, [AgentLoopEnv.GATEWAY_URL]: 'http://gw.example.test/mcp' }, text, /https URL/],
    ['gateway tools without a gateway', { ...ENV, [AgentLoopEnv.GATEWAY_URL]: undefined }, text, /required when the definition has gateway tools/],
    ['local tools not wired to functions', { ...ENV, [AgentLoopEnv.LOCAL_TOOL_FUNCTIONS]: '{}' }, text, /exactly the definition's local tools/],
    ['a function that is not a Lambda ARN', { ...ENV, [AgentLoopEnv.LOCAL_TOOL_FUNCTIONS]: '{"calc":"arn:aws:s3:::bucket"}' }, text, /not a Lambda function ARN/],
    ['a hook at an unknown point', { ...ENV, [AgentLoopEnv.HOOK_FUNCTIONS]: '[{"point":"SOMETIMES","arn":"arn:aws:lambda:us-east-1:123456789012:function:h"}]' }, text, /every hook must be/],
    ['a limit out of range', { ...ENV, [AgentLoopEnv.MAX_TURNS]: '51' }, text, /AGENT_MAX_TURNS is "51"/],
    ['per-turn calls above the total', { ...ENV, [AgentLoopEnv.MAX_TOOL_CALLS]: '2', [AgentLoopEnv.MAX_TOOL_CALLS_PER_TURN]: '3' }, text, /at most maxToolCalls/],
    ['duplicate keys in the definition', { ...ENV, [AgentLoopEnv.DEFINITION_SHA256]: createHash('sha256').update('{"schemaVersion":1,"schemaVersion":1}').digest('hex') }, '{"schemaVersion":1,"schemaVersion":1}', /strict JSON/],
  ])('refuses %s', (_n, env, def, problem) => {
    const r = settingsFromEnv(env, def);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join('\n')).toMatch(problem);
  });

  test('definition, tool, limit and URL problems name the bad value', () => {
    expect(definitionProblems({ ...definition, gatewayTools: [{ name: 'calc', requiresApproval: false }] })).toEqual([expect.stringContaining('repeated: calc')]);
    expect(localToolProblems({ name: 'bad name', description: '', inputSchema: { type: 'object', properties: { a: { type: 'string', format: 'email', foo: 1 } } } }).join('\n')).toMatch(/bad name[\s\S]*description[\s\S]*inputSchema/);
    expect(limitProblems({ ...AGENT_LOOP_DEFAULTS, toolTimeoutMs: 400_000 })).toEqual(expect.arrayContaining([expect.stringContaining('toolTimeoutMs is 400000')]));
    expect(gatewayUrlProblems('u', 'https://user:pw@gw.example.test/mcp')).toHaveLength(1);
    expect(definitionProblems({ ...definition, localTools: [{ ...definition.localTools[0], allowedGroups: ['a', 'a'] }] })).toEqual([expect.stringContaining('repeats a group')]);
    expect(definitionProblems({ ...definition, localTools: [{ ...definition.localTools[0], extra: 1 } as never] })).toEqual([expect.stringContaining('unsupported keys: extra')]);
    expect(parseDefinition(text, 'nothex')).toEqual({ ok: false, problems: [expect.stringContaining('not a SHA-256')] });
  });
});

describe('reason codes', () => {
  test("the loop's own codes are in the shared catalogue and are what the loop returns and logs", async () => {
    for (const code of ['TOOL_NOT_ALLOWED', 'TOOL_DENIED', 'TURN_LIMIT', 'TOOL_CALL_LIMIT', 'CONTEXT_OVERFLOW', 'MODEL_OUTPUT_INCOMPLETE', 'HOOK_DENIED']) {
      expect(Object.prototype.hasOwnProperty.call(ReasonCatalogue, code)).toBe(true);
    }
    const f = fake([use('a', 'echo')], {}, { maxTurns: 1 });
    expect(await runAgentLoop(input(), f.deps)).toEqual(expect.objectContaining({ status: 'STOPPED', reasonCode: 'TURN_LIMIT' }));
  });

  test('a code from outside is used as is when catalogued, else replaced by HOOK_DENIED or TOOL_DENIED', () => {
    expect(deniedWith('TOOL_POLICY_DENIED', 'TOOL_DENIED')).toEqual({ reasonCode: 'TOOL_POLICY_DENIED' });
    expect(deniedWith('QUOTA_EXCEEDED', 'TOOL_DENIED')).toEqual({ reasonCode: 'TOOL_DENIED', detail: 'denied with its own code QUOTA_EXCEEDED' });
    expect(deniedWith('OUT_OF_HOURS', 'HOOK_DENIED')).toEqual({ reasonCode: 'HOOK_DENIED', detail: 'denied with its own code OUT_OF_HOURS' });
    for (const bad of [undefined, 42, 'lower_case', 'X', 'A'.repeat(65), 'see <script>']) expect(deniedWith(bad, 'TOOL_DENIED')).toBeUndefined();
  });

  test('faults and identity codes stop the loop; policy and content codes do not', () => {
    expect((['UPSTREAM_TIMEOUT', 'IDENTITY_EXPIRED', 'INTERNAL_ERROR', 'MISCONFIGURED'] as const).every(isStopCode)).toBe(true);
    expect((['GUARDRAIL_BLOCKED', 'TOOL_NOT_ALLOWED', 'TOOL_POLICY_DENIED', 'APPROVAL_REQUIRED'] as const).some(isStopCode)).toBe(false);
  });
});
