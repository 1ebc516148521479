import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DemoFixture, startDemoFixture } from '../../mcp-server/test/helpers/demo-fixture.ts';
import { runChatLoop } from '../src/chat-loop.ts';
import { type McpSession, openMcpSession } from '../src/mcp-session.ts';
import { type FakeChatCompletions, type ScriptedReply, startFakeChatCompletions } from './helpers/fake-chat-completions.ts';
import { recordingReporter } from './helpers/recording-reporter.ts';

/**
 * The OpenAI-compatible loop against a local fake of the chat-completions wire format (no model is called) and the
 * real demo MCP server with the fixture AS.
 */
describe('chat loop (OpenAI chat-completions wire format, fake endpoint)', () => {
  let demo: DemoFixture;
  let session: McpSession;
  const fakes: FakeChatCompletions[] = [];

  before(async () => {
    demo = await startDemoFixture();
    demo.as.addClient({ clientId: 'agt_chat', secret: 'chat-secret' });
    session = await openMcpSession({
      issuer: demo.as.issuer,
      clientId: 'agt_chat',
      clientSecret: 'chat-secret',
      mcpUrl: demo.server.resource,
      scope: 'calc files:read',
      reporter: recordingReporter(),
    });
  });
  after(async () => {
    await session.close();
    for (const fake of fakes) await fake.close();
    await demo.close();
  });

  async function run(script: ScriptedReply[], options: { apiKey?: string; maxTurns?: number } = {}) {
    const fake = await startFakeChatCompletions(script);
    fakes.push(fake);
    const reporter = recordingReporter();
    const promise = runChatLoop(session, reporter, { baseUrl: `${fake.baseUrl}/`, apiKey: options.apiKey, model: 'fake-model', prompt: 'do the demo', maxTurns: options.maxTurns ?? 8 });
    return { fake, reporter, promise };
  }

  test('offers the MCP tools as functions, runs the calls the model asks for, feeds back outcomes, ends on an answer', async () => {
    const { fake, reporter, promise } = await run(
      [
        { toolCalls: [{ name: 'whoami', arguments: {} }, { name: 'add', arguments: { a: 2, b: 3 } }] },
        { toolCalls: [{ name: 'write_file', arguments: { path: 'x.txt', content: 'x' } }] },
        { content: 'I am agt_chat; 2 + 3 = 5; I may not write files.' },
      ],
      { apiKey: 'sk-test' },
    );
    assert.equal(await promise, true);

    const [first, second, third] = fake.requests;
    assert.equal(first?.authorization, 'Bearer sk-test');
    assert.equal(first?.body.model, 'fake-model');
    assert.equal(first?.body.tool_choice, 'auto');
    assert.deepEqual(first?.body.tools.map((t) => t.function.name).sort(), ['add', 'list_files', 'read_file', 'run_command', 'whoami', 'write_file']);
    const add = first?.body.tools.find((t) => t.function.name === 'add');
    assert.equal(add?.type, 'function');
    assert.equal(add?.function.description, 'Adds two numbers.');
    assert.deepEqual(Object.keys((add?.function.parameters as { properties: object }).properties), ['a', 'b']);
    assert.equal('$schema' in (add?.function.parameters ?? {}), false);
    assert.deepEqual(first?.body.messages.map((m) => m.role), ['system', 'user']);

    const toolMessages = second?.body.messages.filter((m) => m.role === 'tool') ?? [];
    assert.deepEqual(toolMessages.map((m) => m.tool_call_id), ['call_0_0', 'call_0_1']);
    assert.equal(JSON.parse(toolMessages[0]!.content!).subject, 'agt_chat');
    assert.deepEqual(JSON.parse(toolMessages[1]!.content!), { sum: 5 });
    assert.equal(second?.body.messages.find((m) => m.role === 'assistant')?.tool_calls?.length, 2, 'the assistant turn is sent back with its tool calls');

    const refusal = third?.body.messages.at(-1);
    assert.equal(refusal?.role, 'tool');
    assert.match(refusal?.content ?? '', /HTTP 403 insufficient_scope \(needs scope "files:write calc files:read"\)/);

    assert.deepEqual(reporter.named('step').map((e) => e['tool']), ['whoami', 'add', 'write_file']);
    assert.deepEqual(reporter.named('answer'), [{ event: 'answer', content: 'I am agt_chat; 2 + 3 = 5; I may not write files.' }]);
  });

  test('malformed arguments are answered with an error message instead of a call; no API key → no Authorization', async () => {
    const { fake, reporter, promise } = await run([{ toolCalls: [{ name: 'add', arguments: '{"a": 1,' }] }, { content: 'sorry' }]);
    assert.equal(await promise, true);
    assert.equal(fake.requests[0]?.authorization, undefined);
    assert.equal(fake.requests[1]?.body.messages.at(-1)?.content, 'error: the arguments were not a JSON object');
    assert.deepEqual(reporter.named('step'), []);
  });

  test('an endpoint error stops the loop with its status', async () => {
    const { promise } = await run([{ status: 401, body: '{"error":{"message":"Incorrect API key"}}' }]);
    await assert.rejects(promise, /chat\/completions answered 401: .*Incorrect API key/);
  });

  test('gives up after maxTurns requests', async () => {
    const again = { toolCalls: [{ name: 'whoami', arguments: {} }] };
    const { fake, reporter, promise } = await run([again, again, again], { maxTurns: 2 });
    assert.equal(await promise, false);
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(reporter.named('done'), [{ event: 'done', ok: false, turns: 2 }]);
  });
});
